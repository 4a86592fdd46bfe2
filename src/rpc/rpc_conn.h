/*
 * An RPC connection: a channel that carries whole MessagePack-RPC messages,
 * in one of two modes chosen by the transport of the URL:
 *
 *  - stream mode, where the transport has a byte-stream face (unix://,
 *    tcp://, see xipc_raw_ops in core/transport.h): bare MessagePack
 *    values back to back, as the MessagePack-RPC spec and every other
 *    implementation write them; the receiver finds the end of each
 *    message in the transport's receive buffer with the incremental
 *    scanner (rpc_scan.h);
 *  - message mode (every other scheme): one MessagePack-RPC message per
 *    xipc message, through the endpoint API.
 *
 * Either way the connection is an xipc_sock: the URL is parsed once, by
 * xipc_dial or xipc_listen, and peer identity, stats and the descriptor
 * come from the transport.
 *
 * Threads: any number of threads may send at once (a mutex orders whole
 * messages); one thread receives. Closing is for the last user.
 */
#ifndef XIPC_RPC_CONN_H
#define XIPC_RPC_CONN_H

#include <stdatomic.h>

#include "core/platform.h"
#include "core/transport.h"
#include "rpc/rpc_fmt.h"
#include "rpc/rpc_scan.h"

/* Limits a connection enforces on what it receives. */
typedef struct xipc_rpc_limits {
    uint32_t max_msg;   /* largest message in bytes */
    uint32_t max_depth; /* deepest nesting, at most XIPC_RPC_SCAN_DEPTH */
} xipc_rpc_limits;

/* Kinds of peer identity (xipc_rpc_peer.kind). */
enum {
    XIPC_RPC_PEER_UNKNOWN, /* the channel cannot tell */
    XIPC_RPC_PEER_UID,     /* a local user: addr[0..3] its uid */
    XIPC_RPC_PEER_IPV4,    /* addr[0..3] the address */
    XIPC_RPC_PEER_IPV6     /* addr the /64 prefix: a host has a whole /64 */
};

/* Who is at the other end of a connection, for per-peer limits. Two
 * connections come from the same peer when kind and addr are equal. */
typedef struct xipc_rpc_peer {
    uint32_t kind;   /* XIPC_RPC_PEER_* */
    uint8_t addr[8]; /* zero beyond what the kind uses */
} xipc_rpc_peer;

typedef struct xipc_rpc_conn {
    int stream;             /* 1: stream mode, 0: message mode */
    xipc_sock *sock;
    const xipc_raw_ops *raw; /* stream mode: the byte face of sock */
    xipc_plat_sock fd;      /* stream mode: sock's descriptor, for polling */
    xipc_rpc_limits lim;
    uint32_t peer_pid;      /* 0 when unknown */
    xipc_rpc_peer peer;     /* set once, when the connection is made */
    atomic_int broken;      /* sticky xipc_err once unusable, else 0 */
    xipc_plat_mutex send_mu;
    /* message mode's receive buffer: starts at nothing, grows with the
     * messages (by doubling: at most twice what is received), freed by
     * xipc__rpc_conn_trim. Stream mode's is the transport's (the same
     * rules); rx_cap mirrors its size. */
    uint8_t *rx;
    size_t rx_cap;
    xipc_rpc_scan scan;     /* stream mode: the message buffered first */
    uint8_t *tx;            /* message mode: gathered pieces */
    size_t tx_cap;
    atomic_size_t held;     /* rx_cap + tx_cap, readable by any thread */
    /* why receiving ended with XIPC_EPROTO (XIPC_RPC_SCAN_*), and the
     * first bytes of the offending message: its msgid, if it got so far */
    int fault;
    uint8_t fault_pre[32];
    size_t fault_len;
} xipc_rpc_conn;

typedef struct xipc_rpc_listener {
    int stream;             /* its connections are in stream mode */
    xipc_sock *sock;
    xipc_rpc_limits lim;
    char url[XIPC_URL_MAX]; /* as bound */
} xipc_rpc_listener;

