/*
 * A message channel over a connected byte-stream socket (pipe://, unix://,
 * tcp://, anonymous pipes): length-prefixed frames (core/frame.h), input
 * buffered so one system call can bring in many small frames, partial
 * frames kept across timeouts (a timed-out recv loses nothing).
 *
 * Send: a frame that was partly written when the timeout expired is kept
 * and finished before the next send; the interrupted call reports
 * XIPC_OK (the message is committed), a send that wrote nothing reports
 * XIPC_ETIMEDOUT.
 *
 * Corking (XIPC_SEND_MORE): frames up to XIPC_STREAM_CORK_MAX bytes in all
 * are appended to tx instead of written; the next send without the flag
 * joins them in one write, as do xipc_flush and close (which finishes in
 * the background). Many small messages then cost one system call.
 */
#ifndef XIPC_TRANSPORT_STREAM_H
#define XIPC_TRANSPORT_STREAM_H

#include <stdatomic.h>

#include "core/addr.h"
#include "core/deadline.h"
#include "core/platform.h"
#include "core/transport.h"

#define XIPC_STREAM_URL_MAX 160
#define XIPC_STREAM_CORK_MAX (64u << 10)

/*
 * How a stream moves bytes: the plain socket (the default) or a layer over
 * it (TLS). The contracts are those of the platform calls:
 *  - sendv: all @p n buffers in order by deadline @p d, the bytes taken
 *    in @p sent (XIPC_ETIMEDOUT when not all were; a byte counted as sent
 *    is committed: the layer delivers it even if the next call is a close);
 *  - recv: at least one byte by deadline @p d, or XIPC_ETIMEDOUT,
 *    XIPC_ECLOSED (end of stream, reset) or another error (sticky);
 *  - close: free @p ctx and close @p fd without blocking (what was counted
 *    as sent may still go out from a background thread).
 * The stream calls sendv from one thread and recv from another at once.
 */
typedef struct xipc_stream_io {
    xipc_err (*sendv)(void *ctx, xipc_plat_sock fd, const xipc_plat_iov *iov,
                      int n, size_t *sent, xipc_deadline *d);
    xipc_err (*recv)(void *ctx, xipc_plat_sock fd, void *buf, size_t cap,
                     size_t *got, xipc_deadline *d);
    void (*close)(void *ctx, xipc_plat_sock fd);
} xipc_stream_io;

typedef struct xipc_stream {
    xipc_sock sock;
    xipc_plat_sock fd;
    const xipc_stream_io *io; /* the plain socket unless set */
    void *io_ctx;
    uint32_t max_msg;
    /* sticky XIPC_EPROTO / XIPC_ECLOSED (an xipc_err): set by the
     * receiving thread, read by the sending one */
    _Atomic int broken;
    /* input */
    uint8_t *rx;
    size_t rx_cap, rx_beg, rx_end;
    uint32_t rx_peeked; /* length of the peeked frame, or UINT32_MAX */
    size_t rx_want;     /* byte face: twice the free room a read wants */
    /* output */
    uint8_t *tx; /* reserve/commit buffer, and the unsent rest of a frame */
    size_t tx_cap, tx_off, tx_len;
    size_t reserved; /* open reservation length + 1, or 0 */
    int reserve_timeout;
    uint32_t peer_pid;
    uint32_t peer_uid;
    int has_peer_uid;
    char url[XIPC_STREAM_URL_MAX];
} xipc_stream;

/* A stream listener: the accept side of pipe://, unix:// and tcp://. */
typedef struct xipc_stream_listener {
    xipc_sock sock;
    xipc_plat_sock fd;
    uint32_t max_msg;
    char url[XIPC_STREAM_URL_MAX];
    char path[XIPC_STREAM_URL_MAX]; /* socket file to remove at close */
    char pidfile[XIPC_STREAM_URL_MAX + 8];
    /* Unix-family listeners: who may connect (see xipc_opts.allow_uid) */
    int check_uid;
    uint32_t allow_uid[8], allow_uid_count;
} xipc_stream_listener;

