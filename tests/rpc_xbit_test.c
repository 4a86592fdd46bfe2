/*
 * Cross-bitness RPC: this 64-bit process against rpc_peer of the m32 build,
 * both ways round, over shm:// (message mode) and unix:// (stream mode):
 *   - a server here, the 32-bit client there (rpc_peer xbit URL 64);
 *   - a 32-bit server there (rpc_peer serve URL), the client here.
 * The values (rpc_xbit.c): int64 and uint64 extremes, doubles bit for bit
 * (-0.0, a NaN payload, denormals, infinities), float 32, a 1 MiB bin,
 * nested maps, a timestamp and an ext, echoed and decoded-and-re-encoded,
 * must come back byte for byte.
 *
 *   rpc_xbit_test PEER [PEER_BITS]   (PEER_BITS default 32)
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rpc_util.h"
#include "rpc_xbit.h"
#include "run32.h"

static const char *peer;
static unsigned peer_bits;

static void wait_child(pid_t pid)
{
    int st;
    XT_ASSERT(waitpid(pid, &st, 0) == pid);
    XT_ASSERT(WIFEXITED(st));
    XT_EQ(WEXITSTATUS(st), 0);
}

/* A server here, the peer's client there. */
static void xbit_server_here(const char *kind)
{
    xipc_rpc_server_opts o;
    xipc_rpc_server *srv;
    XT_OK(xipc_rpc_server_opts_init(&o));
    o.workers = 2;
    XT_OK(xipc_rpc_server_alloc(&srv, &o));
    XT_OK(rpcx_register(srv));
    char url[256], bound[512];
    rt_url(url, sizeof(url), kind);
    XT_OK(xipc_rpc_server_serve(srv, url));
    XT_OK(xipc_rpc_server_url(srv, 0, bound, sizeof(bound)));
    pid_t pid = fork();
    XT_ASSERT(pid >= 0);
    if (pid == 0) {
        xt_exec(peer, "xbit", bound, "64", (char *)NULL);
    }
    wait_child(pid);
    xipc_rpc_server_free(srv);
    printf("rpc_xbit_test: %u-bit client -> 64-bit server over %s ok\n", peer_bits, kind);
}

/* The peer's server there, a client here. */
static void xbit_server_there(const char *kind)
{
    char url[256];
    rt_url(url, sizeof(url), kind);
    int in[2], out[2];
    XT_ASSERT(pipe(in) == 0 && pipe(out) == 0);
    pid_t pid = fork();
    XT_ASSERT(pid >= 0);
    if (pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        close(in[1]);
        close(out[0]);
        xt_exec(peer, "serve", url, (char *)NULL);
    }
    close(in[0]);
    close(out[1]);
    FILE *fo = fdopen(out[0], "r");
    XT_ASSERT(fo != NULL);
    char line[600], bound[600] = "";
    while (fgets(line, sizeof(line), fo) != NULL) {
        line[strcspn(line, "\n")] = '\0';
        if (strncmp(line, "url ", 4) == 0)
            snprintf(bound, sizeof(bound), "%s", line + 4);
        if (strcmp(line, "ready") == 0)
            break;
    }
    XT_ASSERT(bound[0] != '\0');
    int rc = rpcx_client(bound, peer_bits);
    close(in[1]); /* the peer stops when its stdin ends */
    if (rc != 0)
        kill(pid, SIGKILL);
    XT_EQ(rc, 0);
    wait_child(pid);
    fclose(fo);
    printf("rpc_xbit_test: 64-bit client -> %u-bit server over %s ok\n", peer_bits, kind);
}

int main(int argc, char **argv)
{
    if (argc < 2)
        XT_FAIL("usage: rpc_xbit_test PEER [PEER_BITS]");
    peer = argv[1];
    peer_bits = argc > 2 ? (unsigned)strtoul(argv[2], NULL, 10) : 32;
    XT_ASSERT(access(peer, X_OK) == 0);
    xt_peer_emulated("rpc_xbit_test", peer);
    XT_EQ(sizeof(void *), 8);
    signal(SIGPIPE, SIG_IGN);
    static const char *kinds[] = {"shm", "unix", "unixpath"};
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        xbit_server_here(kinds[i]);
        xbit_server_there(kinds[i]);
    }
    printf("rpc_xbit_test ok\n");
    return 0;
}
