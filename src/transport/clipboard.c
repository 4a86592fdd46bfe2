/*
 * clipboard://FORMAT — the Windows clipboard as a channel (docs/clipboard.md).
 *
 * One shared slot per clipboard format: a sender (xipc_dial) sets the
 * latest value, the latest set wins, and any process of the session may
 * read it; the value outlives the process that set it. A receiver
 * (xipc_listen) gets the value there when it starts, if any, and then
 * each new value once: it looks whenever the clipboard's change count
 * moves. Values a receiver did not look at in time are lost to it: the
 * clipboard keeps one.
 *
 * Each value carries a header that tells one value from the next (a
 * clipboard change of any other format moves the count too) and its
 * exact length (the system may round the memory up):
 *   "xipcclp1", u32 pid, u32 count, u64 time (ns), u32 length, u32 0
 * (little-endian), then the message. A value without it, or whose length
 * does not fit, is another program's: XIPC_EPROTO, once per value.
 * The same file on every OS; where there is no clipboard the platform
 * answers XIPC_ENOTSUP.
 */
#include <stdlib.h>
#include <string.h>

#include "core/deadline.h"
#include "core/platform.h"
#include "core/transport.h"

#define CLIP_MAGIC "xipcclp1"
#define CLIP_HDR 32u
#define CLIP_ID 16u                  /* pid, count and time: one value */
#define CLIP_MAX (16u << 20)         /* the largest message */
#define CLIP_LOOK_MIN_US 200u        /* a waiting receiver looks this often, */
#define CLIP_LOOK_MAX_US 5000u       /* backing off to this */

typedef struct clip_sock {
    xipc_sock sock;
    int receiver;
    xipc_plat_clip *c;
    char format[XIPC_NAME_MAX + 1];
    /* sender */
    uint32_t count;
    /* receiver */
    int looked;           /* seq is the change count last looked at */
    uint32_t seq;
    int have_last;        /* last: the id of the value last delivered */
    uint8_t last[CLIP_ID];
    uint8_t *pending;     /* a value taken but not delivered (buffer too small) */
    size_t pending_len;
} clip_sock;

extern const xipc_tran xipc_clipboard_tran;

static void clip_put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t clip_get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static xipc_err clip_open(xipc_sock **out, const xipc_url *url, int receiver)
{
    if (xipc__name_check(url->rest) != XIPC_OK)
        return XIPC_EINVAL;
    clip_sock *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return XIPC_ENOMEM;
    s->sock.tran = &xipc_clipboard_tran;
    s->sock.listener = 0; /* a receiver receives; it accepts nothing */
    s->receiver = receiver;
    memcpy(s->format, url->rest, strlen(url->rest) + 1);
    xipc_err rv = xipc_plat_clip_open(&s->c, s->format, !receiver);
    if (rv != XIPC_OK) {
        free(s);
        return rv;
    }
    *out = &s->sock;
    return XIPC_OK;
}

static xipc_err clip_listen(xipc_sock **out, const xipc_url *url, const xipc_opts *opts)
{
    (void)opts;
    return clip_open(out, url, 1);
}

/* Nothing to connect to: the clipboard is always there. */
static xipc_err clip_dial(xipc_sock **out, const xipc_url *url, const xipc_opts *opts,
                          int timeout_ms)
{
    (void)opts, (void)timeout_ms;
    return clip_open(out, url, 0);
}

static xipc_err clip_send(xipc_sock *ss, const void *buf, size_t len, int timeout_ms)
{
    clip_sock *s = (clip_sock *)ss;
    if (s->receiver)
        return XIPC_ENOTSUP; /* a receiver only reads */
    if (len > CLIP_MAX)
        return XIPC_EMSGSIZE;
    uint8_t *v = malloc(CLIP_HDR + len);
    if (v == NULL)
        return XIPC_ENOMEM;
    uint64_t t = xipc_plat_now_ns();
    memcpy(v, CLIP_MAGIC, 8);
    clip_put32(v + 8, xipc_plat_getpid());
    clip_put32(v + 12, ++s->count);
    clip_put32(v + 16, (uint32_t)t);
    clip_put32(v + 20, (uint32_t)(t >> 32));
    clip_put32(v + 24, (uint32_t)len);
    clip_put32(v + 28, 0);
    if (len > 0)
        memcpy(v + CLIP_HDR, buf, len);
    xipc_err rv = xipc_plat_clip_set(s->c, v, CLIP_HDR + len, timeout_ms);
    free(v);
    return rv;
}

