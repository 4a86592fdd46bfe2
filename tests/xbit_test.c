/*
 * Cross-bitness: this 64-bit process against the 32-bit (m32 build)
 * xbit_peer, in both roles, both directions at once, copying and
 * zero-copy. argv[1]: path of the m32 xbit_peer; argv[2]: message count.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "run32.h"
#include "test.h"
#include "xbit.h"

static void xbit_case(const char *peer, const char *peer_role,
                      const char *my_role, const char *count, const char *mode)
{
    char url[64];
    snprintf(url, sizeof(url), "shm://xbit-%d-%s", (int)getpid(), mode);
    pid_t pid = fork();
    XT_ASSERT(pid >= 0);
    if (pid == 0) {
        xt_exec(peer, peer_role, url, count, mode, "64", (char *)NULL);
    }
    int rc = xbit_run(my_role, url, strtol(count, NULL, 10),
                      mode[0] == 'z', 32);
    if (rc != 0)
        kill(pid, SIGKILL);
    int st;
    XT_ASSERT(waitpid(pid, &st, 0) == pid);
    XT_EQ(rc, 0);
    XT_ASSERT(WIFEXITED(st));
    XT_EQ(WEXITSTATUS(st), 0);
}

int main(int argc, char **argv)
{
    if (argc < 3)
        XT_FAIL("usage: xbit_test M32_PEER COUNT");
    XT_ASSERT(access(argv[1], X_OK) == 0);
    xt_peer_emulated("xbit_test", argv[1]);
    xbit_case(argv[1], "dial", "listen", argv[2], "copy");
    xbit_case(argv[1], "listen", "dial", argv[2], "zc");
    printf("xbit_test ok\n");
    return 0;
}
