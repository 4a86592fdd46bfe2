/*
 * Leader/follower on message-mode connections (see rpc_server.h): the
 * reader runs the calls it reads, and the rescuer thread has a worker read
 * the connection meanwhile once a call of a reader's has run for
 * XIPC_RPC_RESCUE_US.
 *
 * The path of a call has no clock and no wake-up: the reader counts the
 * call (sc->r_seq) under srv->mu and runs it. The rescuer looks every
 * XIPC_RPC_RESCUE_US: a reader still running the call it ran at the last
 * look (the same r_seq) is rescued, so a call is rescued between one and
 * two periods after it began. The rescuer sleeps for good once readers
 * have run nothing for XIPC_RPC_RESCUE_LINGER_MS; the next reader call
 * wakes it (one wake-up per quiet spell, not per call).
 */
#include "rpc/rpc_server.h"

int xipc__rpc_reader_run(srv_conn *sc, srv_job *job)
{
    xipc_rpc_server *srv = sc->srv;
    xipc_plat_mutex_lock(&srv->mu);
    /* as if queued and taken by a worker: xipc__rpc_job_done undoes it */
    sc->queued_bytes += job->bytes;
    sc->refs++;
    srv->running++;
    sc->r_running = 1;
    sc->r_seq++;
    srv->r_running++;
    srv->r_calls++;
    if (srv->rescuer_idle) {
        srv->rescuer_idle = 0;
        xipc_plat_cond_signal(&srv->tick);
    }
    xipc_plat_mutex_unlock(&srv->mu);

    xipc__rpc_job_run(srv, job);

    xipc_plat_mutex_lock(&srv->mu);
    xipc__rpc_job_done(srv, job);
    xipc__rpc_handler_over(srv); /* dispatch took the slot */
    sc->r_running = 0;
    srv->r_running--;
    if (sc->rescued == SC_RESCUE_QUEUED) {
        sc->rescued = SC_RESCUE_NONE; /* not begun: the worker will skip it */
    } else if (sc->rescued == SC_RESCUE_READING) { /* take the reading back */
        sc->want_back = 1;
        xipc_plat_cond_broadcast(&srv->change); /* it may wait for room */
        while (sc->rescued == SC_RESCUE_READING)
            xipc_plat_cond_wait(&srv->change, &srv->mu, UINT64_MAX);
        sc->want_back = 0;
    }
    int end = sc->read_end;
    xipc_plat_mutex_unlock(&srv->mu);
    return end;
}

/* One look at the readers; srv->mu held. */
static void rescue_look(xipc_rpc_server *srv)
{
    for (srv_conn *sc = srv->conns; sc != NULL; sc = sc->next) {
        if (!sc->r_running || sc->rescued != SC_RESCUE_NONE)
            continue;
        if (sc->r_seen != sc->r_seq) {
            sc->r_seen = sc->r_seq; /* a newer call: look again next time */
            continue;
        }
        if (xipc__rpc_rescue_queue(sc) == XIPC_OK)
            srv->rescues++;
        /* else out of memory: try again at the next look */
    }
}

void xipc__rpc_rescuer_main(void *arg)
{
    xipc_rpc_server *srv = arg;
    const uint64_t period = (uint64_t)XIPC_RPC_RESCUE_US * 1000u;
    const uint64_t linger = (uint64_t)XIPC_RPC_RESCUE_LINGER_MS * 1000000u;
    xipc_plat_mutex_lock(&srv->mu);
    uint64_t calls = srv->r_calls, busy_at = xipc_plat_now_ns();
    while (!srv->workers_exit) {
        uint64_t now = xipc_plat_now_ns();
        if (srv->r_calls != calls || srv->r_running > 0) {
            calls = srv->r_calls;
            busy_at = now;
        } else if (now - busy_at >= linger) {
            srv->rescuer_idle = 1;
            while (srv->rescuer_idle && !srv->workers_exit)
                xipc_plat_cond_wait(&srv->tick, &srv->mu, UINT64_MAX);
            calls = srv->r_calls;
            busy_at = xipc_plat_now_ns();
            continue;
        }
        rescue_look(srv);
        xipc_plat_cond_wait(&srv->tick, &srv->mu, now + period);
    }
    xipc_plat_mutex_unlock(&srv->mu);
}
