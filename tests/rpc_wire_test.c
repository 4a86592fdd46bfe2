/*
 * MessagePack-RPC on the wire: the bytes xipc's server and client write
 * and accept, checked against bytes written by hand from the spec, in
 * stream mode (bare MessagePack on a unix:// socket) and message mode
 * (one message per shm:// message); the incremental scanner that frames
 * bare MessagePack; fake servers that answer out of order, send
 * notifications and requests, or garbage; hostile clients (malformed,
 * oversized, too deep, wrong envelopes) that lose their own connection
 * while others go on.
 */
#include <stdlib.h>

#include "rpc/rpc_client.h"
#include "rpc/rpc_scan.h"
#include "rpc_util.h"

/* ---- raw stream connections ---- */

/* Dial the abstract unix:// URL @p url without the RPC layer. */
static xipc_plat_sock raw_dial(const char *url)
{
    xipc_plat_sock fd;
    XT_ASSERT(strncmp(url, "unix://@", 8) == 0);
    XT_OK(xipc_plat_unix_dial(url + 8, 1, 10000, &fd));
    return fd;
}

static void raw_send(xipc_plat_sock fd, const void *p, size_t n)
{
    xipc_plat_iov iov = {p, n};
    size_t sent;
    XT_OK(xipc_plat_sock_sendv(fd, &iov, 1, &sent, 10000));
    XT_EQ(sent, n);
}

static void raw_recv(xipc_plat_sock fd, uint8_t *buf, size_t n)
{
    size_t got = 0, k;
    while (got < n) {
        XT_OK(xipc_plat_sock_recv(fd, buf + got, n - got, &k, 30000));
        got += k;
    }
}

/* Receive exactly the bytes @p want. */
static void raw_expect(xipc_plat_sock fd, const uint8_t *want, size_t n)
{
    uint8_t buf[256];
    XT_ASSERT(n <= sizeof(buf));
    raw_recv(fd, buf, n);
    for (size_t i = 0; i < n; i++)
        if (buf[i] != want[i])
            XT_FAIL("byte %zu: 0x%02x, want 0x%02x", i, buf[i], want[i]);
}

/* The peer closes without sending anything more. */
static void raw_expect_closed(xipc_plat_sock fd)
{
    uint8_t b;
    size_t k;
    XT_ERR(xipc_plat_sock_recv(fd, &b, 1, &k, 30000), XIPC_ECLOSED);
}

#define BYTES(...) ((const uint8_t[]){__VA_ARGS__})
#define NBYTES(...) sizeof((const uint8_t[]){__VA_ARGS__})
#define SEND(fd, ...) raw_send(fd, BYTES(__VA_ARGS__), NBYTES(__VA_ARGS__))
#define EXPECT(fd, ...) raw_expect(fd, BYTES(__VA_ARGS__), NBYTES(__VA_ARGS__))

/* ---- the scanner ---- */

