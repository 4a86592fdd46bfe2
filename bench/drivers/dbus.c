/*
 * A D-Bus method call with sd-bus (libsystemd), through a private
 * dbus-daemon that setup() starts with a minimal session configuration
 * written to the run's temporary directory (`dbus-daemon --config-file=...
 * --print-address --nofork`) and teardown() stops. The forked child owns
 * a bus name and exports org.xipc.Bench at /x:
 *   Echo(ay) -> ay    the round trip (cfg.size bytes each way)
 *   Null()            the null call (size 0) and the sync of a stream
 *   Sink(ay)          a stream: sent without expecting a reply
 *   Quit()            the end
 * The parent calls it on a bus connection of its own (one per calling
 * thread for call(): sd-bus objects are not thread-safe). Every message
 * goes through the daemon, whose CPU time is counted with the peer's.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <systemd/sd-bus.h>
#include <unistd.h>

#include "drivers/drivers.h"
#include "harness/cpu.h"
#include "harness/pconn.h"
#include "harness/peer.h"
#include "harness/runner.h"
#include "harness/util.h"

#define DB_TIMEOUT_US 10000000ull
#define DB_START_MS 5000
#define DB_MAX_MSG 65536u
#define DB_MAX_THREADS 64
#define DB_FLUSH_EVERY 32
#define DB_IFACE "org.xipc.Bench"
#define DB_PATH "/x"

static pid_t db_daemon = -1;
static char db_addr[512];

struct bench_conn {
    bench_pconn p; /* first: see pconn.h */
    sd_bus *bus;
    sd_bus *tbus[DB_MAX_THREADS];
    unsigned nt;
    char name[64];
    double daemon_cpu0;
    unsigned puts;
};
_Static_assert(offsetof(struct bench_conn, p) == 0, "bench_pconn_alloc needs it first");

typedef struct db_args {
    bench_cpu *cpu;
} db_args;

static int db_fail(const char *what, int r, const sd_bus_error *e)
{
    bench_set_error("%s: %s", what,
                    e != NULL && sd_bus_error_is_set(e) ? e->message : strerror(-r));
    return -1;
}

/* ---- the daemon ------------------------------------------------------------------------- */

static int db_write_config(const char *dir, char *conf, size_t cap)
{
    snprintf(conf, cap, "%s/bus.conf", dir);
    FILE *f = fopen(conf, "w");
    if (f == NULL)
        return -1;
    fprintf(f, "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-BUS Bus Configuration "
               "1.0//EN\"\n \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n"
               "<busconfig>\n  <type>session</type>\n"
               "  <listen>unix:path=%s/bus</listen>\n  <auth>EXTERNAL</auth>\n"
               "  <policy context=\"default\">\n"
               "    <allow send_destination=\"*\" eavesdrop=\"true\"/>\n"
               "    <allow eavesdrop=\"true\"/>\n    <allow own=\"*\"/>\n"
               "  </policy>\n</busconfig>\n",
            dir);
    return fclose(f);
}

/* Read the address line the daemon prints, waiting at most DB_START_MS. */
static int db_read_address(int fd)
{
    size_t len = 0;
    uint64_t end = bench_now_ns() + (uint64_t)DB_START_MS * 1000000u;
    while (len + 1 < sizeof(db_addr)) {
        uint64_t now = bench_now_ns();
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (now >= end || poll(&p, 1, (int)((end - now) / 1000000u) + 1) <= 0)
            return -1;
        ssize_t k = read(fd, db_addr + len, sizeof(db_addr) - 1 - len);
        if (k <= 0)
            return -1;
        len += (size_t)k;
        db_addr[len] = '\0';
        char *nl = strchr(db_addr, '\n');
        if (nl != NULL) {
            *nl = '\0';
            return 0;
        }
    }
    return -1;
}

static void db_teardown(void)
{
    if (db_daemon > 0) {
        kill(db_daemon, SIGTERM);
        while (waitpid(db_daemon, NULL, 0) < 0 && errno == EINTR)
            ;
    }
    db_daemon = -1;
}

static int db_setup(void)
{
    const char *dir = bench_tmpdir();
    char conf[256], arg[300];
    int p[2];
    if (dir == NULL || db_write_config(dir, conf, sizeof(conf)) != 0) {
        bench_set_error("dbus: cannot write a configuration in a temporary directory");
        return -1;
    }
    if (pipe(p) != 0) {
        bench_set_error("pipe: %s", strerror(errno));
        return -1;
    }
    snprintf(arg, sizeof(arg), "--config-file=%s", conf);
    fflush(NULL);
    db_daemon = fork();
    if (db_daemon == 0) {
        dup2(p[1], STDOUT_FILENO);
        close(p[0]);
        close(p[1]);
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0)
            dup2(null, STDERR_FILENO);
        execlp("dbus-daemon", "dbus-daemon", arg, "--print-address", "--nofork",
               (char *)NULL);
        _exit(127);
    }
    close(p[1]);
    int rc = db_daemon < 0 ? -1 : db_read_address(p[0]);
    close(p[0]);
    if (rc != 0) {
        int st = 0;
        if (db_daemon > 0 && waitpid(db_daemon, &st, WNOHANG) == db_daemon &&
            WIFEXITED(st) && WEXITSTATUS(st) == 127)
            bench_set_error("dbus: dbus-daemon not found (Debian: dbus)");
        else
            bench_set_error("dbus: dbus-daemon did not print its address");
        db_teardown();
        return -1;
    }
    return 0;
}

