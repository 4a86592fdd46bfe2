/*
 * The server's poller: one thread reads every stream-mode connection
 * (unix://, tcp://), so a thousand connections cost a thousand sockets
 * and buffers, not a thousand threads.
 *
 * Sockets are watched one-shot (xipc_plat_poller): once a connection is
 * reported, the poller thread reads it with timeout 0 until nothing is
 * left (then re-arms it), its queue is full (back-pressure: SC_PAUSED,
 * not re-armed), it has had its turn (POLL_BUDGET messages: the next loop
 * goes on with it), or its reading ends. Workers hand a connection back
 * through srv->kicks when the poller must look at it without new input:
 * a paused one whose queue drained, one whose last call finished while
 * the server stops, one whose send failed. Only the poller thread ends a
 * polled connection's reading, so a connection it holds stays valid.
 */
#include <stdlib.h>

#include "rpc/rpc_server.h"

/* Messages read from one connection before the others get their turn. */
#define POLL_BUDGET 32
/* Tags taken per wait. */
#define POLL_BATCH 64
/* How often refused connections are checked for their time being up. */
#define POLL_REFUSE_MS 100

xipc_err xipc__rpc_poll_start(xipc_rpc_server *srv)
{
    xipc_err rv = XIPC_OK;
    if (!srv->poll_started) {
        rv = xipc_plat_thread_create(&srv->poll_thread, xipc__rpc_poll_main, srv);
        srv->poll_started = rv == XIPC_OK;
    }
    return rv;
}

xipc_err xipc__rpc_poll_add(srv_conn *sc)
{
    xipc_rpc_server *srv = sc->srv;
    xipc_err rv = xipc__rpc_poll_start(srv);
    sc->pstate = SC_ARMED;
    if (rv == XIPC_OK)
        rv = xipc_plat_poller_add(srv->poller, sc->conn->fd, sc);
    return rv;
}

/* Reading of @p sc is over: forget it, drop the reader's reference. */
static void poll_end(xipc_rpc_server *srv, srv_conn *sc)
{
    xipc_plat_poller_del(srv->poller, sc->conn->fd);
    xipc_plat_mutex_lock(&srv->mu);
    sc->pstate = SC_ENDED;
    xipc__rpc_conn_unref(sc);
    xipc_plat_mutex_unlock(&srv->mu);
}

/* Wait for more input of @p sc (or end it, if it is done meanwhile). */
static void poll_arm(xipc_rpc_server *srv, srv_conn *sc, srv_conn **again)
{
    xipc__rpc_conn_trim(sc->conn);
    xipc_plat_mutex_lock(&srv->mu);
    /* checked under the lock that workers kick under: no kick is lost */
    int done = xipc__rpc_conn_done(sc);
    if (!done)
        sc->pstate = SC_ARMED;
    xipc_plat_mutex_unlock(&srv->mu);
    if (done) {
        poll_end(srv, sc);
        return;
    }
    if (xipc_plat_poller_arm(srv->poller, sc->conn->fd, sc) == XIPC_OK)
        return;
    xipc_plat_mutex_lock(&srv->mu); /* try again on the next turn */
    int mine = sc->pstate == SC_ARMED;
    if (mine)
        sc->pstate = SC_BUSY;
    xipc_plat_mutex_unlock(&srv->mu);
    if (mine) {
        sc->kick_next = *again;
        *again = sc;
    }
}