static void t_scan(void)
{
    xipc_rpc_scan s;
    size_t vlen;
    /* [0, 1, "add", [2, 3]] then the start of another value */
    const uint8_t req[] = {0x94, 0x00, 0x01, 0xa3, 'a', 'd', 'd', 0x92, 0x02, 0x03, 0x94};
    for (size_t n = 0; n <= sizeof(req); n++) {
        xipc__rpc_scan_init(&s, 64, 1 << 20);
        XT_OK(xipc__rpc_scan(&s, req, n, &vlen));
        XT_EQ(vlen, n >= 10 ? 10 : 0);
    }
    /* byte by byte, resuming */
    xipc__rpc_scan_init(&s, 64, 1 << 20);
    for (size_t n = 1; n <= 10; n++) {
        XT_OK(xipc__rpc_scan(&s, req, n, &vlen));
        XT_EQ(vlen, n == 10 ? 10 : 0);
    }
    /* every kind of header, complete and cut */
    static const uint8_t all[] = {
        0x9f, 0x00, 0x7f, 0xe0, 0xc0, 0xc2, 0xc3, 0xcc, 1, 0xcd, 1, 2,
        0xce, 1, 2, 3, 4, 0xcf, 1, 2, 3, 4, 5, 6, 7, 8, 0xd0, 1, 0xd1, 1, 2,
        0xd2, 1, 2, 3, 4, 0xd3, 1, 2, 3, 4, 5, 6, 7, 8, 0xca, 1, 2, 3, 4,
        0xcb, 1, 2, 3, 4, 5, 6, 7, 8, 0xa2, 'h', 'i', 0xd9, 1, 'x',
        0xda, 0, 1, 'x', 0xdb, 0, 0, 0, 1, 'x', 0xc4, 1, 9, 0xc5, 0, 1, 9,
        0xc6, 0, 0, 0, 1, 9, 0xd4, 1, 1};
    static const uint8_t rest[] = {0xd5, 1, 1, 2, 0xd6, 1, 1, 2, 3, 4, 0xd7, 1,
                                   1, 2, 3, 4, 5, 6, 7, 8};
    uint8_t big[512];
    size_t bl = 0;
    memcpy(big, all, sizeof(all));
    bl = sizeof(all);
    memcpy(big + bl, rest, sizeof(rest));
    bl += sizeof(rest);
    big[0] = 0xdc; /* array 16 of the elements that follow */
    memmove(big + 3, big + 1, bl - 1);
    bl += 2;
    const uint8_t more[] = {0xd8, 1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
                            0xc7, 2, 1, 1, 2, 0xc8, 0, 1, 1, 1, 0xc9, 0, 0, 0, 1, 1, 1,
                            0x80, 0x81, 0x01, 0x02, 0xde, 0, 1, 1, 2,
                            0xdf, 0, 0, 0, 1, 1, 2, 0xdd, 0, 0, 0, 1, 0x90};
    memcpy(big + bl, more, sizeof(more));
    bl += sizeof(more);
    /* count the elements: scan each one alone */
    uint32_t count = 0;
    for (size_t pos = 3; pos < bl; count++) {
        xipc__rpc_scan_init(&s, 64, 1 << 20);
        XT_OK(xipc__rpc_scan(&s, big + pos, bl - pos, &vlen));
        XT_ASSERT(vlen > 0);
        pos += vlen;
    }
    big[1] = (uint8_t)(count >> 8);
    big[2] = (uint8_t)count;
    XT_OK(xipc__rpc_scan_exact(big, bl, 64));
    xipc_mp_reader r; /* the codec agrees: one value of exactly bl bytes */
    xipc_mp_reader_init(&r, big, bl);
    XT_OK(xipc_mp_skip(&r));
    XT_EQ(xipc_mp_reader_left(&r), 0);
    for (size_t n = 0; n < bl; n++) {
        xipc__rpc_scan_init(&s, 64, 1 << 20);
        XT_OK(xipc__rpc_scan(&s, big, n, &vlen)); /* cut: need more, never EPROTO */
        XT_EQ(vlen, 0);
    }
    XT_ERR(xipc__rpc_scan_exact(big, bl - 1, 64), XIPC_EPROTO);
    /* 0xc1 */
    xipc__rpc_scan_init(&s, 64, 1 << 20);
    XT_ERR(xipc__rpc_scan(&s, BYTES(0x92, 0x01, 0xc1), 3, &vlen), XIPC_EPROTO);
    /* depth: 3 nested arrays pass a limit of 3, not of 2 */
    const uint8_t deep[] = {0x91, 0x91, 0x91, 0x01};
    xipc__rpc_scan_init(&s, 3, 100);
    XT_OK(xipc__rpc_scan(&s, deep, 4, &vlen));
    XT_EQ(vlen, 4);
    xipc__rpc_scan_init(&s, 2, 100);
    XT_ERR(xipc__rpc_scan(&s, deep, 4, &vlen), XIPC_EPROTO);
    /* a length beyond the size limit is refused from its header alone */
    xipc__rpc_scan_init(&s, 64, 1000);
    XT_ERR(xipc__rpc_scan(&s, BYTES(0x92, 0xc6, 0x00, 0x10, 0x00, 0x00), 6, &vlen),
           XIPC_EPROTO);
    xipc__rpc_scan_init(&s, 64, 1000);
    XT_ERR(xipc__rpc_scan(&s, BYTES(0xdd, 0x00, 0x00, 0x04, 0x00), 5, &vlen), XIPC_EPROTO);
    xipc__rpc_scan_init(&s, 64, 1000);
    XT_OK(xipc__rpc_scan(&s, BYTES(0xdd, 0x00, 0x00, 0x03, 0x00), 5, &vlen));
    XT_EQ(vlen, 0);
    /* a big bin arriving in pieces */
    size_t n = (1u << 20) + 16;
    uint8_t *m = calloc(1, n);
    XT_ASSERT(m != NULL);
    m[0] = 0x92;
    m[1] = 0xc6;
    m[2] = 0x00;
    m[3] = 0x10;
    m[4] = 0x00;
    m[5] = 0x00;
    m[6 + (1u << 20)] = 0x07;
    xipc__rpc_scan_init(&s, 64, 2u << 20);
    for (size_t have = 0; have <= 7 + (1u << 20); have += 4096) {
        XT_OK(xipc__rpc_scan(&s, m, have, &vlen));
        XT_EQ(vlen, 0);
    }
    XT_OK(xipc__rpc_scan(&s, m, n, &vlen));
    XT_EQ(vlen, 7 + (1u << 20));
    free(m);
}

