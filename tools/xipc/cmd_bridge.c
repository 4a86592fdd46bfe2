/*
 * xipc bridge pubsub://NAME mqtt://HOST[:PORT]/TOPIC, or the other way
 * round: carry the messages of a local pubsub:// ring to an MQTT topic,
 * or those of a topic into a local ring (docs/bridge.md). This file reads
 * the command line; bridge_out.c and bridge_in.c run the two directions.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bridge.h"
#include "cli.h"
#include "cmd.h"

const char cmd_bridge_usage[] =
    "usage: xipc bridge [OPTIONS] pubsub://NAME mqtt://HOST[:PORT]/TOPIC  (or the reverse; "
    "xipc bridge --help)";

static const char bridge_help[] =
    "usage: xipc bridge [OPTIONS] [--] pubsub://NAME mqtt://HOST[:PORT]/TOPIC\n"
    "       xipc bridge [OPTIONS] [--] mqtt://HOST[:PORT]/TOPIC pubsub://NAME\n"
    "\n"
    "Carry messages between a local publish/subscribe ring and an MQTT topic\n"
    "on a broker (mosquitto, or any MQTT 3.1.1 broker), from the first URL\n"
    "to the second. Payloads go byte for byte, in both directions.\n"
    "\n"
    "pubsub://NAME mqtt://...  subscribe to the local publisher of NAME\n"
    "    (waiting for it to appear) and publish each of its messages to\n"
    "    TOPIC. Messages are kept while the broker is away (--buffer) and\n"
    "    sent when it is back. Ends after the publisher closed and every\n"
    "    message was acknowledged (QoS 1) or written (QoS 0).\n"
    "mqtt://... pubsub://NAME  become the publisher of NAME, subscribe to\n"
    "    TOPIC (MQTT wildcards + and # allowed) and publish each message\n"
    "    into the ring, where any number of local subscribers read it.\n"
    "    Runs until --count or a signal; the ring then closes.\n"
    "\n"
    "PORT defaults to 1883. TOPIC is taken as it is (no %-decoding). The\n"
    "bridge connects again whenever the connection is lost, waiting 100 ms,\n"
    "then twice as long each time up to --retry-max, and says so on stderr.\n"
    "At QoS 1 it keeps a session on the broker (clean session off, a fixed\n"
    "client id): messages wait there for a subscribing bridge that is away,\n"
    "and a publishing bridge sends again what the broker did not acknowledge.\n"
    "Duplicates may arrive (MQTT's QoS 1 is at least once).\n"
    "\n"
    "stderr: \"bridge: URL: connected\", \"bridge: URL: subscribed\" and one\n"
    "line of counters at the end (and every --stats seconds):\n"
    "  bridge: pubsub://N -> mqtt://...: received R, lost L, sent S,\n"
    "          dropped D, pending P, reconnects C\n"
    "  bridge: mqtt://... -> pubsub://N: received R, published P, dropped D,\n"
    "          reconnects C\n"
    "lost: messages the local publisher overwrote before the bridge read them;\n"
    "dropped: messages given up (buffer full; at QoS 0 also those queued when\n"
    "the connection broke; into the ring: larger than a slot); pending: not\n"
    "acknowledged at the end.\n"
    "\n"
    "  --qos 0|1          MQTT quality of service (default 1)\n"
    "  --client-id ID     the MQTT client id (default xipc-out-HOSTNAME-NAME\n"
    "                     or xipc-in-HOSTNAME-NAME: keep it fixed, the\n"
    "                     broker keys the session on it)\n"
    "  --keepalive S      MQTT keepalive in seconds, 5..65535 (default 30)\n"
    "  --username NAME    log in as NAME, with the password in the\n"
    "                     environment variable XIPC_MQTT_PASSWORD\n"
    "  -n, --count N      stop after N messages (to mqtt: read from the ring,\n"
    "                     then sent; to pubsub: published into the ring)\n"
    "  --buffer N         to mqtt: messages kept while the broker is away or\n"
    "                     slow; when full the oldest are dropped (default\n"
    "                     65536)\n"
    "  --retry-max MS     longest wait between connection tries (default 5000)\n"
    "  -t, --timeout MS   give up (exit 1) when the broker has been\n"
    "                     unreachable for MS ms (default -1: never)\n"
    "  --stats S          print the counters every S seconds (default 0: at\n"
    "                     the end only)\n"
    "  --slots N          to pubsub: ring slots, a power of two (default 4096)\n"
    "  --slot-size B      to pubsub: bytes per slot, a multiple of 64; the\n"
    "                     largest message is B - 16 (default 2048)\n"
    "  -h, --help         show this help\n"
    "\n"
    "exit status: 0 done (--count, or the end of the stream with nothing\n"
    "pending), 1 runtime error (\"xipc: URL: WHY\"; also messages still\n"
    "pending at the end), 2 usage error, 128+N stopped by signal N.\n";

/* An option with a number. */
typedef struct bridge_num {
    const char *shrt, *lng;
    size_t field; /* offsetof(bridge_cfg, ...) */
    long min, max;
    const char *want;
} bridge_num;

