/*
 * xipc_proc_list, xipc_proc_modules, xipc_proc_read: the arguments checked once
 * here, the work done by the platform layer (posix_inspect.c,
 * win32_inspect.c), and the 64-bit helper asked when the platform says
 * the target is beyond this process's reach (XIPC_PLAT_BEYOND).
 */
#include <stdio.h>

#include "core/detail.h"
#include "core/platform.h"
#include "inspect/inspect_helper.h"

/* The platform's reason for XIPC_PLAT_BEYOND, kept before the helper's
 * start overwrites the detail. */
static void inspect_why(char *why, size_t cap)
{
    snprintf(why, cap, "%s", xipc_last_detail());
}

int xipc__inspect_beyond(uint64_t addr, size_t len)
{
    const uint64_t top = UINTPTR_MAX; /* the highest address a pointer here holds */
    if (addr <= top && (uint64_t)len - 1 <= top - addr)
        return 0;
    xipc__set_detail("0x%llx-0x%llx is beyond the pointers of this %u-bit process",
                     (unsigned long long)addr, (unsigned long long)(addr + len - 1),
                     (unsigned)(sizeof(void *) * 8));
    return 1;
}

xipc_err xipc_proc_list(void (*fn)(const xipc_proc_info *p, void *arg), void *arg)
{
    if (fn == NULL)
        return XIPC_EINVAL;
    xipc__clear_detail();
    return xipc_plat_proc_list(fn, arg);
}

xipc_err xipc_proc_modules(uint32_t pid, void (*fn)(const xipc_module_info *m, void *arg), void *arg)
{
    if (fn == NULL)
        return XIPC_EINVAL;
    xipc__clear_detail();
    xipc_err rv = xipc_plat_modules(pid, fn, arg);
    if (rv != XIPC_PLAT_BEYOND)
        return rv;
    char why[256];
    inspect_why(why, sizeof(why));
    return xipc__helper_modules(pid, fn, arg, why);
}

xipc_err xipc_proc_read(uint32_t pid, uint64_t addr, void *buf, size_t len, size_t *got)
{
    if (got != NULL)
        *got = 0;
    if (buf == NULL || got == NULL || len == 0) {
        xipc__set_detail("xipc_proc_read: %s", len == 0 ? "nothing to read (length 0)"
                                                   : "no buffer or no place for the count");
        return XIPC_EINVAL;
    }
    if ((uint64_t)len - 1 > UINT64_MAX - addr) {
        xipc__set_detail("xipc_proc_read: %llu bytes at 0x%llx run past the end of the address space",
                         (unsigned long long)len, (unsigned long long)addr);
        return XIPC_EINVAL;
    }
    xipc__clear_detail();
    xipc_err rv = xipc__inspect_beyond(addr, len) ? XIPC_PLAT_BEYOND
                                                  : xipc_plat_peek(pid, addr, buf, len, got);
    if (rv != XIPC_PLAT_BEYOND)
        return rv;
    char why[256];
    inspect_why(why, sizeof(why));
    return xipc__helper_peek(pid, addr, buf, len, got, why);
}