/* Read and queue what @p sc (SC_BUSY, ours) has. */
static void poll_conn(xipc_rpc_server *srv, srv_conn *sc, srv_conn **again)
{
    for (int budget = POLL_BUDGET; budget > 0; budget--) {
        xipc_plat_mutex_lock(&srv->mu);
        int done = xipc__rpc_conn_done(sc);
        int full = !done && xipc__rpc_conn_full(sc);
        if (full)
            sc->pstate = SC_PAUSED; /* a worker kicks it once there is room */
        xipc_plat_mutex_unlock(&srv->mu);
        if (done) {
            poll_end(srv, sc);
            return;
        }
        if (full)
            return;
        const uint8_t *msg;
        size_t len;
        xipc_err rv = xipc__rpc_conn_recv(sc->conn, &msg, &len, 0);
        if (rv == XIPC_ETIMEDOUT) {
            poll_arm(srv, sc, again);
            return;
        }
        if (rv == XIPC_EPROTO)
            xipc__rpc_fault(sc);
        if (rv != XIPC_OK || xipc__rpc_dispatch(sc, msg, len) != XIPC_OK) {
            poll_end(srv, sc);
            return;
        }
    }
    sc->kick_next = *again; /* its turn is over; more next time */
    *again = sc;
}

/* Take @p sc if it is in state @p from. */
static int poll_take(xipc_rpc_server *srv, srv_conn *sc, int from)
{
    xipc_plat_mutex_lock(&srv->mu);
    int mine = sc->pstate == from;
    if (mine)
        sc->pstate = SC_BUSY;
    xipc_plat_mutex_unlock(&srv->mu);
    return mine;
}

/* Refused connections whose time is up and that wait for input. */
static srv_conn *poll_expired(xipc_rpc_server *srv)
{
    srv_conn *list = NULL;
    uint64_t now = xipc_plat_now_ns();
    xipc_plat_mutex_lock(&srv->mu);
    for (srv_conn *sc = srv->conns; sc != NULL; sc = sc->next) {
        if (sc->polled && sc->refused && sc->pstate == SC_ARMED && now >= sc->refuse_end) {
            sc->pstate = SC_BUSY;
            sc->kick_next = list;
            list = sc;
        }
    }
    xipc_plat_mutex_unlock(&srv->mu);
    return list;
}

void xipc__rpc_poll_main(void *arg)
{
    xipc_rpc_server *srv = arg;
    srv_conn *again = NULL; /* had their turn, not done */
    uint64_t next_expiry = 0;
    for (;;) {
        xipc_plat_mutex_lock(&srv->mu);
        int quit = srv->poll_exit;
        int timeout = again != NULL ? 0 : srv->nrefusing > 0 ? POLL_REFUSE_MS : -1;
        xipc_plat_mutex_unlock(&srv->mu);
        if (quit)
            break;
        void *tags[POLL_BATCH];
        int n = 0;
        if (xipc_plat_poller_wait(srv->poller, tags, POLL_BATCH, &n, timeout) != XIPC_OK)
            xipc_plat_sleep_us(10000); /* should not happen: do not spin */
        srv_conn *turn = again;
        again = NULL;
        /* input; a connection kicked meanwhile is taken from srv->kicks */
        for (int i = 0; i < n; i++)
            if (poll_take(srv, tags[i], SC_ARMED))
                poll_conn(srv, tags[i], &again);
        xipc_plat_mutex_lock(&srv->mu);
        srv_conn *kicked = srv->kicks;
        srv->kicks = NULL;
        for (srv_conn *sc = kicked; sc != NULL; sc = sc->kick_next)
            sc->pstate = SC_BUSY;
        int refusing = srv->nrefusing > 0;
        xipc_plat_mutex_unlock(&srv->mu);
        while (kicked != NULL) {
            srv_conn *sc = kicked;
            kicked = sc->kick_next;
            poll_conn(srv, sc, &again);
        }
        while (turn != NULL) {
            srv_conn *sc = turn;
            turn = sc->kick_next;
            poll_conn(srv, sc, &again);
        }
        uint64_t now = xipc_plat_now_ns();
        if (refusing && now >= next_expiry) {
            next_expiry = now + (uint64_t)POLL_REFUSE_MS * 1000000u;
            for (srv_conn *sc = poll_expired(srv); sc != NULL;) {
                srv_conn *next = sc->kick_next;
                poll_end(srv, sc);
                sc = next;
            }
        }
    }
}
