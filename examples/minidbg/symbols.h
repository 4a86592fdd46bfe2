/*
 * What the engine knows of a program's symbols and debugging information
 * (docs/minidbg.md): functions by name and the symbol at an address from
 * the ELF symbol tables, and from DWARF the first line of a function after
 * its prologue and where a variable lives and how to print it. elfutils'
 * libdwfl reads both, for every module of the live process.
 */
#ifndef MINIDBG_SYMBOLS_H
#define MINIDBG_SYMBOLS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/user.h>

/* The modules and symbols of process @p pid as they are mapped now; the
 * engine makes a fresh one at every stop (libraries come and go). */
typedef struct md_syms md_syms;

md_syms *md_syms_open(pid_t pid, char *err);
void md_syms_close(md_syms *s);

/* The function @p name: its entry, and where a breakpoint should go (the
 * first line after the prologue when DWARF says, else the entry). */
int md_syms_function(md_syms *s, const char *name, uint64_t *entry, uint64_t *at, char *err);

/* "name+0xoff" for @p addr into @p buf; "??" when no symbol covers it. */
void md_syms_name(md_syms *s, uint64_t addr, char *buf, size_t cap);

/* A variable in scope at the stopped pc (a local, a parameter, a global of
 * the compilation unit) by name: its address, size and type, and its value
 * printed ("7", "0x7ffc...", "2.5"); the bytes are read through @p read. */
typedef int (*md_read_fn)(void *arg, uint64_t addr, void *buf, size_t len);
typedef struct md_var {
    char type[64];
    uint64_t addr;
    size_t size;
    char text[64];
} md_var;
int md_syms_var(md_syms *s, const struct user_regs_struct *r, const char *name,
                md_read_fn read, void *arg, md_var *out, char *err);

#endif