/*
 * Connect to @p url. @p sock_opts (may be NULL) are the endpoint options
 * of message mode, whose limits apply too.
 */
xipc_err xipc__rpc_conn_dial(xipc_rpc_conn **out, const char *url,
                             const xipc_rpc_limits *lim,
                             const xipc_opts *sock_opts, int timeout_ms);

/* A request or notification as the pieces xipc__rpc_conn_sendv takes:
 * the header, up to the params, in @p hdr; then the params. */
typedef struct xipc_rpc_call_out {
    uint8_t hdr[XIPC_RPC_METHOD_MAX + 32];
    xipc_plat_iov iov[2];
} xipc_rpc_call_out;

/* Lay out [@p type, @p msgid, @p method, params] (a notification has no
 * msgid) in @p o; @p params NULL (with @p len 0) sends []. The method and
 * params are checked by the caller (xipc__rpc_check_call). */
xipc_err xipc__rpc_call_out(xipc_rpc_call_out *o, int type, uint32_t msgid,
                            const char *method, const void *params, size_t len);

/*
 * Send one message made of @p n pieces (1..8). Never interleaves with
 * another thread's message. A stream-mode send that times out after
 * writing part of the message breaks the connection (the peer could not
 * find the next message's start): XIPC_ECLOSED from then on.
 * @return XIPC_OK, XIPC_ETIMEDOUT (nothing sent), XIPC_ECLOSED,
 *         XIPC_EMSGSIZE, XIPC_ENOMEM, XIPC_EPROTO
 */
xipc_err xipc__rpc_conn_sendv(xipc_rpc_conn *c, const xipc_plat_iov *iov,
                              int n, int timeout_ms);

/*
 * As xipc__rpc_conn_sendv, but when the channel cannot take the whole
 * message at once, call @p before_wait(@p arg) first, then wait as
 * xipc__rpc_conn_sendv would. (The client's direct path gives up the
 * receive token there: a thread that holds it must not block in a send
 * while the peer may be blocked sending to us.)
 */
xipc_err xipc__rpc_conn_sendv_or(xipc_rpc_conn *c, const xipc_plat_iov *iov, int n,
                                 int timeout_ms, void (*before_wait)(void *),
                                 void *arg);

/*
 * Receive one complete message; *@p msg stays valid until the next call.
 * In stream mode the bytes of later messages stay buffered.
 * @return XIPC_OK, XIPC_ETIMEDOUT, XIPC_ECLOSED, XIPC_EPROTO (malformed
 *         or over a limit, c->fault says which: receive no more; sending
 *         still works until the connection is closed), XIPC_ENOMEM
 */
xipc_err xipc__rpc_conn_recv(xipc_rpc_conn *c, const uint8_t **msg,
                             size_t *len, int timeout_ms);

/*
 * Free the buffers of a connection that has nothing buffered: the receive
 * buffer (stream mode: unless part of a message waits in it; message
 * mode: always, the last message is over), and the send buffer unless a
 * sender holds it. The receiver's thread only, between messages.
 * @return the bytes freed
 */
size_t xipc__rpc_conn_trim(xipc_rpc_conn *c);

/* Mark the connection unusable (its receiver stops at its next call). */
void xipc__rpc_conn_break(xipc_rpc_conn *c, xipc_err why);

void xipc__rpc_conn_close(xipc_rpc_conn *c);

/* Listen at @p url; the bound URL (tcp port 0 resolved) is in l->url. */
xipc_err xipc__rpc_listen(xipc_rpc_listener **out, const char *url,
                          const xipc_rpc_limits *lim,
                          const xipc_opts *sock_opts);

/* XIPC_OK, XIPC_ETIMEDOUT, XIPC_ENOMEM, XIPC_ESYS... */
xipc_err xipc__rpc_accept(xipc_rpc_listener *l, xipc_rpc_conn **out,
                          int timeout_ms);

void xipc__rpc_listener_close(xipc_rpc_listener *l);

#endif