/* ---- the server's bytes ---- */

static void t_server_bytes(void)
{
    atomic_store(&rt_gate_open, 0);
    xipc_rpc_server *srv = rt_server(2, NULL);
    char url[512];
    rt_serve(srv, "unix", url, sizeof(url));
    xipc_plat_sock fd = raw_dial(url);

    /* [0, 1, "add", [2, 3]] -> [1, 1, nil, 5] */
    SEND(fd, 0x94, 0x00, 0x01, 0xa3, 'a', 'd', 'd', 0x92, 0x02, 0x03);
    EXPECT(fd, 0x94, 0x01, 0x01, 0xc0, 0x05);
    /* msgid 2^32-1 */
    SEND(fd, 0x94, 0x00, 0xce, 0xff, 0xff, 0xff, 0xff, 0xa3, 'a', 'd', 'd', 0x92, 0x02, 0x03);
    EXPECT(fd, 0x94, 0x01, 0xce, 0xff, 0xff, 0xff, 0xff, 0xc0, 0x05);
    /* non-smallest encodings are accepted: msgid as uint 32, ints as int 64 */
    SEND(fd, 0x94, 0xd0, 0x00, 0xce, 0, 0, 0, 0x07, 0xd9, 3, 'a', 'd', 'd', 0xdc, 0, 2,
         0xd3, 0, 0, 0, 0, 0, 0, 0, 0x02, 0xd3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfd);
    EXPECT(fd, 0x94, 0x01, 0x07, 0xc0, 0xff); /* 2 + -3 = -1 */
    /* unknown method -> [1, 2, [-32601, "method not found: nope"], nil] */
    SEND(fd, 0x94, 0x00, 0x02, 0xa4, 'n', 'o', 'p', 'e', 0x90);
    EXPECT(fd, 0x94, 0x01, 0x02, 0x92, 0xd1, 0x80, 0xa7, 0xb6, 'm', 'e', 't', 'h', 'o', 'd',
           ' ', 'n', 'o', 't', ' ', 'f', 'o', 'u', 'n', 'd', ':', ' ', 'n', 'o', 'p', 'e', 0xc0);
    /* wrong arguments -> [-32602, "invalid params: expected 2 arguments, got 0"] */
    SEND(fd, 0x94, 0x00, 0x03, 0xa3, 'a', 'd', 'd', 0x90);
    EXPECT(fd, 0x94, 0x01, 0x03, 0x92, 0xd1, 0x80, 0xa6, 0xd9, 43, 'i', 'n', 'v', 'a', 'l',
           'i', 'd', ' ', 'p', 'a', 'r', 'a', 'm', 's', ':', ' ', 'e', 'x', 'p', 'e', 'c',
           't', 'e', 'd', ' ', '2', ' ', 'a', 'r', 'g', 'u', 'm', 'e', 'n', 't', 's', ',',
           ' ', 'g', 'o', 't', ' ', '0', 0xc0);
    /* params not an array -> [-32600, "invalid request: params must be an array"] */
    SEND(fd, 0x94, 0x00, 0x04, 0xa3, 'a', 'd', 'd', 0x05);
    EXPECT(fd, 0x94, 0x01, 0x04, 0x92, 0xd1, 0x80, 0xa8, 0xd9, 40, 'i', 'n', 'v', 'a', 'l',
           'i', 'd', ' ', 'r', 'e', 'q', 'u', 'e', 's', 't', ':', ' ', 'p', 'a', 'r', 'a',
           'm', 's', ' ', 'm', 'u', 's', 't', ' ', 'b', 'e', ' ', 'a', 'n', ' ', 'a', 'r',
           'r', 'a', 'y', 0xc0);
    /* a notification [2, "note", []] gets no answer: the next bytes are
     * the answer to the request after it */
    SEND(fd, 0x93, 0x02, 0xa4, 'n', 'o', 't', 'e', 0x90,
         0x94, 0x00, 0x05, 0xa3, 'a', 'd', 'd', 0x92, 0x01, 0x01);
    EXPECT(fd, 0x94, 0x01, 0x05, 0xc0, 0x02);
    /* one request in pieces of one byte */
    const uint8_t one[] = {0x94, 0x00, 0x06, 0xa3, 'a', 'd', 'd', 0x92, 0x03, 0x03};
    for (size_t i = 0; i < sizeof(one); i++) {
        raw_send(fd, one + i, 1);
        xipc_plat_sleep_us(2000);
    }
    EXPECT(fd, 0x94, 0x01, 0x06, 0xc0, 0x06);
    /* pipelined in one write: the slow call first, the fast answer first */
    SEND(fd, 0x94, 0x00, 0x0a, 0xa9, 'w', 'a', 'i', 't', '_', 'g', 'a', 't', 'e', 0x90,
         0x94, 0x00, 0x0b, 0xa3, 'a', 'd', 'd', 0x92, 0x01, 0x01);
    EXPECT(fd, 0x94, 0x01, 0x0b, 0xc0, 0x02);
    atomic_store(&rt_gate_open, 1);
    EXPECT(fd, 0x94, 0x01, 0x0a, 0xc0, 0xa6, 'o', 'p', 'e', 'n', 'e', 'd');
    xipc_plat_sock_close(fd);
    xipc_rpc_server_free(srv);
}

