/* Bitness of ELF and PE images from their headers (image.h). */
#include "inspect/image.h"

#define ELF_CLASS 4 /* e_ident[EI_CLASS]: 1 ELFCLASS32, 2 ELFCLASS64 */
#define PE_MAX_OFFSET 0x10000000u /* e_lfanew beyond this is garbage */
#define PE_MAGIC_AT 24 /* "PE\0\0" (4) + IMAGE_FILE_HEADER (20) */

static uint32_t image_le32(const uint8_t *b)
{
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
           (uint32_t)b[3] << 24;
}

int xipc__elf_bits(const uint8_t *b, size_t n)
{
    if (n < XIPC_IMAGE_ELF_HDR || b[0] != 0x7f || b[1] != 'E' || b[2] != 'L' || b[3] != 'F')
        return -1;
    return b[ELF_CLASS] == 1 ? 32 : b[ELF_CLASS] == 2 ? 64 : 0;
}

uint32_t xipc__pe_offset(const uint8_t *b, size_t n)
{
    if (n < 64 || b[0] != 'M' || b[1] != 'Z')
        return 0;
    uint32_t off = image_le32(b + 60);
    return off >= 64 && off < PE_MAX_OFFSET ? off : 0;
}

int xipc__pe_bits(const uint8_t *b, size_t n)
{
    if (n < PE_MAGIC_AT + 2 || b[0] != 'P' || b[1] != 'E' || b[2] != 0 || b[3] != 0)
        return 0;
    unsigned magic = (unsigned)b[PE_MAGIC_AT] | (unsigned)b[PE_MAGIC_AT + 1] << 8;
    return magic == 0x10b ? 32 : magic == 0x20b ? 64 : 0;
}
