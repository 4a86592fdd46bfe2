/* Memory the C library kept back, for the POSIX port. */
#define _GNU_SOURCE
#include <stdlib.h> /* defines __GLIBC__ where it applies */
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "core/platform.h"

void xipc_plat_mem_release(void)
{
#ifdef __GLIBC__
    malloc_trim(0);
#endif
}