/* Wrap connected socket @p fd (taken over, closed on failure). */
xipc_err xipc__stream_new(xipc_sock **out, const xipc_tran *tran,
                          xipc_plat_sock fd, uint32_t max_msg, const char *url);

/* Move stream @p s's bytes through @p io with @p ctx (taken over: closed
 * with the stream) instead of the plain socket. Call before any I/O. */
void xipc__stream_set_io(xipc_sock *s, const xipc_stream_io *io, void *ctx);

xipc_stream_listener *xipc__stream_listener_new(const xipc_tran *tran,
                                                const xipc_opts *opts);

/* Unix-family listeners: take the allow list from @p opts (empty: our
 * own user only); accept then refuses other peers. */
void xipc__stream_listener_allow(xipc_stream_listener *l, const xipc_opts *opts);

/* The operations shared by every stream transport. */
xipc_err xipc__stream_accept(xipc_sock *l, xipc_sock **out, int timeout_ms);
xipc_err xipc__stream_send(xipc_sock *s, const void *buf, size_t len, int timeout_ms);
xipc_err xipc__stream_send_ex(xipc_sock *s, const void *buf, size_t len, unsigned flags,
                              int timeout_ms);
xipc_err xipc__stream_flush(xipc_sock *s, int timeout_ms);
xipc_err xipc__stream_recv(xipc_sock *s, void *buf, size_t cap, size_t *len,
                           int timeout_ms);
xipc_err xipc__stream_reserve(xipc_sock *s, size_t len, void **buf, int timeout_ms);
xipc_err xipc__stream_commit(xipc_sock *s, size_t len);
xipc_err xipc__stream_peek(xipc_sock *s, const void **buf, size_t *len, int timeout_ms);
xipc_err xipc__stream_release(xipc_sock *s);
xipc_err xipc__stream_peer_pid(xipc_sock *s, uint32_t *pid);
xipc_err xipc__stream_peer_uid(xipc_sock *s, uint32_t *uid);
xipc_err xipc__stream_fd(xipc_sock *s, intptr_t *fd);
xipc_err xipc__stream_url(xipc_sock *s, char *buf, size_t cap);
void xipc__stream_close(xipc_sock *s);

/* The vtable entries above, for designated initialisers. */
#define XIPC_STREAM_OPS                                                        \
    .accept = xipc__stream_accept, .send = xipc__stream_send,                  \
    .send_ex = xipc__stream_send_ex, .flush = xipc__stream_flush,              \
    .recv = xipc__stream_recv, .reserve = xipc__stream_reserve,                \
    .commit = xipc__stream_commit, .peek = xipc__stream_peek,                  \
    .release = xipc__stream_release, .peer_pid = xipc__stream_peer_pid,        \
    .peer_uid = xipc__stream_peer_uid, .fd = xipc__stream_fd,                  \
    .url = xipc__stream_url, .close = xipc__stream_close

/*
 * Listen / dial on a Unix stream socket at @p path (file) or abstract name;
 * @p url is what xipc_sock_url reports. Used by unix:// and pipe://.
 */
xipc_err xipc__unix_listen(xipc_sock **out, const xipc_tran *tran,
                           const char *path, int abstract,
                           const xipc_opts *opts, const char *url);
xipc_err xipc__unix_dial(xipc_sock **out, const xipc_tran *tran,
                         const char *path, int abstract, const xipc_opts *opts,
                         int timeout_ms, const char *url);

/*
 * Make room in @p c's receive buffer for @p need bytes from rx_beg on
 * (moving the buffered bytes to the front only when they would not fit),
 * growing it by doubling from @p min to at most @p max bytes (at max:
 * what fits). XIPC_OK or XIPC_ENOMEM.
 */
xipc_err xipc__stream_rx_room(xipc_stream *c, size_t need, size_t min, size_t max);

/* The byte-stream face (core/transport.h) of every stream (stream_raw.c). */
extern const xipc_raw_ops xipc__stream_raw;

/* The largest message with options @p opts (0 = the stream default). */
uint32_t xipc__stream_max(const xipc_opts *opts);

#endif
