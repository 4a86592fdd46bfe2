/*
 * xipc — one API over the inter-process communication mechanisms worth
 * keeping, between 32-bit and 64-bit processes.
 *
 * Every function returns an xipc_err (XIPC_OK = 0 on success) and passes
 * results out through pointers. Blocking calls take a timeout in
 * milliseconds: -1 waits forever, 0 polls (returns XIPC_ETIMEDOUT at once
 * when nothing can be done), a positive value waits at most that long.
 *
 * An endpoint (xipc_sock) is either a listener (xipc_listen) or a
 * connection (xipc_dial, xipc_accept). A connection carries messages in
 * both directions and keeps their boundaries. One connection may be used by
 * one sending thread and one receiving thread at the same time; two
 * threads sending on the same connection must serialise themselves.
 */
#ifndef XIPC_XIPC_H
#define XIPC_XIPC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32) && defined(XIPC_SHARED_BUILD)
#define XIPC_API __declspec(dllexport)
#elif defined(_WIN32) && defined(XIPC_SHARED)
#define XIPC_API __declspec(dllimport)
#elif defined(__GNUC__)
#define XIPC_API __attribute__((visibility("default")))
#else
#define XIPC_API
#endif

/*! The version of the library these headers describe. */
#define XIPC_VERSION_MAJOR 0
#define XIPC_VERSION_MINOR 1
#define XIPC_VERSION_PATCH 0

/*!
 * The error list: code, number, text. The numbers are stable: a code keeps
 * its number forever, new codes get new numbers at the end.
 */
#define XIPC_ERRNO_MAP(XX)                                                    \
    XX(OK, 0, "success")                                                      \
    XX(EINVAL, 1, "invalid argument")                                         \
    XX(ENOMEM, 2, "out of memory")                                            \
    XX(ETIMEDOUT, 3, "timed out")                                             \
    XX(ECLOSED, 4, "peer closed or died")                                     \
    XX(EMSGSIZE, 5, "message too large")                                      \
    XX(EPROTO, 6, "protocol error: corrupt or hostile data from peer")        \
    XX(EPERM, 7, "permission denied")                                         \
    XX(EADDRINUSE, 8, "address in use")                                       \
    XX(ECONNREFUSED, 9, "connection refused: no listener")                    \
    XX(ENOTSUP, 10, "operation not supported by this transport")              \
    XX(ESTATE, 11, "operation not valid in this state")                       \
    XX(ESYS, 12, "system call failed")                                        \
    XX(EBUSY, 13, "resource busy")                                            \
    XX(EOVERRUN, 14, "reader overrun: messages were lost")                    \
    XX(ENOENT, 15, "no such object")                                          \
    XX(EINTR, 16, "interrupted")                                              \
    XX(EREMOTE, 17, "the remote procedure returned an error")                 \
    XX(ETLS, 18, "TLS handshake or certificate verification failed")

/*! One error enum for the whole library. */
typedef enum xipc_err {
#define XIPC_ERR_ENUM_(name, num, text) XIPC_##name = num,
    XIPC_ERRNO_MAP(XIPC_ERR_ENUM_)
#undef XIPC_ERR_ENUM_
} xipc_err;

/*!
 * @return a short English sentence for @p err ("timed out"); never NULL,
 *         "unknown error" for a value outside the enum.
 */
XIPC_API const char *xipc_strerror(xipc_err err);

/*! @return the code's name without prefix ("ETIMEDOUT"); never NULL. */
XIPC_API const char *xipc_err_name(xipc_err err);

/*!
 * @return the system errno behind the last XIPC_ESYS returned on this
 *         thread (0 when none), for diagnostics.
 */
XIPC_API int xipc_last_syserr(void);

/*!
 * @return the details of the last failure on this thread that has some
 *         ("certificate verify failed: hostname mismatch", "cannot use
 *         tls_cert /x/cert.pem: No such file or directory"...), or "" when
 *         none; never NULL. Set by tls+tcp:// (docs/tls.md), which
 *         clears it when a listen, dial or accept starts. Valid until the
 *         thread's next xipc call.
 */
