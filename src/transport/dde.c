/*
 * dde://SERVICE/TOPIC[/ITEM] — Dynamic Data Exchange (docs/dde.md).
 *
 * A listener serves SERVICE/TOPIC: it keeps the latest value of each item
 * clients poke, answers their requests and advise links from it, and
 * receives the pokes of ITEM ("xipc" when the URL names none) as
 * messages; what it sends becomes ITEM's value, pushed to every advise
 * link. A dialler holds one conversation about ITEM: a send pokes it; the
 * first receive starts a hot advise link and requests the value there is
 * now, which it returns (XIPC_ENOENT when the server has none), and each
 * later receive returns the next value the link brought.
 *
 * The same file on every OS; where there is no DDE the platform answers
 * XIPC_ENOTSUP.
 */
#include <stdlib.h>
#include <string.h>

#include "core/detail.h"
#include "core/platform.h"
#include "core/transport.h"

#define DDE_NAME_MAX 255               /* a DDE string's longest */
#define DDE_ITEM_DEFAULT "xipc"
#define DDE_MAX_DEFAULT (1u << 20)     /* the largest message unless max_msg says */

typedef struct dde_sock {
    xipc_sock sock;
    int server;
    xipc_plat_dde *d;
    int linked;       /* client: the advise link is up */
    void *pending;    /* a value taken but not delivered (buffer too small) */
    size_t pending_len;
    char rest[3 * (DDE_NAME_MAX + 1)]; /* SERVICE/TOPIC[/ITEM], as the URL had it */
} dde_sock;

extern const xipc_tran xipc_dde_tran;

/* Split "SERVICE/TOPIC[/ITEM]" into @p part (each 1..255 printable ASCII
 * characters but '/'); the item defaults to "xipc". */
static xipc_err dde_parse(const char *rest, char part[3][DDE_NAME_MAX + 1])
{
    int n = 0;
    size_t len = 0;
    for (const char *p = rest;; p++) {
        if (*p == '/' || *p == '\0') {
            if (len == 0 || n == 3)
                return XIPC_EINVAL;
            part[n++][len] = '\0';
            len = 0;
            if (*p == '\0')
                break;
        } else if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f || len == DDE_NAME_MAX) {
            return XIPC_EINVAL;
        } else if (n < 3) {
            part[n][len++] = *p;
        }
    }
    if (n < 2)
        return XIPC_EINVAL;
    if (n == 2)
        memcpy(part[2], DDE_ITEM_DEFAULT, sizeof(DDE_ITEM_DEFAULT));
    return XIPC_OK;
}

static xipc_err dde_open(xipc_sock **out, const xipc_url *url, const xipc_opts *opts,
                         int server)
{
    char part[3][DDE_NAME_MAX + 1];
    if (dde_parse(url->rest, part) != XIPC_OK)
        return XIPC_EINVAL;
    dde_sock *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return XIPC_ENOMEM;
    s->sock.tran = &xipc_dde_tran;
    s->sock.listener = 0; /* a server receives pokes; it accepts nothing */
    s->server = server;
    size_t max = opts->max_msg != 0 ? opts->max_msg : DDE_MAX_DEFAULT;
    memcpy(s->rest, url->rest, strlen(url->rest) + 1); /* dde_parse bounded it */
    xipc_err rv = server ? xipc_plat_dde_serve(&s->d, part[0], part[1], part[2], max)
                         : xipc_plat_dde_connect(&s->d, part[0], part[1], part[2], max);
    if (rv != XIPC_OK) {
        free(s);
        return rv;
    }
    *out = &s->sock;
    return XIPC_OK;
}

static xipc_err dde_listen(xipc_sock **out, const xipc_url *url, const xipc_opts *opts)
{
    return dde_open(out, url, opts, 1);
}

/* DdeConnect finds a server at once or not at all: nothing to wait for. */
static xipc_err dde_dial(xipc_sock **out, const xipc_url *url, const xipc_opts *opts,
                         int timeout_ms)
{
    (void)timeout_ms;
    return dde_open(out, url, opts, 0);
}

/*
 * No empty values: a DDE data handle of 0 bytes does not travel under
 * wine (a request for it fails, an advise link skips it: docs/windows.md),
 * and a message that arrives on one side only is worse than a refusal.
 */
static xipc_err dde_send(xipc_sock *ss, const void *buf, size_t len, int timeout_ms)
{
    if (len == 0) {
        xipc__set_detail("dde:// carries no empty messages (a DDE value has at least "
                         "one byte)");
        return XIPC_EINVAL;
    }
    return xipc_plat_dde_put(((dde_sock *)ss)->d, buf, len, timeout_ms);
}

/* A client's first receive: link, then the value there is now. XIPC_ENOENT:
 * none yet (the link is up: the next receive waits for the first). */
static xipc_err dde_link(dde_sock *s, int timeout_ms)
{
    xipc_err rv = xipc_plat_dde_advise(s->d, timeout_ms);
    if (rv != XIPC_OK)
        return rv;
    s->linked = 1;
    return xipc_plat_dde_request(s->d, &s->pending, &s->pending_len, timeout_ms);
}

static xipc_err dde_recv(xipc_sock *ss, void *buf, size_t cap, size_t *len, int timeout_ms)
{
    dde_sock *s = (dde_sock *)ss;
    xipc_err rv = XIPC_OK;
    if (!s->server && !s->linked)
        rv = dde_link(s, timeout_ms);
    if (rv == XIPC_OK && s->pending == NULL)
        rv = xipc_plat_dde_next(s->d, &s->pending, &s->pending_len, timeout_ms);
    if (rv != XIPC_OK)
        return rv;
    *len = s->pending_len;
    if (cap < s->pending_len)
        return XIPC_EMSGSIZE; /* kept for a larger buffer */
    if (s->pending_len > 0)
        memcpy(buf, s->pending, s->pending_len);
    free(s->pending);
    s->pending = NULL;
    return XIPC_OK;
}

static xipc_err dde_url(xipc_sock *ss, char *buf, size_t cap)
{
    return xipc__url_format(buf, cap, "dde", ((dde_sock *)ss)->rest);
}

static void dde_close(xipc_sock *ss)
{
    dde_sock *s = (dde_sock *)ss;
    xipc_plat_dde_close(s->d);
    free(s->pending);
    free(s);
}

const xipc_tran xipc_dde_tran = {
    .scheme = "dde",
    .listen = dde_listen,
    .dial = dde_dial,
    .send = dde_send,
    .recv = dde_recv,
    .url = dde_url,
    .close = dde_close,
};
