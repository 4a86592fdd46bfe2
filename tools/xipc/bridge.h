/*
 * `xipc bridge` (docs/bridge.md): a local pubsub:// ring to and from an
 * MQTT topic, through a broker (mosquitto) and libmosquitto.
 *
 *   cmd_bridge.c    the command line, the mqtt:// URL; always built
 *   bridge_mqtt.c   the MQTT session both directions share: connect,
 *                   reconnect with backoff, what it says on stderr
 *   bridge_out.c    pubsub:// -> mqtt://: a reader thread and a queue
 *   bridge_in.c     mqtt:// -> pubsub://: the bridge is the publisher
 *   bridge_none.c   builds without libmosquitto (Windows, m32): says so
 */
#ifndef XIPC_TOOLS_BRIDGE_H
#define XIPC_TOOLS_BRIDGE_H

#include <stddef.h>

#define BRIDGE_PORT 1883 /* MQTT's port, when the URL names none */

/* What `xipc bridge` was told. Numbers are -1 or 0 when not given (below). */
typedef struct bridge_cfg {
    const char *pubsub_url; /* "pubsub://NAME" */
    const char *mqtt_url;   /* "mqtt://HOST[:PORT]/TOPIC", as typed */
    char host[256];         /* from mqtt_url, without [] around IPv6 */
    int port;
    const char *topic;      /* into mqtt_url: everything after HOST:PORT/ */
    int to_mqtt;            /* 1: pubsub -> mqtt; 0: mqtt -> pubsub */
    long qos;               /* 0 or 1 (default 1) */
    const char *client_id;  /* NULL: "xipc-out-HOSTNAME-NAME" (or -in-) */
    long keepalive_s;       /* default 30 */
    long count;             /* -1: no limit */
    long buffer;            /* to mqtt: messages kept while the broker is away */
    long retry_max_ms;      /* the longest wait between two connection tries */
    long timeout_ms;        /* -1: retry forever; else give up after the broker
                               has been unreachable this long */
    long stats_s;           /* 0: the counters only at the end */
    long slots, slot_size;  /* to pubsub: the ring (0: the library's default) */
    const char *username;   /* password: $XIPC_MQTT_PASSWORD */
} bridge_cfg;

/*
 * Split "mqtt://HOST[:PORT]/TOPIC" into cfg->host, cfg->port, cfg->topic.
 * @return NULL, or why the URL is refused ("missing topic", "bad port")
 */
const char *bridge_parse_mqtt(const char *url, bridge_cfg *cfg);

/* Run the bridge until --count, the end of the stream or a signal.
 * @return an exit code (cli.h), or 128+N / death by the signal */
int bridge_run(const bridge_cfg *cfg);

#endif
