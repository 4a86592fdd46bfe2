/*
 * mailslot://NAME — one-way, unreliable datagrams, as Windows mailslots.
 * The same file on both OSes: the platform's "local datagrams" are AF_UNIX
 * datagram sockets on POSIX and real mailslots on Windows (one per
 * server, beside a lock file: win32_dgram.c).
 *
 * A server (xipc_listen) binds its own datagram socket in the private
 * folder <rundir>/mailslot/NAME/, named "<max>.<pid>.<n>": its largest
 * message, its process id and a per-process counter. A client (xipc_dial)
 * writes every message to every live server of NAME on this host (the
 * broadcast of \\*\mailslot\NAME) without ever blocking: a server whose
 * queue is full misses the message, and the client counts it in
 * stats.dropped. See docs/mailslot.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/platform.h"
#include "core/transport.h"

#define MAILSLOT_PATH_MAX 512
#define MAILSLOT_FILE_MAX 40
#define MAILSLOT_DEFAULT_MAX (64u << 10)

typedef struct mailslot_peer {
    char file[MAILSLOT_FILE_MAX]; /* "" once dropped */
    uint32_t max;
    intptr_t h; /* client: a socket connected to that server; -1 not yet */
    int seen;   /* in the folder's latest listing */
} mailslot_peer;

typedef struct mailslot_sock {
    xipc_sock sock;
    int server;
    char name[XIPC_NAME_MAX + 1];
    char dir[MAILSLOT_PATH_MAX]; /* <rundir>/mailslot/NAME */
    /* server */
    intptr_t h;
    uint32_t max;
    char path[MAILSLOT_PATH_MAX + MAILSLOT_FILE_MAX]; /* its socket file */
    /* the servers of NAME as last listed (client; a server while sweeping) */
    mailslot_peer *peers;
    size_t npeers, cap;
    xipc_err list_err;
    uint64_t stamp[2]; /* the folder's stamp taken before that listing */
    int cached;        /* 1: the listing holds while the stamp is the same */
} mailslot_sock;

extern const xipc_tran xipc_mailslot_tran;

static _Atomic uint32_t mailslot_next_id = 1;

/* "<max>.<pid>.<n>" with three decimal numbers and nothing else. */
static int mailslot_parse(const char *file, uint32_t *max)
{
    unsigned m, pid, n;
    char tail;
    if (strlen(file) >= MAILSLOT_FILE_MAX ||
        sscanf(file, "%u.%u.%u%c", &m, &pid, &n, &tail) != 3)
        return 0;
    *max = m;
    return 1;
}

/* The folder of NAME, <rundir>/mailslot/NAME; made (0700) when @p create. */
static xipc_err mailslot_dir(char *buf, size_t cap, const char *name, int create)
{
    xipc_err rv = xipc_plat_rundir(buf, cap, "mailslot");
    if (rv != XIPC_OK)
        return rv;
    if (create) {
        char sub[16 + XIPC_NAME_MAX];
        snprintf(sub, sizeof(sub), "mailslot/%s", name);
        return xipc_plat_rundir(buf, cap, sub);
    }
    size_t len = strlen(buf);
    int n = snprintf(buf + len, cap - len, "/%s", name);
    return n < 0 || (size_t)n >= cap - len ? XIPC_EINVAL : XIPC_OK;
}

/* ---- the servers of NAME ------------------------------------------------------ */

static void mailslot_peer_path(mailslot_sock *s, size_t i, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s/%s", s->dir, s->peers[i].file);
}

/* Forget server @p i (and remove its socket file when @p stale). */
static void mailslot_drop(mailslot_sock *s, size_t i, int stale)
{
    mailslot_peer *p = &s->peers[i];
    if (stale) {
        char path[MAILSLOT_PATH_MAX + MAILSLOT_FILE_MAX];
        mailslot_peer_path(s, i, path, sizeof(path));
        xipc_plat_dgram_unlink(path);
    }
    if (p->h >= 0)
        xipc_plat_dgram_close(p->h);
    p->h = -1;
    p->file[0] = '\0';
    s->cached = 0;
}

/* Close the gaps dropped servers left. */
static void mailslot_compact(mailslot_sock *s)
{
    size_t n = 0;
    for (size_t i = 0; i < s->npeers; i++)
        if (s->peers[i].file[0] != '\0')
            s->peers[n++] = s->peers[i];
    s->npeers = n;
}

