/*
 * xipc bridge mqtt://HOST:PORT/TOPIC pubsub://NAME (docs/bridge.md): the
 * bridge is the ring's publisher and an MQTT subscriber. One thread: each
 * message libmosquitto delivers goes into the ring at once (publishing
 * never waits), so the broker's flow control is all there is between the
 * two. The subscription is made again after every CONNACK; at QoS 1 the
 * session outlives the connection (clean session off), so what the
 * broker received meanwhile is delivered after the reconnect.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bridge_mqtt.h"
#include "cli.h"

#define IN_DROP_EVERY_MS 1000 /* "message of N bytes dropped", at most this often */

typedef struct in_state {
    bridge_sess sess;
    const bridge_cfg *cfg;
    xipc_sock *pub;
    unsigned long long received, published, dropped;
    uint64_t said_at;
    int refused; /* the broker refused the subscription */
} in_state;

static void in_on_message(struct mosquitto *m, void *obj, const struct mosquitto_message *msg)
{
    in_state *in = ((bridge_sess *)obj)->arg;
    (void)m;
    if (in->cfg->count >= 0 && in->published >= (unsigned long long)in->cfg->count)
        return; /* --count reached: the rest of this read is not published */
    in->received++;
    xipc_err rv = xipc_send(in->pub, msg->payload, (size_t)msg->payloadlen, 0);
    if (rv == XIPC_OK) {
        in->published++;
        return;
    }
    in->dropped++;
    if (bridge_now_ms() - in->said_at >= IN_DROP_EVERY_MS) {
        bridge_warn("%s: message of %d bytes dropped: %s", in->cfg->pubsub_url,
                    msg->payloadlen, xipc_strerror(rv));
        in->said_at = bridge_now_ms();
    }
}

static void in_on_up(bridge_sess *s, int session_present)
{
    (void)session_present; /* subscribe anyway: it costs one packet */
    int rc = mosquitto_subscribe(s->m, NULL, s->cfg->topic, (int)s->cfg->qos);
    if (rc != MOSQ_ERR_SUCCESS)
        bridge_warn("%s: cannot subscribe: %s", s->cfg->mqtt_url, mosquitto_strerror(rc));
}

static void in_on_subscribe(struct mosquitto *m, void *obj, int mid, int n, const int *granted)
{
    in_state *in = ((bridge_sess *)obj)->arg;
    (void)m;
    (void)mid;
    if (n < 1 || granted[0] > 2) {
        bridge_warn("%s: the broker refused the subscription", in->cfg->mqtt_url);
        in->refused = 1;
        return;
    }
    bridge_note("%s: subscribed (qos %d)", in->cfg->mqtt_url, granted[0]);
}

static void in_stats(const in_state *in)
{
    bridge_note("%s -> %s: received %llu, published %llu, dropped %llu, reconnects %llu",
                in->cfg->mqtt_url, in->cfg->pubsub_url, in->received, in->published,
                in->dropped, (unsigned long long)in->sess.reconnects);
}

static int in_loop(in_state *in)
{
    const bridge_cfg *cfg = in->cfg;
    uint64_t stats_at = bridge_now_ms() + (uint64_t)cfg->stats_s * 1000u;
    for (;;) {
        if (bridge_sess_step(&in->sess, CLI_SLICE_MS) != 0 || in->refused)
            return CLI_EXIT_FAIL;
        if (cli_signal_wait_ms(0) != 0)
            return -1;
        if (cfg->count >= 0 && in->published >= (unsigned long long)cfg->count)
            return CLI_EXIT_OK;
        if (cfg->stats_s > 0 && bridge_now_ms() >= stats_at) {
            in_stats(in);
            stats_at += (uint64_t)cfg->stats_s * 1000u;
        }
    }
}

int bridge_in_run(const bridge_cfg *cfg)
{
    in_state in;
    memset(&in, 0, sizeof(in));
    in.cfg = cfg;
    in.sess.on_up = in_on_up;
    in.sess.arg = &in;
    xipc_opts opts;
    xipc_opts_init(&opts);
    if (cfg->slots > 0)
        opts.pub_slots = (uint32_t)cfg->slots;
    if (cfg->slot_size > 0)
        opts.pub_slot_size = (uint32_t)cfg->slot_size;
    xipc_err rv = xipc_listen(&in.pub, cfg->pubsub_url, &opts);
    if (rv != XIPC_OK)
        return cli_fail(cfg->pubsub_url, rv);
    bridge_note("%s: publishing", cfg->pubsub_url);
    int code = CLI_EXIT_FAIL;
    if (bridge_sess_init(&in.sess, cfg, "in") == 0) {
        mosquitto_message_callback_set(in.sess.m, in_on_message);
        mosquitto_subscribe_callback_set(in.sess.m, in_on_subscribe);
        code = in_loop(&in);
        in_stats(&in);
    }
    bridge_sess_fini(&in.sess);
    xipc_close(in.pub);
    return code < 0 ? cli_signal_exit() : code;
}
