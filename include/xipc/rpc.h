/*
 * xipc RPC — MessagePack-RPC over every xipc channel (docs/rpc.md).
 *
 * The classic four layers: the client is the proxy (xipc_rpc_call*,
 * xipc_rpc_callf), MessagePack the serialization, an xipc channel the
 * invoke layer, and the server the container that sleeps until a call
 * arrives and hands it to a named handler on a worker thread.
 *
 * The wire format is the public MessagePack-RPC spec, unchanged:
 *   request       [0, msgid, method, params]   msgid uint32, params an array
 *   response      [1, msgid, error, result]    error nil on success
 *   notification  [2, method, params]
 * Responses may come out of order; clients match them by msgid.
 *
 * Channels: unix:///PATH, unix://@NAME and tcp://HOST:PORT carry bare
 * MessagePack on the socket (stream mode), exactly as other MessagePack-RPC
 * implementations (Python's msgpack-rpc, Neovim's API...) do, so they
 * interoperate with any spec-compliant peer. Every other scheme (shm://,
 * pipe://...) carries one MessagePack-RPC message per xipc message
 * (message mode); both ends must be xipc.
 *
 * Error objects (the third element of a response) are written by xipc as
 * [code, message] with an integer code and a str message; the codes of
 * the XIPC_RPC_E* list are xipc's own, handlers choose their own codes. A
 * client accepts any error object (a bare string from another
 * implementation too) and returns XIPC_EREMOTE with the object's bytes.
 *
 * Format strings (xipc_rpc_callf, xipc_rpc_notifyf, xipc_rpc_pack,
 * xipc_rpc_req_argsf, xipc_rpc_req_returnf, xipc_rpc_result_scanf): one
 * letter per value.
 *
 *   letter  value            writing: arguments       reading: pointers
 *   n       nil              (none)                   (none; must be nil)
 *   B       bool             int                      bool *
 *   i       int              int                      int *
 *   I       64-bit int       int64_t                  int64_t *
 *   u       unsigned int     unsigned                 unsigned *
 *   U       64-bit unsigned  uint64_t                 uint64_t *
 *   d       float 64         double                   double * (float 32,
 *                                                     float 64 or integer)
 *   s       str              const char * (NUL-ended) char ** (copy, NUL-ended)
 *   b       bin              const void *, size_t     void **, size_t *
 *   m       any one value,   const void *, size_t     void **, size_t *
 *           pre-encoded      (checked: exactly one    (the value's bytes:
 *           MessagePack      well-formed value)       arrays, maps, ext...)
 *
 * Integers are range-checked when read (an int result of 2^40 is an
 * error, not a truncation). Read-side copies (s, b, m) are owned by the
 * call inside a handler (freed when the handler returns) and by the caller
 * elsewhere (free them with xipc_rpc_free). Variadic arguments take the
 * C type of the table exactly: pass (int64_t)x for I, (uint64_t)x for U.
 *
 * Threads: a server's handlers run on its worker threads, several at once;
 * a client may be used by any number of threads at once.
 */
#ifndef XIPC_RPC_H
#define XIPC_RPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xipc/xipc.h"