/* ---- the client's bytes: a fake server ---- */

/* Read one request: 0x94 0x00 MSGID then exactly @p rest; returns msgid. */
static uint32_t fake_read_request(xipc_plat_sock fd, const uint8_t *rest, size_t n,
                                  uint8_t *enc, size_t *enc_len)
{
    uint8_t b[3];
    raw_recv(fd, b, 3);
    XT_EQ(b[0], 0x94);
    XT_EQ(b[1], 0x00);
    size_t idlen = b[2] < 0x80 ? 1 : b[2] == 0xcc ? 2 : b[2] == 0xcd ? 3 : b[2] == 0xce ? 5 : 0;
    XT_ASSERT(idlen > 0);
    enc[0] = b[2];
    raw_recv(fd, enc + 1, idlen - 1);
    *enc_len = idlen;
    xipc_mp_reader r;
    uint32_t id;
    xipc_mp_reader_init(&r, enc, idlen);
    XT_OK(xipc_mp_read_uint32(&r, &id));
    raw_expect(fd, rest, n);
    return id;
}

/* Answer with [1, msgid (as the client wrote it), nil, result]. */
static void fake_answer(xipc_plat_sock fd, const uint8_t *enc, size_t enc_len,
                        uint8_t result)
{
    uint8_t m[16] = {0x94, 0x01};
    memcpy(m + 2, enc, enc_len);
    m[2 + enc_len] = 0xc0;
    m[3 + enc_len] = result;
    raw_send(fd, m, 4 + enc_len);
}

static atomic_int fake_events;

static void fake_on_notify(xipc_rpc_client *c, const char *method, const void *params,
                           size_t len, void *ud)
{
    if (strcmp(method, "event") == 0 && len == 2 &&
        memcmp(params, BYTES(0x91, 0x07), 2) == 0)
        atomic_fetch_add(&fake_events, 1);
}

