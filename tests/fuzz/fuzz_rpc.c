/*
 * libFuzzer target: MessagePack-RPC message parsing (src/rpc).
 *
 * Input: [ctl][a][b][bytes]. ctl selects:
 *   - message mode: xipc__rpc_msg_parse over the bytes (one message, as
 *     the server and client get it); an accepted message lies inside the
 *     input, its params/error/result are single values, and it encodes
 *     back (with the envelope writers) to a message that parses the same.
 *     The params (or the whole input) are then read with a format string
 *     made from @a and @b (xipc__rpc_fmt_read_value, what argsf and
 *     result_scanf run on untrusted values); copies are freed without
 *     leaks on success and failure.
 *   - the scanner (rpc_scan.h), which frames bare MessagePack on stream
 *     sockets: fed the bytes in pieces (cut points from @a, @b) it must
 *     end as one call over all of them does, and agree with the codec's
 *     reader on where a well-formed value ends.
 *   - stream mode on a real socket: an RPC connection (xipc__rpc_listen /
 *     conn_dial / accept on a unix://@ abstract name) receives the bytes
 *     raw; xipc__rpc_conn_recv with timeout 0 must return exactly the
 *     messages the scanner finds, then the right error (limits from ctl).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fuzz.h"
#include "rpc/rpc_conn.h"
#include "rpc/rpc_fmt.h"
#include "rpc/rpc_scan.h"
#include "rpc/rpc_wire.h"

#define RPC_FZ_MAX_INPUT (32u << 10)

/* ---- message mode ----------------------------------------------------------- */

static void rpc_fz_span(const uint8_t *buf, size_t len, const void *p, size_t n)
{
    const uint8_t *b = p;
    FZ_CHECK(b >= buf && b <= buf + len && (size_t)(buf + len - b) >= n);
}

/* Re-encode @p m with the envelope writers; it must parse the same. */
static void rpc_fz_reencode(const xipc_rpc_msg *m)
{
    xipc_mp_buf b;
    xipc_rpc_msg m2;
    xipc_mp_buf_init(&b);
    if (m->type == XIPC_RPC_RESPONSE) {
        xipc_mp_write_array(&b, 4);
        xipc_mp_write_uint(&b, XIPC_RPC_RESPONSE);
        xipc_mp_write_uint(&b, m->msgid);
        xipc_mp_write_raw(&b, m->error, m->error_len);
        xipc_mp_write_raw(&b, m->result, m->result_len);
    } else {
        xipc__rpc_write_call_hdr(&b, m->type, m->msgid, m->method, m->method_len);
        xipc_mp_write_raw(&b, m->params, m->params_len);
    }
    FZ_CHECK(b.err == XIPC_OK);
    FZ_CHECK(xipc__rpc_msg_parse(&m2, b.data, b.len) == XIPC_OK);
    FZ_CHECK(m2.type == m->type && m2.params_array == m->params_array);
    if (m->type != XIPC_RPC_NOTIFICATION)
        FZ_CHECK(m2.msgid == m->msgid);
    if (m->type == XIPC_RPC_RESPONSE) {
        FZ_CHECK(m2.error_len == m->error_len && m2.result_len == m->result_len);
        FZ_CHECK(memcmp(m2.error, m->error, m->error_len) == 0);
        FZ_CHECK(memcmp(m2.result, m->result, m->result_len) == 0);
    } else {
        FZ_CHECK(m2.method_len == m->method_len && m2.params_len == m->params_len);
        FZ_CHECK(m->method_len == 0 || memcmp(m2.method, m->method, m->method_len) == 0);
        FZ_CHECK(memcmp(m2.params, m->params, m->params_len) == 0);
    }
    xipc_mp_buf_fini(&b);
}

/* Storage any format letter may write into. */
typedef union rpc_fz_slot {
    bool b;
    int i;
    unsigned u;
    int64_t i64;
    uint64_t u64;
    double d;
    char *s;
    void *p;
    size_t n;
} rpc_fz_slot;

static xipc_err rpc_fz_read(const void *buf, size_t len, const char *fmt,
                            xipc_rpc_allocs *a, ...)
{
    va_list ap;
    va_start(ap, a);
    xipc_err rv = xipc__rpc_fmt_read_value(buf, len, fmt, &ap, a);
    va_end(ap);
    return rv;
}

