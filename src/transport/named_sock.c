/* Endpoints named by files in the runtime folder (named_sock.h). */
#include <stdio.h>
#include <string.h>

#include "core/pidfile.h"
#include "transport/named_sock.h"

xipc_err xipc__named_sock_path(const char *sub, const char *name, char *path, size_t cap)
{
    char dir[XIPC_NAMED_SOCK_MAX];
    if (xipc__name_check(name) != XIPC_OK)
        return XIPC_EINVAL;
    xipc_err rv = xipc_plat_rundir(dir, sizeof(dir), sub);
    if (rv != XIPC_OK)
        return rv;
    int n = snprintf(path, cap, "%s/%s", dir, name);
    return n < 0 || (size_t)n >= cap || n > 107 ? XIPC_EINVAL : XIPC_OK;
}

typedef struct named_ls {
    const char *scheme, *kind;
    void (*fn)(const xipc_endpoint_info *, void *);
    void *arg;
    char dir[XIPC_NAMED_SOCK_MAX];
} named_ls;

/* A socket file NAME: its listener's pid from NAME.pid. */
static void named_ls_one(const char *file, void *arg)
{
    named_ls *ls = arg;
    char path[XIPC_NAMED_SOCK_MAX * 2], pidfile[XIPC_NAMED_SOCK_MAX * 2 + 8];
    xipc_endpoint_info e = {.kind = ls->kind};
    if (xipc__name_check(file) != XIPC_OK ||
        xipc__url_format(e.url, sizeof(e.url), ls->scheme, file) != XIPC_OK)
        return;
    snprintf(path, sizeof(path), "%s/%s", ls->dir, file);
    if (!xipc_plat_sock_file(path))
        return; /* a pid file, or a temporary one */
    size_t n = strlen(path);
    if (n > 4 && strcmp(path + n - 4, ".pid") == 0) {
        path[n - 4] = '\0'; /* where a socket is a plain file (Windows): */
        if (xipc_plat_sock_file(path))
            return;           /* the pid file of socket NAME */
        path[n - 4] = '.';
    }
    snprintf(pidfile, sizeof(pidfile), "%s.pid", path);
    if (xipc_plat_file_kind(pidfile) == XIPC_PLAT_FILE_REG)
        e.pid = xipc__pidfile_read(pidfile);
    e.alive = e.pid != 0 && xipc_plat_pid_alive(e.pid);
    ls->fn(&e, ls->arg);
}

xipc_err xipc__named_sock_list(const char *sub, const char *scheme, const char *kind,
                               void (*fn)(const xipc_endpoint_info *, void *), void *arg)
{
    named_ls ls = {scheme, kind, fn, arg, ""};
    xipc_err rv = xipc_plat_rundir_find(ls.dir, sizeof(ls.dir), sub);
    if (rv == XIPC_OK)
        rv = xipc_plat_dir_list(ls.dir, named_ls_one, &ls);
    return rv == XIPC_ENOENT ? XIPC_OK : rv;
}

/* ---- lock files -------------------------------------------------------------- */

xipc_err xipc__named_lock_path(const char *sub, const char *name, char *path, size_t cap)
{
    if (xipc__name_check(name) != XIPC_OK)
        return XIPC_EINVAL;
    xipc_err rv = xipc_plat_rundir(path, cap, sub);
    if (rv != XIPC_OK)
        return rv;
    size_t len = strlen(path);
    int n = snprintf(path + len, cap - len, "/%s.pid", name);
    return n < 0 || (size_t)n >= cap - len ? XIPC_EINVAL : XIPC_OK;
}

xipc_err xipc__named_lock_owner(const char *path, uint32_t *pid)
{
    xipc_err rv = XIPC_OK;
    /* an owner writes its pid right after taking the lock: wait for it */
    for (int i = 0; i < 1000; i++) {
        rv = xipc_plat_lockfile_owner(path, pid);
        if (rv != XIPC_OK || *pid != 0)
            break;
        xipc_plat_sleep_us(1000);
    }
    if (rv == XIPC_ENOENT || (rv == XIPC_OK && *pid == 0))
        return XIPC_ECONNREFUSED;
    return rv;
}

typedef struct lock_ls {
    const char *scheme, *kind;
    void (*fn)(const xipc_endpoint_info *, void *);
    void *arg;
    char dir[XIPC_NAMED_LOCK_MAX];
} lock_ls;

/* A lock file "NAME.pid"; anything else in the folder is not listed. */
static void lock_ls_one(const char *file, void *arg)
{
    lock_ls *ls = arg;
    size_t n = strlen(file);
    char name[XIPC_NAME_MAX + 1], path[XIPC_NAMED_LOCK_MAX + XIPC_NAME_MAX + 8];
    if (n < 5 || n - 4 > XIPC_NAME_MAX || strcmp(file + n - 4, ".pid") != 0)
        return;
    memcpy(name, file, n - 4);
    name[n - 4] = '\0';
    xipc_endpoint_info e = {.kind = ls->kind};
    if (xipc__name_check(name) != XIPC_OK ||
        xipc__url_format(e.url, sizeof(e.url), ls->scheme, name) != XIPC_OK)
        return;
    snprintf(path, sizeof(path), "%s/%s", ls->dir, file);
    if (xipc_plat_file_kind(path) != XIPC_PLAT_FILE_REG)
        return;
    xipc_err rv = xipc_plat_lockfile_owner(path, &e.pid);
    if (rv == XIPC_OK) {
        e.alive = 1; /* pid 0: the owner is writing it this instant */
    } else if (rv == XIPC_ENOENT && xipc_plat_file_kind(path) == XIPC_PLAT_FILE_REG) {
        e.pid = xipc__pidfile_read(path);
    } else {
        return; /* removed meanwhile, or not ours */
    }
    ls->fn(&e, ls->arg);
}

xipc_err xipc__named_lock_list(const char *sub, const char *scheme, const char *kind,
                               void (*fn)(const xipc_endpoint_info *, void *), void *arg)
{
    lock_ls ls = {scheme, kind, fn, arg, ""};
    xipc_err rv = xipc_plat_rundir_find(ls.dir, sizeof(ls.dir), sub);
    if (rv == XIPC_OK)
        rv = xipc_plat_dir_list(ls.dir, lock_ls_one, &ls);
    return rv == XIPC_ENOENT ? XIPC_OK : rv;
}