static void t_client_bytes(void)
{
    char name[64], url[96];
    snprintf(name, sizeof(name), "xipc-rpcw-fake-%u", xipc_plat_getpid());
    snprintf(url, sizeof(url), "unix://@%s", name);
    xipc_plat_sock l, fd;
    XT_OK(xipc_plat_unix_listen(name, 1, 8, &l));
    xipc_rpc_client_opts o;
    xipc_rpc_client *c;
    XT_OK(xipc_rpc_client_opts_init(&o));
    o.on_notify = fake_on_notify;
    XT_OK(xipc_rpc_client_dial(&c, url, &o, 10000));
    XT_OK(xipc_plat_sock_accept(l, 10000, &fd));

    /* a call: [0, msgid, "add", [2, 3]] */
    void *p;
    size_t pl;
    uint8_t enc[3][8];
    size_t el[3];
    XT_OK(xipc_rpc_pack(&p, &pl, "ii", 2, 3));
    xipc_rpc_future *f[3];
    XT_OK(xipc_rpc_call_async(c, "add", p, pl, NULL, NULL, &f[0]));
    const uint8_t add23[] = {0xa3, 'a', 'd', 'd', 0x92, 0x02, 0x03};
    fake_read_request(fd, add23, sizeof(add23), enc[0], &el[0]);
    fake_answer(fd, enc[0], el[0], 0x05);
    XT_OK(xipc_rpc_future_wait(f[0], 30000));
    xipc_rpc_result res;
    xipc_rpc_result_init(&res);
    XT_OK(xipc_rpc_future_result(f[0], &res));
    XT_ASSERT(res.value_len == 1 && ((const uint8_t *)res.value)[0] == 0x05);
    xipc_rpc_future_free(f[0]);

    /* three calls answered in the order 3, 1, 2: matched by msgid */
    uint32_t ids[3];
    for (int i = 0; i < 3; i++)
        XT_OK(xipc_rpc_call_async(c, "add", p, pl, NULL, NULL, &f[i]));
    for (int i = 0; i < 3; i++)
        ids[i] = fake_read_request(fd, add23, sizeof(add23), enc[i], &el[i]);
    XT_ASSERT(ids[0] != ids[1] && ids[1] != ids[2] && ids[0] != ids[2]);
    fake_answer(fd, enc[2], el[2], 30);
    fake_answer(fd, enc[0], el[0], 10);
    /* a response nobody waits for is dropped */
    SEND(fd, 0x94, 0x01, 0xce, 0x7f, 0xff, 0xff, 0xf0, 0xc0, 0xc0);
    fake_answer(fd, enc[1], el[1], 20);
    for (int i = 0; i < 3; i++) {
        int v = 0;
        XT_OK(xipc_rpc_future_wait(f[i], 30000));
        XT_OK(xipc_rpc_future_result(f[i], &res));
        XT_OK(xipc_rpc_result_scanf(&res, "i", &v));
        XT_EQ(v, 10 * (i + 1));
        xipc_rpc_future_free(f[i]);
    }

    /* msgid wraps from 2^32-1 to 0 ... */
    xipc__rpc_client_set_next_id(c, 0xfffffffeu);
    xipc_rpc_future *w[4];
    uint8_t wenc[4][8];
    size_t wl[4];
    static const uint32_t wids[4] = {0xfffffffeu, 0xffffffffu, 0, 1};
    for (int i = 0; i < 4; i++)
        XT_OK(xipc_rpc_call_async(c, "add", p, pl, NULL, NULL, &w[i]));
    for (int i = 0; i < 4; i++) {
        XT_EQ(fake_read_request(fd, add23, sizeof(add23), wenc[i], &wl[i]), wids[i]);
        XT_EQ(wl[i], i < 2 ? 5 : 1);
    }
    for (int i = 3; i >= 0; i--)
        fake_answer(fd, wenc[i], wl[i], (uint8_t)(40 + i));
    for (int i = 0; i < 4; i++) {
        int v = 0;
        XT_OK(xipc_rpc_future_wait(w[i], 30000));
        XT_OK(xipc_rpc_future_result(w[i], &res));
        XT_OK(xipc_rpc_result_scanf(&res, "i", &v));
        XT_EQ(v, 40 + i);
        xipc_rpc_future_free(w[i]);
    }
    /* ... and skips an id still waiting for its response */
    xipc__rpc_client_set_next_id(c, 5);
    XT_OK(xipc_rpc_call_async(c, "add", p, pl, NULL, NULL, &w[0]));
    xipc__rpc_client_set_next_id(c, 5);
    XT_OK(xipc_rpc_call_async(c, "add", p, pl, NULL, NULL, &w[1]));
    XT_EQ(fake_read_request(fd, add23, sizeof(add23), wenc[0], &wl[0]), 5);
    XT_EQ(fake_read_request(fd, add23, sizeof(add23), wenc[1], &wl[1]), 6);
    fake_answer(fd, wenc[1], wl[1], 6);
    fake_answer(fd, wenc[0], wl[0], 5);
    for (int i = 0; i < 2; i++) {
        int v = 0;
        XT_OK(xipc_rpc_future_wait(w[i], 30000));
        XT_OK(xipc_rpc_future_result(w[i], &res));
        XT_OK(xipc_rpc_result_scanf(&res, "i", &v));
        XT_EQ(v, 5 + i);
        xipc_rpc_future_free(w[i]);
    }
    xipc_rpc_result_fini(&res);

    /* a notification: [2, "note", ["hi"]] */
    XT_OK(xipc_rpc_notifyf(c, "note", "s", "hi"));
    EXPECT(fd, 0x93, 0x02, 0xa4, 'n', 'o', 't', 'e', 0x91, 0xa2, 'h', 'i');
    /* an empty params array */
    XT_OK(xipc_rpc_notify(c, "n", NULL, 0, 1000));
    EXPECT(fd, 0x93, 0x02, 0xa1, 'n', 0x90);

    /* from the server: a notification reaches on_notify; a request is
     * answered "method not found" */
    SEND(fd, 0x93, 0x02, 0xa5, 'e', 'v', 'e', 'n', 't', 0x91, 0x07);
    SEND(fd, 0x94, 0x00, 0x09, 0xa3, 'f', 'o', 'o', 0x90);
    EXPECT(fd, 0x94, 0x01, 0x09, 0x92, 0xd1, 0x80, 0xa7, 0xd9, 34);
    const char *refusal = "method not found: this is a client";
    raw_expect(fd, (const uint8_t *)refusal, strlen(refusal));
    EXPECT(fd, 0xc0);
    while (atomic_load(&fake_events) < 1)
        xipc_plat_sleep_us(1000);
    XT_EQ(atomic_load(&fake_events), 1);

    /* a remote error of another implementation: a bare string */
    XT_OK(xipc_rpc_call_async(c, "add", p, pl, NULL, NULL, &f[0]));
    fake_read_request(fd, add23, sizeof(add23), enc[0], &el[0]);
    uint8_t m[32] = {0x94, 0x01};
    memcpy(m + 2, enc[0], el[0]);
    memcpy(m + 2 + el[0], BYTES(0xa4, 'b', 'o', 'o', 'm', 0xc0), 6);
    raw_send(fd, m, 8 + el[0]);
    XT_OK(xipc_rpc_future_wait(f[0], 30000));
    XT_ERR(xipc_rpc_future_result(f[0], &res), XIPC_EREMOTE);
    XT_EQ(res.code, 0);
    XT_ASSERT(strcmp(res.message, "boom") == 0);
    XT_ASSERT(res.error_len == 5 && res.value == NULL);
    xipc_rpc_result_fini(&res);
    xipc_rpc_future_free(f[0]);

    /* garbage from the server: pending calls fail with EPROTO, and so
     * does everything after */
    XT_OK(xipc_rpc_call_async(c, "add", p, pl, NULL, NULL, &f[0]));
    fake_read_request(fd, add23, sizeof(add23), enc[0], &el[0]);
    SEND(fd, 0xc1);
    XT_OK(xipc_rpc_future_wait(f[0], 30000));
    XT_ERR(xipc_rpc_future_result(f[0], NULL), XIPC_EPROTO);
    xipc_rpc_future_free(f[0]);
    XT_ERR(xipc_rpc_call(c, "add", p, pl, NULL, 1000), XIPC_EPROTO);
    xipc_rpc_client_close(c);
    xipc_plat_sock_close(fd);

    /* the server goes away with a call pending: ECLOSED */
    XT_OK(xipc_rpc_client_dial(&c, url, NULL, 10000));
    XT_OK(xipc_plat_sock_accept(l, 10000, &fd));
    XT_OK(xipc_rpc_call_async(c, "add", p, pl, NULL, NULL, &f[0]));
    fake_read_request(fd, add23, sizeof(add23), enc[0], &el[0]);
    xipc_plat_sock_close(fd);
    XT_OK(xipc_rpc_future_wait(f[0], 30000));
    XT_ERR(xipc_rpc_future_result(f[0], NULL), XIPC_ECLOSED);
    xipc_rpc_future_free(f[0]);
    XT_ERR(xipc_rpc_call(c, "add", p, pl, NULL, 1000), XIPC_ECLOSED);
    xipc_rpc_client_close(c);
    xipc_plat_sock_close(l);
    xipc_rpc_free(p);
}