static int db_connect(sd_bus **out)
{
    sd_bus *b = NULL;
    int r = sd_bus_new(&b);
    if (r >= 0 && (r = sd_bus_set_address(b, db_addr)) >= 0 &&
        (r = sd_bus_set_bus_client(b, 1)) >= 0 && (r = sd_bus_start(b)) >= 0) {
        *out = b;
        return 0;
    }
    sd_bus_unref(b);
    *out = NULL;
    return db_fail("sd_bus_start", r, NULL);
}

/* ---- the server (child) ------------------------------------------------------------------- */

static int db_quit;

static int db_echo(sd_bus_message *m, void *ud, sd_bus_error *e)
{
    const void *p;
    size_t n;
    sd_bus_message *reply = NULL;
    int r = sd_bus_message_read_array(m, 'y', &p, &n);
    if (r >= 0)
        r = sd_bus_message_new_method_return(m, &reply);
    if (r >= 0)
        r = sd_bus_message_append_array(reply, 'y', p, n);
    if (r >= 0)
        r = sd_bus_send(NULL, reply, NULL);
    sd_bus_message_unref(reply);
    return r < 0 ? r : 1;
}

static int db_sink(sd_bus_message *m, void *ud, sd_bus_error *e)
{
    const void *p;
    size_t n;
    int r = sd_bus_message_read_array(m, 'y', &p, &n);
    if (r < 0)
        return r;
    return sd_bus_message_get_expect_reply(m) ? sd_bus_reply_method_return(m, "") : 1;
}

static int db_null(sd_bus_message *m, void *ud, sd_bus_error *e)
{
    return sd_bus_reply_method_return(m, "");
}

static int db_quit_fn(sd_bus_message *m, void *ud, sd_bus_error *e)
{
    db_quit = 1;
    return 1;
}

