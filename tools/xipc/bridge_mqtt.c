/*
 * The MQTT session of `xipc bridge` (see bridge_mqtt.h, docs/bridge.md).
 *
 * Reconnecting is done here rather than by mosquitto_loop_forever(): the
 * caller's thread drives the client, so it can also watch signals, the
 * counters and its end, and the waits are in milliseconds (libmosquitto's
 * own reconnect delay counts whole seconds). Connections are made with
 * the _async calls, so that a broker that does not answer never blocks
 * the thread; a try that has no CONNACK after keepalive seconds is
 * abandoned and made again.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bridge_mqtt.h"
#include "cli.h"

#define SESS_BURST 1024 /* packets read or written per step beyond what mosquitto_loop does */

uint64_t bridge_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void bridge_vsay(const char *prefix, const char *fmt, va_list ap)
{
    char line[512];
    vsnprintf(line, sizeof(line), fmt, ap);
    fprintf(stderr, "%s%s\n", prefix, line); /* one write: threads do not mix */
    fflush(stderr);
}

void bridge_note(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    bridge_vsay("bridge: ", fmt, ap);
    va_end(ap);
}

void bridge_warn(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    bridge_vsay("xipc: bridge: ", fmt, ap);
    va_end(ap);
}

/* libmosquitto's text for @p rc, in the CLI's style: "connection refused". */
static void sess_reason(int rc, int errnum, char *buf, size_t cap)
{
    const char *t = rc == MOSQ_ERR_ERRNO ? strerror(errnum) : mosquitto_strerror(rc);
    snprintf(buf, cap, "%s", t);
    size_t n = strlen(buf);
    if (n > 0 && buf[n - 1] == '.')
        buf[n - 1] = '\0';
    if (buf[0] >= 'A' && buf[0] <= 'Z' && (buf[1] < 'A' || buf[1] > 'Z'))
        buf[0] = (char)(buf[0] - 'A' + 'a');
}

/* The session is gone or could not be made: say why, plan the next try. */
static void sess_failed(bridge_sess *s, const char *why)
{
    uint64_t now = bridge_now_ms();
    if (atomic_exchange(&s->up, 0))
        s->down_since = now;
    s->sock = 0;
    s->retry_at = now + (uint64_t)s->backoff_ms;
    bridge_warn("%s: %s; retrying in %.1f s", s->cfg->mqtt_url, why,
                (double)s->backoff_ms / 1000.0);
    s->backoff_ms = s->backoff_ms * 2 > s->cfg->retry_max_ms ? s->cfg->retry_max_ms
                                                             : s->backoff_ms * 2;
    s->why[0] = '\0';
}

/*
 * libmosquitto calls this from inside its CONNACK handler, before it
 * marks the connection active and sends again the QoS 1 messages that
 * were not acknowledged. Another thread that published now would get its
 * new message out ahead of those older ones: the broker would take them
 * out of order. So this only notes the CONNACK; the session counts as up
 * (and other threads may publish) once mosquitto_loop() has returned, in
 * sess_connacked().
 */
static void sess_on_connect(struct mosquitto *m, void *obj, int rc, int flags)
{
    bridge_sess *s = obj;
    (void)m;
    if (rc != 0) { /* refused: the loop reports it, with this reason */
        snprintf(s->why, sizeof(s->why), "%s", mosquitto_connack_string(rc));
        return;
    }
    s->connack = 1 | (flags & 1) << 1;
}

/* After mosquitto_loop(): a CONNACK it handled makes the session up. */
static void sess_connacked(bridge_sess *s)
{
    int present = s->connack >> 1 & 1;
    if (s->connack == 0)
        return;
    s->connack = 0;
    if (s->ever_up)
        s->reconnects++;
    s->ever_up = 1;
    s->backoff_ms = BRIDGE_RETRY_MIN_MS;
    atomic_store(&s->up, 1);
    bridge_note("%s: connected%s", s->cfg->mqtt_url, present ? " (session present)" : "");
    if (s->on_up != NULL)
        s->on_up(s, present);
}

/* A new try: the first connect, or a reconnect (which closes the old socket). */
static void sess_try(bridge_sess *s)
{
    const bridge_cfg *cfg = s->cfg;
    char why[160];
    if (s->lock != NULL)
        pthread_mutex_lock(s->lock);
    if (s->on_reset != NULL)
        s->on_reset(s);
    errno = 0;
    int rc = s->try_start == 0
                 ? mosquitto_connect_async(s->m, cfg->host, cfg->port, (int)cfg->keepalive_s)
                 : mosquitto_reconnect_async(s->m);
    int errnum = errno;
    if (s->lock != NULL)
        pthread_mutex_unlock(s->lock);
    s->try_start = bridge_now_ms();
    if (rc == MOSQ_ERR_SUCCESS) {
        s->sock = 1;
        return;
    }
    sess_reason(rc, errnum, why, sizeof(why));
    sess_failed(s, why);
}