/* Read @p buf with a format of up to 8 letters drawn from @p a, @p b. */
static void rpc_fz_fmt(const uint8_t *buf, size_t len, uint8_t x, uint8_t y)
{
    static const char letters[] = "nBiIuUdsbm";
    char fmt[9];
    unsigned n = x % 9;
    uint32_t bits = (uint32_t)x << 8 | y;
    for (unsigned i = 0; i < n; i++) {
        bits = bits * 1103515245u + 12345u;
        fmt[i] = letters[(bits >> 16) % 10];
    }
    fmt[n] = '\0';
    rpc_fz_slot s[16];
    memset(s, 0, sizeof(s));
    xipc_rpc_allocs al = {0};
    xipc_err rv = rpc_fz_read(buf, len, fmt, &al, &s[0], &s[1], &s[2], &s[3], &s[4],
                              &s[5], &s[6], &s[7], &s[8], &s[9], &s[10], &s[11],
                              &s[12], &s[13], &s[14], &s[15]);
    FZ_CHECK(rv == XIPC_OK || rv == XIPC_EINVAL || rv == XIPC_EPROTO);
    if (rv != XIPC_OK) {
        FZ_CHECK(al.n == 0 && al.p == NULL); /* freed on failure */
        return;
    }
    /* the copies: NUL-terminated, as long as the value said */
    unsigned k = 0;
    for (unsigned i = 0; i < n; i++) {
        char c = fmt[i];
        if (c == 'n')
            continue;
        if (c == 's')
            (void)strlen(s[k].s);
        if (c == 'b' || c == 'm') {
            FZ_CHECK(s[k + 1].n <= len);
            FZ_CHECK(((const char *)s[k].p)[s[k + 1].n] == '\0');
            if (c == 'm')
                FZ_CHECK(xipc__rpc_scan_exact(s[k].p, s[k + 1].n,
                                              XIPC_RPC_SCAN_DEPTH) == XIPC_OK);
            k++;
        }
        k++;
    }
    xipc__rpc_allocs_free(&al);
}

static void rpc_fz_message(const uint8_t *buf, size_t len, uint8_t x, uint8_t y)
{
    xipc_rpc_msg m;
    xipc_err rv = xipc__rpc_msg_parse(&m, buf, len);
    if (rv != XIPC_OK) {
        FZ_CHECK(rv == XIPC_EPROTO);
        rpc_fz_fmt(buf, len, x, y);
        return;
    }
    FZ_CHECK(m.type >= XIPC_RPC_REQUEST && m.type <= XIPC_RPC_NOTIFICATION);
    /* a whole message within the depth limit: the stream framing agrees */
    FZ_CHECK(xipc__rpc_scan_exact(buf, len, XIPC_RPC_SCAN_DEPTH) == XIPC_OK);
    if (m.type == XIPC_RPC_RESPONSE) {
        rpc_fz_span(buf, len, m.error, m.error_len);
        rpc_fz_span(buf, len, m.result, m.result_len);
        FZ_CHECK(m.error_len >= 1 && m.result_len >= 1);
        FZ_CHECK(m.result + m.result_len == buf + len);
    } else {
        rpc_fz_span(buf, len, m.method, m.method_len);
        rpc_fz_span(buf, len, m.params, m.params_len);
        FZ_CHECK(m.params_len >= 1 && m.params + m.params_len == buf + len);
        FZ_CHECK(xipc__rpc_scan_exact(m.params, m.params_len, XIPC_RPC_SCAN_DEPTH) ==
                 XIPC_OK);
        FZ_CHECK(m.params_array == ((m.params[0] & 0xf0) == 0x90 ||
                                    m.params[0] == 0xdc || m.params[0] == 0xdd));
    }
    rpc_fz_reencode(&m);
    if (m.type != XIPC_RPC_RESPONSE)
        rpc_fz_fmt(m.params, m.params_len, x, y);
    else
        rpc_fz_fmt(m.result, m.result_len, x, y);
}

/* ---- the scanner --------------------------------------------------------------- */

static void rpc_fz_scanner(const uint8_t *buf, size_t len, uint8_t x, uint8_t y)
{
    uint32_t depth = (x & 0x80) ? XIPC_RPC_SCAN_DEPTH : x % 9;
    size_t max_len = (y & 0x80) ? len : (size_t)(y & 0x7f) * 4;
    xipc_rpc_scan whole, part;
    size_t vlen_whole, vlen = 0;
    xipc__rpc_scan_init(&whole, depth, max_len);
    xipc_err rv_whole = xipc__rpc_scan(&whole, buf, len, &vlen_whole);
    FZ_CHECK(rv_whole == XIPC_OK || rv_whole == XIPC_EPROTO);
    if (rv_whole == XIPC_OK)
        FZ_CHECK(vlen_whole <= len && vlen_whole <= max_len);

    /* the same bytes in pieces: cut after 1..16 bytes each time */
    xipc__rpc_scan_init(&part, depth, max_len);
    xipc_err rv = XIPC_OK;
    size_t have = 0;
    uint32_t cut = (uint32_t)x * 257u + y;
    while (have < len) {
        cut = cut * 1103515245u + 12345u;
        size_t step = 1 + (cut >> 16) % 16;
        have = len - have < step ? len : have + step;
        rv = xipc__rpc_scan(&part, buf, have, &vlen);
        if (rv != XIPC_OK || vlen > 0)
            break;
    }
    if (len == 0)
        rv = xipc__rpc_scan(&part, buf, 0, &vlen);
    FZ_CHECK(rv == rv_whole);
    if (rv == XIPC_OK)
        FZ_CHECK(vlen == vlen_whole);

    /* the codec's reader agrees on where a well-formed value ends */
    if (depth == XIPC_RPC_SCAN_DEPTH && max_len == len) {
        xipc_mp_reader r;
        xipc_mp_reader_init(&r, buf, len);
        if (len > 0 && xipc_mp_skip(&r) == XIPC_OK) {
            FZ_CHECK(rv_whole == XIPC_OK);
            FZ_CHECK(vlen_whole == len - xipc_mp_reader_left(&r));
        }
    }
}