#ifdef __cplusplus
extern "C" {
#endif

/*! Codes of the error objects xipc writes, JSON-RPC's numbers. */
#define XIPC_RPC_EINVALID_REQUEST (-32600)   /*!< params is not an array */
#define XIPC_RPC_EMETHOD_NOT_FOUND (-32601)  /*!< no handler of that name */
#define XIPC_RPC_EINVALID_PARAMS (-32602)    /*!< wrong number or types of
                                                  arguments (xipc_rpc_req_argsf,
                                                  or a handler returning
                                                  XIPC_EINVAL) */
#define XIPC_RPC_EINTERNAL (-32603)          /*!< the handler failed with an
                                                  xipc_err other than EINVAL,
                                                  or wrote a bad result */
#define XIPC_RPC_ETOO_MANY_REQUESTS (-32000) /*!< the connection has
                                                  max_inflight calls queued */
#define XIPC_RPC_ESHUTTING_DOWN (-32001)     /*!< the server is stopping */
#define XIPC_RPC_ETOO_MANY_CONNECTIONS (-32002) /*!< the server holds max_conns
                                                  connections: this one's
                                                  first request is answered
                                                  so, then it is closed */
#define XIPC_RPC_EMSG_TOO_LARGE (-32003)     /*!< the request is larger than
                                                  max_msg; the connection is
                                                  then closed */
#define XIPC_RPC_EMSG_TOO_DEEP (-32004)      /*!< the request nests deeper
                                                  than max_depth; the
                                                  connection is then closed */
#define XIPC_RPC_ETOO_MANY_PEER_CONNECTIONS (-32005) /*!< the server holds
                                                  max_conns_per_peer
                                                  connections of this peer:
                                                  this one's first request
                                                  is answered so, then it
                                                  is closed */

/*! The MessagePack codec's reader and writer (xipc/msgpack.h). */
typedef struct xipc_mp_reader xipc_mp_reader;
typedef struct xipc_mp_buf xipc_mp_buf;

/*! Free memory the RPC layer handed to the caller; NULL is a no-op. */
XIPC_API void xipc_rpc_free(void *p);

/*!
 * Pack values into a MessagePack array, e.g. the params of
 * xipc_rpc_call_async: xipc_rpc_pack(&p, &len, "is", 7, "seven").
 * @param out receives the bytes (free with xipc_rpc_free)
 * @return XIPC_OK, XIPC_EINVAL (unknown letter, a NULL str, an m value
 *         that is not exactly one well-formed value), XIPC_ENOMEM,
 *         XIPC_EMSGSIZE
 */
XIPC_API xipc_err xipc_rpc_pack(void **out, size_t *len, const char *fmt, ...);

/* ------------------------------------------------------------------ server */

/*! A server: the container of named handlers. Opaque. */
typedef struct xipc_rpc_server xipc_rpc_server;

/*! One call being handled, given to a handler. Opaque. */
typedef struct xipc_rpc_req xipc_rpc_req;

/*!
 * A handler. Read the arguments (xipc_rpc_req_argsf, or the codec through
 * xipc_rpc_req_params), write the result (xipc_rpc_req_returnf, or the
 * codec through xipc_rpc_req_result) or an error (xipc_rpc_req_error).
 * Runs on a worker thread, or on the thread that read the request (a
 * shm:// or pipe:// connection's reader, in a 64-bit process, while fewer
 * than opts.workers handlers run; or registered XIPC_RPC_INLINE). At most
 * opts.workers run at once, plus inline ones.
 * @return XIPC_OK: the response carries the error set with
 *         xipc_rpc_req_error if any, else the result written (nil when
 *         nothing was written). Another code without an error set: the
 *         response is [XIPC_RPC_EINVALID_PARAMS, ...] for XIPC_EINVAL,
 *         [XIPC_RPC_EINTERNAL, xipc_strerror(code)] otherwise.
 */
typedef xipc_err (*xipc_rpc_handler)(xipc_rpc_req *req, void *userdata);

/*! Magic value stored by the options' init functions. */
#define XIPC_RPC_OPTS_MAGIC 0x78697072u /* "xipr" */

/*!
 * Server options. Fill with xipc_rpc_server_opts_init() first; an
 * uninitialised struct is refused (XIPC_EINVAL).
 */
typedef struct xipc_rpc_server_opts {
    uint32_t magic; /*!< set by init; do not touch */
    uint32_t size;  /*!< sizeof(xipc_rpc_server_opts) at the caller's build */
    /*! Worker threads running handlers, and the most handlers (not
     *  counting inline ones) that run at once, wherever they run.
     *  Default: the number of processors. */
    uint32_t workers;
    /*! Largest message received, in bytes. Default 16 MiB. A larger one
     *  (or a header announcing one) closes that connection; a request
     *  whose msgid arrived before the excess is answered first with
     *  [XIPC_RPC_EMSG_TOO_LARGE, "message too large: ..."]. */
    uint32_t max_msg;
    /*! Deepest nesting of a message (the envelope array counts as one
     *  level), 2..64. Default 64. Deeper closes the connection, after the
     *  answer [XIPC_RPC_EMSG_TOO_DEEP, "message too deep: ..."]. */
    uint32_t max_depth;
    /*! Calls and notifications queued or running per connection. Default
     *  1024. A request beyond it is answered at once with the error
     *  [XIPC_RPC_ETOO_MANY_REQUESTS, "too many requests"] (that request
     *  only); a notification beyond it is dropped. */
    uint32_t max_inflight;
    /*! Bytes of queued requests per connection before the server stops
     *  reading from it until some finish (back-pressure, no error).
     *  Default 64 MiB. */
    uint32_t max_queued_bytes;
    /*! How long sending one response may block, in ms (-1: forever). A
     *  client that does not read its responses is disconnected after it.
     *  Default 10000. */
    int send_timeout_ms;
    /*! Endpoint options of every listener (xipc_listen's); filled by init
     *  with xipc_opts_init(). backlog and allow_uid (who may connect to
     *  unix:// and pipe:// listeners: by default this process's user
     *  only) apply in both modes; in message mode (shm://, pipe://...) the
     *  transport's own limits apply as well (pipe://: sock.max_msg, 16 MiB
     *  by default). */
    xipc_opts sock;
    /*! Connections served at once, all URLs together. Default 4096. One
     *  more is refused: its first request, if it sends one within a
     *  second, is answered [XIPC_RPC_ETOO_MANY_CONNECTIONS, "too many
     *  connections"], then it is closed (at once when 64 refused ones
     *  are already waiting); counted in stats.refused_conns. The
     *  connections served are not affected. */
    uint32_t max_conns;
    /*! Connections served at once from one peer, all URLs together: the
     *  peer is the user id over unix://, pipe:// and shm://, the remote
     *  address over tcp:// (an IPv6 address by its /64 prefix; every
     *  local client of tcp://127.0.0.1 is one peer). Default 1024, a
     *  quarter of max_conns' default; at least 1. One more from that peer
     *  is refused as over max_conns, answered
     *  [XIPC_RPC_ETOO_MANY_PEER_CONNECTIONS, "too many connections from
     *  this peer"]; counted in stats.refused_peer. A peer whose identity
     *  the channel cannot tell counts as one peer, "unknown". */
    uint32_t max_conns_per_peer;
    /*! How long a new connection may take to deliver its first complete
     *  message (a request or a notification), in ms from its accept; -1:
     *  no limit. Default 10000. Then it is closed without an answer
     *  (there is no msgid to answer) and counted in
     *  stats.first_request_timeouts: a client that connects and sends
     *  nothing, or part of a message, or a message a byte at a time, does
     *  not hold a place for long. A client that dials long before its
     *  first call finds the connection closed (XIPC_ECLOSED): it dials
     *  again, or the server sets -1 for clients it trusts. 0 is
     *  XIPC_EINVAL. */
    int first_request_timeout_ms;
    /*! How long a connection may stay idle (no call in flight, no byte
     *  received), in ms; -1: no limit. Default 300000 (5 minutes). Then it
     *  is closed and counted in stats.idle_timeouts. A call in flight,
     *  however long, is not idleness: the time starts when its response
     *  is sent. 0 is XIPC_EINVAL. Both timeouts are checked about every
     *  eighth of the shorter one (10 ms to 1 s; shm://, pipe://: every
     *  50 ms): a connection is closed up to that much late, never early. */
    int idle_timeout_ms;
} xipc_rpc_server_opts;

/*! Fill @p opts with the defaults. @return XIPC_OK, XIPC_EINVAL (NULL) */
XIPC_API xipc_err xipc_rpc_server_opts_init(xipc_rpc_server_opts *opts);

/*!
 * Create a server and start its worker threads. It serves nothing until
 * xipc_rpc_server_serve(). The built-in method "xipc.methods" is
 * registered: it returns [[name, signature], ...] for every method, in
 * the order of registration, itself first.
 * @param opts options, or NULL for the defaults
 * @return XIPC_OK, XIPC_EINVAL, XIPC_ENOMEM, XIPC_ESYS
 */
XIPC_API xipc_err xipc_rpc_server_alloc(xipc_rpc_server **out,
                                        const xipc_rpc_server_opts *opts);

/*!
 * Register @p handler under @p name. Allowed at any time before stop,
 * also while serving.
 * @param signature free text that xipc.methods reports, e.g.
 *        "(int a, int b) -> int"; may be NULL ("")
 * @return XIPC_OK, XIPC_EINVAL (empty name, a name starting with "xipc."
 *         — reserved —, or longer than 255 bytes), XIPC_EADDRINUSE (the
 *         name is taken), XIPC_ESTATE (stopped), XIPC_ENOMEM
 */
XIPC_API xipc_err xipc_rpc_server_register(xipc_rpc_server *srv,
                                           const char *name,
                                           const char *signature,
                                           xipc_rpc_handler handler,
                                           void *userdata);

/*!
 * Flag of xipc_rpc_server_register_ex: run the handler on the thread that
 * read the request, always, and let that connection read nothing else
 * meanwhile. For handlers that return within microseconds and never
 * block. It applies to message-mode connections (shm://, pipe://...),
 * where each connection has its own reader thread; on unix:// and tcp://,
 * whose one poller thread reads every connection, the method runs on a
 * worker as usual. Without the flag, a 64-bit server's readers run calls
 * too (leader/follower, docs/rpc.md), about as fast, but a call still
 * running after 1-2 ms has a worker read its connection meanwhile, and
 * opts.workers bounds them; in a 32-bit process they go to the workers.
 * A reader's stack is the system default in a 64-bit process and
 * 256 KiB in a 32-bit one: an inline handler there must not need more.
 */
#define XIPC_RPC_INLINE 1u

/*!
 * xipc_rpc_server_register with @p flags: 0 or XIPC_RPC_INLINE.
 * @return as xipc_rpc_server_register; XIPC_EINVAL for an unknown flag
 */
XIPC_API xipc_err xipc_rpc_server_register_ex(xipc_rpc_server *srv,
                                              const char *name,
                                              const char *signature,
                                              xipc_rpc_handler handler,
                                              void *userdata, unsigned flags);

/*!
 * Listen at @p url and serve it from now on; call again for more URLs (any
 * mix of schemes). Returns at once: a thread per URL accepts; one thread
 * reads every unix:// and tcp:// connection (epoll), a thread per
 * connection reads the others (and, in a 64-bit process, runs their
 * calls while it can: see xipc_rpc_handler); the workers run the rest.
 * "tcp://127.0.0.1:0" picks a free port: see xipc_rpc_server_url().
 * @return XIPC_OK, XIPC_EINVAL (bad URL), XIPC_ENOTSUP (a scheme without
 *         connections, e.g. mailslot://), XIPC_EADDRINUSE, XIPC_ESTATE
 *         (stopped), XIPC_ENOMEM, XIPC_ESYS, and xipc_listen()'s codes
 */
XIPC_API xipc_err xipc_rpc_server_serve(xipc_rpc_server *srv, const char *url);

/*!
 * The URL the @p index-th successful xipc_rpc_server_serve() bound (from
 * 0), e.g. "tcp://127.0.0.1:40123".
 * @return XIPC_OK, XIPC_ENOENT (no such index), XIPC_EMSGSIZE (@p cap too
 *         small), XIPC_EINVAL
 */
XIPC_API xipc_err xipc_rpc_server_url(xipc_rpc_server *srv, unsigned index,
                                      char *buf, size_t cap);

/*!
 * Graceful shutdown: stop accepting (listeners closed at once); finish
 * every call already received — queued or running — and send its
 * response; answer requests arriving meanwhile with
 * [XIPC_RPC_ESHUTTING_DOWN, "shutting down"]; close each connection once
 * it has no call left; stop the workers. Blocks until all that is done
 * (as long as the slowest handler). A second call does nothing.
 * Must not be called from a handler.
 */
XIPC_API xipc_err xipc_rpc_server_stop(xipc_rpc_server *srv);

/*! Stop (as xipc_rpc_server_stop) and free. NULL is a no-op. */
XIPC_API void xipc_rpc_server_free(xipc_rpc_server *srv);

/*! Counters of a server (xipc_rpc_server_stats_get). */
typedef struct xipc_rpc_server_stats {
    uint64_t conns;         /*!< connections served now */
    uint64_t accepted;      /*!< connections served since the start */
    uint64_t refused_conns; /*!< connections refused: max_conns */
    uint64_t refused_calls; /*!< requests answered "too many requests":
                                 max_inflight (notifications dropped too) */
    uint64_t too_large;     /*!< connections closed: a message over max_msg */
    uint64_t too_deep;      /*!< connections closed: nesting over max_depth */
    uint64_t malformed;     /*!< connections closed: not MessagePack-RPC */
    uint64_t calls;         /*!< requests and notifications queued to
                                 the handlers */
    uint64_t refused_peer;  /*!< connections refused: max_conns_per_peer */
    uint64_t first_request_timeouts; /*!< connections closed: no complete
                                 message within first_request_timeout_ms */
    uint64_t idle_timeouts; /*!< connections closed: idle for
                                 idle_timeout_ms */
} xipc_rpc_server_stats;

/*! Read the counters of @p srv. @return XIPC_OK, XIPC_EINVAL */
XIPC_API xipc_err xipc_rpc_server_stats_get(xipc_rpc_server *srv,
                                            xipc_rpc_server_stats *st);

/*! The method name of @p req (NUL-terminated). */
XIPC_API const char *xipc_rpc_req_method(const xipc_rpc_req *req);

/*! True for a notification: no response is sent, whatever is written. */
XIPC_API bool xipc_rpc_req_is_notification(const xipc_rpc_req *req);

/*! The caller's process id when the channel knows it (unix://, pipe://,
 *  shm://), else 0. */
XIPC_API uint32_t xipc_rpc_req_peer_pid(const xipc_rpc_req *req);

/*! Number of elements of the params array. */
XIPC_API uint32_t xipc_rpc_req_nparams(const xipc_rpc_req *req);

/*!
 * The params, for reading with the codec (xipc/msgpack.h): a reader
 * positioned after the params array header, with xipc_rpc_req_nparams()
 * values to read. Do not mix with xipc_rpc_req_argsf on the same call.
 */
XIPC_API xipc_mp_reader *xipc_rpc_req_params(xipc_rpc_req *req);

/*! The params array as MessagePack bytes (header included). */
XIPC_API const void *xipc_rpc_req_params_raw(const xipc_rpc_req *req,
                                              size_t *len);

/*!
 * Read all the params with a format string; the array must hold exactly
 * one value per letter. On a mismatch the call's error is set to
 * [XIPC_RPC_EINVALID_PARAMS, "invalid params: ..."] (naming the argument
 * and the types) and XIPC_EINVAL returned: a handler simply returns it.
 * @return XIPC_OK, XIPC_EINVAL, XIPC_ENOMEM
 */
XIPC_API xipc_err xipc_rpc_req_argsf(xipc_rpc_req *req, const char *fmt, ...);

/*!
 * The result writer, for the codec: write exactly one value (the result).
 * Nothing written means nil. Do not reset the buffer (it holds the
 * response header before the result). A value that is not exactly one
 * well-formed value is replaced by an XIPC_RPC_EINTERNAL error.
 */
XIPC_API xipc_mp_buf *xipc_rpc_req_result(xipc_rpc_req *req);

/*!
 * Write the result with a format string: one letter writes that value,
 * several letters write an array of them, "" writes nil.
 * @return XIPC_OK, XIPC_EINVAL (bad format or argument), XIPC_ENOMEM,
 *         XIPC_ESTATE (a result was written already)
 */
XIPC_API xipc_err xipc_rpc_req_returnf(xipc_rpc_req *req, const char *fmt, ...);

/*!
 * Answer with the error object [@p code, @p message] instead of a result
 * (a result written before or after is discarded). @p message may be NULL
 * (""); it is cut at 1024 bytes.
 */
XIPC_API xipc_err xipc_rpc_req_error(xipc_rpc_req *req, int64_t code,
                                      const char *message);

/* ------------------------------------------------------------- server push */

/*! A hold on the connection a request came on, to send that client
 *  notifications later, from any thread: an event stream (a debugger's
 *  stops, a log) pushed by the server. Opaque. */
typedef struct xipc_rpc_link xipc_rpc_link;

/*!
 * Take a link to the client of @p req (in its handler). It does not keep
 * the connection open: once the client is gone or the server stopped, its
 * notifications fail with XIPC_ECLOSED. Free it with xipc_rpc_link_free,
 * at the latest before xipc_rpc_server_free.
 * @return XIPC_OK, XIPC_EINVAL (NULL), XIPC_ECLOSED (the connection is
 *         over already), XIPC_ENOMEM
 */
XIPC_API xipc_err xipc_rpc_req_link(xipc_rpc_req *req, xipc_rpc_link **out);

/*!
 * Send the notification [2, @p method, @p params] to the linked client:
 * its on_notify callback receives it (xipc_rpc_client_opts). Any thread;
 * never interleaved with the server's responses. A send that times out
 * after part of the message went out disconnects the client (its stream
 * would be cut mid-message).
 * @param params the params array as MessagePack, or NULL with @p len 0
 * @return XIPC_OK (sent), XIPC_ECLOSED (the client is gone),
 *         XIPC_ETIMEDOUT (the client does not read: nothing sent),
 *         XIPC_EINVAL (bad method name, params not one array),
 *         XIPC_EMSGSIZE, XIPC_ENOMEM
 */
XIPC_API xipc_err xipc_rpc_link_notify(xipc_rpc_link *l, const char *method,
                                       const void *params, size_t len,
                                       int timeout_ms);

/*! xipc_rpc_link_notify with a format string (the table above) and the
 *  server's send_timeout_ms: xipc_rpc_link_notifyf(l, "stop", "sU", why, pc). */
XIPC_API xipc_err xipc_rpc_link_notifyf(xipc_rpc_link *l, const char *method,
                                        const char *argfmt, ...);

/*! Free a link. Any thread, not while another thread uses it; NULL is a
 *  no-op. */
XIPC_API void xipc_rpc_link_free(xipc_rpc_link *l);

/* ------------------------------------------------------------------ client */

/*! A client: the proxy, one connection to a server. Opaque. */
typedef struct xipc_rpc_client xipc_rpc_client;

/*!
 * Called for each notification the server sends ([2, method, params]):
 * @p method NUL-terminated, @p params the params array's bytes. Both
 * valid during the call only. It runs on the thread that receives: the
 * client's reader thread, which with on_notify set receives whenever no
 * call does, or a thread inside xipc_rpc_call receiving its own response
 * (see there). It must not wait for a call of the same client.
 */
typedef void (*xipc_rpc_notify_fn)(xipc_rpc_client *c, const char *method,
                                   const void *params, size_t len,
                                   void *userdata);

/*! Client options. Fill with xipc_rpc_client_opts_init() first. */
typedef struct xipc_rpc_client_opts {
    uint32_t magic; /*!< set by init; do not touch */
    uint32_t size;  /*!< sizeof(xipc_rpc_client_opts) at the caller's build */
    /*! Largest response received, in bytes. Default 16 MiB. */
    uint32_t max_msg;
    /*! Deepest nesting of a response, 1..64. Default 64. */
    uint32_t max_depth;
    /*! Timeout of xipc_rpc_callf and xipc_rpc_notifyf, and of sending in
     *  xipc_rpc_call_async, in ms. Default -1 (none). */
    int timeout_ms;
    /*! Notifications from the server; NULL (the default) drops them. */
    xipc_rpc_notify_fn on_notify;
    void *notify_userdata;
    /*! Endpoint options of the dial (xipc_dial's); in message mode their
     *  limits apply as well: shm://'s ring_capacity (default 1 MiB) must exceed the
     *  largest message either way, pipe:// carries sock.max_msg (default
     *  16 MiB). */
    xipc_opts sock;
} xipc_rpc_client_opts;

/*! Fill @p opts with the defaults. @return XIPC_OK, XIPC_EINVAL (NULL) */
XIPC_API xipc_err xipc_rpc_client_opts_init(xipc_rpc_client_opts *opts);

/*!
 * Connect to the server at @p url and start the client's reader thread.
 * @param opts options, or NULL for the defaults
 * @return XIPC_OK, XIPC_ECONNREFUSED, XIPC_ETIMEDOUT, XIPC_EINVAL, and
 *         xipc_dial()'s codes
 */
XIPC_API xipc_err xipc_rpc_client_dial(xipc_rpc_client **out, const char *url,
                                       const xipc_rpc_client_opts *opts,
                                       int timeout_ms);

/*!
 * Close the connection and free the client. Calls still waiting end with
 * XIPC_ECLOSED (their callbacks run, from this thread). Futures stay valid
 * until freed. No other thread may be using the client any more; must not
 * be called from a callback. NULL is a no-op.
 */
XIPC_API void xipc_rpc_client_close(xipc_rpc_client *c);

/*!
 * The outcome of a call. Fill with xipc_rpc_result_init(), release with
 * xipc_rpc_result_fini(). Read the fields, do not change them.
 */
typedef struct xipc_rpc_result {
    const void *value;  /*!< the result object's MessagePack bytes */
    size_t value_len;
    const void *error;  /*!< XIPC_EREMOTE: the error object's bytes */
    size_t error_len;
    /*! XIPC_EREMOTE: the code of an error [code, message], else 0 */
    int64_t code;
    /*! XIPC_EREMOTE: the message of [code, message], or the error itself
     *  when it is a str; "" otherwise. NUL-terminated. */
    const char *message;
    void *priv_; /*!< storage */
} xipc_rpc_result;

/*! Empty result (no allocation). */
XIPC_API void xipc_rpc_result_init(xipc_rpc_result *r);

/*! Free what @p r holds and make it empty again. */
XIPC_API void xipc_rpc_result_fini(xipc_rpc_result *r);

/*!
 * Read the result value with a format string: one letter reads the value
 * itself, several read an array of exactly that many, "" accepts anything.
 * @return XIPC_OK, XIPC_EINVAL (another type or shape, out of range),
 *         XIPC_ESTATE (no value: the call failed), XIPC_ENOMEM
 */
XIPC_API xipc_err xipc_rpc_result_scanf(const xipc_rpc_result *r,
                                        const char *fmt, ...);

/*!
 * Call @p method and wait for its response. When no other thread is
 * receiving on the connection and the request goes out without waiting,
 * the calling thread receives its response itself (no hand-off from the
 * reader thread); responses to other calls and notifications arriving
 * meanwhile are delivered by it, their callbacks run on it. Otherwise the
 * reader thread receives it.
 * @param params the params array as MessagePack (one array value), or
 *        NULL with @p params_len 0 for []
 * @param res receives the result or the remote error (may be NULL)
 * @return XIPC_OK; XIPC_EREMOTE (the server answered with an error: see
 *         @p res, and xipc_rpc_last_error); XIPC_ETIMEDOUT (no response in
 *         time: a late one is dropped); XIPC_ECLOSED (connection lost);
 *         XIPC_EPROTO (the server sent garbage; the client is closed);
 *         XIPC_EINVAL (params not one array); XIPC_EMSGSIZE; XIPC_ENOMEM
 */
XIPC_API xipc_err xipc_rpc_call(xipc_rpc_client *c, const char *method,
                                const void *params, size_t params_len,
                                xipc_rpc_result *res, int timeout_ms);

/*!
 * Call with format strings and the client's timeout (opts.timeout_ms):
 *   int sum;
 *   xipc_rpc_callf(c, "add", "ii", 2, 3, "i", &sum);
 * After the arguments of @p argfmt come the result format (a const char*,
 * NULL or "" to ignore the result) and its pointers.
 * @return as xipc_rpc_call; XIPC_EINVAL also when the result does not
 *         match the result format (then nothing is stored that needs
 *         freeing)
 */
XIPC_API xipc_err xipc_rpc_callf(xipc_rpc_client *c, const char *method,
                                 const char *argfmt, ...);

/*!
 * The error object of the last XIPC_EREMOTE on this thread, as code and
 * message (see xipc_rpc_result). The message stays valid until this
 * thread's next call. @return XIPC_OK, XIPC_ENOENT (none yet)
 */
XIPC_API xipc_err xipc_rpc_last_error(int64_t *code, const char **message);

/*! An asynchronous call in flight: a waitable handle. Opaque. */
typedef struct xipc_rpc_future xipc_rpc_future;

/*!
 * Called once when an asynchronous call completes, on the thread that
 * receives the response: the client's reader thread, or a thread inside
 * xipc_rpc_call that receives for itself meanwhile (see there); on the
 * thread inside xipc_rpc_call_async when the response came before it
 * returned; in xipc_rpc_client_close for calls cut short. It may read
 * the outcome with xipc_rpc_future_result and free the future; it must not
 * wait for another call of the same client (issue it asynchronously).
 */
typedef void (*xipc_rpc_callback)(xipc_rpc_future *f, void *userdata);

/*!
 * Send a call and return without waiting.
 * @param cb called on completion, or NULL
 * @param out receives the future, which the caller frees with
 *        xipc_rpc_future_free (also allowed inside the callback). NULL
 *        (only with a callback): the future is freed after the callback.
 * @return XIPC_OK (the request is sent), else as xipc_rpc_call (nothing
 *         in flight, no callback)
 */
XIPC_API xipc_err xipc_rpc_call_async(xipc_rpc_client *c, const char *method,
                                      const void *params, size_t params_len,
                                      xipc_rpc_callback cb, void *userdata,
                                      xipc_rpc_future **out);

/*!
 * Wait until the call completes and its callback, if any, has returned.
 * Do not wait for a future that its callback frees.
 * @return XIPC_OK (completed: see xipc_rpc_future_result), XIPC_ETIMEDOUT
 */
XIPC_API xipc_err xipc_rpc_future_wait(xipc_rpc_future *f, int timeout_ms);

/*!
 * The outcome of a completed call; the result's bytes move into @p res
 * (may be NULL), so a second call gets only the code.
 * @return XIPC_OK, XIPC_EREMOTE, XIPC_ECLOSED, XIPC_EPROTO, XIPC_EINTR
 *         (cancelled), XIPC_ESTATE (not completed yet)
 */
XIPC_API xipc_err xipc_rpc_future_result(xipc_rpc_future *f,
                                         xipc_rpc_result *res);

/*!
 * Give up on a call: its response, if it comes, is dropped, and its
 * callback will not run. @return XIPC_OK (cancelled: the outcome is
 * XIPC_EINTR), XIPC_ESTATE (it had completed already)
 */
XIPC_API xipc_err xipc_rpc_future_cancel(xipc_rpc_future *f);

/*! Cancel if still in flight, and free. NULL is a no-op. */
XIPC_API void xipc_rpc_future_free(xipc_rpc_future *f);

/*!
 * Send a notification (no response, no error reported by the server).
 * @return XIPC_OK (sent), XIPC_ETIMEDOUT, XIPC_ECLOSED, XIPC_EINVAL,
 *         XIPC_EMSGSIZE, XIPC_ENOMEM
 */
XIPC_API xipc_err xipc_rpc_notify(xipc_rpc_client *c, const char *method,
                                  const void *params, size_t params_len,
                                  int timeout_ms);

/*! A notification with a format string and the client's timeout. */
XIPC_API xipc_err xipc_rpc_notifyf(xipc_rpc_client *c, const char *method,
                                   const char *argfmt, ...);

#ifdef __cplusplus
}
#endif
#endif /* XIPC_RPC_H */
