/*
 * pipe://NAME on Windows: the named pipe \\.\pipe\xipc-<uid>-NAME, where
 * <uid> is the hash of our user's SID that stands in for a uid
 * (win32.h): many clients per listener, each a pipe instance, frames as
 * on every stream (stream.c). The pipe namespace is shared by all users,
 * so the name alone proves nothing: the listener's DACL admits only our
 * user, accept checks each client's user, and a client checks that the
 * server runs as our user before it sends a byte (another user could
 * have made the name first). A pid file <rundir>/pipe/NAME.pid, as on
 * POSIX, tells `xipc ls` who listens; where the pipes cannot be listed
 * (wine), the pid files are the list. The POSIX strategy: posix/pipe.c.
 */
#include <stdio.h>
#include <string.h>

#include "core/pidfile.h"
#include "transport/named_sock.h"
#include "transport/stream.h"

extern const xipc_tran xipc_pipe_tran;

#define PIPE_PREFIX "\\\\.\\pipe\\"
#define PIPE_NAME_MAX (sizeof(PIPE_PREFIX) + 16 + XIPC_NAME_MAX)

/* "xipc-<uid>-" : the part of our pipes' names after \\.\pipe\. */
static void pipe_stem(char *buf, size_t cap)
{
    snprintf(buf, cap, "xipc-%08x-", (unsigned)xipc_plat_getuid());
}

static xipc_err pipe_name(const xipc_url *url, char *buf, size_t cap)
{
    char stem[32];
    if (xipc__name_check(url->rest) != XIPC_OK)
        return XIPC_EINVAL;
    pipe_stem(stem, sizeof(stem));
    int n = snprintf(buf, cap, PIPE_PREFIX "%s%s", stem, url->rest);
    return n < 0 || (size_t)n >= cap ? XIPC_EINVAL : XIPC_OK;
}

static xipc_err pipe_listen(xipc_sock **out, const xipc_url *url, const xipc_opts *opts)
{
    char name[PIPE_NAME_MAX];
    xipc_err rv = pipe_name(url, name, sizeof(name));
    if (rv != XIPC_OK)
        return rv;
    xipc_stream_listener *l = xipc__stream_listener_new(&xipc_pipe_tran, opts);
    if (l == NULL)
        return XIPC_ENOMEM;
    rv = xipc_plat_npipe_listen(name, (int)opts->backlog, &l->fd);
    if (rv == XIPC_OK)
        rv = xipc__url_format(l->url, sizeof(l->url), "pipe", url->rest);
    if (rv != XIPC_OK) {
        xipc__stream_close(&l->sock);
        return rv;
    }
    xipc__stream_listener_allow(l, opts);
    if (xipc__named_lock_path("pipe", url->rest, l->pidfile, sizeof(l->pidfile)) == XIPC_OK)
        xipc__pidfile_write(l->pidfile); /* informational: failure is harmless */
    else
        l->pidfile[0] = '\0';
    *out = &l->sock;
    return XIPC_OK;
}

static xipc_err pipe_dial(xipc_sock **out, const xipc_url *url,
                          const xipc_opts *opts, int timeout_ms)
{
    char name[PIPE_NAME_MAX], full[XIPC_STREAM_URL_MAX];
    xipc_err rv = pipe_name(url, name, sizeof(name));
    if (rv == XIPC_OK)
        rv = xipc__url_format(full, sizeof(full), "pipe", url->rest);
    if (rv != XIPC_OK)
        return rv;
    xipc_plat_sock fd;
    rv = xipc_plat_npipe_dial(name, timeout_ms, &fd);
    if (rv != XIPC_OK)
        return rv;
    uint32_t pid, uid;
    rv = xipc_plat_sock_peer(fd, &pid, &uid);
    if (rv == XIPC_OK && uid != xipc_plat_getuid())
        rv = XIPC_EPERM; /* a pipe of that name made by another user */
    if (rv != XIPC_OK) {
        xipc_plat_sock_close(fd);
        return rv;
    }
    return xipc__stream_new(out, &xipc_pipe_tran, fd, xipc__stream_max(opts), full);
}

typedef struct pipe_ls {
    void (*fn)(const xipc_endpoint_info *, void *);
    void *arg;
    size_t stem_len;
    char dir[XIPC_NAMED_LOCK_MAX];
} pipe_ls;

/* The pid in <rundir>/pipe/@p name.pid (0: none). */
static uint32_t pipe_ls_pid(pipe_ls *ls, const char *name)
{
    char path[XIPC_NAMED_LOCK_MAX + XIPC_NAME_MAX + 8];
    if (ls->dir[0] == '\0')
        return 0;
    snprintf(path, sizeof(path), "%s/%s.pid", ls->dir, name);
    return xipc__pidfile_read(path);
}

static void pipe_ls_report(pipe_ls *ls, const char *name, int alive)
{
    xipc_endpoint_info e = {.kind = "pipe"};
    if (xipc__name_check(name) != XIPC_OK ||
        xipc__url_format(e.url, sizeof(e.url), "pipe", name) != XIPC_OK)
        return;
    e.pid = pipe_ls_pid(ls, name);
    e.alive = alive || (e.pid != 0 && xipc_plat_pid_alive(e.pid));
    ls->fn(&e, ls->arg);
}

/* A pipe "xipc-<uid>-NAME": it exists, so its listener lives. */
static void pipe_ls_pipe(const char *pipe, void *arg)
{
    pipe_ls *ls = arg;
    pipe_ls_report(ls, pipe + ls->stem_len, 1);
}

/* Where \\.\pipe\ cannot be listed (wine): a pid file NAME.pid, alive
 * while the process it names lives. */
static void pipe_ls_pidfile(const char *file, void *arg)
{
    pipe_ls *ls = arg;
    size_t n = strlen(file);
    char name[XIPC_NAME_MAX + 1];
    if (n < 5 || n - 4 > XIPC_NAME_MAX || strcmp(file + n - 4, ".pid") != 0)
        return;
    memcpy(name, file, n - 4);
    name[n - 4] = '\0';
    pipe_ls_report(ls, name, 0);
}

static xipc_err pipe_list(void (*fn)(const xipc_endpoint_info *, void *), void *arg)
{
    char stem[32];
    pipe_stem(stem, sizeof(stem));
    pipe_ls ls = {fn, arg, strlen(stem), ""};
    if (xipc_plat_rundir_find(ls.dir, sizeof(ls.dir), "pipe") != XIPC_OK)
        ls.dir[0] = '\0';
    xipc_err rv = xipc_plat_npipe_list(stem, pipe_ls_pipe, &ls);
    if (rv == XIPC_ENOTSUP && ls.dir[0] != '\0')
        rv = xipc_plat_dir_list(ls.dir, pipe_ls_pidfile, &ls);
    return rv == XIPC_ENOTSUP || rv == XIPC_ENOENT ? XIPC_OK : rv;
}

const xipc_tran xipc_pipe_tran = {
    .scheme = "pipe",
    .listen = pipe_listen,
    .dial = pipe_dial,
    XIPC_STREAM_OPS,
    .list = pipe_list,
};