static void mailslot_list_one(const char *file, void *arg)
{
    mailslot_sock *s = arg;
    uint32_t max;
    if (s->list_err != XIPC_OK || !mailslot_parse(file, &max))
        return;
    for (size_t i = 0; i < s->npeers; i++) {
        if (strcmp(s->peers[i].file, file) == 0) {
            s->peers[i].seen = 1; /* known: keep its socket */
            return;
        }
    }
    if (s->npeers == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 8;
        mailslot_peer *p = realloc(s->peers, cap * sizeof(*p));
        if (p == NULL) {
            s->list_err = XIPC_ENOMEM;
            return;
        }
        s->peers = p;
        s->cap = cap;
    }
    mailslot_peer *p = &s->peers[s->npeers++];
    snprintf(p->file, sizeof(p->file), "%s", file);
    p->max = max;
    p->h = -1;
    p->seen = 1;
}

/* Bring s->peers in line with the folder: new servers added, gone ones
 * dropped. A missing folder means no servers. */
static xipc_err mailslot_list(mailslot_sock *s)
{
    for (size_t i = 0; i < s->npeers; i++)
        s->peers[i].seen = 0;
    s->list_err = XIPC_OK;
    xipc_err rv = xipc_plat_dir_list(s->dir, mailslot_list_one, s);
    if (rv == XIPC_OK)
        rv = s->list_err;
    else if (rv == XIPC_ENOENT)
        rv = XIPC_OK;
    for (size_t i = 0; i < s->npeers; i++)
        if (!s->peers[i].seen)
            mailslot_drop(s, i, 0);
    mailslot_compact(s);
    return rv;
}

/* Client: a socket for each server; a stale socket file is removed. */
static xipc_err mailslot_connect(mailslot_sock *c)
{
    xipc_err rv = XIPC_OK;
    for (size_t i = 0; i < c->npeers && rv == XIPC_OK; i++) {
        if (c->peers[i].h >= 0)
            continue;
        char path[MAILSLOT_PATH_MAX + MAILSLOT_FILE_MAX];
        mailslot_peer_path(c, i, path, sizeof(path));
        rv = xipc_plat_dgram_connect(&c->peers[i].h, path);
        if (rv == XIPC_ECONNREFUSED || rv == XIPC_ENOENT) {
            mailslot_drop(c, i, rv == XIPC_ECONNREFUSED); /* its server died */
            rv = XIPC_OK;
        }
    }
    mailslot_compact(c);
    return rv;
}

/*
 * Client: the servers of NAME, each with a socket. The folder is listed
 * again only when it changed (one stat instead of a listing per write).
 */
static xipc_err mailslot_peers(mailslot_sock *c)
{
    uint64_t stamp[2];
    int settled = 0;
    xipc_err srv = xipc_plat_dir_stamp(c->dir, stamp, &settled);
    if (srv == XIPC_OK && c->cached && stamp[0] == c->stamp[0] && stamp[1] == c->stamp[1])
        return XIPC_OK;
    c->cached = 0;
    xipc_err rv = mailslot_list(c);
    if (rv == XIPC_OK)
        rv = mailslot_connect(c);
    /* our own removals of stale files change the stamp: one more listing */
    if (rv == XIPC_OK && srv == XIPC_OK && settled) {
        c->stamp[0] = stamp[0];
        c->stamp[1] = stamp[1];
        c->cached = 1;
    }
    return rv;
}

/* ---- server ----------------------------------------------------------------- */

static mailslot_sock *mailslot_alloc(const char *name)
{
    mailslot_sock *s = calloc(1, sizeof(*s));
    if (s != NULL) {
        s->sock.tran = &xipc_mailslot_tran;
        s->sock.listener = 0; /* a server receives; it accepts nothing */
        s->h = -1;
        snprintf(s->name, sizeof(s->name), "%.64s", name);
    }
    return s;
}

static void mailslot_free(mailslot_sock *s)
{
    xipc_plat_dgram_close(s->h);
    for (size_t i = 0; i < s->npeers; i++)
        xipc_plat_dgram_close(s->peers[i].h);
    free(s->peers);
    free(s);
}

/* Sweep away the sockets of dead servers so the folder does not grow. */
static void mailslot_sweep(mailslot_sock *s)
{
    if (mailslot_list(s) != XIPC_OK)
        return;
    for (size_t i = 0; i < s->npeers; i++) {
        char path[MAILSLOT_PATH_MAX + MAILSLOT_FILE_MAX];
        mailslot_peer_path(s, i, path, sizeof(path));
        if (!xipc_plat_dgram_live(path))
            xipc_plat_dgram_unlink(path);
    }
    s->npeers = 0;
}

