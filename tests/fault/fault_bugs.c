/*
 * The library bugs the crash tests met, each reproduced on its own
 * (docs/fault.md, "Bugs found"). NOT part of the registered suite: each
 * case exits 1 while its bug is there, 0 once it is fixed.
 *
 *   fault_bugs listen-kill shm|pubsub   a listener killed inside xipc_listen
 *                                       keeps its NAME taken for good
 *   fault_bugs dial-race shm|pubsub     xipc_dial racing a listener's
 *                                       creation returns XIPC_EPROTO
 *   fault_bugs dial-kill                a shm client killed inside xipc_dial
 *                                       leaves its offer behind for good (in
 *                                       /dev/shm before the socket handshake;
 *                                       /dev/shm and the runtime folder now)
 *   fault_bugs pidfile-kill             a pipe listener killed inside
 *                                       xipc_listen leaves NAME.pid.<pid>.tmp
 *   fault_bugs zombie shm|pubsub        a killed listener its parent has not
 *                                       reaped yet still holds its NAME, and
 *                                       a shm client can dial it
 *
 * Each kills at random moments until the bug shows (usually within a few
 * dozen tries) or the tries run out, then removes what it left.
 * pidfile-kill and zombie were fixed since (24522f4, b7a6857): they stay
 * as checks that the fixes hold.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/platform.h"
#include "test.h"
#include "xipc/xipc.h"

static void sleep_us(unsigned us)
{
    struct timespec ts = {0, (long)us * 1000};
    nanosleep(&ts, NULL);
}

/* Fork a child that calls xipc_listen (@p listen) or xipc_dial on @p url
 * and waits; kill it after a random delay of up to @p max_us. */
static void kill_inside(const char *url, int listen, unsigned max_us)
{
    pid_t pid = fork();
    if (pid == 0) {
        xipc_sock *s;
        if (listen)
            xipc_listen(&s, url, NULL);
        else
            xipc_dial(&s, url, NULL, 1000);
        pause();
        _exit(0);
    }
    sleep_us((unsigned)rand() % max_us);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

/* Entries of @p dir containing @p part: printed (unless @p quiet), counted,
 * removed when @p remove. */
static int scan(const char *dir, const char *part, int quiet, int remove)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return 0;
    int n = 0;
    struct dirent *e;
    while ((e = xt_readdir(d)) != NULL) {
        if (strstr(e->d_name, part) == NULL)
            continue;
        char path[1024];
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        if (!quiet)
            printf("  left: %s\n", path);
        if (remove)
            unlink(path);
        n++;
    }
    closedir(d);
    return n;
}

/* scan() over every place an endpoint of ours can leave something:
 * /dev/shm (nothing now, and it must stay so) and the runtime folders of
 * shm:// and pubsub:// */
static int scan_all(const char *part, int quiet, int remove)
{
    char dir[512];
    int n = scan("/dev/shm", part, quiet, remove);
    if (xipc_plat_rundir(dir, sizeof(dir), "shm") == XIPC_OK)
        n += scan(dir, part, quiet, remove);
    if (xipc_plat_rundir(dir, sizeof(dir), "pubsub") == XIPC_OK)
        n += scan(dir, part, quiet, remove);
    return n;
}

static int listen_kill(const char *scheme)
{
    char url[128], part[64];
    snprintf(part, sizeof(part), "bug-lk-%d", (int)getpid());
    snprintf(url, sizeof(url), "%s://%s", scheme, part);
    for (int i = 1; i <= 2000; i++) {
        kill_inside(url, 1, 400);
        xipc_sock *l;
        xipc_err rv = xipc_listen(&l, url, NULL);
        if (rv != XIPC_OK) {
            printf("BUG: try %d: xipc_listen(%s) after its listener was killed inside "
                   "xipc_listen: %s, though no process owns the name\n", i, url,
                   xipc_err_name(rv));
            scan_all(part, 0, 1);
            return 1;
        }
        xipc_close(l);
    }
    printf("listen-kill %s: not seen in 2000 tries\n", scheme);
    return 0;
}