/* ---- message mode: one MessagePack-RPC message per xipc message ---- */

static void t_message_mode(void)
{
    char url[128];
    rt_url(url, sizeof(url), "shm");
    /* the client's request is exactly one xipc message */
    xipc_sock *l, *s;
    XT_OK(xipc_listen(&l, url, NULL));
    xipc_rpc_client *c;
    XT_OK(xipc_rpc_client_dial(&c, url, NULL, 10000));
    XT_OK(xipc_accept(l, &s, 10000));
    xipc_rpc_future *f;
    void *p;
    size_t pl;
    XT_OK(xipc_rpc_pack(&p, &pl, "ii", 2, 3));
    XT_OK(xipc_rpc_call_async(c, "add", p, pl, NULL, NULL, &f));
    uint8_t msg[64];
    size_t n;
    XT_OK(xipc_recv(s, msg, sizeof(msg), &n, 10000));
    XT_ASSERT(n >= 10 && msg[0] == 0x94 && msg[1] == 0x00);
    const uint8_t tail[] = {0xa3, 'a', 'd', 'd', 0x92, 0x02, 0x03};
    XT_ASSERT(memcmp(msg + n - sizeof(tail), tail, sizeof(tail)) == 0);
    size_t idlen = n - 2 - sizeof(tail);
    uint8_t resp[16] = {0x94, 0x01};
    memcpy(resp + 2, msg + 2, idlen);
    resp[2 + idlen] = 0xc0;
    resp[3 + idlen] = 0x05;
    XT_OK(xipc_send(s, resp, 4 + idlen, 10000));
    XT_OK(xipc_rpc_future_wait(f, 30000));
    XT_OK(xipc_rpc_future_result(f, NULL));
    xipc_rpc_future_free(f);
    /* a notification likewise */
    XT_OK(xipc_rpc_notifyf(c, "note", ""));
    XT_OK(xipc_recv(s, msg, sizeof(msg), &n, 10000));
    XT_EQ(n, 8);
    XT_ASSERT(memcmp(msg, BYTES(0x93, 0x02, 0xa4, 'n', 'o', 't', 'e', 0x90), 8) == 0);
    xipc_rpc_client_close(c);
    xipc_close(s);
    xipc_close(l);

    /* the server's response is exactly one xipc message */
    xipc_rpc_server *srv = rt_server(1, NULL);
    char surl[512];
    rt_serve(srv, "shm", surl, sizeof(surl));
    XT_OK(xipc_dial(&s, surl, NULL, 10000));
    const uint8_t req[] = {0x94, 0x00, 0x01, 0xa3, 'a', 'd', 'd', 0x92, 0x02, 0x03};
    XT_OK(xipc_send(s, req, sizeof(req), 10000));
    XT_OK(xipc_recv(s, msg, sizeof(msg), &n, 10000));
    XT_EQ(n, 5);
    XT_ASSERT(memcmp(msg, BYTES(0x94, 0x01, 0x01, 0xc0, 0x05), 5) == 0);
    /* a message holding a request and a byte more is malformed: closed */
    uint8_t two[sizeof(req) + 1];
    memcpy(two, req, sizeof(req));
    two[sizeof(req)] = 0xc0;
    XT_OK(xipc_send(s, two, sizeof(two), 10000));
    XT_ERR(xipc_recv(s, msg, sizeof(msg), &n, 30000), XIPC_ECLOSED);
    xipc_close(s);
    xipc_rpc_server_free(srv);
    xipc_rpc_free(p);
}

