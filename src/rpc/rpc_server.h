/*
 * The server's insides, shared by rpc_server.c (listeners, connections,
 * readers, lifecycle) and rpc_call.c (workers, handlers, the call API).
 *
 * Locking: one mutex (srv->mu) guards the method table, the lists, the job
 * queue and every connection's counters. Handlers run without it. A
 * connection's socket is used by its reader (receiving) and by workers
 * (sending, serialised inside rpc_conn).
 *
 * Lifetimes: a connection holds one reference for its reader thread and
 * one per queued or running job; at zero it moves to the zombie list,
 * where a listener thread or stop joins its reader and frees it.
 */
#ifndef XIPC_RPC_SERVER_H
#define XIPC_RPC_SERVER_H

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
} srv_method;

typedef struct srv_conn srv_conn;

typedef struct srv_job {
    struct srv_job *next;
    srv_conn *conn;
    uint32_t msgid;
    int notify;
    char *method;           /* NUL-terminated, in the same allocation */
    const uint8_t *params;  /* the params array, in the same allocation */
    size_t params_len;
    size_t bytes;           /* counted against max_queued_bytes */
} srv_job;

struct srv_conn {
    srv_conn *next;
    xipc_rpc_server *srv;
    xipc_rpc_conn *conn;
    xipc_plat_thread thread;
    uint32_t refs;
    uint32_t inflight;
    size_t queued_bytes;
};

typedef struct srv_listener {
    struct srv_listener *next;
    xipc_rpc_server *srv;
    xipc_rpc_listener *l; /* NULL once closed */
    xipc_plat_thread thread;
    char url[XIPC_RPC_URL_MAX];
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
    srv_job *qhead, *qtail;
    uint32_t running;
    int stopping, stopped, workers_exit;
    xipc_plat_thread *workers;
    uint32_t nworkers;
};

/* The worker thread's body (rpc_call.c). */
void xipc__rpc_worker_main(void *arg);

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
