/*
 * unix:///PATH — a message channel on a Unix stream socket at an explicit
 * path; unix://@NAME — the same in the abstract namespace (no file).
 */
#include <stdio.h>
#include <string.h>

#include "transport/stream.h"

extern const xipc_tran xipc_unix_tran;

xipc_err xipc__unix_listen(xipc_sock **out, const xipc_tran *tran,
                           const char *path, int abstract,
                           const xipc_opts *opts, const char *url)
{
    xipc_stream_listener *l = xipc__stream_listener_new(tran, opts);
    if (l == NULL)
        return XIPC_ENOMEM;
    xipc_err rv = xipc_plat_unix_listen(path, abstract, (int)opts->backlog, &l->fd);
    if (rv != XIPC_OK) {
        xipc__stream_close(&l->sock);
        return rv;
    }
    if (!abstract)
        snprintf(l->path, sizeof(l->path), "%s", path);
    xipc__stream_listener_allow(l, opts);
    snprintf(l->url, sizeof(l->url), "%s", url);
    *out = &l->sock;
    return XIPC_OK;
}

xipc_err xipc__unix_dial(xipc_sock **out, const xipc_tran *tran,
                         const char *path, int abstract, const xipc_opts *opts,
                         int timeout_ms, const char *url)
{
    xipc_plat_sock fd;
    xipc_err rv = xipc_plat_unix_dial(path, abstract, timeout_ms, &fd);
    if (rv != XIPC_OK)
        return rv;
    return xipc__stream_new(out, tran, fd, xipc__stream_max(opts), url);
}

static xipc_err unix_parse(const xipc_url *url, const char **path, int *abstract)
{
    return xipc__unix_parse(url->rest, path, abstract);
}

static xipc_err unix_listen(xipc_sock **out, const xipc_url *url, const xipc_opts *opts)
{
    const char *path;
    int abstract;
    char full[XIPC_STREAM_URL_MAX];
    if (unix_parse(url, &path, &abstract) != XIPC_OK ||
        xipc__url_format(full, sizeof(full), "unix", url->rest) != XIPC_OK)
        return XIPC_EINVAL;
    return xipc__unix_listen(out, &xipc_unix_tran, path, abstract, opts, full);
}

static xipc_err unix_dial(xipc_sock **out, const xipc_url *url,
                          const xipc_opts *opts, int timeout_ms)
{
    const char *path;
    int abstract;
    char full[XIPC_STREAM_URL_MAX];
    if (unix_parse(url, &path, &abstract) != XIPC_OK ||
        xipc__url_format(full, sizeof(full), "unix", url->rest) != XIPC_OK)
        return XIPC_EINVAL;
    return xipc__unix_dial(out, &xipc_unix_tran, path, abstract, opts, timeout_ms, full);
}

const xipc_tran xipc_unix_tran = {
    .scheme = "unix",
    .listen = unix_listen,
    .dial = unix_dial,
    XIPC_STREAM_OPS,
    .raw = &xipc__stream_raw,
};
