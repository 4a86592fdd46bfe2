/*
 * A round trip through the public API only, so that the same source
 * builds against any revision of the library: scripts/bench-ab.sh links it
 * against two and runs them in turns, to tell a change in the library from
 * a change in the benchmark harness (docs/design.md, "Before and after").
 *
 *   pingpong URL BATCHES N     prints the median ns of BATCHES batches of
 *                              N round trips of 64 bytes
 *
 * POSIX: the echoing peer is a forked child.
 */
#define _POSIX_C_SOURCE 200809L
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "xipc/xipc.h"

#define PP_SIZE 64
#define PP_MAX_BATCHES 1000

static double pp_now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static int pp_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int pp_fail(const char *what, xipc_err rv)
{
    fprintf(stderr, "pingpong: %s: %s\n", what, xipc_strerror(rv));
    return 1;
}

/* Send and receive one message; 0 or the error. */
static xipc_err pp_round(xipc_sock *s, uint8_t *buf)
{
    size_t k;
    xipc_err rv = xipc_send(s, buf, PP_SIZE, -1);
    return rv != XIPC_OK ? rv : xipc_recv(s, buf, PP_SIZE, &k, -1);
}

int main(int argc, char **argv)
{
    int batches = argc == 4 ? atoi(argv[2]) : 0;
    long n = argc == 4 ? atol(argv[3]) : 0;
    if (batches < 1 || batches > PP_MAX_BATCHES || n < 1) {
        fprintf(stderr, "usage: pingpong URL BATCHES(1-%d) N\n", PP_MAX_BATCHES);
        return 2;
    }
    xipc_sock *l, *s;
    xipc_err rv = xipc_listen(&l, argv[1], NULL);
    if (rv != XIPC_OK)
        return pp_fail(argv[1], rv);
    pid_t pid = fork();
    if (pid == 0) { /* the echo */
        uint8_t b[PP_SIZE];
        size_t k;
        if (xipc_dial(&s, argv[1], NULL, 5000) != XIPC_OK)
            _exit(1);
        while (xipc_recv(s, b, sizeof(b), &k, -1) == XIPC_OK &&
               xipc_send(s, b, k, -1) == XIPC_OK)
            ;
        _exit(0);
    }
    if (pid < 0 || (rv = xipc_accept(l, &s, 5000)) != XIPC_OK)
        return pp_fail("accept", pid < 0 ? XIPC_ESYS : rv);
    uint8_t buf[PP_SIZE];
    memset(buf, 1, sizeof(buf));
    static double r[PP_MAX_BATCHES];
    for (long i = 0; i < n / 4 + 1; i++) /* warm up */
        if ((rv = pp_round(s, buf)) != XIPC_OK)
            return pp_fail("round trip", rv);
    for (int j = 0; j < batches; j++) {
        double t = pp_now_ns();
        for (long i = 0; i < n; i++)
            if ((rv = pp_round(s, buf)) != XIPC_OK)
                return pp_fail("round trip", rv);
        r[j] = (pp_now_ns() - t) / (double)n;
    }
    qsort(r, (size_t)batches, sizeof(r[0]), pp_cmp);
    printf("%.1f\n", r[batches / 2]);
    xipc_close(s);
    xipc_close(l);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    return 0;
}