static xipc_err mailslot_bind(mailslot_sock *s)
{
    xipc_err rv = XIPC_EADDRINUSE;
    for (int attempt = 0; attempt < 16; attempt++) {
        if (rv == XIPC_ENOENT) {
            /* a closing server removed the empty folder: make it again */
            rv = mailslot_dir(s->dir, sizeof(s->dir), s->name, 1);
            if (rv != XIPC_OK)
                return rv;
        }
        snprintf(s->path, sizeof(s->path), "%s/%u.%u.%u", s->dir, (unsigned)s->max,
                 (unsigned)xipc_plat_getpid(), (unsigned)mailslot_next_id++);
        rv = xipc_plat_dgram_bind(&s->h, s->path, s->max);
        if (rv == XIPC_OK || (rv != XIPC_EADDRINUSE && rv != XIPC_ENOENT))
            return rv;
        if (rv == XIPC_EADDRINUSE && !xipc_plat_dgram_live(s->path))
            xipc_plat_dgram_unlink(s->path); /* a dead namesake's */
    }
    return rv;
}

static xipc_err mailslot_listen(xipc_sock **out, const xipc_url *url,
                                const xipc_opts *opts)
{
    if (xipc__name_check(url->rest) != XIPC_OK)
        return XIPC_EINVAL;
    uint32_t max = opts->max_msg != 0 ? opts->max_msg : MAILSLOT_DEFAULT_MAX;
    if (max > xipc_plat_dgram_limit())
        return XIPC_EINVAL;
    mailslot_sock *s = mailslot_alloc(url->rest);
    if (s == NULL)
        return XIPC_ENOMEM;
    s->server = 1;
    s->max = max;
    xipc_err rv = mailslot_dir(s->dir, sizeof(s->dir), s->name, 1);
    if (rv != XIPC_OK) {
        mailslot_free(s);
        return rv;
    }
    mailslot_sweep(s);
    rv = mailslot_bind(s);
    if (rv != XIPC_OK) {
        xipc_plat_dir_remove(s->dir); /* when empty */
        mailslot_free(s);
        return rv;
    }
    *out = &s->sock;
    return XIPC_OK;
}

static xipc_err mailslot_recv(xipc_sock *ss, void *buf, size_t cap, size_t *len,
                              int timeout_ms)
{
    mailslot_sock *s = (mailslot_sock *)ss;
    if (!s->server)
        return XIPC_ENOTSUP; /* a client only writes */
    return xipc_plat_dgram_recv(s->h, buf, cap, s->max, len, timeout_ms);
}

/* ---- client ------------------------------------------------------------------ */

/* Like CreateFile on a mailslot name: refused when no server is alive. */
static xipc_err mailslot_dial(xipc_sock **out, const xipc_url *url,
                              const xipc_opts *opts, int timeout_ms)
{
    if (xipc__name_check(url->rest) != XIPC_OK)
        return XIPC_EINVAL;
    mailslot_sock *c = mailslot_alloc(url->rest);
    if (c == NULL)
        return XIPC_ENOMEM;
    xipc_err rv = mailslot_dir(c->dir, sizeof(c->dir), c->name, 0);
    if (rv == XIPC_OK)
        rv = mailslot_peers(c);
    if (rv == XIPC_OK && c->npeers == 0)
        rv = XIPC_ECONNREFUSED;
    if (rv != XIPC_OK) {
        mailslot_free(c);
        return rv;
    }
    *out = &c->sock;
    return XIPC_OK;
}

/* Send to server @p i; a dead one is dropped. @return 1 if it was alive. */
static int mailslot_send_one(mailslot_sock *c, size_t i, const void *buf, size_t len)
{
    mailslot_peer *p = &c->peers[i];
    xipc_err rv = xipc_plat_dgram_send(p->h, buf, len);
    if (rv == XIPC_ECONNREFUSED) {
        /* its server is gone; unless a new one sits at the same path */
        char path[MAILSLOT_PATH_MAX + MAILSLOT_FILE_MAX];
        mailslot_peer_path(c, i, path, sizeof(path));
        xipc_plat_dgram_close(p->h);
        p->h = -1;
        rv = xipc_plat_dgram_connect(&p->h, path);
        if (rv != XIPC_OK) {
            mailslot_drop(c, i, rv == XIPC_ECONNREFUSED);
            return 0;
        }
        rv = xipc_plat_dgram_send(p->h, buf, len);
    }
    if (rv != XIPC_OK)
        XIPC_SOCK_COUNT(&c->sock, dropped); /* its queue is full */
    return 1;
}

/*
 * Write to every server of NAME. Nothing is sent when the message exceeds
 * some live server's maximum. A full queue drops the message for that
 * server (stats.dropped); a stale socket is removed. XIPC_ECLOSED when no
 * server is alive at all.
 */
