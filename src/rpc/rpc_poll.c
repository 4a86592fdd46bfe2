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
 *
 * Every sweep period the poller also goes over its connections waiting
 * for input: refused ones whose time is up and those over a timeout
 * (xipc__rpc_conn_sweep) are ended. A connection drained of input frees
 * its receive buffer (unless part of a message waits in it).
 */
#include <stdlib.h>

#include "rpc/rpc_server.h"

/* Messages read from one connection before the others get their turn. */
#define POLL_BUDGET 32
/* Tags taken per wait. */
#define POLL_BATCH 64
/* How often refused connections are checked for their time being up
 * (the sweep is at least this frequent while some wait). */
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
    if (rv == XIPC_OK && (++srv->npolled == 1 || sc->refused))
        xipc_plat_poller_wake(srv->poller); /* it may wait with no sweep due */
    return rv;
}

/* Reading of @p sc is over: forget it, drop the reader's reference. */
static void poll_end(xipc_rpc_server *srv, srv_conn *sc)
{
    xipc_plat_poller_del(srv->poller, sc->conn->fd);
    xipc_plat_mutex_lock(&srv->mu);
    sc->pstate = SC_ENDED;
    srv->npolled--;
    xipc__rpc_conn_unref(sc);
    xipc_plat_mutex_unlock(&srv->mu);
}

/* Wait for more input of @p sc (or end it, if it is done meanwhile). */
static void poll_arm(xipc_rpc_server *srv, srv_conn *sc, srv_conn **again)
{
    xipc__rpc_mem_freed(srv, xipc__rpc_conn_trim(sc->conn));
    xipc_plat_mutex_lock(&srv->mu);
    sc->active = 1; /* input (or its end) came: not idle */
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
        if (rv != XIPC_OK || xipc__rpc_dispatch(sc, msg, len, NULL) != XIPC_OK) {
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

/* Is polled connection @p sc, waiting for input, over its time at
 * @p now? srv->mu held. */
static int poll_overdue(srv_conn *sc, uint64_t now)
{
    if (sc->refused)
        return now >= sc->refuse_end;
    return xipc__rpc_conn_sweep(sc, now);
}

/* The connections waiting for input that must end now (taken: SC_BUSY).
 * The others are being read or have calls in flight: not idle. */
static srv_conn *poll_sweep(xipc_rpc_server *srv, uint64_t now)
{
    srv_conn *list = NULL;
    xipc_plat_mutex_lock(&srv->mu);
    for (srv_conn *sc = srv->conns; sc != NULL; sc = sc->next) {
        if (!sc->polled)
            continue;
        if (sc->pstate != SC_ARMED) {
            sc->active = 1;
        } else if (poll_overdue(sc, now)) {
            sc->pstate = SC_BUSY;
            sc->kick_next = list;
            list = sc;
        }
    }
    xipc_plat_mutex_unlock(&srv->mu);
    return list;
}

/* How long the poller may wait for input before its next sweep is due at
 * @p next (ns); -1: no sweep is needed. srv->mu held. */
static int poll_wait_ms(xipc_rpc_server *srv, uint64_t now, uint64_t next)
{
    int timeouts = srv->first_ns > 0 || srv->idle_ns > 0;
    if (srv->nrefusing == 0 && (!timeouts || srv->npolled == 0))
        return -1;
    return next <= now ? 0 : (int)((next - now + 999999u) / 1000000u);
}

/* The sweep period: shorter while refused connections wait. */
static uint64_t poll_period_ns(xipc_rpc_server *srv)
{
    uint32_t ms = srv->sweep_ms;
    if (srv->nrefusing > 0 && ms > POLL_REFUSE_MS)
        ms = POLL_REFUSE_MS;
    return (uint64_t)ms * 1000000u;
}

void xipc__rpc_poll_main(void *arg)
{
    xipc_rpc_server *srv = arg;
    srv_conn *again = NULL; /* had their turn, not done */
    uint64_t next_sweep = 0;
    for (;;) {
        uint64_t now = xipc_plat_now_ns();
        xipc_plat_mutex_lock(&srv->mu);
        int quit = srv->poll_exit;
        int timeout = again != NULL ? 0 : poll_wait_ms(srv, now, next_sweep);
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
        uint64_t period = poll_period_ns(srv);
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
        now = xipc_plat_now_ns();
        if (now >= next_sweep) {
            next_sweep = now + period;
            for (srv_conn *sc = poll_sweep(srv, now); sc != NULL;) {
                srv_conn *next = sc->kick_next;
                poll_end(srv, sc);
                sc = next;
            }
        }
    }
}