XIPC_API const char *xipc_last_detail(void);

/*! Magic value stored by xipc_opts_init; other calls refuse opts without it. */
#define XIPC_OPTS_MAGIC 0x7869706fu /* "xipo" */

/*!
 * Options for listen and dial. Always fill with xipc_opts_init() first,
 * then change fields; a struct never initialised is refused (XIPC_EINVAL).
 */
typedef struct xipc_opts {
    uint32_t magic; /*!< set by xipc_opts_init; do not touch */
    uint32_t size;  /*!< sizeof(xipc_opts) at the caller's build */
    /*! Capacity in bytes of each shared-memory ring (one per direction),
     *  rounded up to a power of two, 4 KiB .. 1 GiB. Default 1 MiB. The
     *  largest message is this minus 16 bytes: its record header and the
     *  empty one after it. */
    uint32_t ring_capacity;
    /*! How long a blocked shm call spins, in microseconds, before it sleeps
     *  on a futex. Spinning burns one core but answers within ~0.5 us;
     *  sleeping costs no CPU but a wake-up takes 40-100 us. Default 50. */
    uint32_t spin_us;
    /*! Largest message, in bytes; 0 (the default) means the transport's
     *  own default: 16 MiB for pipe, unix, tcp and anonymous pipes, 64 KiB
     *  for mailslots (fixed when the mailslot server is created), the
     *  queue's message size for mq. A larger message is refused with
     *  XIPC_EMSGSIZE before anything is sent. shm uses ring_capacity. */
    uint32_t max_msg;
    /*! Pending connection requests a listener holds. Default 64, max 1024. */
    uint32_t backlog;
    /*! Publish/subscribe: number of message slots in the broadcast ring
     *  (power of two, default 4096) and bytes per slot including a 16-byte
     *  header (multiple of 64, default 2048): the largest message is
     *  pub_slot_size - 16. */
    uint32_t pub_slots;
    uint32_t pub_slot_size;
    /*! mq: queue depth (default 10, the Linux limit for unprivileged
     *  users in /proc/sys/fs/mqueue/msg_max). */
    uint32_t mq_depth;
    /*! tls+tcp:// (docs/tls.md). The strings are read during the listen or
     *  dial call only; NULL means none.
     *
     *  tls_verify, default 1: a dialler checks the server's certificate
     *  chain (against tls_ca, or the system's store when tls_ca is NULL)
     *  and that it names the host of the URL (or tls_server_name); a
     *  listener with tls_ca set requires every client to present a
     *  certificate signed by a CA in tls_ca (mutual TLS). 0 turns every
     *  check off: the channel is encrypted but anyone in the middle can
     *  read and change it — for tests only. */
    uint32_t tls_verify;
    /*! PEM certificate (chain) file: the server's on a listener (required),
     *  the client's own on a dialler (for mutual TLS). */
    const char *tls_cert;
    /*! PEM private key file of tls_cert; NULL: the key is in tls_cert. */
    const char *tls_key;
    /*! PEM file of trusted CA certificates for checking the peer. */
    const char *tls_ca;
    /*! Dialler: the name the server's certificate must carry (and the SNI
     *  sent) instead of the URL's host, e.g. for "tls+tcp://10.0.0.5:443"
     *  with a certificate for "db.example". */
    const char *tls_server_name;
    /*! Who may connect to a pipe:// or unix:// listener, by user id: the
     *  first allow_uid_count entries of allow_uid. 0 entries (the default)
     *  means this process's own user only. A refused peer is
     *  disconnected at once (it sees XIPC_ECLOSED) and counted in the
     *  listener's stats.refused; accept goes on waiting for the next one.
     *  shm://, pubsub://, mq:// and mailslot:// objects are private to
     *  the owning user anyway (mode 0600, owner checked when opened);
     *  tcp:// peers have no user id (use TLS client certificates). */
    uint32_t allow_uid[8];
    uint32_t allow_uid_count;
} xipc_opts;

/*!
 * Fill @p opts with the defaults.
 * @return XIPC_OK, or XIPC_EINVAL when @p opts is NULL.
 */
