/*
 * Ask a `xipc serve` server who it is, and say who is asking:
 *
 *   xipc serve -w shm://demo &      (a 32-bit build, say)
 *   rpc_sysinfo shm://demo          (a 64-bit build)
 *
 * prints this process's pointer width, calls sysinfo() and prints the
 * server's pid and pointer width from the map it returns, and the emulator
 * it runs under, if any (a 32-bit server under qemu-i386 on a kernel that
 * cannot run 32-bit programs). It waits up to 5 s for the server to
 * appear. Used by `make demo` (scripts/demo.sh).
 */
#define _POSIX_C_SOURCE 200809L /* nanosleep */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "xipc/msgpack.h"
#include "xipc/rpc.h"

/* Point @p r at the value of @p key in the map at @p map. @return 0, or -1 */
static int map_find(xipc_mp_reader *r, const void *map, size_t len, const char *key)
{
    uint32_t n;
    xipc_mp_reader_init(r, map, len);
    if (xipc_mp_read_map(r, &n) != XIPC_OK)
        return -1;
    for (uint32_t i = 0; i < n; i++) {
        const char *k;
        uint32_t klen;
        if (xipc_mp_read_str(r, &k, &klen) != XIPC_OK)
            return -1;
        if (klen == strlen(key) && memcmp(k, key, klen) == 0)
            return 0;
        if (xipc_mp_skip(r) != XIPC_OK)
            return -1;
    }
    return -1;
}

/* The unsigned value of @p key in the map, or -1. */
static long long map_uint(const void *map, size_t len, const char *key)
{
    xipc_mp_reader r;
    uint64_t v;
    if (map_find(&r, map, len, key) != 0 || xipc_mp_read_uint(&r, &v) != XIPC_OK)
        return -1;
    return (long long)v;
}

/* The string value of @p key in the map into @p buf, or "" (absent, nil). */
static void map_str(const void *map, size_t len, const char *key, char *buf, size_t cap)
{
    xipc_mp_reader r;
    const char *s;
    uint32_t n;
    buf[0] = '\0';
    if (map_find(&r, map, len, key) == 0 && xipc_mp_read_str(&r, &s, &n) == XIPC_OK)
        snprintf(buf, cap, "%.*s", (int)n, s);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s URL\n", argv[0]);
        return 2;
    }
    printf("rpc_sysinfo: pointer width %d bits, calling sysinfo() at %s\n",
           (int)(sizeof(void *) * CHAR_BIT), argv[1]);
    xipc_rpc_client *c = NULL;
    xipc_err rv = XIPC_ECONNREFUSED;
    for (int i = 0; i < 100 && rv == XIPC_ECONNREFUSED; i++) {
        struct timespec nap = {0, 50000000}; /* the server may not be up yet */
        if ((rv = xipc_rpc_client_dial(&c, argv[1], NULL, 1000)) == XIPC_ECONNREFUSED)
            nanosleep(&nap, NULL);
    }
    if (rv != XIPC_OK) {
        fprintf(stderr, "rpc_sysinfo: dial %s: %s\n", argv[1], xipc_strerror(rv));
        return 1;
    }
    xipc_rpc_result res;
    xipc_rpc_result_init(&res);
    rv = xipc_rpc_call(c, "sysinfo", NULL, 0, &res, 5000);
    long long pid = -1, width = -1;
    if (rv == XIPC_OK) {
        char emu[256];
        pid = map_uint(res.value, res.value_len, "pid");
        width = map_uint(res.value, res.value_len, "pointer_width");
        map_str(res.value, res.value_len, "emulator", emu, sizeof(emu));
        printf("rpc_sysinfo: the server answered: pid %lld, pointer width %lld bits%s%s%s\n",
               pid, width, emu[0] ? " (" : "", emu, emu[0] ? ")" : "");
    } else {
        fprintf(stderr, "rpc_sysinfo: sysinfo: %s\n", xipc_strerror(rv));
    }
    xipc_rpc_result_fini(&res);
    xipc_rpc_client_close(c);
    return rv == XIPC_OK && width > 0 ? 0 : 1;
}
