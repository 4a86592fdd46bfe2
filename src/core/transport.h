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

#include "core/url.h"
#include "xipc/xipc.h"

typedef struct xipc_tran xipc_tran;

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
};

/*
 * Counters every endpoint keeps; transports bump them, xipc_stats_get
 * reads them. A transport's sock struct embeds xipc_sock, which holds
 * these.
 */
#define XIPC_SOCK_COUNT(s, field) ((s)->stats.field++)

/* The table for @p scheme, or NULL. */
const xipc_tran *xipc__tran_find(const char *scheme);

#endif
