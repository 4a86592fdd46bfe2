/*
 * libFuzzer target: frame parsing of the stream transports
 * (src/transport/stream.c, src/core/frame.h) fed from a real socket.
 *
 * Once: listeners on unix://@ abstract names (no file, no network), one
 * per receive limit (max_msg 16 MiB default, 1, 64, 4096 bytes). Per input
 * [ctl][seed][bytes]: a fresh connection through xipc_dial/xipc_accept;
 * the bytes go raw into the dialled socket's descriptor (xipc_sock_fd,
 * send()); ctl picks the limit and whether the writer closes afterwards.
 * The accepted end then reads with timeout 0, with xipc_recv into buffers
 * of random sizes (XIPC_EMSGSIZE keeps the message), xipc_peek/
 * xipc_release, repeated peeks, until XIPC_ETIMEDOUT, XIPC_EPROTO or
 * XIPC_ECLOSED. A reference parser of the same bytes says what each call
 * must return: every message's bytes, then the right final error, which
 * must be sticky (a timeout is not).
 */
#define _POSIX_C_SOURCE 200809L
#include <sys/socket.h>
#include <unistd.h>

#include "fuzz.h"
#include "xipc/xipc.h"

#define FRAME_FZ_MAX_INPUT (32u << 10) /* stays inside a socket buffer */
#define FRAME_FZ_LIMITS 4

static const uint32_t frame_fz_max[FRAME_FZ_LIMITS] = {0, 1, 64, 4096};
static xipc_sock *frame_fz_listener[FRAME_FZ_LIMITS];
static char frame_fz_url[FRAME_FZ_LIMITS][96];

static void frame_fz_init(void)
{
    for (int i = 0; i < FRAME_FZ_LIMITS; i++) {
        xipc_opts o;
        xipc_opts_init(&o);
        o.max_msg = frame_fz_max[i];
        snprintf(frame_fz_url[i], sizeof(frame_fz_url[i]),
                 "unix://@xipc-fuzz-frame-%d-%d", (int)getpid(), i);
        xipc_err rv = xipc_listen(&frame_fz_listener[i], frame_fz_url[i], &o);
        if (rv != XIPC_OK) {
            fprintf(stderr, "fuzz_frame: listen %s: %s\n", frame_fz_url[i],
                    xipc_strerror(rv));
            abort();
        }
    }
}

static uint32_t frame_fz_rnd(uint32_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 17;
    *x ^= *x << 5;
    return *x;
}

/* What the receiver must see next: a message at @p *pos, or an error. */
static xipc_err frame_fz_expect(const uint8_t *b, size_t len, size_t pos,
                                uint32_t max, int closed, uint32_t *n)
{
    if (len - pos < 4) /* the end, or a header cut short */
        return closed ? XIPC_ECLOSED : XIPC_ETIMEDOUT;
    uint32_t v = (uint32_t)b[pos] | (uint32_t)b[pos + 1] << 8 |
                 (uint32_t)b[pos + 2] << 16 | (uint32_t)b[pos + 3] << 24;
    if (v > max)
        return XIPC_EPROTO;
    if (len - pos - 4 < v)
        return closed ? XIPC_ECLOSED : XIPC_ETIMEDOUT;
    *n = v;
    return XIPC_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    if (!ready) {
        frame_fz_init();
        ready = 1;
    }
    fz_in in = {data, size, 0};
    uint8_t ctl = fz_u8(&in);
    uint32_t x = 0x2545f491u ^ (uint32_t)fz_u8(&in) << 8 ^ ctl;
    size_t len;
    const uint8_t *bytes = fz_bytes(&in, FRAME_FZ_MAX_INPUT, &len);
    int li = ctl % FRAME_FZ_LIMITS;
    uint32_t max = frame_fz_max[li] ? frame_fz_max[li] : 16u << 20;
    int close_writer = (ctl >> 2) & 1;

    xipc_sock *w, *r;
    FZ_CHECK(xipc_dial(&w, frame_fz_url[li], NULL, 1000) == XIPC_OK);
    FZ_CHECK(xipc_accept(frame_fz_listener[li], &r, 1000) == XIPC_OK);
    intptr_t fd;
    FZ_CHECK(xipc_sock_fd(w, &fd) == XIPC_OK);
    size_t sent = 0;
    while (sent < len) {
        ssize_t k = send((int)fd, bytes + sent, len - sent, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (k <= 0)
            break; /* the socket buffer is full: the rest was never sent */
        sent += (size_t)k;
    }
    len = sent;
    if (close_writer) {
        xipc_close(w);
        w = NULL;
    }

    size_t pos = 0;
    for (int step = 0;; step++) {
        FZ_CHECK(step < 4 * (int)len + 16);
        uint32_t n = 0;
        xipc_err want = frame_fz_expect(bytes, len, pos, max, close_writer, &n);
        uint32_t op = frame_fz_rnd(&x);
        xipc_err rv;
        size_t got = 0;
        if (op % 3 == 0) {
            /* copy into a buffer of exactly cap bytes */
            size_t cap = (op & 0x100) || n == 0 ? n : frame_fz_rnd(&x) % (n + 1);
            uint8_t *buf = malloc(cap ? cap : 1);
            FZ_CHECK(buf != NULL);
            rv = xipc_recv(r, buf, cap, &got, 0);
            if (rv == XIPC_OK) {
                FZ_CHECK(want == XIPC_OK && got == n);
                FZ_CHECK(n == 0 || memcmp(buf, bytes + pos + 4, n) == 0);
                pos += 4 + (size_t)n;
            } else if (rv == XIPC_EMSGSIZE) {
                FZ_CHECK(want == XIPC_OK && cap < n && got == n); /* stays queued */
            } else {
                FZ_CHECK(rv == want);
            }
            free(buf);
        } else {
            const void *p;
            rv = xipc_peek(r, &p, &got, 0);
            if (rv == XIPC_OK) {
                FZ_CHECK(want == XIPC_OK && got == n);
                FZ_CHECK(n == 0 || memcmp(p, bytes + pos + 4, n) == 0);
                if (op & 0x200) { /* peek again: the same message */
                    const void *p2;
                    size_t got2;
                    FZ_CHECK(xipc_peek(r, &p2, &got2, 0) == XIPC_OK && got2 == n);
                    FZ_CHECK(n == 0 || memcmp(p2, bytes + pos + 4, n) == 0);
                }
                if (op & 0x400) {
                    FZ_CHECK(xipc_release(r) == XIPC_OK);
                    pos += 4 + (size_t)n;
                }
            } else {
                FZ_CHECK(rv == want);
            }
        }
        if (rv == XIPC_OK || rv == XIPC_EMSGSIZE)
            continue;
        /* the end: EPROTO and ECLOSED are sticky, a timeout is not */
        size_t got2;
        uint8_t one[1];
        FZ_CHECK(xipc_recv(r, one, sizeof(one), &got2, 0) == rv);
        break;
    }
    xipc_close(r);
    xipc_close(w);
    return 0;
}
