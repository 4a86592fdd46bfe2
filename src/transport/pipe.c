/*
 * pipe://NAME — named-pipe semantics: a listener at NAME in the per-user
 * runtime directory (a 0700 folder), many clients, message boundaries.
 * A pid file beside the socket tells `xipc ls` who owns it.
 */
#include <stdio.h>

#include "transport/stream.h"

extern const xipc_tran xipc_pipe_tran;

static xipc_err pipe_path(const xipc_url *url, char *path, size_t cap)
{
    char dir[XIPC_STREAM_URL_MAX];
    if (xipc__name_check(url->rest) != XIPC_OK)
        return XIPC_EINVAL;
    xipc_err rv = xipc_plat_rundir(dir, sizeof(dir), "pipe");
    if (rv != XIPC_OK)
        return rv;
    int n = snprintf(path, cap, "%s/%s", dir, url->rest);
    /* the socket address limit is 107 bytes */
    return n < 0 || (size_t)n >= cap || n > 107 ? XIPC_EINVAL : XIPC_OK;
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
    xipc_plat_pidfile_write(l->pidfile); /* informational: failure is harmless */
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

typedef struct pipe_ls {
    void (*fn)(const xipc_endpoint_info *, void *);
    void *arg;
    char dir[XIPC_STREAM_URL_MAX];
} pipe_ls;

/* A socket file NAME: its listener's pid from NAME.pid. */
static void pipe_ls_one(const char *file, void *arg)
{
    pipe_ls *ls = arg;
    char path[XIPC_STREAM_URL_MAX * 2], pidfile[XIPC_STREAM_URL_MAX * 2 + 8];
    xipc_endpoint_info e = {.kind = "pipe"};
    if (xipc__name_check(file) != XIPC_OK ||
        xipc__url_format(e.url, sizeof(e.url), "pipe", file) != XIPC_OK)
        return;
    snprintf(path, sizeof(path), "%s/%s", ls->dir, file);
    if (xipc_plat_file_kind(path) != XIPC_PLAT_FILE_SOCK)
        return; /* a pid file, or a temporary one */
    snprintf(pidfile, sizeof(pidfile), "%s.pid", path);
    if (xipc_plat_file_kind(pidfile) == XIPC_PLAT_FILE_REG)
        e.pid = xipc_plat_pidfile_read(pidfile);
    e.alive = e.pid != 0 && xipc_plat_pid_alive(e.pid);
    ls->fn(&e, ls->arg);
}

static xipc_err pipe_list(void (*fn)(const xipc_endpoint_info *, void *), void *arg)
{
    pipe_ls ls = {fn, arg, ""};
    xipc_err rv = xipc_plat_rundir_find(ls.dir, sizeof(ls.dir), "pipe");
    if (rv == XIPC_OK)
        rv = xipc_plat_dir_list(ls.dir, pipe_ls_one, &ls);
    return rv == XIPC_ENOENT ? XIPC_OK : rv;
}

const xipc_tran xipc_pipe_tran = {
    .scheme = "pipe",
    .listen = pipe_listen,
    .dial = pipe_dial,
    XIPC_STREAM_OPS,
    .list = pipe_list,
};
