/* Anonymous channel to a child process: socketpair + fork/exec. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "platform/posix/posix.h"

extern char **environ;

/* environ without @p name, plus "name=value"; allocated before fork so
 * that the child only calls async-signal-safe functions. */
static char **spawn_env(const char *name, const char *entry)
{
    size_t n = 0, nl = strlen(name);
    while (environ[n] != NULL)
        n++;
    char **env = malloc((n + 2) * sizeof(char *));
    if (env == NULL)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (!(strncmp(environ[i], name, nl) == 0 && environ[i][nl] == '='))
            env[k++] = environ[i];
    env[k++] = (char *)entry;
    env[k] = NULL;
    return env;
}

xipc_err xipc_plat_spawn(const char *path, char *const argv[], const char *env,
                         xipc_plat_sock *out, uint32_t *pid)
{
    int sv[2], ep[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
        return xipc__posix_err(errno);
    if (pipe2(ep, O_CLOEXEC) != 0) {
        int e = errno;
        close(sv[0]);
        close(sv[1]);
        return xipc__posix_err(e);
    }
    char entry[64];
    snprintf(entry, sizeof(entry), "%s=%d", env, sv[1]);
    char **envp = spawn_env(env, entry);
    pid_t child = envp != NULL ? fork() : -1;
    if (child == 0) {
        /* the child's end survives exec; the error pipe closes on exec */
        close(sv[0]);
        close(ep[0]);
        fcntl(sv[1], F_SETFD, 0);
        execve(path, argv, envp);
        int e = errno;
        (void)!write(ep[1], &e, sizeof(e));
        _exit(127);
    }
    int e = errno;
    free(envp);
    close(sv[1]);
    close(ep[1]);
    if (child < 0) {
        close(sv[0]);
        close(ep[0]);
        return xipc__posix_err(e);
    }
    int exec_err = 0;
    ssize_t k;
    while ((k = read(ep[0], &exec_err, sizeof(exec_err))) < 0 && errno == EINTR)
        ;
    close(ep[0]);
    if (k > 0) { /* exec failed: reap the child, report why */
        waitpid(child, NULL, 0);
        close(sv[0]);
        xipc__set_syserr(exec_err);
        return exec_err == EACCES ? XIPC_EPERM : XIPC_ENOENT;
    }
    *out = sv[0];
    if (pid != NULL)
        *pid = (uint32_t)child;
    return XIPC_OK;
}

xipc_err xipc_plat_sock_inherited(const char *env, xipc_plat_sock *out)
{
    const char *v = getenv(env);
    if (v == NULL || *v == '\0')
        return XIPC_ENOENT;
    char *end;
    errno = 0;
    long fd = strtol(v, &end, 10);
    if (errno != 0 || *end != '\0' || fd < 0 || fd > 0x7fffffff)
        return XIPC_EINVAL;
    struct stat st;
    int type = 0;
    socklen_t tl = sizeof(type);
    if (fstat((int)fd, &st) != 0 || !S_ISSOCK(st.st_mode) ||
        getsockopt((int)fd, SOL_SOCKET, SO_TYPE, &type, &tl) != 0 || type != SOCK_STREAM)
        return XIPC_EINVAL;
    fcntl((int)fd, F_SETFD, FD_CLOEXEC); /* not for our own children */
    *out = (xipc_plat_sock)fd;
    return XIPC_OK;
}