static const bridge_num bridge_nums[] = {
    {NULL, "--qos", offsetof(bridge_cfg, qos), 0, 1, "0 or 1"},
    {NULL, "--keepalive", offsetof(bridge_cfg, keepalive_s), 5, 65535, "a time in 5..65535 s"},
    {"-n", "--count", offsetof(bridge_cfg, count), 1, CLI_INT_MAX, "a count in 1..2147483647"},
    {NULL, "--buffer", offsetof(bridge_cfg, buffer), 1, CLI_INT_MAX, "a count in 1..2147483647"},
    {NULL, "--retry-max", offsetof(bridge_cfg, retry_max_ms), 100, CLI_INT_MAX,
     "a time in 100..2147483647 ms"},
    {"-t", "--timeout", offsetof(bridge_cfg, timeout_ms), -1, CLI_INT_MAX,
     "a timeout in -1..2147483647 ms"},
    {NULL, "--stats", offsetof(bridge_cfg, stats_s), 0, 86400, "a time in 0..86400 s"},
    {NULL, "--slots", offsetof(bridge_cfg, slots), 2, 1L << 20,
     "a power of two in 2..1048576"},
    {NULL, "--slot-size", offsetof(bridge_cfg, slot_size), 64, 16L << 20,
     "a multiple of 64 in 64..16777216"},
};

/* Take option @p arg. @return -1 when taken, else a usage error's code */
static int bridge_option(bridge_cfg *cfg, cli_scan *s, const char *arg, int *help)
{
    const char *val;
    int r;
    for (size_t i = 0; i < sizeof(bridge_nums) / sizeof(bridge_nums[0]); i++) {
        const bridge_num *n = &bridge_nums[i];
        if ((r = cli_scan_value(s, arg, n->shrt, n->lng, &val)) == 0)
            continue;
        long *field = (long *)((char *)cfg + n->field), v = 0;
        if (r < 0)
            return cli_usage_error(cmd_bridge_usage, arg, "missing value");
        if (cli_parse_int(val, n->min, n->max, &v) != 0 ||
            (field == &cfg->slots && (v & (v - 1)) != 0) ||
            (field == &cfg->slot_size && v % 64 != 0))
            return cli_bad_value(cmd_bridge_usage, arg, val, n->want);
        *field = v;
        return -1;
    }
    if ((r = cli_scan_value(s, arg, NULL, "--client-id", &val)) != 0 ||
        (r = cli_scan_value(s, arg, NULL, "--username", &val)) != 0) {
        if (r < 0 || val[0] == '\0')
            return cli_usage_error(cmd_bridge_usage, arg, "missing value");
        *(arg[2] == 'c' ? &cfg->client_id : &cfg->username) = val;
        return -1;
    }
    if (!cli_scan_flag(arg, "-h", "--help"))
        return cli_usage_error(cmd_bridge_usage, arg, "unknown option");
    *help = 1;
    return -1;
}