XIPC_API xipc_err xipc_opts_init(xipc_opts *opts);

/*! A listener or a connection. Opaque. */
typedef struct xipc_sock xipc_sock;

/*!
 * Create a listener at @p url ("shm://NAME").
 * A listener left behind by a crashed process under the same name is
 * reclaimed; a live one makes this fail with XIPC_EADDRINUSE.
 * @param out   receives the listener
 * @param url   where to listen
 * @param opts  options, or NULL for the defaults
 * @return XIPC_OK, XIPC_EINVAL (bad URL or options), XIPC_ENOTSUP (unknown
 *         scheme), XIPC_EADDRINUSE, XIPC_EPERM, XIPC_ESYS, XIPC_ENOMEM
 * tls+tcp://: XIPC_EINVAL also for a missing or unreadable certificate or
 * key file (xipc_last_detail() names it); XIPC_ENOTSUP in a POSIX build
 * without OpenSSL, and under wine, whose Schannel cannot accept
 * (docs/tls.md, "Windows").
 */
XIPC_API xipc_err xipc_listen(xipc_sock **out, const char *url,
                              const xipc_opts *opts);

/*!
 * Connect to the listener at @p url.
 * @param timeout_ms how long to wait for the listener to accept
 * @return XIPC_OK, XIPC_ECONNREFUSED (no live listener), XIPC_ETIMEDOUT,
 *         XIPC_EINVAL, XIPC_ENOTSUP, XIPC_EPERM, XIPC_ESYS, XIPC_ENOMEM
 * tls+tcp://: the TLS handshake is part of the dial and of its timeout;
 * XIPC_ETLS when it fails (xipc_last_detail() says why).
 */
XIPC_API xipc_err xipc_dial(xipc_sock **out, const char *url,
                            const xipc_opts *opts, int timeout_ms);

/*!
 * Take the next connection request from listener @p l.
 * @return XIPC_OK, XIPC_ETIMEDOUT, XIPC_EINVAL (not a listener), XIPC_ESYS
 * tls+tcp://: accept then runs the client's TLS handshake, which gets up
 * to 10 s of its own beyond @p timeout_ms (docs/tls.md);
 * XIPC_ETLS when it fails (the listener stays usable).
 */
XIPC_API xipc_err xipc_accept(xipc_sock *l, xipc_sock **out, int timeout_ms);

/*!
 * Send one message of @p len bytes (0 is allowed). Blocks while the
 * transport has no room.
 * @return XIPC_OK, XIPC_EMSGSIZE (larger than the transport can ever
 *         carry; nothing is sent), XIPC_ETIMEDOUT (nothing was sent),
 *         XIPC_ECLOSED (the peer closed or died), XIPC_EPROTO
 */
XIPC_API xipc_err xipc_send(xipc_sock *s, const void *buf, size_t len,
                            int timeout_ms);

/*!
 * Flag of xipc_send_ex: more messages follow at once. The stream
 * transports (pipe://, unix://, tcp://, tls+tcp://, anonymous pipes) may
 * then hold the message in the connection's buffer, up to 64 KiB in all,
 * and write it together with the following ones: the next xipc_send or
 * xipc_send_ex without the flag, xipc_flush(), or xipc_close() (which
 * finishes in the background) sends everything held, in order, with one
 * system call. Until then the peer does not see it. Other transports send
 * at once (shm:// costs no system call per message anyway).
 */
#define XIPC_SEND_MORE 1u

/*!
 * xipc_send with @p flags (0 or XIPC_SEND_MORE).
 * @return as xipc_send; XIPC_EINVAL for an unknown flag. A held message
 *         counts as sent; a later error (XIPC_ECLOSED...) is reported by
 *         the call that writes it out.
 */
XIPC_API xipc_err xipc_send_ex(xipc_sock *s, const void *buf, size_t len,
                               unsigned flags, int timeout_ms);

/*!
 * Write out the messages that xipc_send_ex(..., XIPC_SEND_MORE) held.
 * @return XIPC_OK (nothing held any more, or nothing was), XIPC_ETIMEDOUT
 *         (some is still held: call again), XIPC_ECLOSED, XIPC_EINVAL
 */