/* ---- stream mode on a socket ------------------------------------------------------ */

#define RPC_FZ_LISTENERS 3

static const xipc_rpc_limits rpc_fz_lim[RPC_FZ_LISTENERS] = {
    {64, 2}, {4096, 16}, {1u << 20, XIPC_RPC_SCAN_DEPTH}};
static xipc_rpc_listener *rpc_fz_l[RPC_FZ_LISTENERS];
static char rpc_fz_url[RPC_FZ_LISTENERS][96];

static void rpc_fz_init(void)
{
    for (int i = 0; i < RPC_FZ_LISTENERS; i++) {
        snprintf(rpc_fz_url[i], sizeof(rpc_fz_url[i]), "unix://@xipc-fuzz-rpc-%d-%d",
                 (int)getpid(), i);
        xipc_err rv = xipc__rpc_listen(&rpc_fz_l[i], rpc_fz_url[i], &rpc_fz_lim[i], NULL);
        if (rv != XIPC_OK) {
            fprintf(stderr, "fuzz_rpc: listen %s: %s\n", rpc_fz_url[i], xipc_strerror(rv));
            abort();
        }
    }
}

static void rpc_fz_stream(const uint8_t *buf, size_t len, uint8_t ctl)
{
    static int ready;
    if (!ready) {
        rpc_fz_init();
        ready = 1;
    }
    int li = (ctl >> 2) % RPC_FZ_LISTENERS;
    int close_writer = (ctl >> 4) & 1;
    const xipc_rpc_limits *lim = &rpc_fz_lim[li];
    xipc_rpc_conn *w, *r;
    FZ_CHECK(xipc__rpc_conn_dial(&w, rpc_fz_url[li], lim, NULL, 1000) == XIPC_OK);
    FZ_CHECK(xipc__rpc_accept(rpc_fz_l[li], &r, 1000) == XIPC_OK);
    size_t sent = 0;
    while (sent < len) {
        ssize_t k = send((int)w->fd, buf + sent, len - sent, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (k <= 0)
            break;
        sent += (size_t)k;
    }
    len = sent;
    if (close_writer) {
        xipc__rpc_conn_close(w);
        w = NULL;
    }
    size_t pos = 0;
    for (;;) {
        /* the reference: the scanner over what is left */
        xipc_rpc_scan s;
        size_t vlen = 0;
        xipc__rpc_scan_init(&s, lim->max_depth, lim->max_msg);
        xipc_err want = xipc__rpc_scan(&s, buf + pos, len - pos, &vlen);
        if (want == XIPC_OK && vlen == 0)
            want = close_writer ? XIPC_ECLOSED : XIPC_ETIMEDOUT;
        const uint8_t *msg;
        size_t n;
        xipc_err rv = xipc__rpc_conn_recv(r, &msg, &n, 0);
        FZ_CHECK(rv == want);
        if (rv != XIPC_OK) {
            if (rv != XIPC_ETIMEDOUT) /* sticky */
                FZ_CHECK(xipc__rpc_conn_recv(r, &msg, &n, 0) == rv);
            break;
        }
        FZ_CHECK(n == vlen && n <= lim->max_msg && memcmp(msg, buf + pos, n) == 0);
        FZ_CHECK(xipc__rpc_scan_exact(msg, n, lim->max_depth) == XIPC_OK);
        xipc_rpc_msg m;
        (void)xipc__rpc_msg_parse(&m, msg, n); /* what the server does next */
        pos += n;
    }
    xipc__rpc_conn_close(r);
    xipc__rpc_conn_close(w);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_in in = {data, size, 0};
    uint8_t ctl = fz_u8(&in), x = fz_u8(&in), y = fz_u8(&in);
    size_t len;
    const uint8_t *p = fz_bytes(&in, RPC_FZ_MAX_INPUT, &len);
    /* exactly sized copy: AddressSanitizer sees a read past the end */
    uint8_t *buf = malloc(len ? len : 1);
    FZ_CHECK(buf != NULL);
    memcpy(buf, p, len);
    switch (ctl & 3) {
    case 0:
    case 1:
        rpc_fz_message(buf, len, x, y);
        break;
    case 2:
        rpc_fz_scanner(buf, len, x, y);
        break;
    default:
        rpc_fz_stream(buf, len, ctl);
        break;
    }
    free(buf);
    return 0;
}
