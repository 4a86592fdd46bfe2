/*
 * The server's insides, shared by rpc_server.c (listeners, connections,
 * readers, lifecycle) and rpc_call.c (workers, handlers, the call API).
 *
 * Locking: one mutex (srv->mu) guards the method table, the lists, the job
 * queue and every connection's counters. Handlers run without it. A
 * connection's socket is used by its reader (receiving) and by workers
 * (sending, serialised inside rpc_conn).
 *
 * Readers: unix:// and tcp:// connections (stream mode) are read by one
 * poller thread (rpc_poll.c) that waits on all their sockets at once;
 * message-mode connections (shm://, pipe://...) have a reader thread each
 * (rpc_srvconn.c). Readers never block on anything but input: answers
 * they must give (refusals, limits) are queued as jobs to one answerer
 * thread, which does nothing else — not to the workers, which may all be
 * held by long handlers exactly when a refusal is due (max_inflight).
 * The one exception: a message-mode reader runs calls to methods
 * registered XIPC_RPC_INLINE itself and sends their responses, blocking
 * only its own connection (the poller never does: it serves many).
 *
 * Leader/follower on message-mode connections (rpc_rescue.c): such a
 * reader also runs the other calls it reads itself, with no hand-off to
 * a worker (a hand-off is a wake-up, 20-100 us), when fewer than
 * opts.workers handlers run (srv->busy counts those of workers and
 * readers: the option still bounds how many run at once; else the call
 * is queued). If a call of its is
 * still running XIPC_RPC_RESCUE_US later, the rescuer thread has a
 * worker read the connection meanwhile (a rescue job), and that worker
 * queues what it reads to the workers as usual, until the reader is back.
 * So a call that blocks holds its connection's next request up for that
 * long at most, and calls that wait on each other still all run.
 *
 * Lifetimes: a connection holds one reference for its reader and one per
 * queued or running job; at zero it moves to the zombie list, where a
 * listener thread or stop joins its reader thread (if any) and frees it.
 *
 * Timeouts (first_request_timeout_ms, idle_timeout_ms) need no clock on
 * the path of a call: a message or a finished call only sets sc->active;
 * whoever watches the connection — its message-mode reader each time it
 * has waited XIPC_RPC_POLL_MS for nothing, the poller every sweep — turns
 * that into a time (xipc__rpc_conn_sweep). So a connection is closed
 * between its timeout and one watch period after it, never before.
 */
#ifndef XIPC_RPC_SERVER_H
#define XIPC_RPC_SERVER_H

#include <stdint.h>

#include "rpc/rpc_conn.h"
#include "rpc/rpc_fmt.h"
#include "rpc/rpc_wire.h"
#include "xipc/rpc.h"

/* How often blocked readers and acceptors look at the stop flag. */
#define XIPC_RPC_POLL_MS 50

typedef struct srv_method {
    char *name;
    char *sig;
    xipc_rpc_handler fn;
    void *userdata;
    unsigned flags; /* XIPC_RPC_INLINE */
} srv_method;

typedef struct srv_conn srv_conn;

typedef struct srv_job {
    struct srv_job *next;
    srv_conn *conn;
    uint32_t msgid;
    int notify;
    int64_t err_code;       /* not 0: answer [err_code, method], no handler */
    char *method;           /* NUL-terminated, in the same allocation (the
                               error message for an err_code job) */
    const uint8_t *params;  /* the params array, in the same allocation */
    size_t params_len;
    size_t bytes;           /* counted against max_queued_bytes */
    int on_reader;          /* inline, on the reader: not in inflight */
    int rescue;             /* a worker reads conn while its reader runs a call */
} srv_job;

/* Why a connection is refused (srv_conn.refused). */
enum {
    SC_REFUSED_CONNS = 1, /* max_conns */
    SC_REFUSED_PEER       /* max_conns_per_peer */
};

/* A polled connection's state (srv_conn.pstate), changed under srv->mu. */
enum {
    SC_ARMED,  /* the poller waits for its input */
    SC_BUSY,   /* the poller thread is reading it, or will soon */
    SC_PAUSED, /* not read: max_queued_bytes queued (back-pressure) */
    SC_KICKED, /* in srv->kicks: the poller must look at it */
    SC_ENDED   /* reading is over */
};