/*
 * Look at the clipboard once if its change count moved: a new value of
 * ours becomes pending. XIPC_OK (looked, or nothing moved), XIPC_EPROTO
 * (another program's value), or the platform's error.
 */
static xipc_err clip_look(clip_sock *s, xipc_deadline *d)
{
    uint32_t seq = xipc_plat_clip_seq(s->c);
    if (s->looked && seq == s->seq)
        return XIPC_OK;
    void *v;
    size_t n;
    xipc_err rv = xipc_plat_clip_get(s->c, CLIP_HDR + CLIP_MAX + 4096u, &v, &n,
                                     xipc__deadline_left_ms(d));
    if (rv == XIPC_ETIMEDOUT)
        return XIPC_OK; /* held by another process: look again later */
    s->looked = 1;
    s->seq = seq;
    if (rv == XIPC_ENOENT)
        return XIPC_OK;
    if (rv == XIPC_EMSGSIZE)
        return XIPC_EPROTO; /* larger than any sender of ours writes */
    if (rv != XIPC_OK)
        return rv;
    uint8_t *p = v;
    uint32_t len = n >= CLIP_HDR ? clip_get32(p + 24) : 0;
    if (n < CLIP_HDR || memcmp(p, CLIP_MAGIC, 8) != 0 || len > CLIP_MAX ||
        len > n - CLIP_HDR || clip_get32(p + 28) != 0) {
        free(v);
        return XIPC_EPROTO;
    }
    if (s->have_last && memcmp(s->last, p + 8, CLIP_ID) == 0) {
        free(v); /* the value already delivered: another format changed */
        return XIPC_OK;
    }
    s->pending = p;
    s->pending_len = len;
    return XIPC_OK;
}

static xipc_err clip_recv(xipc_sock *ss, void *buf, size_t cap, size_t *len, int timeout_ms)
{
    clip_sock *s = (clip_sock *)ss;
    if (!s->receiver)
        return XIPC_ENOTSUP; /* a sender only writes */
    xipc_deadline d = xipc__deadline(timeout_ms);
    uint32_t look_us = CLIP_LOOK_MIN_US;
    for (;;) {
        if (s->pending == NULL) {
            xipc_err rv = clip_look(s, &d);
            if (rv != XIPC_OK)
                return rv;
        }
        if (s->pending != NULL) {
            *len = s->pending_len;
            if (cap < s->pending_len)
                return XIPC_EMSGSIZE; /* kept for a larger buffer */
            if (s->pending_len > 0)
                memcpy(buf, s->pending + CLIP_HDR, s->pending_len);
            memcpy(s->last, s->pending + 8, CLIP_ID);
            s->have_last = 1;
            free(s->pending);
            s->pending = NULL;
            return XIPC_OK;
        }
        uint32_t us;
        if (xipc__deadline_slice(&d, look_us, &us) != XIPC_OK)
            return XIPC_ETIMEDOUT;
        xipc_plat_sleep_us(us);
        look_us = look_us * 2 > CLIP_LOOK_MAX_US ? CLIP_LOOK_MAX_US : look_us * 2;
    }
}

static xipc_err clip_url(xipc_sock *ss, char *buf, size_t cap)
{
    return xipc__url_format(buf, cap, "clipboard", ((clip_sock *)ss)->format);
}

static void clip_close(xipc_sock *ss)
{
    clip_sock *s = (clip_sock *)ss;
    xipc_plat_clip_close(s->c);
    free(s->pending);
    free(s);
}

const xipc_tran xipc_clipboard_tran = {
    .scheme = "clipboard",
    .listen = clip_listen,
    .dial = clip_dial,
    .send = clip_send,
    .recv = clip_recv,
    .url = clip_url,
    .close = clip_close,
};
