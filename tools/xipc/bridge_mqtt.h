/*
 * The MQTT session of `xipc bridge` (bridge_mqtt.c), the part both
 * directions share: one libmosquitto client, driven by the caller's
 * thread with bridge_sess_step(); connecting again with backoff whenever
 * the connection is lost or cannot be made; what it says on stderr.
 */
#ifndef XIPC_TOOLS_BRIDGE_MQTT_H
#define XIPC_TOOLS_BRIDGE_MQTT_H

#include <mosquitto.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "bridge.h"

#define BRIDGE_RETRY_MIN_MS 100 /* the first wait before connecting again */

typedef struct bridge_sess bridge_sess;

struct bridge_sess {
    const bridge_cfg *cfg;
    struct mosquitto *m;
    /* Held around (re)connecting when set: libmosquitto then drops the
     * packets it had queued, which to mqtt's queue accounting must see. */
    pthread_mutex_t *lock;
    atomic_int up;       /* a CONNACK accepted the session, not lost since */
    int sock;            /* a socket exists: connecting or up */
    int connack;         /* a CONNACK accepted, not yet seen by the loop: 1 | present << 1 */
    int ever_up;
    long backoff_ms;     /* the next wait after a failure */
    uint64_t retry_at;   /* when to try again (ms, bridge_now_ms) */
    uint64_t try_start;  /* when the current try began */
    uint64_t down_since; /* when the session was last up, or the start */
    uint64_t reconnects; /* sessions after the first */
    char why[160];       /* a CONNACK's refusal, for the next failure */
    /* Set by the direction before bridge_sess_init: */
    void (*on_up)(bridge_sess *s, int session_present); /* after a CONNACK */
    void (*on_reset)(bridge_sess *s); /* under lock, before a new try */
    void *arg;
};

/* Milliseconds of a monotonic clock. */
uint64_t bridge_now_ms(void);

/* "bridge: WHAT" (+ printf) on stderr: an event, not a problem. */
void bridge_note(const char *fmt, ...);

/* "xipc: bridge: WHAT" (+ printf) on stderr: a problem. */
void bridge_warn(const char *fmt, ...);

/*
 * Create the client of @p cfg, client id "xipc-@p dir-HOSTNAME-NAME"
 * unless --client-id; clean session off at QoS 1. Set the direction's
 * callbacks (mosquitto_*_callback_set, user data @p s) after this.
 * @return 0, or -1 after "xipc: bridge: ..." on stderr
 */
int bridge_sess_init(bridge_sess *s, const bridge_cfg *cfg, const char *dir);

/*
 * Run the client for at most @p wait_ms: the network (callbacks run
 * here), or the wait before the next try. Says on stderr when the
 * connection is lost or refused and when it will try again.
 * @return 0, or -1 when --timeout ran out (said on stderr)
 */
int bridge_sess_step(bridge_sess *s, int wait_ms);

/* Send DISCONNECT (waiting at most ~200 ms for it to go out) and free
 * the client. */
void bridge_sess_fini(bridge_sess *s);

/* The two directions (bridge_out.c, bridge_in.c), as bridge_run(). */
int bridge_out_run(const bridge_cfg *cfg);
int bridge_in_run(const bridge_cfg *cfg);

#endif
