/*
 * The caller's side of the 64-bit helper (inspect_helper.h). The helper
 * is a 64-bit `xipc` started with xipc_spawn() as "xipc inspect-helper";
 * requests and answers are inspect_wire.h's.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "core/detail.h"
#include "core/platform.h"
#include "inspect/inspect_helper.h"
#include "inspect/inspect_wire.h"

#define HELPER_WAIT_MS 60000 /* a helper silent this long is stuck: give up */
#define HELPER_ANSWER_MAX (INSPECT_MOD_HDR + INSPECT_PATH_MAX)

static atomic_uint helper_count;

unsigned xipc__helper_calls(void)
{
    return atomic_load(&helper_count);
}

const char *xipc__helper_path(void)
{
    const char *p = getenv(XIPC_HELPER_ENV);
    if (p != NULL && p[0] != '\0')
        return p;
#ifdef XIPC_HELPER64
    return XIPC_HELPER64;
#else
    return NULL;
#endif
}

typedef struct helper {
    xipc_sock *s;
    uint32_t pid;
    const char *path;
    uint8_t buf[HELPER_ANSWER_MAX];
    size_t len; /* of the last answer in buf */
} helper;

static xipc_err helper_start(helper *h, const char *why)
{
    h->path = xipc__helper_path();
    if (h->path == NULL) {
        xipc__set_detail("%s, and no 64-bit helper is known: set %s to a 64-bit xipc program",
                         why, XIPC_HELPER_ENV);
        return XIPC_ENOTSUP;
    }
    char *argv[] = {(char *)h->path, "inspect-helper", NULL};
    xipc_err rv = xipc_spawn(&h->s, h->path, argv, &h->pid);
    if (rv != XIPC_OK) {
        xipc__set_detail("%s, and the 64-bit helper %s=%s cannot be started (%s)", why,
                         XIPC_HELPER_ENV, h->path, xipc_strerror(rv));
        return XIPC_ENOTSUP;
    }
    atomic_fetch_add(&helper_count, 1);
    return XIPC_OK;
}

static void helper_stop(helper *h)
{
    xipc_close(h->s); /* the helper sees the end and exits */
    xipc_plat_child_reap(h->pid);
}

static xipc_err helper_garbage(const helper *h, const char *what)
{
    xipc__set_detail("64-bit helper %s: %s", h->path, what);
    return XIPC_EPROTO;
}

static xipc_err helper_ask(helper *h, char op, uint32_t pid, uint64_t addr, uint32_t len)
{
    uint8_t q[INSPECT_REQ_LEN];
    inspect_put_kind(q, op);
    inspect_put32(q + 4, pid);
    inspect_put64(q + 8, addr);
    inspect_put32(q + 16, len);
    xipc_err rv = xipc_send(h->s, q, sizeof(q), HELPER_WAIT_MS);
    if (rv != XIPC_OK)
        xipc__set_detail("64-bit helper %s: sending a request: %s", h->path, xipc_strerror(rv));
    return rv;
}

/* The next answer into h->buf; its kind, or 0 after a failure (returned
 * in @p rv). */
static char helper_next(helper *h, xipc_err *rv)
{
    *rv = xipc_recv(h->s, h->buf, sizeof(h->buf), &h->len, HELPER_WAIT_MS);
    if (*rv == XIPC_EMSGSIZE)
        *rv = helper_garbage(h, "an answer longer than any answer");
    else if (*rv != XIPC_OK)
        xipc__set_detail("64-bit helper %s: no answer: %s", h->path, xipc_strerror(*rv));
    else if (h->len == 0)
        *rv = helper_garbage(h, "an empty answer");
    return *rv == XIPC_OK ? (char)h->buf[0] : 0;
}