/* A message-mode connection's rescue (srv_conn.rescued; rpc_rescue.c). A
 * worker reads only after it moved QUEUED to READING; the reader reads
 * only at NONE. */
enum {
    SC_RESCUE_NONE,
    SC_RESCUE_QUEUED,  /* a rescue job waits for a worker (the reader may cancel it) */
    SC_RESCUE_READING  /* a worker reads the connection */
};

struct srv_conn {
    srv_conn *next;
    xipc_rpc_server *srv;
    xipc_rpc_conn *conn;
    xipc_plat_thread thread; /* message mode: its reader */
    int polled;              /* stream mode: read by the poller */
    int pstate;              /* polled: SC_* */
    srv_conn *kick_next;     /* in srv->kicks, or the poller's own list */
    int refused;             /* SC_REFUSED_*: answer, then close */
    uint64_t refuse_end;     /* refused: give up at this time (ns) */
    int spoke;               /* a complete message arrived (srv->mu) */
    int active;              /* a message, input or a finished call since
                                the last xipc__rpc_conn_sweep (srv->mu) */
    uint64_t start_ns;       /* when it was accepted */
    uint64_t active_ns;      /* the last sweep that saw it active */
    uint32_t refs;
    uint32_t inflight;       /* calls queued or running (not err_code jobs,
                                not inline calls: the reader runs those) */
    size_t queued_bytes;
    xipc_mp_buf inl_out;     /* the reader's response buffer, kept */
    xipc_rpc_link *links;    /* links to it (rpc_link.c; srv->mu) */
    /* leader/follower (rpc_rescue.c), message mode; srv->mu: */
    int r_running;           /* its reader runs a call it read */
    uint64_t r_seq;          /* calls its reader has run */
    uint64_t r_seen;         /* r_seq at the rescuer's last look */
    int rescued;             /* SC_RESCUE_*: a rescue job queued, or reading */
    int want_back;           /* the reader's call is over: rescue, stop reading */
    int read_end;            /* the rescuing reader met the end of input */
};

/* Connections served per peer (max_conns_per_peer): a hash table, in
 * rpc_srvconn.c. */
typedef struct srv_peer {
    struct srv_peer *next;
    xipc_rpc_peer id;
    uint32_t conns;
} srv_peer;

typedef struct srv_listener {
    struct srv_listener *next;
    xipc_rpc_server *srv;
    xipc_rpc_listener *l; /* NULL once closed */
    xipc_plat_thread thread;
    char url[XIPC_URL_MAX];
} srv_listener;

struct xipc_rpc_server {
    xipc_rpc_server_opts o;
    xipc_rpc_limits lim;
    xipc_plat_mutex mu;
    xipc_plat_cond work;   /* workers: a job or exit */
    xipc_plat_cond change; /* a job done, a connection gone, stopping */
    srv_method *methods;
    size_t nmethods, cap;
    srv_listener *listeners;
    srv_conn *conns;
    srv_conn *zombies;
    srv_job *qhead, *qtail;     /* calls, for the workers */
    srv_job *rhead, *rtail;     /* rescue jobs, for the workers (rpc_rescue.c) */
    uint32_t busy;              /* handlers running, on workers or readers: at
                                   most nworkers, as opts.workers promises */
    srv_job *ahead, *atail;     /* answers readers queued, for the answerer */
    xipc_plat_cond answers;     /* the answerer: an answer or exit */
    xipc_plat_thread answerer;
    int answerer_started;
    uint32_t running;
    int stopping, stopped, workers_exit;
    xipc_plat_thread *workers;
    uint32_t nworkers;
    uint32_t nconns, nrefusing; /* connections served, refused ones open */
    xipc_rpc_server_stats st;
    xipc_plat_poller *poller;   /* stream-mode connections */
    xipc_plat_thread poll_thread;
    int poll_started, poll_exit;
    uint32_t npolled;           /* connections the poller reads */
    srv_conn *kicks;            /* SC_KICKED connections */
    srv_peer **peers;           /* buckets of the peer table */
    uint32_t npeer_buckets, npeers;
    uint64_t peer_seed;         /* so a peer cannot choose its bucket */
    uint64_t first_ns, idle_ns; /* the timeouts; 0: none */
    uint32_t sweep_ms;          /* the poller's sweep period */
    atomic_int mem_freed;       /* a large buffer was freed since the last
                                   xipc__rpc_mem_tick that released */
    uint64_t mem_released_ns;   /* that release (srv->mu) */
    /* the rescuer (rpc_rescue.c); srv->mu: */
    xipc_plat_thread rescuer;
    int rescuer_started, rescuer_idle;
    xipc_plat_cond tick;        /* the rescuer: a reader runs a call, or exit */
    uint32_t r_running;         /* readers running a call */
    uint64_t r_calls;           /* calls readers have started, ever */
    uint64_t rescues;           /* rescue jobs queued, ever (for tests) */
};

