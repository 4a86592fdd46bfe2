/* What a path is, for listings that must look without touching. */
#define _GNU_SOURCE
#include <sys/stat.h>

#include "core/platform.h"

int xipc_plat_file_kind(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return XIPC_PLAT_FILE_NONE;
    if (S_ISREG(st.st_mode))
        return XIPC_PLAT_FILE_REG;
    if (S_ISDIR(st.st_mode))
        return XIPC_PLAT_FILE_DIR;
    if (S_ISSOCK(st.st_mode))
        return XIPC_PLAT_FILE_SOCK;
    return XIPC_PLAT_FILE_OTHER;
}
