/*
 * pipe://NAME — named-pipe semantics: a listener at NAME in the per-user
 * runtime directory (a 0700 folder), many clients, message boundaries.
 * A pid file beside the socket tells `xipc ls` who owns it. The POSIX
 * strategy: a Unix stream socket (Windows: a named pipe, win32/pipe.c).
 */
#include <stdio.h>

#include "core/pidfile.h"
#include "transport/named_sock.h"
#include "transport/stream.h"

extern const xipc_tran xipc_pipe_tran;

static xipc_err pipe_path(const xipc_url *url, char *path, size_t cap)
{
    return xipc__named_sock_path("pipe", url->rest, path, cap);
}

static xipc_err pipe_listen(xipc_sock **out, const xipc_url *url, const xipc_opts *opts)
{
    char path[XIPC_STREAM_URL_MAX], full[XIPC_STREAM_URL_MAX];
    xipc_err rv = pipe_path(url, path, sizeof(path));
    if (rv != XIPC_OK)
        return rv;
    xipc__url_format(full, sizeof(full), "pipe", url->rest);
    rv = xipc__unix_listen(out, &xipc_pipe_tran, path, 0, opts, full);
    if (rv != XIPC_OK)
        return rv;
    xipc_stream_listener *l = (xipc_stream_listener *)*out;
    snprintf(l->pidfile, sizeof(l->pidfile), "%s.pid", path);
    xipc__pidfile_write(l->pidfile); /* informational: failure is harmless */
    return XIPC_OK;
}

static xipc_err pipe_dial(xipc_sock **out, const xipc_url *url,
                          const xipc_opts *opts, int timeout_ms)
{
    char path[XIPC_STREAM_URL_MAX], full[XIPC_STREAM_URL_MAX];
    xipc_err rv = pipe_path(url, path, sizeof(path));
    if (rv != XIPC_OK)
        return rv;
    xipc__url_format(full, sizeof(full), "pipe", url->rest);
    return xipc__unix_dial(out, &xipc_pipe_tran, path, 0, opts, timeout_ms, full);
}

/* ---- listing (xipc_endpoints) --------------------------------------------- */

static xipc_err pipe_list(void (*fn)(const xipc_endpoint_info *, void *), void *arg)
{
    return xipc__named_sock_list("pipe", "pipe", "pipe", fn, arg);
}

const xipc_tran xipc_pipe_tran = {
    .scheme = "pipe",
    .listen = pipe_listen,
    .dial = pipe_dial,
    XIPC_STREAM_OPS,
    .list = pipe_list,
};
