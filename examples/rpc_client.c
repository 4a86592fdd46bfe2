/*
 * A MessagePack-RPC client calling the example server (rpc_server.c):
 *
 *   rpc_client tcp://127.0.0.1:9000
 *
 * It shows a format-string call, a remote error, an asynchronous call and
 * a notification. Exit status 0 when every answer was the expected one.
 */
#include <stdio.h>
#include <string.h>

#include "xipc/rpc.h"

static void on_greeting(xipc_rpc_future *f, void *userdata)
{
    xipc_rpc_result res;
    char *text;
    xipc_rpc_result_init(&res);
    if (xipc_rpc_future_result(f, &res) == XIPC_OK &&
        xipc_rpc_result_scanf(&res, "s", &text) == XIPC_OK) {
        printf("greet -> \"%s\"\n", text);
        *(int *)userdata = strncmp(text, "hello, ada", 10) == 0;
        xipc_rpc_free(text);
    }
    xipc_rpc_result_fini(&res);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s URL\n", argv[0]);
        return 2;
    }
    xipc_rpc_client_opts opts;
    xipc_rpc_client *c;
    xipc_rpc_client_opts_init(&opts);
    opts.timeout_ms = 5000; /* for callf and notifyf */
    xipc_err rv = xipc_rpc_client_dial(&c, argv[1], &opts, 5000);
    if (rv != XIPC_OK) {
        fprintf(stderr, "rpc_client: dial %s: %s\n", argv[1], xipc_strerror(rv));
        return 1;
    }
    int ok = 1;

    /* 1. a synchronous call, packed and unpacked by format strings */
    int sum = 0;
    rv = xipc_rpc_callf(c, "add", "ii", 2, 3, "i", &sum);
    printf("add(2, 3) -> %d (%s)\n", sum, xipc_strerror(rv));
    ok &= rv == XIPC_OK && sum == 5;

    /* 2. a remote error: XIPC_EREMOTE, the error object's code and text */
    double q;
    rv = xipc_rpc_callf(c, "div", "dd", 1.0, 0.0, "d", &q);
    int64_t code = 0;
    const char *msg = "";
    xipc_rpc_last_error(&code, &msg);
    printf("div(1, 0) -> %s: [%lld, \"%s\"]\n", xipc_err_name(rv), (long long)code, msg);
    ok &= rv == XIPC_EREMOTE && code == 1;

    /* 3. an asynchronous call with a callback, then wait for it */
    void *params;
    size_t len;
    int greeted = 0;
    xipc_rpc_future *f;
    rv = xipc_rpc_pack(&params, &len, "s", "ada");
    if (rv == XIPC_OK) {
        rv = xipc_rpc_call_async(c, "greet", params, len, on_greeting, &greeted, &f);
        xipc_rpc_free(params);
    }
    if (rv == XIPC_OK) {
        rv = xipc_rpc_future_wait(f, 5000);
        xipc_rpc_future_free(f);
    }
    ok &= rv == XIPC_OK && greeted;

    /* 4. a notification: no answer; the server has no "log" method, and
     *    a notification's errors are never reported */
    rv = xipc_rpc_notifyf(c, "log", "s", "client done");
    ok &= rv == XIPC_OK;

    xipc_rpc_client_close(c);
    printf("%s\n", ok ? "all answers as expected" : "UNEXPECTED ANSWER");
    return ok ? 0 : 1;
}
