/*
 * xipc bridge pubsub://NAME mqtt://HOST:PORT/TOPIC (docs/bridge.md).
 *
 * Two threads. The reader subscribes to the local ring and appends each
 * message to a queue (it never waits for the network, so the ring's
 * publisher laps it only when this machine cannot keep up; those losses
 * are counted). The main thread drives the MQTT session. Either moves
 * messages from the queue to libmosquitto ("pumps") while the session is
 * up and fewer than OUT_WINDOW are unacknowledged: libmosquitto keeps a
 * QoS 1 message until its PUBACK and sends it again after a reconnect,
 * so the queue holds only what was never handed over. While the broker is
 * away nothing is handed over and the queue grows, up to --buffer
 * messages; then the oldest are dropped and counted.
 *
 * libmosquitto 2.0.11 (Debian 12), as tried here: mosquitto_publish at
 * QoS 1 without a connection answers MOSQ_ERR_NO_CONN but keeps the
 * message and sends it after the next CONNACK; at QoS 0 it answers the
 * same and drops it. A publish that races a lost connection is taken
 * accordingly: handed over at QoS 1, left in the queue at QoS 0.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bridge_mqtt.h"
#include "cli.h"
#include "cli_msg.h"

#define OUT_WINDOW 1000 /* messages handed to libmosquitto, not yet acknowledged */
#define OUT_LOST_EVERY_MS 1000 /* the reader's "lost N messages", at most this often */

typedef struct out_msg {
    struct out_msg *next;
    size_t len;
    unsigned char data[];
} out_msg;

typedef struct out_state {
    bridge_sess sess;
    const bridge_cfg *cfg;
    pthread_mutex_t lock;  /* the queue, and handing over */
    out_msg *head, *tail;
    long queued;
    atomic_long handed;    /* in libmosquitto: not yet acknowledged (QoS 1) or written */
    atomic_ullong received, lost, sent, dropped;
    atomic_int reader_done; /* --count reached, end of stream, or reader_err */
    atomic_int stop;        /* the main thread tells the reader to stop */
    xipc_err reader_err;
} out_state;

/* Hand queued messages to libmosquitto while the session is up. */
static void out_pump(out_state *o)
{
    const bridge_cfg *cfg = o->cfg;
    pthread_mutex_lock(&o->lock);
    while (o->head != NULL && atomic_load(&o->sess.up) &&
           atomic_load(&o->handed) < OUT_WINDOW) {
        out_msg *msg = o->head;
        int rc = mosquitto_publish(o->sess.m, NULL, cfg->topic, (int)msg->len, msg->data,
                                   (int)cfg->qos, false);
        if (rc == MOSQ_ERR_NO_CONN && cfg->qos == 0)
            break; /* not taken: stays first in the queue */
        if (rc == MOSQ_ERR_SUCCESS || rc == MOSQ_ERR_NO_CONN) {
            atomic_fetch_add(&o->handed, 1);
        } else {
            atomic_fetch_add(&o->dropped, 1);
            bridge_warn("%s: message of %zu bytes dropped: %s", cfg->mqtt_url, msg->len,
                        mosquitto_strerror(rc));
        }
        o->head = msg->next;
        if (o->head == NULL)
            o->tail = NULL;
        o->queued--;
        free(msg);
    }
    pthread_mutex_unlock(&o->lock);
}

/* Queue a copy of @p len bytes; when --buffer is full, drop the oldest. */
static int out_push(out_state *o, const void *data, size_t len)
{
    out_msg *msg = malloc(sizeof(*msg) + len);
    if (msg == NULL)
        return -1;
    msg->next = NULL;
    msg->len = len;
    memcpy(msg->data, data, len);
    pthread_mutex_lock(&o->lock);
    if (o->queued >= o->cfg->buffer) {
        out_msg *old = o->head;
        o->head = old->next;
        if (o->head == NULL)
            o->tail = NULL;
        o->queued--;
        free(old);
        atomic_fetch_add(&o->dropped, 1);
    }
    if (o->tail != NULL)
        o->tail->next = msg;
    else
        o->head = msg;
    o->tail = msg;
    o->queued++;
    pthread_mutex_unlock(&o->lock);
    return 0;
}

/* libmosquitto: a QoS 1 message was acknowledged, a QoS 0 one written. */
static void out_on_publish(struct mosquitto *m, void *obj, int mid)
{
    out_state *o = ((bridge_sess *)obj)->arg;
    (void)m;
    (void)mid;
    atomic_fetch_sub(&o->handed, 1);
    atomic_fetch_add(&o->sent, 1);
}

/* Before a new connection (under o->lock): libmosquitto throws away the
 * QoS 0 packets it had not written; QoS 1 messages it sends again. */
static void out_on_reset(bridge_sess *s)
{
    out_state *o = s->arg;
    if (o->cfg->qos == 0)
        atomic_fetch_add(&o->dropped, (unsigned long long)atomic_exchange(&o->handed, 0));
}

