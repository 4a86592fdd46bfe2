/*
 * The "clipboard" group on POSIX: there is none. The clipboard is a
 * Windows session's object; an X11 or Wayland selection belongs to a
 * display server a library cannot count on, and nothing here fakes one.
 * clipboard:// answers XIPC_ENOTSUP with the reason in xipc_last_detail().
 */
#include "core/detail.h"
#include "core/platform.h"

xipc_err xipc_plat_clip_open(xipc_plat_clip **out, const char *format, int setter)
{
    (void)format, (void)setter;
    *out = NULL;
    xipc__set_detail("clipboard:// is the Windows clipboard; this OS has none "
                     "(for a latest-value channel here, see pubsub://)");
    return XIPC_ENOTSUP;
}

uint32_t xipc_plat_clip_seq(xipc_plat_clip *c)
{
    (void)c;
    return 0;
}

xipc_err xipc_plat_clip_set(xipc_plat_clip *c, const void *buf, size_t len, int timeout_ms)
{
    (void)c, (void)buf, (void)len, (void)timeout_ms;
    return XIPC_ENOTSUP;
}

xipc_err xipc_plat_clip_get(xipc_plat_clip *c, size_t max, void **buf, size_t *len,
                            int timeout_ms)
{
    (void)c, (void)max, (void)buf, (void)len, (void)timeout_ms;
    return XIPC_ENOTSUP;
}

void xipc_plat_clip_close(xipc_plat_clip *c)
{
    (void)c;
}