XIPC_API xipc_err xipc_flush(xipc_sock *s, int timeout_ms);

/*!
 * Receive one message into @p buf of @p cap bytes; its length goes to
 * @p *len. Messages sent before the peer closed are still delivered; after
 * the last one, XIPC_ECLOSED.
 * @return XIPC_OK, XIPC_EMSGSIZE (the message is larger than @p cap: it
 *         stays queued and @p *len says how large it is), XIPC_ETIMEDOUT,
 *         XIPC_ECLOSED, XIPC_EPROTO (the peer wrote garbage; the
 *         connection is unusable from then on), XIPC_EOVERRUN (pubsub://
 *         subscriber that fell behind: @p *len is the number of messages
 *         lost; the next call continues with the oldest one still there)
 * tls+tcp://: XIPC_ETLS when the peer sent a TLS alert, e.g. a server
 * that requires client certificates refusing this client (TLS 1.3 tells
 * the client after its dial completed); XIPC_EPROTO when a record failed
 * its integrity check. Both are sticky.
 */
XIPC_API xipc_err xipc_recv(xipc_sock *s, void *buf, size_t cap, size_t *len,
                            int timeout_ms);

/*!
 * Zero-copy send, step 1: reserve room for a message of at most @p len
 * bytes and get a pointer to write it in place.
 * Only one reservation may be open per connection.
 * @return as xipc_send; XIPC_ENOTSUP on transports without shared memory
 */
XIPC_API xipc_err xipc_reserve(xipc_sock *s, size_t len, void **buf,
                               int timeout_ms);

/*!
 * Zero-copy send, step 2: publish the reserved message with its final
 * length @p len (at most the reserved length).
 * @return XIPC_OK, XIPC_ESTATE (no reservation), XIPC_EINVAL (too long)
 */
XIPC_API xipc_err xipc_commit(xipc_sock *s, size_t len);

/*!
 * Zero-copy receive, step 1: see the next message in place. The bytes stay
 * valid until xipc_release(). The peer's memory is not trusted: the length
 * is checked, but read the bytes once (copy what you validate).
 * @return as xipc_recv
 */
XIPC_API xipc_err xipc_peek(xipc_sock *s, const void **buf, size_t *len,
                            int timeout_ms);

/*!
 * Zero-copy receive, step 2: drop the message returned by xipc_peek().
 * @return XIPC_OK, XIPC_ESTATE (nothing peeked), XIPC_EOVERRUN (pubsub://
 *         only: the publisher overwrote the slot while it was being read,
 *         so the peeked bytes may be torn: act on them only after XIPC_OK)
 */
XIPC_API xipc_err xipc_release(xipc_sock *s);

/*!
 * Send with a priority (mq:// delivers higher priorities first, 0..31).
 * Other transports accept only priority 0 (XIPC_ENOTSUP otherwise).
 */
XIPC_API xipc_err xipc_send_prio(xipc_sock *s, const void *buf, size_t len,
                                 unsigned prio, int timeout_ms);

/*!
 * Receive and learn the message's priority (0 on transports without
 * priorities). Otherwise as xipc_recv.
 */
XIPC_API xipc_err xipc_recv_prio(xipc_sock *s, void *buf, size_t cap,
                                 size_t *len, unsigned *prio, int timeout_ms);

/*! Counters of one endpoint. */
typedef struct xipc_stats {
    uint64_t sent;     /*!< messages sent */
    uint64_t received; /*!< messages received */
    uint64_t dropped;  /*!< mailslot: messages a full reader queue dropped */
    uint64_t lost;     /*!< pub/sub: messages overwritten before this
                            subscriber read them */
    uint64_t refused;  /*!< listener: peers refused by the allow_uid list */
} xipc_stats;

/*! Read the counters of @p s. */
XIPC_API xipc_err xipc_stats_get(xipc_sock *s, xipc_stats *st);

