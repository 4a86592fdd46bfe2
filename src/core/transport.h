/*
 * The transport contract. Each URL scheme is one const xipc_tran with
 * designated initialisers (src/transport/<scheme>.c). The generic calls in
 * sock.c check arguments, then call through the table.
 *
 * Every transport's connection/listener struct begins with an xipc_sock.
 * Rules every operation keeps:
 *  - blocking operations honour timeout_ms (-1 forever, 0 poll);
 *  - a dead or closed peer is XIPC_ECLOSED, never a hang;
 *  - bytes from the peer are validated before use (XIPC_EPROTO);
 *  - close never blocks and frees everything.
 * Operations a transport lacks are NULL; the caller gets XIPC_ENOTSUP.
 */
#ifndef XIPC_CORE_TRANSPORT_H
#define XIPC_CORE_TRANSPORT_H

#include "core/platform.h"
#include "core/url.h"
#include "xipc/xipc.h"

typedef struct xipc_tran xipc_tran;
typedef struct xipc_raw_ops xipc_raw_ops;

struct xipc_sock {
    const xipc_tran *tran;
    int listener; /* 1 for a listener, 0 for a connection */
    xipc_stats stats;
};

/* Format "scheme://rest" into @p buf; XIPC_EMSGSIZE when it does not fit. */
xipc_err xipc__url_format(char *buf, size_t cap, const char *scheme,
                          const char *rest);

struct xipc_tran {
    const char *scheme;
    xipc_err (*listen)(xipc_sock **out, const xipc_url *url,
                       const xipc_opts *opts);
    xipc_err (*dial)(xipc_sock **out, const xipc_url *url,
                     const xipc_opts *opts, int timeout_ms);
    xipc_err (*accept)(xipc_sock *l, xipc_sock **out, int timeout_ms);
    xipc_err (*send)(xipc_sock *s, const void *buf, size_t len, int timeout_ms);
    /* optional: send with XIPC_SEND_* flags (NULL: flags are ignored and
     * send is used), and write out what such sends held back */
    xipc_err (*send_ex)(xipc_sock *s, const void *buf, size_t len, unsigned flags,
                        int timeout_ms);
    xipc_err (*flush)(xipc_sock *s, int timeout_ms);
    xipc_err (*recv)(xipc_sock *s, void *buf, size_t cap, size_t *len,
                     int timeout_ms);
    xipc_err (*reserve)(xipc_sock *s, size_t len, void **buf, int timeout_ms);
    xipc_err (*commit)(xipc_sock *s, size_t len);
    xipc_err (*peek)(xipc_sock *s, const void **buf, size_t *len,
                     int timeout_ms);
    xipc_err (*release)(xipc_sock *s);
    xipc_err (*peer_pid)(xipc_sock *s, uint32_t *pid);
    xipc_err (*peer_uid)(xipc_sock *s, uint32_t *uid); /* optional */
    /* optional: priorities (when NULL, only priority 0 via send/recv) */
    xipc_err (*send_prio)(xipc_sock *s, const void *buf, size_t len,
                          unsigned prio, int timeout_ms);
    xipc_err (*recv_prio)(xipc_sock *s, void *buf, size_t cap, size_t *len,
                          unsigned *prio, int timeout_ms);
    xipc_err (*fd)(xipc_sock *s, intptr_t *fd);
    xipc_err (*url)(xipc_sock *s, char *buf, size_t cap);
    void (*close)(xipc_sock *s);
    /* optional: call @p fn for each endpoint of this scheme that the
     * current user has on this host (xipc_endpoints). Only looks: never
     * creates, locks or changes an object, never trusts another process's
     * bytes unchecked, never blocks. XIPC_OK when there is nothing. */
    xipc_err (*list)(void (*fn)(const xipc_endpoint_info *, void *), void *arg);
    /* optional, internal: the byte-stream face (below) */
    const xipc_raw_ops *raw;
};

/*
 * The byte-stream face of a connection: bare bytes, no xipc framing, for
 * a protocol that finds the ends of its own messages (MessagePack-RPC's
 * stream mode, docs/design.md). A transport has it when its endpoints are
 * plain byte streams that programs outside xipc speak (unix://, tcp://).
 * A connection is used through one face only, messages or bytes, for its
 * whole life: the bytes of one are garbage to the other. One thread sends
 * and one receives at a time, as with messages. The receive buffer is the
 * transport's: it starts at 1 KiB, doubles as a message needs and is
 * freed by trim.
 */
struct xipc_raw_ops {
    /* Write @p iov[0..n) (n <= XIPC_RAW_IOV_MAX) whole, from byte *@p sent
     * on (0: all of it); *@p sent: the bytes written so far. XIPC_OK (all;
     * stats.sent counts it), XIPC_ETIMEDOUT (the rest is left: call again
     * to go on, or give the connection up), XIPC_ECLOSED, other errors. */
    xipc_err (*sendv)(xipc_sock *s, const xipc_plat_iov *iov, int n, size_t *sent,
                      int timeout_ms);
    /* The bytes buffered and not consumed (*@p len 0: none); no I/O. */
    void (*buffered)(xipc_sock *s, const uint8_t **buf, size_t *len);
    /* Read at least one byte more into the buffer, growing it to at most
     * @p max bytes (at max: what fits). XIPC_OK, XIPC_ETIMEDOUT,
     * XIPC_ECLOSED (end of stream), XIPC_ENOMEM, other errors; none of
     * them stops sending. */
    xipc_err (*more)(xipc_sock *s, size_t max, int timeout_ms);
    /* The first @p n buffered bytes were one message: drop them (stats.
     * received counts it). They stay readable until the next call to more. */
    void (*consume)(xipc_sock *s, size_t n);
    /* Free the receive buffer if nothing is buffered. @return bytes freed */
    size_t (*trim)(xipc_sock *s);
    /* The receive buffer's size in bytes. */
    size_t (*held)(xipc_sock *s);
};

#define XIPC_RAW_IOV_MAX 8

/* Connection or listener @p s's byte-stream face, or NULL. */
static inline const xipc_raw_ops *xipc__raw(const xipc_sock *s)
{
    return s->tran->raw;
}

/*
 * Counters every endpoint keeps; transports bump them, xipc_stats_get
 * reads them. A transport's sock struct embeds xipc_sock, which holds
 * these.
 */
#define XIPC_SOCK_COUNT(s, field) ((s)->stats.field++)

/* The table for @p scheme, or NULL. */
const xipc_tran *xipc__tran_find(const char *scheme);

#endif