/* An 'E' answer: its error, the helper's detail made ours. */
static xipc_err helper_end(helper *h)
{
    if (h->len < INSPECT_END_HDR || h->len > INSPECT_END_HDR + INSPECT_DETAIL_MAX)
        return helper_garbage(h, "an end of the wrong size");
    uint32_t e = inspect_get32(h->buf + 4);
    if (e == XIPC_OK)
        return XIPC_OK;
    if (strcmp(xipc_err_name((xipc_err)e), "EUNKNOWN") == 0 ||
        memchr(h->buf + INSPECT_END_HDR, 0, h->len - INSPECT_END_HDR) != NULL)
        return helper_garbage(h, "an unknown error or a detail with a NUL");
    xipc__set_detail("%.*s", (int)(h->len - INSPECT_END_HDR),
                     (const char *)h->buf + INSPECT_END_HDR);
    return (xipc_err)e;
}

xipc_err xipc__helper_modules(uint32_t pid, void (*fn)(const xipc_module_info *m, void *arg),
                              void *arg, const char *why)
{
    helper h;
    xipc_err rv = helper_start(&h, why);
    if (rv != XIPC_OK)
        return rv;
    rv = helper_ask(&h, 'M', pid, 0, 0);
    for (char k; rv == XIPC_OK && (k = helper_next(&h, &rv)) != 'E';) {
        if (k == 0)
            break;
        if (k != 'M' || h.len <= INSPECT_MOD_HDR ||
            memchr(h.buf + INSPECT_MOD_HDR, 0, h.len - INSPECT_MOD_HDR) != NULL) {
            rv = helper_garbage(&h, "a malformed module");
            break;
        }
        char path[INSPECT_PATH_MAX + 1];
        memcpy(path, h.buf + INSPECT_MOD_HDR, h.len - INSPECT_MOD_HDR);
        path[h.len - INSPECT_MOD_HDR] = '\0';
        xipc_module_info m = {path, inspect_get64(h.buf + 8), inspect_get64(h.buf + 16),
                              inspect_get32(h.buf + 4)};
        if (m.bits != 0 && m.bits != 32 && m.bits != 64) {
            rv = helper_garbage(&h, "a module of neither 32 nor 64 bits");
            break;
        }
        fn(&m, arg);
    }
    if (rv == XIPC_OK)
        rv = helper_end(&h);
    helper_stop(&h);
    return rv;
}

/* One 'P' request of at most INSPECT_CHUNK bytes: its 'D' and 'E'. */
static xipc_err helper_peek_chunk(helper *h, uint32_t pid, uint64_t addr, uint8_t *buf,
                                  uint32_t len, size_t *got)
{
    xipc_err rv = helper_ask(h, 'P', pid, addr, len);
    char k = rv == XIPC_OK ? helper_next(h, &rv) : 0;
    *got = 0;
    if (k == 'D') {
        if (h->len - 1 > len || h->len == 1)
            return helper_garbage(h, "more bytes than asked, or none");
        memcpy(buf, h->buf + 1, h->len - 1);
        *got = h->len - 1;
        k = helper_next(h, &rv);
    }
    if (k == 0)
        return rv;
    if (k != 'E')
        return helper_garbage(h, "an answer of an unknown kind");
    rv = helper_end(h);
    if (rv == XIPC_OK && *got == 0)
        return helper_garbage(h, "success without the bytes");
    return rv;
}

xipc_err xipc__helper_peek(uint32_t pid, uint64_t addr, void *buf, size_t len, size_t *got,
                           const char *why)
{
    helper h;
    xipc_err rv = helper_start(&h, why);
    if (rv != XIPC_OK)
        return rv;
    *got = 0;
    while (*got < len) {
        size_t want = len - *got < INSPECT_CHUNK ? len - *got : INSPECT_CHUNK;
        size_t n;
        rv = helper_peek_chunk(&h, pid, addr + *got, (uint8_t *)buf + *got, (uint32_t)want,
                               &n);
        if (rv == XIPC_EINVAL && *got > 0)
            rv = XIPC_OK; /* nothing mapped there: what came before is the answer */
        *got += n;
        if (rv != XIPC_OK || n < want)
            break;
    }
    helper_stop(&h);
    return rv;
}