int bridge_sess_init(bridge_sess *s, const bridge_cfg *cfg, const char *dir)
{
    char id[512], host[256] = "localhost";
    s->cfg = cfg;
    s->backoff_ms = BRIDGE_RETRY_MIN_MS;
    s->down_since = bridge_now_ms();
    atomic_init(&s->up, 0);
    if (cfg->client_id == NULL) {
        gethostname(host, sizeof(host) - 1);
        snprintf(id, sizeof(id), "xipc-%s-%s-%s", dir, host,
                 cfg->pubsub_url + strlen("pubsub://"));
    }
    mosquitto_lib_init();
    s->m = mosquitto_new(cfg->client_id ? cfg->client_id : id, cfg->qos == 0, s);
    if (s->m == NULL) {
        bridge_warn("%s: %s", cfg->mqtt_url, strerror(errno));
        return -1;
    }
    /* small messages go out at once; more than libmosquitto's 20 in flight */
    mosquitto_int_option(s->m, MOSQ_OPT_TCP_NODELAY, 1);
    mosquitto_int_option(s->m, MOSQ_OPT_SEND_MAXIMUM, 100);
    mosquitto_threaded_set(s->m, s->lock != NULL); /* other threads publish */
    mosquitto_connect_with_flags_callback_set(s->m, sess_on_connect);
    if (cfg->username != NULL &&
        mosquitto_username_pw_set(s->m, cfg->username, getenv("XIPC_MQTT_PASSWORD")) !=
            MOSQ_ERR_SUCCESS) {
        bridge_warn("%s: cannot set the user name", cfg->mqtt_url);
        return -1;
    }
    return 0;
}

/*
 * After mosquitto_loop(): go on reading and writing while the socket is
 * ready, up to SESS_BURST packets each way. libmosquitto 2.0 reads or
 * writes one packet per mosquitto_loop() when no QoS 1 message of its
 * own is queued (QoS 0 either way, and every message a subscriber gets):
 * one pselect per message, which made a QoS 0 subscriber the slowest
 * part of the chain.
 * @return MOSQ_ERR_SUCCESS or the error that ended the connection
 */
static int sess_burst(bridge_sess *s)
{
    for (int i = 0; i < SESS_BURST; i++) {
        struct pollfd p = {.fd = mosquitto_socket(s->m), .events = POLLIN};
        if (mosquitto_want_write(s->m))
            p.events |= POLLOUT;
        if (p.fd < 0 || poll(&p, 1, 0) <= 0)
            return MOSQ_ERR_SUCCESS;
        int rc = MOSQ_ERR_SUCCESS;
        if (p.revents & (POLLIN | POLLHUP | POLLERR))
            rc = mosquitto_loop_read(s->m, 1);
        if (rc == MOSQ_ERR_SUCCESS && (p.revents & POLLOUT))
            rc = mosquitto_loop_write(s->m, 1);
        if (rc != MOSQ_ERR_SUCCESS)
            return rc;
    }
    return MOSQ_ERR_SUCCESS;
}

/* Wait @p ms for the next try, or a signal. */
static void sess_nap(long ms)
{
    cli_signal_wait_ms(ms > 0 ? ms : 0);
}

int bridge_sess_step(bridge_sess *s, int wait_ms)
{
    const bridge_cfg *cfg = s->cfg;
    uint64_t now = bridge_now_ms();
    if (!s->sock) {
        if (now < s->retry_at) {
            long left = (long)(s->retry_at - now);
            sess_nap(left < wait_ms ? left : wait_ms);
        } else {
            sess_try(s);
        }
    } else {
        errno = 0;
        int rc = mosquitto_loop(s->m, wait_ms, 1);
        int errnum = errno;
        sess_connacked(s);
        if (rc == MOSQ_ERR_SUCCESS && atomic_load(&s->up)) {
            errno = 0;
            rc = sess_burst(s);
            errnum = errno;
        }
        char why[160];
        if (rc != MOSQ_ERR_SUCCESS) {
            if (s->why[0] == '\0')
                sess_reason(rc, errnum, s->why, sizeof(s->why));
            snprintf(why, sizeof(why), "%s", s->why);
            sess_failed(s, why);
        } else if (!atomic_load(&s->up) &&
                   bridge_now_ms() - s->try_start > (uint64_t)cfg->keepalive_s * 1000u) {
            sess_failed(s, "no answer to CONNECT");
        }
    }
    now = bridge_now_ms();
    if (!atomic_load(&s->up) && cfg->timeout_ms >= 0 &&
        now - s->down_since >= (uint64_t)cfg->timeout_ms) {
        bridge_warn("%s: broker unreachable for %ld ms: giving up", cfg->mqtt_url,
                    (long)(now - s->down_since));
        return -1;
    }
    return 0;
}

void bridge_sess_fini(bridge_sess *s)
{
    if (s->m == NULL)
        return;
    if (atomic_load(&s->up) && mosquitto_disconnect(s->m) == MOSQ_ERR_SUCCESS) {
        /* let the DISCONNECT go out: the broker then forgets no will, and
         * logs a clean close rather than a lost connection */
        for (uint64_t end = bridge_now_ms() + 200; bridge_now_ms() < end;)
            if (mosquitto_loop(s->m, 50, 1) != MOSQ_ERR_SUCCESS)
                break;
    }
    mosquitto_destroy(s->m);
    s->m = NULL;
    mosquitto_lib_cleanup();
}

int bridge_run(const bridge_cfg *cfg)
{
    cli_signals_block(); /* before the reader thread: every thread blocks them */
    return cfg->to_mqtt ? bridge_out_run(cfg) : bridge_in_run(cfg);
}
