/* Memory for the Windows port. */
#include <malloc.h>

#include "core/platform.h"

void xipc_plat_mem_release(void)
{
    _heapmin(); /* the CRT heap gives back what it can */
}
