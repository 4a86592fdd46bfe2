/*
 * The host (`xipc host --child`, host.h): load the library, prepare its
 * functions for libffi and serve them until SIGINT, SIGTERM or SIGHUP,
 * as `xipc serve` serves its demo methods.
 *
 * The calls run on --workers threads, one by default: most libraries of
 * the kind that need a host were never meant to be called from two
 * threads at once. XIPC_RPC_INLINE only when asked (--inline): it saves
 * two thread hand-offs a call, but a library function may block, or need
 * more than a reader's 256 KiB of stack, and then each connection calls
 * on its own reader thread, so calls of two clients may overlap.
 */
#define _POSIX_C_SOURCE 200809L
#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <unistd.h>

#include "cli.h"
#include "host.h"
#include "host_call.h"
#include "xipc/rpc.h"

#define HOST_URL_MAX 1024

/* Serve every URL. @return -1, or an exit code after a message */
static int serve_urls(const host_cfg *cfg, xipc_rpc_server *srv)
{
    for (int i = 0; i < cfg->nurls; i++) {
        char bound[HOST_URL_MAX];
        xipc_err rv = xipc_rpc_server_serve(srv, cfg->urls[i]);
        if (rv != XIPC_OK)
            return cli_fail(cfg->urls[i], rv);
        if (xipc_rpc_server_url(srv, (unsigned)i, bound, sizeof(bound)) != XIPC_OK)
            snprintf(bound, sizeof(bound), "%s", cfg->urls[i]);
        fprintf(stderr, "host: listening at %s\n", bound);
    }
    return -1;
}

int host_serve(const host_cfg *cfg, const host_sigs *s)
{
    char why[256];
    host_lib *lib = NULL;
    void *h = dlopen(cfg->lib, RTLD_NOW | RTLD_LOCAL);
    if (h == NULL) {
        fprintf(stderr, "xipc: host: %s\n", dlerror());
        return CLI_EXIT_FAIL;
    }
    if (host_lib_prepare(&lib, s, h, why, sizeof(why)) != 0) {
        fprintf(stderr, "xipc: host: %s: %s\n", cfg->lib, why);
        dlclose(h);
        return CLI_EXIT_FAIL;
    }
    cli_signals_block(); /* before the server starts its threads */
    xipc_rpc_server_opts opts;
    xipc_rpc_server *srv = NULL;
    xipc_rpc_server_opts_init(&opts);
    opts.workers = cfg->workers > 0 ? (uint32_t)cfg->workers : 1;
    xipc_err rv = xipc_rpc_server_alloc(&srv, &opts);
    if (rv == XIPC_OK)
        rv = host_lib_register(lib, srv, cfg->inline_calls ? XIPC_RPC_INLINE : 0);
    int code = rv != XIPC_OK ? cli_fail("host", rv) : serve_urls(cfg, srv);
    if (code < 0) {
        const char *emu = cli_emulated();
        fprintf(stderr, "host: %s: %u functions, pid %ld, pointer width %u bits%s%s%s\n",
                cfg->lib, s->nfns, (long)getpid(), (unsigned)(sizeof(void *) * CHAR_BIT),
                emu ? " (" : "", emu ? emu : "", emu ? ")" : "");
        fflush(stderr);
    }
    while (code < 0 && cli_signal_wait_ms(CLI_SLICE_MS) == 0)
        ;
    xipc_rpc_server_free(srv); /* graceful: finishes the calls in flight */
    host_lib_free(lib);
    dlclose(h);
    return code < 0 ? CLI_EXIT_OK : code;
}
