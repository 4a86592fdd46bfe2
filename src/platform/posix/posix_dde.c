/*
 * The "DDE" group on POSIX: there is none. DDE is a protocol of Windows
 * window messages; nothing here fakes it. dde:// answers XIPC_ENOTSUP
 * with the reason in xipc_last_detail().
 */
#include "core/detail.h"
#include "core/platform.h"

static xipc_err dde_none(xipc_plat_dde **out)
{
    *out = NULL;
    xipc__set_detail("dde:// is Windows' Dynamic Data Exchange; this OS has none "
                     "(for request/reply here, see the RPC over unix:// or shm://)");
    return XIPC_ENOTSUP;
}

xipc_err xipc_plat_dde_serve(xipc_plat_dde **out, const char *service, const char *topic,
                             const char *item, size_t max)
{
    (void)service, (void)topic, (void)item, (void)max;
    return dde_none(out);
}

xipc_err xipc_plat_dde_connect(xipc_plat_dde **out, const char *service, const char *topic,
                               const char *item, size_t max)
{
    (void)service, (void)topic, (void)item, (void)max;
    return dde_none(out);
}

xipc_err xipc_plat_dde_put(xipc_plat_dde *d, const void *buf, size_t len, int timeout_ms)
{
    (void)d, (void)buf, (void)len, (void)timeout_ms;
    return XIPC_ENOTSUP;
}

xipc_err xipc_plat_dde_request(xipc_plat_dde *d, void **buf, size_t *len, int timeout_ms)
{
    (void)d, (void)buf, (void)len, (void)timeout_ms;
    return XIPC_ENOTSUP;
}

xipc_err xipc_plat_dde_advise(xipc_plat_dde *d, int timeout_ms)
{
    (void)d, (void)timeout_ms;
    return XIPC_ENOTSUP;
}

xipc_err xipc_plat_dde_next(xipc_plat_dde *d, void **buf, size_t *len, int timeout_ms)
{
    (void)d, (void)buf, (void)len, (void)timeout_ms;
    return XIPC_ENOTSUP;
}

void xipc_plat_dde_close(xipc_plat_dde *d)
{
    (void)d;
}