static const sd_bus_vtable db_vtable[] = {
    SD_BUS_VTABLE_START(0),
    SD_BUS_METHOD("Echo", "ay", "ay", db_echo, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("Sink", "ay", "", db_sink, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("Null", "", "", db_null, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("Quit", "", "", db_quit_fn, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_VTABLE_END,
};

static void db_name(char *buf, size_t cap, long pid)
{
    snprintf(buf, cap, "org.xipc.Bench.p%ld", pid);
}

static int db_server_main(void *arg)
{
    const db_args *a = arg;
    sd_bus *bus;
    char name[64];
    db_name(name, sizeof(name), (long)getpid());
    if (db_connect(&bus) != 0)
        return 1;
    int r = sd_bus_add_object_vtable(bus, NULL, DB_PATH, DB_IFACE, db_vtable, NULL);
    if (r >= 0)
        r = sd_bus_request_name(bus, name, 0);
    if (r < 0) {
        fprintf(stderr, "xipc: bench: dbus server: %s\n", strerror(-r));
        sd_bus_unref(bus);
        return 1;
    }
    bench_cpu_start(a->cpu);
    pid_t parent = getppid();
    while (!db_quit && r >= 0 && getppid() == parent) {
        r = sd_bus_process(bus, NULL);
        if (r == 0)
            r = sd_bus_wait(bus, 1000000);
    }
    bench_cpu_report(a->cpu);
    sd_bus_flush(bus);
    sd_bus_unref(bus);
    return r < 0 && r != -ECONNRESET ? 1 : 0;
}

/* ---- the client (parent) -------------------------------------------------------------------- */

/* The daemon's CPU time while the connection lived: it is part of every
 * D-Bus call. -1 when unknown. */
static double db_daemon_cpu(bench_pconn *p)
{
    const bench_conn *c = (const bench_conn *)p;
    double d1 = bench_cpu_of_pid((long)db_daemon);
    return d1 >= 0 && c->daemon_cpu0 >= 0 ? d1 - c->daemon_cpu0 : -1;
}

static int db_close(bench_conn *c)
{
    if (c == NULL)
        return 0;
    if (c->bus != NULL) {
        sd_bus_message *m = NULL;
        if (sd_bus_message_new_method_call(c->bus, &m, c->name, DB_PATH, DB_IFACE, "Quit") >= 0 &&
            sd_bus_message_set_expect_reply(m, 0) >= 0)
            sd_bus_send(c->bus, m, NULL);
        sd_bus_message_unref(m);
        sd_bus_flush(c->bus);
        sd_bus_flush_close_unref(c->bus);
    }
    for (unsigned i = 0; i < c->nt; i++)
        sd_bus_flush_close_unref(c->tbus[i]);
    return bench_pconn_end(&c->p, db_daemon_cpu);
}

/* Call Null until the server's name is there. */
static int db_wait_server(bench_conn *c)
{
    uint64_t end = bench_now_ns() + (uint64_t)DB_START_MS * 1000000u;
    for (;;) {
        sd_bus_error e = SD_BUS_ERROR_NULL;
        int r = sd_bus_call_method(c->bus, c->name, DB_PATH, DB_IFACE, "Null", &e, NULL, "");
        if (r >= 0)
            return 0;
        if (bench_now_ns() >= end || bench_peer_gone(&c->p.peer)) {
            db_fail("waiting for the server", r, &e);
            sd_bus_error_free(&e);
            return -1;
        }
        sd_bus_error_free(&e);
        bench_nap_us(1000);
    }
}

static int db_open(bench_conn **out, const bench_cfg *cfg)
{
    *out = NULL;
    if (cfg->size > DB_MAX_MSG) {
        bench_set_error("message size %zu over %u", cfg->size, DB_MAX_MSG);
        return -1;
    }
    bench_conn *c = bench_pconn_alloc(sizeof(*c), DB_MAX_MSG, cfg);
    if (c == NULL)
        return -1;
    c->daemon_cpu0 = bench_cpu_of_pid((long)db_daemon);
    db_args a = {.cpu = &c->p.cpu};
    int rc = bench_cpu_open(&c->p.cpu) != 0 || bench_peer_start(&c->p.peer, db_server_main, &a) != 0;
    if (rc == 0) {
        bench_cpu_parent(&c->p.cpu);
        db_name(c->name, sizeof(c->name), (long)c->p.peer.pid);
        rc = db_connect(&c->bus);
    }
    if (rc == 0)
        rc = db_wait_server(c);
    for (; rc == 0 && c->nt < cfg->threads && c->nt < DB_MAX_THREADS; c->nt++)
        rc = db_connect(&c->tbus[c->nt]);
    if (rc != 0)
        return bench_close_failed(db_close, c);
    *out = c;
    return 0;
}

static int db_rtt(bench_conn *c)
{
    sd_bus_message *m = NULL, *reply = NULL;
    sd_bus_error e = SD_BUS_ERROR_NULL;
    const void *p;
    size_t n = 0;
    int r = sd_bus_message_new_method_call(c->bus, &m, c->name, DB_PATH, DB_IFACE,
                                           c->p.size ? "Echo" : "Null");
    if (r >= 0 && c->p.size)
        r = sd_bus_message_append_array(m, 'y', c->p.buf, c->p.size);
    if (r >= 0)
        r = sd_bus_call(c->bus, m, DB_TIMEOUT_US, &e, &reply);
    if (r >= 0 && c->p.size && (r = sd_bus_message_read_array(reply, 'y', &p, &n)) >= 0 &&
        n != c->p.size)
        r = -EPROTO;
    if (r < 0)
        db_fail("sd_bus_call", r, &e);
    sd_bus_error_free(&e);
    sd_bus_message_unref(m);
    sd_bus_message_unref(reply);
    return r < 0 ? -1 : 0;
}

static int db_put(bench_conn *c)
{
    sd_bus_message *m = NULL;
    int r = sd_bus_message_new_method_call(c->bus, &m, c->name, DB_PATH, DB_IFACE, "Sink");
    if (r >= 0)
        r = sd_bus_message_append_array(m, 'y', c->p.buf, c->p.size);
    if (r >= 0)
        r = sd_bus_message_set_expect_reply(m, 0);
    if (r >= 0)
        r = sd_bus_send(c->bus, m, NULL);
    sd_bus_message_unref(m);
    if (r >= 0 && ++c->puts % DB_FLUSH_EVERY == 0)
        r = sd_bus_flush(c->bus); /* bound sd-bus's own write queue */
    return r < 0 ? db_fail("sd_bus_send", r, NULL) : 0;
}

static int db_sync(bench_conn *c)
{
    sd_bus_error e = SD_BUS_ERROR_NULL;
    int r = sd_bus_call_method(c->bus, c->name, DB_PATH, DB_IFACE, "Null", &e, NULL, "");
    if (r < 0)
        db_fail("sd_bus_call Null (sync)", r, &e);
    sd_bus_error_free(&e);
    return r < 0 ? -1 : 0;
}

static int db_call(bench_conn *c, unsigned t)
{
    if (t >= c->nt) {
        bench_set_error("no bus connection for thread %u", t);
        return -1;
    }
    sd_bus_error e = SD_BUS_ERROR_NULL;
    int r = sd_bus_call_method(c->tbus[t], c->name, DB_PATH, DB_IFACE, "Null", &e, NULL, "");
    if (r < 0)
        db_fail("sd_bus_call Null", r, &e);
    sd_bus_error_free(&e);
    return r < 0 ? -1 : 0;
}

const bench_drv bench_drv_dbus = {
    .transport = "dbus", .impl = "dbus", .open = db_open,
    .rtt = db_rtt, .put = db_put, .sync = db_sync, .close = db_close,
    .call = db_call, .setup = db_setup, .teardown = db_teardown,
};