const char *bridge_parse_mqtt(const char *url, bridge_cfg *cfg)
{
    const char *p = url + strlen("mqtt://"), *host_end, *after;
    if (*p == '[') { /* [IPv6] */
        host_end = strchr(p, ']');
        if (host_end == NULL)
            return "missing ']' after the IPv6 address";
        after = host_end + 1;
        p++;
    } else {
        host_end = p + strcspn(p, ":/");
        after = host_end;
    }
    size_t hlen = (size_t)(host_end - p);
    if (hlen == 0)
        return "missing host";
    if (hlen >= sizeof(cfg->host))
        return "host name too long";
    memcpy(cfg->host, p, hlen);
    cfg->host[hlen] = '\0';
    cfg->port = BRIDGE_PORT;
    if (*after == ':') {
        char port[8];
        size_t plen = strcspn(after + 1, "/");
        long v = 0;
        if (plen == 0 || plen >= sizeof(port))
            return "bad port (want 1..65535)";
        memcpy(port, after + 1, plen);
        port[plen] = '\0';
        if (cli_parse_int(port, 1, 65535, &v) != 0)
            return "bad port (want 1..65535)";
        cfg->port = (int)v;
        after += 1 + plen;
    } else if (*after != '/' && *after != '\0') {
        return "want mqtt://HOST[:PORT]/TOPIC";
    }
    if (*after != '/' || after[1] == '\0')
        return "missing topic";
    cfg->topic = after + 1;
    return NULL;
}

/* "xipc: bridge: URL: WHY" and the usage. @return CLI_EXIT_USAGE */
static int bridge_url_error(const char *url, const char *why)
{
    char what[300];
    snprintf(what, sizeof(what), "bridge: %s", url);
    return cli_usage_error(cmd_bridge_usage, what, why);
}

/* @return -1 when parsed, else the exit code of a usage error */
static int bridge_urls(bridge_cfg *cfg, const char *from, const char *to)
{
    const char *urls[2] = {from, to};
    for (int i = 0; i < 2; i++) {
        if (cli_is_pubsub(urls[i]) && cfg->pubsub_url == NULL) {
            cfg->pubsub_url = urls[i];
        } else if (strncmp(urls[i], "mqtt://", 7) == 0 && cfg->mqtt_url == NULL) {
            cfg->mqtt_url = urls[i];
            cfg->to_mqtt = i == 1;
        } else {
            return bridge_url_error(urls[i],
                                    "want one pubsub://NAME and one mqtt://HOST[:PORT]/TOPIC");
        }
    }
    const char *why = bridge_parse_mqtt(cfg->mqtt_url, cfg);
    if (why == NULL && cfg->to_mqtt && strpbrk(cfg->topic, "+#") != NULL)
        why = "wildcards (+ #) only in a topic to subscribe to";
    return why != NULL ? bridge_url_error(cfg->mqtt_url, why) : -1;
}

int cmd_bridge(int argc, char **argv)
{
    bridge_cfg cfg = {.qos = 1, .keepalive_s = 30, .count = -1, .buffer = 65536,
                      .retry_max_ms = 5000, .timeout_ms = -1};
    const char *ops[2] = {NULL, NULL}, *arg;
    int nops = 0, help = 0;
    cli_scan s;
    cli_scan_init(&s, argc, argv);
    for (cli_arg k; (k = cli_scan_next(&s, &arg)) != CLI_ARG_END;) {
        int code = -1;
        if (k == CLI_ARG_OPTION)
            code = bridge_option(&cfg, &s, arg, &help);
        else if (nops < 2)
            ops[nops++] = arg;
        else
            code = cli_usage_error(cmd_bridge_usage, arg, "unexpected argument");
        if (code >= 0)
            return code;
    }
    if (help) {
        fputs(bridge_help, stdout);
        return CLI_EXIT_OK;
    }
    if (nops < 2)
        return cli_usage_error(cmd_bridge_usage, "bridge", nops ? "missing second URL" : "missing URLs");
    int code = bridge_urls(&cfg, ops[0], ops[1]);
    return code >= 0 ? code : bridge_run(&cfg);
}
