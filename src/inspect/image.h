/*
 * The bitness of an executable image from its first bytes: ELF (the
 * class byte) and PE (the optional header's magic). Portable: the ports
 * read the bytes (a file on Linux, the target's memory on Windows) and
 * ask here, so both formats are parsed in one place.
 */
#ifndef XIPC_INSPECT_IMAGE_H
#define XIPC_INSPECT_IMAGE_H

#include <stddef.h>
#include <stdint.h>

/* Bytes an ELF header needs to be judged (e_ident and e_machine). */
#define XIPC_IMAGE_ELF_HDR 20u

/* 32 or 64 for an ELF header in @p b (@p n bytes); -1 when it is not ELF
 * at all (wrong magic or too short); 0 for ELF of an unknown class. */
int xipc__elf_bits(const uint8_t *b, size_t n);

/* The offset of the PE header (e_lfanew) in the DOS header @p b (@p n
 * bytes); 0 when @p b is not a DOS header or the offset is absurd. */
uint32_t xipc__pe_offset(const uint8_t *b, size_t n);

/* 32 or 64 for a PE header ("PE\0\0", file header, optional header's
 * magic: 0x10b, 0x20b) in @p b (@p n bytes); 0 when it is not one. */
int xipc__pe_bits(const uint8_t *b, size_t n);

#endif