/*!
 * A descriptor for poll/epoll/select: readable when xipc_recv() or
 * xipc_accept() may proceed without blocking (wake-ups may be spurious:
 * call with timeout 0 and expect XIPC_ETIMEDOUT now and then).
 * @return XIPC_OK, or XIPC_ENOTSUP where the transport has no descriptor
 *         (shm and pub/sub wait on futexes: poll them with timeout 0 from
 *         the loop, or give them a thread of their own; see docs/eventloop.md)
 */
XIPC_API xipc_err xipc_sock_fd(xipc_sock *s, intptr_t *fd);

/*!
 * The endpoint's URL as bound, e.g. "tcp://127.0.0.1:40123" for a
 * listener created with port 0. Truncation gives XIPC_EMSGSIZE.
 */
XIPC_API xipc_err xipc_sock_url(xipc_sock *s, char *buf, size_t cap);

/*!
 * Anonymous pipe: start program @p path with arguments @p argv (argv[0]
 * included, NULL-terminated) and a connected channel to it. The child
 * finds its end with xipc_sock_from_parent(). @p pid receives the child's
 * process id (may be NULL). The caller reaps the child (waitpid).
 */
XIPC_API xipc_err xipc_spawn(xipc_sock **out, const char *path,
                             char *const argv[], uint32_t *pid);

/*!
 * In a program started by xipc_spawn(): the channel to the parent.
 * @return XIPC_OK, XIPC_ENOENT (not started by xipc_spawn), XIPC_EINVAL
 *         (the inherited descriptor is not a channel)
 */
XIPC_API xipc_err xipc_sock_from_parent(xipc_sock **out);

/*!
 * User id of the peer of connection @p s, as the kernel reports it
 * (SO_PEERCRED for pipe:// and unix://, the object owner for shm://).
 * @return XIPC_OK, XIPC_ENOTSUP where the transport cannot know (tcp://)
 */
XIPC_API xipc_err xipc_peer_uid(xipc_sock *s, uint32_t *uid);

/*! Process id of the peer of connection @p s (0 when unknown). */
XIPC_API xipc_err xipc_peer_pid(xipc_sock *s, uint32_t *pid);

/*!
 * Close a listener or a connection and free it; never blocks. The peer's
 * blocking calls return XIPC_ECLOSED once it has read what was sent.
 * xipc_close(NULL) does nothing.
 */
XIPC_API void xipc_close(xipc_sock *s);

/*! One endpoint found by xipc_endpoints(). */
typedef struct xipc_endpoint_info {
    char url[160];    /*!< "shm://NAME", "pipe://NAME", ... */
    /*! What it is: "shm listener", "shm offer" (a connection request not
     *  accepted yet; pid is the client's), "pubsub" (a publisher), "pipe"
     *  (a listener), "mailslot server", "mq" (a receiver). A static
     *  string. */
    const char *kind;
    uint32_t pid;     /*!< the owner's process id; 0 when unknown */
    int alive;        /*!< 1 when that process still serves the endpoint */
} xipc_endpoint_info;

/*!
 * List the endpoints of the current user on this host: shm:// listeners
 * and pending offers, pubsub:// publishers, pipe:// listeners, mailslot://
 * servers, mq:// receivers, the live ones and those left by a process that
 * died (alive 0; the next listener of the name reclaims them). unix:// and
 * tcp:// have no registry and are not listed. Calls @p fn once per
 * endpoint with @p arg, in no particular order; @p e is valid during the
 * call only.
 *
 * Listing only looks: it creates, locks, changes and removes nothing.
 * Objects that are not well-formed (garbage, being created at that
 * instant) are listed with pid 0 and alive 0; objects of other users are
 * skipped.
 * @return XIPC_OK; XIPC_EINVAL when @p fn is NULL; otherwise the first
 *         error a transport met (XIPC_EPERM: the runtime directory is not
 *         private), after listing everything else it could
 */
XIPC_API xipc_err xipc_endpoints(void (*fn)(const xipc_endpoint_info *e,
                                            void *arg),
                                 void *arg);

#ifdef __cplusplus
}
#endif
#endif /* XIPC_XIPC_H */