/* How long a refused connection may take to send its first request, and
 * how many may wait at once (more are closed at once). */
#define XIPC_RPC_REFUSE_MS 1000
#define XIPC_RPC_REFUSE_MAX 64
/*
 * Leader/follower (rpc_rescue.c) where the address space is 64-bit: a
 * reader then runs any handler, so its stack is the system's default, as
 * a worker's. In a 32-bit process a reader runs only inline handlers and
 * library code on a 256 KiB stack, so that a thousand connections fit
 * (docs/limits.md); other calls go to the workers.
 */
#if UINTPTR_MAX > 0xffffffffu
#define XIPC_RPC_LEADER 1
#define XIPC_RPC_READER_STACK 0u
#else
#define XIPC_RPC_LEADER 0
#define XIPC_RPC_READER_STACK (256u << 10)
#endif
/* Freed buffers of at least this size are given back to the system, at
 * most once per XIPC_RPC_RELEASE_MS (xipc__rpc_mem_tick). */
#define XIPC_RPC_RELEASE_MIN (1u << 20)
#define XIPC_RPC_RELEASE_MS 1000

/* The poller thread's body (rpc_poll.c). */
void xipc__rpc_poll_main(void *arg);

/* Make the poller look at polled connection @p sc (ARMED or PAUSED);
 * srv->mu held. Anything else: nothing. */
void xipc__rpc_conn_kick(srv_conn *sc);

/* Start the poller thread unless it runs; srv->mu held. */
xipc_err xipc__rpc_poll_start(xipc_rpc_server *srv);

/* The poller reads @p sc from now on; srv->mu held. */
xipc_err xipc__rpc_poll_add(srv_conn *sc);

/* Take connection @p c: serve it, or refuse it over max_conns (closes @p c
 * on failure). */
void xipc__rpc_conn_add(xipc_rpc_server *srv, xipc_rpc_conn *c);

/* Join and free the connections nobody uses any more. */
void xipc__rpc_reap(xipc_rpc_server *srv);

/*
 * Watch @p sc at @p now (ns): note activity since the last watch, and
 * close it if it is over a timeout — no complete message within
 * first_request_timeout_ms, or idle_timeout_ms without input or calls.
 * Counts the closing. srv->mu held. @return 1: end its reading
 */
int xipc__rpc_conn_sweep(srv_conn *sc, uint64_t now);

/* @p bytes of buffer were freed: large ones are given back to the
 * system at the next xipc__rpc_mem_tick. Any thread, any lock. */
void xipc__rpc_mem_freed(xipc_rpc_server *srv, size_t bytes);

/* Give freed memory back if xipc__rpc_mem_freed asked and the last time
 * was long enough ago; the listener threads call it every
 * XIPC_RPC_POLL_MS. Takes srv->mu: not held. */
void xipc__rpc_mem_tick(xipc_rpc_server *srv, uint64_t now);

/* Bytes of buffers the connections of @p srv hold now (for tests). */
size_t xipc__rpc_server_conn_bytes(xipc_rpc_server *srv);

/* Has @p sc max_queued_bytes queued? srv->mu held. */
int xipc__rpc_conn_full(const srv_conn *sc);

/* Must the reader of @p sc stop (stopping with nothing in flight, a
 * refused one's time is up, broken)? srv->mu held. */
int xipc__rpc_conn_done(const srv_conn *sc);

/*
 * Queue one message from a client, or with @p run (a message-mode reader)
 * leave a call to a worker method in *run for the caller to run with
 * xipc__rpc_reader_run. XIPC_OK: read on. XIPC_EPROTO: not a
 * request or notification; XIPC_ECLOSED: a refused connection's request
 * was answered; XIPC_ENOMEM: stop reading (the connection then closes).
 */
