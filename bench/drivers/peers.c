/*
 * The peer programs (peer.h), by name: "xipc bench --peer NAME CPU
 * ARGS..." runs one. Windows starts every peer so; POSIX forks and calls
 * them directly, and reaches this only when someone types it.
 */
#include <stdio.h>
#include <string.h>

#include "drivers/drivers.h"
#include "harness/exec.h"
#include "harness/peer.h"

static const bench_peer_prog *const peers[] = {
    &bench_peer_xchan,
    &bench_peer_oneway,
    &bench_peer_pubsub,
    &bench_peer_rpc,
};

int bench_peer_child_main(int argc, char **argv)
{
    if (argc < 2 || argc > BENCH_EXEC_ARGS) {
        fprintf(stderr, "xipc: bench: --peer NAME CPU ARGS...\n");
        return 1;
    }
    for (size_t i = 0; i < sizeof(peers) / sizeof(peers[0]); i++)
        if (strcmp(peers[i]->name, argv[0]) == 0) {
            bench_cpu cpu;
            bench_cpu_child(&cpu, argv[1]);
            char *args[BENCH_EXEC_ARGS + 1];
            for (int k = 2; k <= argc; k++)
                args[k - 2] = argv[k]; /* argv[argc] is NULL */
            int rc = peers[i]->main(args, &cpu);
            bench_cpu_close(&cpu);
            return rc;
        }
    fprintf(stderr, "xipc: bench: --peer %s: no such peer\n", argv[0]);
    return 1;
}