/* Subscribe to the ring, waiting for its publisher. @return XIPC_OK or why not */
static xipc_err out_attach(out_state *o, xipc_sock **sub)
{
    while (!atomic_load(&o->stop)) {
        xipc_err rv = xipc_dial(sub, o->cfg->pubsub_url, NULL, CLI_SLICE_MS);
        if (rv != XIPC_ECONNREFUSED)
            return rv;
        cli_nap_ms(10);
    }
    return XIPC_EINTR;
}

static void *out_reader(void *arg)
{
    out_state *o = arg;
    const bridge_cfg *cfg = o->cfg;
    xipc_sock *sub = NULL;
    cli_msg_buf buf = {NULL, 0};
    unsigned long long lost_said = 0;
    uint64_t said_at = 0;
    xipc_err rv = cli_msg_buf_init(&buf) != 0 ? XIPC_ENOMEM : out_attach(o, &sub);
    if (rv == XIPC_OK)
        bridge_note("%s: subscribed", cfg->pubsub_url);
    while (rv == XIPC_OK && !atomic_load(&o->stop) &&
           (cfg->count < 0 || atomic_load(&o->received) < (unsigned long long)cfg->count)) {
        size_t len = 0;
        rv = cli_msg_recv(sub, &buf, &len, CLI_SLICE_MS);
        if (rv == XIPC_OK) {
            if (out_push(o, buf.b, len) != 0)
                rv = XIPC_ENOMEM;
            atomic_fetch_add(&o->received, 1);
            out_pump(o);
        } else if (rv == XIPC_EOVERRUN) {
            atomic_fetch_add(&o->lost, len);
            rv = XIPC_OK;
        } else if (rv == XIPC_ETIMEDOUT || rv == XIPC_EINTR) {
            rv = XIPC_OK;
        }
        unsigned long long lost = atomic_load(&o->lost);
        if (lost != lost_said && bridge_now_ms() - said_at >= OUT_LOST_EVERY_MS) {
            bridge_warn("%s: lost %llu messages (%llu in all)", cfg->pubsub_url,
                        lost - lost_said, lost);
            lost_said = lost;
            said_at = bridge_now_ms();
        }
    }
    if (rv != XIPC_ECLOSED && rv != XIPC_EINTR)
        o->reader_err = rv;
    xipc_close(sub);
    free(buf.b);
    atomic_store(&o->reader_done, 1);
    return NULL;
}

static void out_stats(out_state *o)
{
    pthread_mutex_lock(&o->lock);
    long pending = o->queued + atomic_load(&o->handed);
    pthread_mutex_unlock(&o->lock);
    bridge_note("%s -> %s: received %llu, lost %llu, sent %llu, dropped %llu, pending %ld, "
                "reconnects %llu",
                o->cfg->pubsub_url, o->cfg->mqtt_url, atomic_load(&o->received),
                atomic_load(&o->lost), atomic_load(&o->sent), atomic_load(&o->dropped),
                pending, (unsigned long long)o->sess.reconnects);
}

/* Everything read was handed over and acknowledged. */
static int out_drained(out_state *o)
{
    pthread_mutex_lock(&o->lock);
    int empty = o->queued == 0 && atomic_load(&o->handed) == 0;
    pthread_mutex_unlock(&o->lock);
    return empty;
}

/* The main thread: the session, until the end, a signal or --timeout. */
static int out_loop(out_state *o)
{
    uint64_t stats_at = bridge_now_ms() + (uint64_t)o->cfg->stats_s * 1000u;
    for (;;) {
        if (bridge_sess_step(&o->sess, CLI_SLICE_MS) != 0)
            return CLI_EXIT_FAIL;
        out_pump(o);
        if (cli_signal_wait_ms(0) != 0)
            return -1;
        if (atomic_load(&o->reader_done) && (o->reader_err != XIPC_OK || out_drained(o)))
            return o->reader_err == XIPC_OK ? CLI_EXIT_OK
                                            : cli_fail(o->cfg->pubsub_url, o->reader_err);
        if (o->cfg->stats_s > 0 && bridge_now_ms() >= stats_at) {
            out_stats(o);
            stats_at += (uint64_t)o->cfg->stats_s * 1000u;
        }
    }
}

int bridge_out_run(const bridge_cfg *cfg)
{
    out_state *o = calloc(1, sizeof(*o));
    if (o == NULL)
        return cli_fail("bridge", XIPC_ENOMEM);
    o->cfg = cfg;
    pthread_mutex_init(&o->lock, NULL);
    o->sess.lock = &o->lock;
    o->sess.on_reset = out_on_reset;
    o->sess.arg = o;
    int code = CLI_EXIT_FAIL;
    pthread_t reader;
    if (bridge_sess_init(&o->sess, cfg, "out") == 0) {
        mosquitto_publish_callback_set(o->sess.m, out_on_publish);
        if (pthread_create(&reader, NULL, out_reader, o) != 0) {
            code = cli_fail("bridge", XIPC_ESYS);
        } else {
            code = out_loop(o);
            atomic_store(&o->stop, 1);
            pthread_join(reader, NULL);
            out_stats(o);
        }
    }
    bridge_sess_fini(&o->sess);
    while (o->head != NULL) {
        out_msg *next = o->head->next;
        free(o->head);
        o->head = next;
    }
    pthread_mutex_destroy(&o->lock);
    free(o);
    return code < 0 ? cli_signal_exit() : code;
}