static xipc_err mailslot_send(xipc_sock *ss, const void *buf, size_t len,
                              int timeout_ms)
{
    mailslot_sock *c = (mailslot_sock *)ss;
    if (c->server)
        return XIPC_ENOTSUP; /* a server only reads */
    xipc_err rv = mailslot_peers(c);
    if (rv != XIPC_OK)
        return rv;
    for (size_t i = 0; i < c->npeers; i++) {
        if (len <= c->peers[i].max)
            continue;
        char path[MAILSLOT_PATH_MAX + MAILSLOT_FILE_MAX];
        mailslot_peer_path(c, i, path, sizeof(path));
        if (xipc_plat_dgram_live(path)) {
            mailslot_compact(c);
            return XIPC_EMSGSIZE;
        }
        mailslot_drop(c, i, 1);
    }
    size_t alive = 0;
    for (size_t i = 0; i < c->npeers; i++)
        if (c->peers[i].file[0] != '\0')
            alive += (size_t)mailslot_send_one(c, i, buf, len);
    mailslot_compact(c);
    return alive != 0 ? XIPC_OK : XIPC_ECLOSED;
}

/* ---- both -------------------------------------------------------------------- */

static xipc_err mailslot_fd(xipc_sock *ss, intptr_t *fd)
{
    mailslot_sock *s = (mailslot_sock *)ss;
    if (!s->server)
        return XIPC_ENOTSUP; /* nothing to wait for: a write never blocks */
    *fd = s->h;
    return XIPC_OK;
}

static xipc_err mailslot_url(xipc_sock *ss, char *buf, size_t cap)
{
    return xipc__url_format(buf, cap, "mailslot", ((mailslot_sock *)ss)->name);
}

static void mailslot_close(xipc_sock *ss)
{
    mailslot_sock *s = (mailslot_sock *)ss;
    if (s->server) {
        /* closed before its file goes: Windows keeps an open file's name
         * (and so the folder) until the last handle is closed */
        xipc_plat_dgram_close(s->h);
        s->h = -1;
        xipc_plat_dgram_unlink(s->path);
        xipc_plat_dir_remove(s->dir); /* when we were the last */
    }
    mailslot_free(s);
}

/* ---- listing (xipc_endpoints) --------------------------------------------- */

typedef struct mailslot_ls {
    void (*fn)(const xipc_endpoint_info *, void *);
    void *arg;
    char base[MAILSLOT_PATH_MAX]; /* <rundir>/mailslot */
    char dir[MAILSLOT_PATH_MAX];  /* <rundir>/mailslot/NAME */
    const char *name;
} mailslot_ls;

/* A server's socket "<max>.<pid>.<n>" in the folder of NAME. */
static void mailslot_ls_server(const char *file, void *arg)
{
    mailslot_ls *ls = arg;
    unsigned m, pid, n;
    char tail, path[MAILSLOT_PATH_MAX + MAILSLOT_FILE_MAX];
    if (strlen(file) >= MAILSLOT_FILE_MAX || file[0] < '0' || file[0] > '9' ||
        sscanf(file, "%u.%u.%u%c", &m, &pid, &n, &tail) != 3)
        return;
    snprintf(path, sizeof(path), "%s/%s", ls->dir, file);
    if (!xipc_plat_sock_file(path))
        return;
    xipc_endpoint_info e = {.kind = "mailslot server", .pid = pid};
    if (xipc__url_format(e.url, sizeof(e.url), "mailslot", ls->name) != XIPC_OK)
        return;
    /* connecting a datagram socket sends nothing and changes nothing */
    e.alive = xipc_plat_pid_alive(pid) && xipc_plat_dgram_live(path);
    ls->fn(&e, ls->arg);
}

static void mailslot_ls_name(const char *name, void *arg)
{
    mailslot_ls *ls = arg;
    if (xipc__name_check(name) != XIPC_OK)
        return;
    snprintf(ls->dir, sizeof(ls->dir), "%.400s/%s", ls->base, name);
    ls->name = name;
    xipc_plat_dir_list(ls->dir, mailslot_ls_server, ls); /* gone meanwhile: none */
}

static xipc_err mailslot_ls_all(void (*fn)(const xipc_endpoint_info *, void *),
                                void *arg)
{
    mailslot_ls ls = {.fn = fn, .arg = arg};
    xipc_err rv = xipc_plat_rundir_find(ls.base, sizeof(ls.base), "mailslot");
    if (rv == XIPC_OK)
        rv = xipc_plat_dir_list(ls.base, mailslot_ls_name, &ls);
    return rv == XIPC_ENOENT ? XIPC_OK : rv;
}

const xipc_tran xipc_mailslot_tran = {
    .scheme = "mailslot",
    .listen = mailslot_listen,
    .dial = mailslot_dial,
    .send = mailslot_send,
    .recv = mailslot_recv,
    .fd = mailslot_fd,
    .url = mailslot_url,
    .close = mailslot_close,
    .list = mailslot_ls_all,
};