/* ---- hostile clients ---- */

static void hostile(const char *url, const uint8_t *bytes, size_t n)
{
    xipc_plat_sock fd = raw_dial(url);
    raw_send(fd, bytes, n);
    raw_expect_closed(fd);
    xipc_plat_sock_close(fd);
}

#define HOSTILE(url, ...) hostile(url, BYTES(__VA_ARGS__), NBYTES(__VA_ARGS__))

/* A request over a limit whose msgid (1) arrived: answered with the error
 * [@p code, "..."], then closed. */
static void hostile_answered(const char *url, int64_t code, const uint8_t *bytes, size_t n)
{
    xipc_plat_sock fd = raw_dial(url);
    uint8_t buf[256];
    size_t got = 0, k;
    xipc_err rv;
    raw_send(fd, bytes, n);
    while ((rv = xipc_plat_sock_recv(fd, buf + got, sizeof(buf) - got, &k, 30000)) == XIPC_OK)
        got += k;
    XT_ERR(rv, XIPC_ECLOSED);
    xipc_plat_sock_close(fd);
    xipc_mp_reader r;
    uint32_t an, en, id, sl;
    uint64_t type;
    int64_t c;
    const char *s;
    xipc_mp_reader_init(&r, buf, got);
    XT_OK(xipc_mp_read_array(&r, &an));
    XT_EQ(an, 4);
    XT_OK(xipc_mp_read_uint(&r, &type));
    XT_EQ(type, 1);
    XT_OK(xipc_mp_read_uint32(&r, &id));
    XT_EQ(id, 1);
    XT_OK(xipc_mp_read_array(&r, &en));
    XT_EQ(en, 2);
    XT_OK(xipc_mp_read_int(&r, &c));
    XT_EQ(c, code);
    XT_OK(xipc_mp_read_str(&r, &s, &sl));
    XT_ASSERT(sl > 10 && memcmp(s, "message too", 11) == 0);
    XT_OK(xipc_mp_read_nil(&r));
    XT_EQ(xipc_mp_reader_left(&r), 0); /* nothing more: closed */
}

#define HOSTILE_ANSWERED(url, code, ...)                                       \
    hostile_answered(url, code, BYTES(__VA_ARGS__), NBYTES(__VA_ARGS__))

