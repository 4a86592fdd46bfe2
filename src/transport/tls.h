/*
 * tls+tcp:// in two parts: what every build shares (tls.c: the URL, the
 * option checks, listen / dial / accept and their deadlines, the send
 * path's chunking and the close that finishes committed bytes) and a TLS
 * library behind the calls below, one per port: posix/tls.c (OpenSSL),
 * win32/tls.c (Schannel). docs/tls.md describes both.
 *
 * No backend call blocks on the socket: each moves bytes with the
 * platform's calls at timeout 0 and waits in xipc_plat_sock_wait until
 * the deadline it is given. Every failure sets xipc_last_detail().
 */
#ifndef XIPC_TRANSPORT_TLS_H
#define XIPC_TRANSPORT_TLS_H

#include "transport/stream.h"

#define XIPC_TLS_CHUNK 16384 /* plaintext of one TLS record */

/* A listener's or a dial's settings (certificates, whom to trust). */
typedef struct xipc_tls_cfg xipc_tls_cfg;

/*
 * The start of every backend's connection: what the shared close path
 * reads. lock is held during every call into the TLS library (a sending
 * and a receiving thread share a connection; the waits happen without
 * it).
 */
typedef struct xipc_tls_conn {
    xipc_plat_sock fd;    /* not owned until the stream takes it */
    xipc_plat_mutex lock;
    int fatal;            /* failed or abandoned: no close_notify */
    int cert_asked;       /* the server asked us for a certificate we lack */
} xipc_tls_conn;

/* XIPC_OK when this TLS library can accept connections, else
 * XIPC_ENOTSUP with the reason in the detail (wine's Schannel). */
xipc_err xipc__tls_can_listen(void);

/* Settings from @p o (files read now; XIPC_EINVAL with a detail naming
 * the file). @p server: a listener's. */
xipc_err xipc__tls_cfg_new(xipc_tls_cfg **out, const xipc_opts *o, int server);

/* Drop the caller's reference (NULL: nothing); connections hold theirs. */
void xipc__tls_cfg_free(xipc_tls_cfg *c);

/*
 * Run the handshake on connected socket @p fd by @p d: @p name NULL on the
 * server side, else the name to check (with @p verify) and send as SNI.
 * On failure everything is freed except @p fd.
 */
xipc_err xipc__tls_connect(xipc_tls_conn **out, xipc_tls_cfg *c, xipc_plat_sock fd,
                           const char *name, int verify, xipc_deadline *d);

/* A backend's connection of @p size bytes (zeroed) for socket @p fd, its
 * lock made; NULL when out of memory. xipc__tls_conn_base_free undoes it. */
void *xipc__tls_conn_alloc(size_t size, xipc_plat_sock fd);
void xipc__tls_conn_base_free(xipc_tls_conn *t);

/* Free @p t without touching its socket. */
void xipc__tls_conn_free(xipc_tls_conn *t);

/* close_notify unless fatal (without blocking), close the socket, free. */
void xipc__tls_finish(xipc_tls_conn *t);

/* The send path: the committed chunk finished by @p d (XIPC_ETIMEDOUT:
 * kept for later); where the next chunk is gathered (@p cap bytes at
 * most); that chunk of @p len bytes committed and pushed by @p d. */
xipc_err xipc__tls_flush(xipc_tls_conn *t, xipc_deadline *d);
uint8_t *xipc__tls_chunk(xipc_tls_conn *t, size_t *cap);
xipc_err xipc__tls_put(xipc_tls_conn *t, size_t len, xipc_deadline *d);

/* The receive path: xipc_stream_io.recv's contract. */
xipc_err xipc__tls_recv(void *ctx, xipc_plat_sock fd, void *buf, size_t cap,
                        size_t *got, xipc_deadline *d);

/* The hint for a client refused for want of a certificate ("" if none). */
const char *xipc__tls_hint(const xipc_tls_conn *t);

#endif