static int dial_race(const char *scheme)
{
    char url[128], part[64];
    snprintf(part, sizeof(part), "bug-dr-%d", (int)getpid());
    snprintf(url, sizeof(url), "%s://%s", scheme, part);
    pid_t pid = fork();
    if (pid == 0) { /* a listener that starts and stops again and again */
        for (;;) {
            xipc_sock *l;
            if (xipc_listen(&l, url, NULL) == XIPC_OK)
                xipc_close(l);
        }
    }
    int rc = 0, i;
    for (i = 1; i <= 200000 && rc == 0; i++) {
        xipc_sock *s;
        xipc_err rv = xipc_dial(&s, url, NULL, 1000);
        if (rv == XIPC_OK)
            xipc_close(s);
        else if (rv != XIPC_ECONNREFUSED)
            rc = printf("BUG: try %d: xipc_dial(%s) while a listener is being created: %s "
                        "(want OK or ECONNREFUSED)\n", i, url, xipc_err_name(rv)) > 0;
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    scan_all(part, 1, 1);
    if (rc == 0)
        printf("dial-race %s: not seen in %d tries\n", scheme, i - 1);
    return rc;
}

static int dial_kill(void)
{
    char url[128], part[64];
    snprintf(part, sizeof(part), "bug-dk-%d", (int)getpid());
    snprintf(url, sizeof(url), "shm://bug-dk-%d", (int)getpid());
    xipc_sock *l, *c;
    if (xipc_listen(&l, url, NULL) != XIPC_OK)
        return 2;
    for (int i = 0; i < 300; i++) {
        kill_inside(url, 0, 300);
        while (xipc_accept(l, &c, 0) == XIPC_OK)
            xipc_close(c);
    }
    xipc_close(l);
    int left = scan_all(part, 1, 0);
    if (left != 0) {
        printf("BUG: %d things of 300 shm clients killed inside xipc_dial were left "
               "after the listener closed, e.g.:\n", left);
        scan_all(part, 0, 1);
        return 1;
    }
    printf("dial-kill: nothing left after 300 tries\n");
    return 0;
}

static int pidfile_kill(void)
{
    char url[128], part[64], dir[512];
    snprintf(part, sizeof(part), "bug-pk-%d.pid.", (int)getpid());
    snprintf(url, sizeof(url), "pipe://bug-pk-%d", (int)getpid());
    if (xipc_plat_rundir(dir, sizeof(dir), "pipe") != XIPC_OK)
        return 2;
    for (int i = 1; i <= 2000; i++) {
        kill_inside(url, 1, 400);
        xipc_sock *l;
        if (xipc_listen(&l, url, NULL) == XIPC_OK)
            xipc_close(l); /* a clean close: the socket and NAME.pid go */
        if (scan(dir, part, 1, 0) != 0) {
            printf("BUG: try %d: a pipe listener killed inside xipc_listen left its "
                   "temporary pid file; the next listener of the name closed cleanly and "
                   "it is still there:\n", i);
            scan(dir, part, 0, 1);
            return 1;
        }
    }
    printf("pidfile-kill: not seen in 2000 tries\n");
    return 0;
}

static int zombie(const char *scheme)
{
    char url[128];
    snprintf(url, sizeof(url), "%s://bug-z-%d", scheme, (int)getpid());
    int p[2];
    char c;
    if (pipe(p) != 0)
        return 2;
    pid_t pid = fork();
    if (pid == 0) {
        xipc_sock *l;
        if (xipc_listen(&l, url, NULL) != XIPC_OK || write(p[1], "x", 1) != 1)
            _exit(1);
        pause();
        _exit(0);
    }
    if (read(p[0], &c, 1) != 1)
        return 2;
    kill(pid, SIGKILL);
    siginfo_t si;
    /* wait until it is dead, without reaping it: a zombie */
    waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT);
    xipc_sock *l, *s;
    xipc_err dv = xipc_dial(&s, url, NULL, 100);
    if (dv == XIPC_OK)
        xipc_close(s);
    xipc_err rv = xipc_listen(&l, url, NULL);
    if (rv == XIPC_OK)
        xipc_close(l);
    waitpid(pid, NULL, 0);
    if (rv == XIPC_OK && dv == XIPC_ECONNREFUSED) {
        printf("zombie %s: not seen\n", scheme);
        return 0;
    }
    printf("BUG: the listener of %s was killed and is a zombie (not reaped yet): xipc_listen "
           "gives %s (want OK), xipc_dial %s (want ECONNREFUSED)\n", url, xipc_err_name(rv),
           xipc_err_name(dv));
    if (rv != XIPC_OK && xipc_listen(&l, url, NULL) == XIPC_OK)
        xipc_close(l); /* reaped now: reclaimed */
    return 1;
}

int main(int argc, char **argv)
{
    srand((unsigned)getpid());
    const char *c = argc > 1 ? argv[1] : "";
    const char *scheme = argc > 2 ? argv[2] : "shm";
    if (strcmp(c, "listen-kill") == 0)
        return listen_kill(scheme);
    if (strcmp(c, "dial-race") == 0)
        return dial_race(scheme);
    if (strcmp(c, "dial-kill") == 0)
        return dial_kill();
    if (strcmp(c, "pidfile-kill") == 0)
        return pidfile_kill();
    if (strcmp(c, "zombie") == 0)
        return zombie(scheme);
    fprintf(stderr, "usage: fault_bugs listen-kill|dial-race shm|pubsub, "
                    "fault_bugs dial-kill, fault_bugs pidfile-kill, fault_bugs zombie shm|pubsub\n");
    return 2;
}