xipc_err xipc__rpc_dispatch(srv_conn *sc, const uint8_t *buf, size_t len, srv_job **run);

/* Receiving from @p sc failed with XIPC_EPROTO: count it, and answer a
 * request over a limit whose msgid arrived. */
void xipc__rpc_fault(srv_conn *sc);

/* The handler of the method @p name (@p len bytes, not NUL-terminated):
 * 1 and *fn, *ud, *flags when there is one; srv->mu held. */
int xipc__rpc_method_find(xipc_rpc_server *srv, const char *name, size_t len,
                          xipc_rpc_handler *fn, void **ud, unsigned *flags);

/* Run the call @p m of @p sc to the inline method @p fn on this (the
 * reader's) thread and send its response; sc->inflight was counted in. */
void xipc__rpc_call_inline(srv_conn *sc, const xipc_rpc_msg *m, xipc_rpc_handler fn,
                           void *ud);

/* The worker thread's body (rpc_call.c). */
void xipc__rpc_worker_main(void *arg);

/* How long a message-mode reader runs a call before a worker reads its
 * connection meanwhile (rpc_rescue.c). */
#define XIPC_RPC_RESCUE_US 1000
/* How long the rescuer goes on looking after the last call a reader ran
 * before it sleeps until the next one (and then needs a wake-up). */
#define XIPC_RPC_RESCUE_LINGER_MS 200
/* How often a rescuing worker looks whether the reader wants its
 * connection back (the reader waits that long at most). */
#define XIPC_RPC_RESCUE_POLL_MS 5

/* A handler (a worker's or a reader's) is over: free its slot of
 * srv->busy; srv->mu held (rpc_call.c). */
void xipc__rpc_handler_over(xipc_rpc_server *srv);

/* Run @p job (a call read by the reader of its connection) on this
 * thread, as a worker would; srv->mu not held. Then, with srv->mu held,
 * xipc__rpc_job_done does a worker's accounting and frees it (rpc_call.c). */
void xipc__rpc_job_run(xipc_rpc_server *srv, srv_job *job);
void xipc__rpc_job_done(xipc_rpc_server *srv, srv_job *job);

/* The reader of @p sc runs @p job itself: account it, tell the rescuer,
 * run it, then take the reading back from a rescuing worker. @return 0:
 * read on; 1: the rescuing worker met the end of input (rpc_rescue.c).
 * srv->mu not held. */
int xipc__rpc_reader_run(srv_conn *sc, srv_job *job);

/* The rescuer thread's body (rpc_rescue.c). */
void xipc__rpc_rescuer_main(void *arg);

/* Queue a rescue job for @p sc (a worker then reads it); srv->mu held
 * (rpc_srvconn.c). */
xipc_err xipc__rpc_rescue_queue(srv_conn *sc);

/* Rescue jobs @p srv has queued so far (for tests). */
uint64_t xipc__rpc_server_rescues(xipc_rpc_server *srv);

/* A worker took @p job, a rescue job: read its connection until its
 * reader wants it back (rpc_srvconn.c). srv->mu not held. */
void xipc__rpc_rescue_read(srv_conn *sc);

/* The answerer thread's body (rpc_call.c): sends the answers in
 * srv->ahead. */
void xipc__rpc_answerer_main(void *arg);

/* @p sc is over (its last reference is gone): its links send no more;
 * srv->mu held (rpc_link.c). */
void xipc__rpc_links_detach(srv_conn *sc);

/* The connection @p req came on (referenced while its handler runs). */
srv_conn *xipc__rpc_req_conn(const xipc_rpc_req *req);

/* Drop a reference to @p sc; srv->mu held. */
void xipc__rpc_conn_unref(srv_conn *sc);

/* Send a complete response on @p sc's connection with the send timeout;
 * a failure disconnects the client. */
void xipc__rpc_srv_send(srv_conn *sc, const void *buf, size_t len);

/* Answer request @p msgid with the error [code, message]. */
void xipc__rpc_srv_send_error(srv_conn *sc, uint32_t msgid, int64_t code,
                              const char *message);

/* The built-in method xipc.methods. */
xipc_err xipc__rpc_builtin_methods(xipc_rpc_req *call, void *srv);

#endif