static void t_hostile(void)
{
    xipc_rpc_server_opts o;
    XT_OK(xipc_rpc_server_opts_init(&o));
    o.max_msg = 4096;
    o.max_depth = 8;
    xipc_rpc_server *srv = rt_server(2, &o);
    char url[512];
    rt_serve(srv, "unix", url, sizeof(url));
    /* a well-behaved client, connected all along */
    xipc_rpc_client *good = rt_dial(url);
    int v = 0;
    XT_OK(xipc_rpc_callf(good, "add", "ii", 1, 2, "i", &v));

    HOSTILE(url, 0xc1);                                           /* reserved byte */
    HOSTILE_ANSWERED(url, XIPC_RPC_EMSG_TOO_LARGE,                 /* 1 MiB bin */
                     0x94, 0x00, 0x01, 0xa3, 'a', 'd', 'd', 0xc6, 0x00, 0x10, 0x00, 0x00);
    HOSTILE(url, 0xdd, 0xff, 0xff, 0xff, 0xff);                   /* 4 G elements */
    HOSTILE_ANSWERED(url, XIPC_RPC_EMSG_TOO_DEEP,                  /* 9 levels deep */
                     0x94, 0x00, 0x01, 0xa3, 'a', 'd', 'd',
                     0x91, 0x91, 0x91, 0x91, 0x91, 0x91, 0x91, 0x91, 0x90);
    HOSTILE(url, 0x94, 0x01, 0x01, 0xc0, 0xc0);                   /* a response */
    HOSTILE(url, 0x93, 0x00, 0x01, 0xa3, 'a', 'd', 'd');          /* 3 elements */
    HOSTILE(url, 0x94, 0x03, 0x01, 0xa3, 'a', 'd', 'd', 0x90);    /* type 3 */
    HOSTILE(url, 0x94, 0x00, 0xff, 0xa3, 'a', 'd', 'd', 0x90);    /* msgid -1 */
    HOSTILE(url, 0x94, 0x00, 0xcf, 1, 0, 0, 0, 0, 0, 0, 0, 0xa1, 'a', 0x90); /* > 2^32 */
    HOSTILE(url, 0x94, 0x00, 0x01, 0x01, 0x90);                   /* method not str */
    HOSTILE(url, 0x05);                                           /* not an array */
    HOSTILE(url, 0x92, 0x02, 0xa1, 'x');                          /* notification of 2 */
    /* a message larger than max_msg, even when every piece is small */
    uint8_t big[5000];
    memset(big, 0x01, sizeof(big));
    big[0] = 0xdc; /* array 16 of 4997 ones */
    big[1] = (uint8_t)(4997 >> 8);
    big[2] = (uint8_t)(4997 & 0xff);
    hostile(url, big, sizeof(big));
    /* a good request, then garbage: answered, then closed */
    xipc_plat_sock fd = raw_dial(url);
    SEND(fd, 0x94, 0x00, 0x01, 0xa3, 'a', 'd', 'd', 0x92, 0x02, 0x03, 0xc1);
    EXPECT(fd, 0x94, 0x01, 0x01, 0xc0, 0x05);
    raw_expect_closed(fd);
    xipc_plat_sock_close(fd);

    /* the good client never noticed */
    for (int i = 0; i < 10; i++) {
        XT_OK(xipc_rpc_callf(good, "add", "ii", i, 2, "i", &v));
        XT_EQ(v, i + 2);
    }
    /* and a message just under the limit is fine */
    void *p;
    size_t pl;
    char *s = malloc(4000);
    XT_ASSERT(s != NULL);
    memset(s, 'z', 3999);
    s[3999] = '\0';
    XT_OK(xipc_rpc_pack(&p, &pl, "s", s));
    xipc_rpc_result res;
    xipc_rpc_result_init(&res);
    XT_OK(xipc_rpc_call(good, "echo", p, pl, &res, 30000));
    XT_EQ(res.value_len, pl);
    xipc_rpc_result_fini(&res);
    xipc_rpc_free(p);
    free(s);
    xipc_rpc_client_close(good);
    xipc_rpc_server_free(srv);
}

int main(void)
{
    t_scan();
    printf("rpc_wire_test scan ok\n");
    t_server_bytes();
    printf("rpc_wire_test server bytes ok\n");
    t_client_bytes();
    printf("rpc_wire_test client bytes ok\n");
    t_message_mode();
    printf("rpc_wire_test message mode ok\n");
    t_hostile();
    printf("rpc_wire_test ok\n");
    return 0;
}
