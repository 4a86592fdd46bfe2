/*
 * A MessagePack-RPC server with three methods, serving every URL given on
 * the command line until its standard input ends (press Ctrl-D):
 *
 *   rpc_server tcp://127.0.0.1:9000 unix:///tmp/calc.sock shm://calc
 *
 * Any MessagePack-RPC client can call it over tcp:// and unix://, e.g.
 * Python:  sock.sendall(msgpack.packb([0, 1, "add", [2, 3]]))
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xipc/rpc.h"

/* add(int a, int b) -> int */
static xipc_err calc_add(xipc_rpc_req *req, void *userdata)
{
    int a, b;
    xipc_err rv = xipc_rpc_req_argsf(req, "ii", &a, &b);
    if (rv != XIPC_OK)
        return rv; /* the error [-32602, "invalid params: ..."] is set */
    return xipc_rpc_req_returnf(req, "I", (int64_t)a + b);
}

/* div(float a, float b) -> float, or the error [1, "division by zero"] */
static xipc_err calc_div(xipc_rpc_req *req, void *userdata)
{
    double a, b;
    xipc_err rv = xipc_rpc_req_argsf(req, "dd", &a, &b);
    if (rv != XIPC_OK)
        return rv;
    if (b == 0)
        return xipc_rpc_req_error(req, 1, "division by zero");
    return xipc_rpc_req_returnf(req, "d", a / b);
}

/* greet(str name) -> str */
static xipc_err calc_greet(xipc_rpc_req *req, void *userdata)
{
    char *name; /* owned by the call: freed after the handler */
    char text[300];
    xipc_err rv = xipc_rpc_req_argsf(req, "s", &name);
    if (rv != XIPC_OK)
        return rv;
    snprintf(text, sizeof(text), "hello, %.256s (from %s)", name,
             (const char *)userdata);
    return xipc_rpc_req_returnf(req, "s", text);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s URL...\n", argv[0]);
        return 2;
    }
    xipc_rpc_server_opts opts;
    xipc_rpc_server *srv;
    xipc_rpc_server_opts_init(&opts);
    opts.workers = 4;
    xipc_err rv = xipc_rpc_server_alloc(&srv, &opts);
    if (rv == XIPC_OK)
        rv = xipc_rpc_server_register(srv, "add", "(int a, int b) -> int", calc_add, NULL);
    if (rv == XIPC_OK)
        rv = xipc_rpc_server_register(srv, "div", "(float a, float b) -> float", calc_div, NULL);
    if (rv == XIPC_OK)
        rv = xipc_rpc_server_register(srv, "greet", "(str name) -> str", calc_greet,
                                      "the xipc example server");
    for (int i = 1; rv == XIPC_OK && i < argc; i++) {
        char bound[512];
        rv = xipc_rpc_server_serve(srv, argv[i]);
        if (rv == XIPC_OK && xipc_rpc_server_url(srv, (unsigned)i - 1, bound,
                                                 sizeof(bound)) == XIPC_OK)
            printf("serving %s\n", bound);
    }
    if (rv != XIPC_OK) {
        fprintf(stderr, "rpc_server: %s\n", xipc_strerror(rv));
        xipc_rpc_server_free(srv);
        return 1;
    }
    fflush(stdout);
    while (getchar() != EOF) /* serve until stdin ends */
        ;
    xipc_rpc_server_stop(srv); /* finishes the calls in flight */
    xipc_rpc_server_free(srv);
    return 0;
}
