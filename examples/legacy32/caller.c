/*
 * A 64-bit program using the 32-bit libvendor through `xipc host`
 * (docs/host.md):
 *
 *   xipc host --host32 M32/xipc libvendor.so --sig vendor.sig shm://vendor &
 *   caller shm://vendor 32          every function, checked; exit 0 if right
 *   caller shm://vendor 32 crash    vendor_crash(0): the host dies, the call
 *                                   ends with XIPC_ECLOSED; exit 0 if so
 *
 * 32 is the pointer width the library must report (vendor_bits).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xipc/msgpack.h"
#include "xipc/rpc.h"

static int fails;

static void check(int ok, const char *what, xipc_err rv)
{
    printf("%s %s (%s)\n", ok ? "ok  " : "FAIL", what, xipc_strerror(rv));
    fails += !ok;
}

/* {"x": x, "y": y} */
static void point(xipc_mp_buf *b, int x, int y)
{
    xipc_mp_buf_init(b);
    xipc_mp_write_map(b, 2);
    xipc_mp_write_cstr(b, "x");
    xipc_mp_write_int(b, x);
    xipc_mp_write_cstr(b, "y");
    xipc_mp_write_int(b, y);
}

/* Read the map {"x":..,"y":..} at @p p. @return 0 */
static int read_point(const void *p, size_t n, int64_t *x, int64_t *y)
{
    xipc_mp_reader r;
    uint32_t pairs;
    xipc_mp_reader_init(&r, p, n);
    if (xipc_mp_read_map(&r, &pairs) != XIPC_OK || pairs != 2)
        return -1;
    for (uint32_t i = 0; i < pairs; i++) {
        const char *k;
        uint32_t kl;
        int64_t v;
        if (xipc_mp_read_str(&r, &k, &kl) != XIPC_OK || kl != 1 ||
            xipc_mp_read_int(&r, &v) != XIPC_OK)
            return -1;
        *(k[0] == 'x' ? x : y) = v;
    }
    return 0;
}

/* The "serial" field of the map {"major", "serial", "ratio"} at @p p. */
static int64_t read_serial(const void *p, size_t n)
{
    xipc_mp_reader r;
    uint32_t pairs;
    int64_t serial = -1;
    xipc_mp_reader_init(&r, p, n);
    if (xipc_mp_read_map(&r, &pairs) != XIPC_OK)
        return -1;
    for (uint32_t i = 0; i < pairs; i++) {
        const char *k;
        uint32_t kl;
        if (xipc_mp_read_str(&r, &k, &kl) != XIPC_OK)
            return -1;
        if (kl == 6 && memcmp(k, "serial", 6) == 0) {
            if (xipc_mp_read_int(&r, &serial) != XIPC_OK)
                return -1;
        } else if (xipc_mp_skip(&r) != XIPC_OK) {
            return -1;
        }
    }
    return serial;
}

static void call_all(xipc_rpc_client *c, int bits)
{
    int v = 0, e = 0;
    unsigned u = 0;
    int64_t sum = 0, x = 0, y = 0;
    char *s = NULL;
    void *p = NULL;
    size_t n = 0;
    xipc_err rv = xipc_rpc_callf(c, "vendor_bits", "", "i", &v);
    check(rv == XIPC_OK && v == bits, "vendor_bits() is the library's width", rv);
    rv = xipc_rpc_callf(c, "vendor_add", "ii", 2, 40, "i", &v);
    check(rv == XIPC_OK && v == 42, "vendor_add(2, 40) = 42", rv);
    rv = xipc_rpc_callf(c, "vendor_greet", "s", "world", "s", &s);
    check(rv == XIPC_OK && strcmp(s, "hello, world") == 0, "vendor_greet(\"world\")", rv);
    xipc_rpc_free(s);
    rv = xipc_rpc_callf(c, "vendor_fill", "u", 5u, "ub", &u, &p, &n);
    check(rv == XIPC_OK && u == 5 && n == 5 && memcmp(p, "\0\1\2\3\4", 5) == 0,
          "vendor_fill(5): the callee filled the buffer", rv);
    xipc_rpc_free(p);
    rv = xipc_rpc_callf(c, "vendor_upper", "b", "abc", (size_t)3, "Ib", &sum, &p, &n);
    check(rv == XIPC_OK && sum == 'A' + 'B' + 'C' && n == 3 && memcmp(p, "ABC", 3) == 0,
          "vendor_upper(\"abc\"): in and out", rv);
    xipc_rpc_free(p);
    xipc_mp_buf a, b;
    point(&a, 0, 0);
    point(&b, 10, 20);
    rv = xipc_rpc_callf(c, "vendor_mid", "mm", a.data, a.len, b.data, b.len, "m", &p, &n);
    check(rv == XIPC_OK && read_point(p, n, &x, &y) == 0 && x == 5 && y == 10,
          "vendor_mid({0,0}, {10,20}) = {5,10}: structs by value", rv);
    xipc_rpc_free(p);
    xipc_mp_buf_fini(&a);
    xipc_mp_buf_fini(&b);
    rv = xipc_rpc_callf(c, "vendor_info", "", "nm", &p, &n);
    check(rv == XIPC_OK && read_serial(p, n) == 1234567890123LL,
          "vendor_info(): an out struct with an int64 after a uint8", rv);
    xipc_rpc_free(p);
    rv = xipc_rpc_callf(c, "vendor_div", "ii", 7, 0, "ii", &v, &e);
    check(rv == XIPC_OK && v == 0 && e == EDOM, "vendor_div(7, 0): errno EDOM", rv);
    rv = xipc_rpc_callf(c, "vendor_len", "n", "i", &v);
    check(rv == XIPC_OK && v == -1, "vendor_len(nil): a NULL pointer", rv);
    rv = xipc_rpc_callf(c, "vendor_add", "si", "2", 40, "i", &v);
    int64_t code = 0;
    const char *msg = "";
    xipc_rpc_last_error(&code, &msg);
    printf("     -> %s\n", msg);
    check(rv == XIPC_EREMOTE && code == XIPC_RPC_EINVALID_PARAMS,
          "vendor_add(\"2\", 40): refused before the call", rv);
}

int main(int argc, char **argv)
{
    if (argc < 3 || argc > 4 || (argc == 4 && strcmp(argv[3], "crash") != 0)) {
        fprintf(stderr, "usage: caller URL BITS [crash]\n");
        return 2;
    }
    xipc_rpc_client_opts opts;
    xipc_rpc_client *c;
    xipc_rpc_client_opts_init(&opts);
    opts.timeout_ms = 60000; /* the host may run under qemu-i386 */
    xipc_err rv = xipc_rpc_client_dial(&c, argv[1], &opts, 60000);
    if (rv != XIPC_OK) {
        fprintf(stderr, "caller: dial %s: %s\n", argv[1], xipc_strerror(rv));
        return 1;
    }
    if (argc == 4) {
        int v = 0;
        rv = xipc_rpc_callf(c, "vendor_crash", "i", 0, "i", &v);
        check(rv == XIPC_ECLOSED, "vendor_crash(0): the host died, the call failed", rv);
    } else {
        call_all(c, atoi(argv[2]));
    }
    xipc_rpc_client_close(c);
    printf("caller: %s\n", fails ? "FAILED" : "all ok");
    return fails != 0;
}
