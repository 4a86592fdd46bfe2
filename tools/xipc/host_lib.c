/*
 * Which bitness a library is: the ELF class (and machine) of a shared
 * object, or the machine of a PE file. Read from the file's first bytes,
 * never by loading it: loading a library of the other bitness is what
 * fails.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "host.h"

#define LIB_EM_386 3
#define LIB_EM_X86_64 62
#define LIB_PE_I386 0x14c
#define LIB_PE_AMD64 0x8664

static unsigned lib_u16(const unsigned char *p)
{
    return (unsigned)p[0] | (unsigned)p[1] << 8;
}

/* A PE file's machine, from the header at e_lfanew (offset 0x3c). */
static int lib_pe_bits(FILE *f, const unsigned char *h, char *why, size_t cap)
{
    unsigned long off = (unsigned long)h[0x3c] | (unsigned long)h[0x3d] << 8 |
                        (unsigned long)h[0x3e] << 16 | (unsigned long)h[0x3f] << 24;
    unsigned char pe[6];
    if (fseek(f, (long)(off & 0x7fffffffUL), SEEK_SET) != 0 || fread(pe, 1, 6, f) != 6 ||
        memcmp(pe, "PE\0\0", 4) != 0) {
        snprintf(why, cap, "an MZ file without a PE header");
        return 0;
    }
    unsigned m = lib_u16(pe + 4);
    if (m == LIB_PE_I386 || m == LIB_PE_AMD64)
        return m == LIB_PE_I386 ? 32 : 64;
    snprintf(why, cap, "a PE file for machine 0x%x, not x86 or x86-64", m);
    return 0;
}

int host_lib_bits(const char *path, char *why, size_t cap)
{
    unsigned char h[64];
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        snprintf(why, cap, "%s", strerror(errno));
        return 0;
    }
    size_t n = fread(h, 1, sizeof(h), f);
    int bits = 0;
    if (n >= 20 && memcmp(h, "\177ELF", 4) == 0) {
        unsigned m = lib_u16(h + 18);
        if (h[4] == 1 && m == LIB_EM_386)
            bits = 32;
        else if (h[4] == 2 && m == LIB_EM_X86_64)
            bits = 64;
        else
            snprintf(why, cap, "an ELF file of class %u for machine %u, not x86 or x86-64",
                     h[4], m);
    } else if (n == sizeof(h) && h[0] == 'M' && h[1] == 'Z') {
        bits = lib_pe_bits(f, h, why, cap);
    } else {
        snprintf(why, cap, "neither an ELF shared object nor a PE file");
    }
    fclose(f);
    return bits;
}
