/*
 * minidbg: the front end of examples/minidbg (docs/minidbg.md). It holds
 * no ptrace and no symbol table: everything is a MessagePack-RPC call to
 * minidbg-engine, and stops and exits arrive as the engine's
 * notifications. So it can be a 32-bit program debugging a 64-bit one
 * over shm://, or run on another machine over tcp://. Every address is a
 * uint64_t, whatever this build's pointer width.
 *
 *   minidbg URL launch PROGRAM [ARG...]
 *   minidbg URL attach PID
 *
 * then commands on standard input, one per line ("help" lists them); each
 * is echoed after the prompt, so a scripted session reads as a transcript.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "xipc/msgpack.h"
#include "xipc/rpc.h"

#define EVENT_WAIT_S 60

/* ---- events: the engine's notifications, queued for the main thread ---- */

typedef struct event {
    char kind[16];  /* "stopped" or "exited" */
    char why[16];   /* breakpoint, step, signal / exited, killed */
    uint64_t pc;
    char where[256];
    int code;       /* signal, or exit status */
} event;

#define QMAX 16
typedef struct event_queue {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    event q[QMAX];
    unsigned head, n;
    unsigned bad; /* notifications that were not what the engine sends */
} event_queue;
static event_queue evq = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

/* Read a str into @p buf (cut to fit). */
static int read_str(xipc_mp_reader *r, char *buf, size_t cap)
{
    const char *s;
    uint32_t len;
    if (xipc_mp_read_str(r, &s, &len) != XIPC_OK)
        return -1;
    snprintf(buf, cap, "%.*s", (int)len, s);
    return 0;
}

/* On the client's reader thread: decode, check, queue. */
static void on_notify(xipc_rpc_client *c, const char *method, const void *params,
                      size_t len, void *ud)
{
    event ev;
    memset(&ev, 0, sizeof(ev));
    xipc_mp_reader r;
    uint32_t n;
    int64_t code;
    xipc_mp_reader_init(&r, params, len);
    int ok = xipc_mp_read_array(&r, &n) == XIPC_OK;
    if (ok && strcmp(method, "stopped") == 0 && n == 4)
        ok = read_str(&r, ev.why, sizeof(ev.why)) == 0 &&
             xipc_mp_read_uint(&r, &ev.pc) == XIPC_OK &&
             read_str(&r, ev.where, sizeof(ev.where)) == 0 &&
             xipc_mp_read_int(&r, &code) == XIPC_OK;
    else if (ok && strcmp(method, "exited") == 0 && n == 2)
        ok = read_str(&r, ev.why, sizeof(ev.why)) == 0 &&
             xipc_mp_read_int(&r, &code) == XIPC_OK;
    else
        ok = 0;
    pthread_mutex_lock(&evq.mu);
    if (ok && evq.n < QMAX) {
        snprintf(ev.kind, sizeof(ev.kind), "%s", method);
        ev.code = (int)code;
        evq.q[(evq.head + evq.n++) % QMAX] = ev;
        pthread_cond_broadcast(&evq.cv);
    } else {
        evq.bad++;
    }
    pthread_mutex_unlock(&evq.mu);
}

/* The next event, waiting up to EVENT_WAIT_S. */
static int next_event(event *ev)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += EVENT_WAIT_S;
    pthread_mutex_lock(&evq.mu);
    while (evq.n == 0) {
        if (pthread_cond_timedwait(&evq.cv, &evq.mu, &until) == ETIMEDOUT)
            break;
    }
    int got = evq.n > 0;
    if (got) {
        *ev = evq.q[evq.head];
        evq.head = (evq.head + 1) % QMAX;
        evq.n--;
    }
    pthread_mutex_unlock(&evq.mu);
    return got ? 0 : -1;
}

/* ---- the session ---------------------------------------------------------- */

static xipc_rpc_client *cli;
static int alive; /* a process is being debugged */

/* Say why a call failed; 0 when it did not. */
static int failed(const char *what, xipc_err rv)
{
    if (rv == XIPC_OK)
        return 0;
    int64_t code;
    const char *msg;
    if (rv == XIPC_EREMOTE && xipc_rpc_last_error(&code, &msg) == XIPC_OK)
        printf("minidbg: %s: %s\n", what, msg);
    else
        printf("minidbg: %s: %s\n", what, xipc_strerror(rv));
    return 1;
}

/* Wait for the stop or exit that a resume brings, and print it. */
static void show_event(void)
{
    event ev;
    if (next_event(&ev) != 0) {
        printf("minidbg: no event from the engine in %d s\n", EVENT_WAIT_S);
        return;
    }
    if (strcmp(ev.kind, "exited") == 0) {
        alive = 0;
        if (strcmp(ev.why, "exited") == 0)
            printf("exited with code %d\n", ev.code);
        else
            printf("killed by signal %d\n", ev.code);
    } else if (strcmp(ev.why, "signal") == 0) {
        printf("stopped: signal %d at 0x%016" PRIx64 " in %s\n", ev.code, ev.pc, ev.where);
    } else {
        printf("stopped: %s at 0x%016" PRIx64 " in %s\n", ev.why, ev.pc, ev.where);
    }
}

static void do_resume(const char *method)
{
    if (!failed(method, xipc_rpc_callf(cli, method, "", NULL)))
        show_event();
}

static void do_break(const char *where)
{
    uint64_t addr;
    char *name = NULL;
    if (failed("break", xipc_rpc_callf(cli, "break", "s", where, "Us", &addr, &name)))
        return;
    printf("breakpoint at 0x%016" PRIx64 " (%s)\n", addr, name);
    xipc_rpc_free(name);
}

static void do_delete(const char *arg)
{
    char *end;
    uint64_t addr = strtoull(arg, &end, 0);
    if (*arg == '\0' || *end != '\0') {
        printf("minidbg: delete: not an address: '%s'\n", arg);
        return;
    }
    if (!failed("delete", xipc_rpc_callf(cli, "delete", "U", addr, NULL)))
        printf("deleted the breakpoint at 0x%016" PRIx64 "\n", addr);
}

/* Call @p method, whose result is an array of rows, each an array of
 * @p width values; @p row reads and prints row @p i of @p n. */
static void do_table(const char *method, uint32_t width,
                     int (*row)(xipc_mp_reader *r, uint32_t i, uint32_t n))
{
    xipc_rpc_result res;
    xipc_rpc_result_init(&res);
    if (failed(method, xipc_rpc_call(cli, method, NULL, 0, &res, EVENT_WAIT_S * 1000)))
        return;
    xipc_mp_reader r;
    uint32_t n, w;
    xipc_mp_reader_init(&r, res.value, res.value_len);
    int ok = xipc_mp_read_array(&r, &n) == XIPC_OK;
    for (uint32_t i = 0; ok && i < n; i++)
        ok = xipc_mp_read_array(&r, &w) == XIPC_OK && w == width && row(&r, i, n) == 0;
    if (!ok)
        printf("minidbg: %s: the engine's answer is malformed\n", method);
    xipc_rpc_result_fini(&res);
}

/* [name, value], three to a line */
static int reg_row(xipc_mp_reader *r, uint32_t i, uint32_t n)
{
    char name[16];
    uint64_t v;
    if (read_str(r, name, sizeof(name)) != 0 || xipc_mp_read_uint(r, &v) != XIPC_OK)
        return -1;
    printf("%-7s0x%016" PRIx64 "%s", name, v, i % 3 == 2 || i + 1 == n ? "\n" : "  ");
    return 0;
}

/* Print a variable; its address and size in @p addr, @p size. */
static int do_print(const char *name, uint64_t *addr, unsigned *size)
{
    char *type = NULL, *text = NULL;
    uint64_t a;
    unsigned sz;
    if (failed("print", xipc_rpc_callf(cli, "var", "s", name, "sUus", &type, &a, &sz, &text)))
        return -1;
    printf("%s = %s (%s at 0x%016" PRIx64 ")\n", name, text, type, a);
    xipc_rpc_free(type);
    xipc_rpc_free(text);
    if (addr != NULL)
        *addr = a;
    if (size != NULL)
        *size = sz;
    return 0;
}

/* set NAME VALUE: an integer, written little-endian in the variable's size */
static void do_set(char *args)
{
    char *name = strtok(args, " "), *val = strtok(NULL, " "), *end;
    if (name == NULL || val == NULL) {
        printf("minidbg: set: usage: set VARIABLE INTEGER\n");
        return;
    }
    errno = 0;
    long long v = strtoll(val, &end, 0);
    if (errno != 0 || *end != '\0') {
        printf("minidbg: set: not an integer: '%s'\n", val);
        return;
    }
    char *type = NULL, *text = NULL;
    uint64_t addr;
    unsigned size;
    if (failed("set", xipc_rpc_callf(cli, "var", "s", name, "sUus", &type, &addr, &size, &text)))
        return;
    xipc_rpc_free(type);
    xipc_rpc_free(text);
    uint8_t bytes[8];
    for (unsigned i = 0; i < size && i < 8; i++)
        bytes[i] = (uint8_t)((unsigned long long)v >> (8 * i));
    if (size > 8 || failed("set", xipc_rpc_callf(cli, "write", "Ub", addr, bytes,
                                                 (size_t)size, NULL)))
        return;
    do_print(name, NULL, NULL);
}

static void do_examine(char *args)
{
    char *a = strtok(args, " "), *l = strtok(NULL, " "), *end1 = NULL, *end2 = NULL;
    uint64_t addr = a != NULL ? strtoull(a, &end1, 0) : 0;
    unsigned long len = l != NULL ? strtoul(l, &end2, 0) : 0;
    if (a == NULL || l == NULL || *end1 != '\0' || *end2 != '\0' || len == 0 || len > 4096) {
        printf("minidbg: x: usage: x ADDRESS LENGTH (1..4096)\n");
        return;
    }
    void *p = NULL;
    size_t got = 0;
    if (failed("x", xipc_rpc_callf(cli, "read", "Uu", addr, (unsigned)len, "b", &p, &got)))
        return;
    const uint8_t *b = p;
    for (size_t i = 0; i < got; i += 16) {
        printf("0x%016" PRIx64 ":", addr + i);
        for (size_t j = i; j < i + 16 && j < got; j++)
            printf(" %02x", b[j]);
        printf("\n");
    }
    xipc_rpc_free(p);
}

/* [path, base, size, bits] */
static int module_row(xipc_mp_reader *r, uint32_t i, uint32_t n)
{
    char path[512];
    uint64_t base, size, bits;
    if (read_str(r, path, sizeof(path)) != 0 || xipc_mp_read_uint(r, &base) != XIPC_OK ||
        xipc_mp_read_uint(r, &size) != XIPC_OK || xipc_mp_read_uint(r, &bits) != XIPC_OK)
        return -1;
    printf("0x%016" PRIx64 " %9" PRIu64 " %2" PRIu64 "-bit %s\n", base, size, bits, path);
    return 0;
}

static const char help[] =
    "break FUNCTION|0xADDRESS   a breakpoint (after the function's prologue)\n"
    "delete 0xADDRESS           remove one\n"
    "run, continue, c           run to the next stop\n"
    "step, s                    execute one instruction\n"
    "interrupt                  (the engine's method; a scripted session has no use)\n"
    "regs                       the registers\n"
    "print VARIABLE             a local, a parameter or a global in scope\n"
    "set VARIABLE INTEGER       write it\n"
    "x 0xADDRESS LENGTH         memory, in hex\n"
    "modules                    the mapped executable images\n"
    "kill                       end the process\n"
    "detach                     let an attached process go\n"
    "quit                       kill a launched process, detach an attached one, leave\n";

/* One command line; 1 when the session is over. */
static int command(char *line)
{
    char *cmd = strtok(line, " \t"), *rest = strtok(NULL, "");
    if (cmd == NULL || cmd[0] == '#')
        return 0;
    while (rest != NULL && (*rest == ' ' || *rest == '\t'))
        rest++;
    const char *arg = rest != NULL ? rest : "";
    if (strcmp(cmd, "break") == 0 || strcmp(cmd, "b") == 0)
        do_break(arg);
    else if (strcmp(cmd, "delete") == 0)
        do_delete(arg);
    else if (strcmp(cmd, "run") == 0 || strcmp(cmd, "continue") == 0 || strcmp(cmd, "c") == 0)
        do_resume("cont");
    else if (strcmp(cmd, "step") == 0 || strcmp(cmd, "s") == 0)
        do_resume("step");
    else if (strcmp(cmd, "regs") == 0)
        do_table("regs", 2, reg_row);
    else if (strcmp(cmd, "print") == 0 || strcmp(cmd, "p") == 0)
        do_print(arg, NULL, NULL);
    else if (strcmp(cmd, "set") == 0)
        do_set(rest != NULL ? rest : (char *)"");
    else if (strcmp(cmd, "x") == 0)
        do_examine(rest != NULL ? rest : (char *)"");
    else if (strcmp(cmd, "modules") == 0)
        do_table("modules", 4, module_row);
    else if (strcmp(cmd, "kill") == 0)
        do_resume("kill");
    else if (strcmp(cmd, "detach") == 0) {
        if (!failed("detach", xipc_rpc_callf(cli, "detach", "", NULL))) {
            alive = 0;
            printf("detached\n");
        }
    } else if (strcmp(cmd, "help") == 0)
        fputs(help, stdout);
    else if (strcmp(cmd, "quit") == 0 || strcmp(cmd, "q") == 0)
        return 1;
    else
        printf("minidbg: %s: no such command (help lists them)\n", cmd);
    return 0;
}

static int usage(void)
{
    fprintf(stderr, "usage: minidbg URL launch PROGRAM [ARG...]\n"
                    "       minidbg URL attach PID\n"
                    "then commands on standard input (help lists them)\n");
    return 2;
}

int main(int argc, char **argv)
{
    if (argc < 4 || (strcmp(argv[2], "launch") != 0 && strcmp(argv[2], "attach") != 0))
        return usage();
    int launch = strcmp(argv[2], "launch") == 0;
    if (!launch && argc != 4)
        return usage();
    setvbuf(stdout, NULL, _IOLBF, 0);
    xipc_rpc_client_opts o;
    xipc_rpc_client_opts_init(&o);
    o.timeout_ms = EVENT_WAIT_S * 1000;
    o.on_notify = on_notify;
    xipc_err rv = xipc_rpc_client_dial(&cli, argv[1], &o, 10000);
    if (rv != XIPC_OK) {
        fprintf(stderr, "minidbg: %s: %s (%s)\n", argv[1], xipc_strerror(rv),
                xipc_last_detail());
        return 1;
    }
    int epid = 0, ebits = 0;
    char *what = NULL;
    if (failed("info", xipc_rpc_callf(cli, "info", "", "iis", &epid, &ebits, &what))) {
        xipc_rpc_client_close(cli);
        return 1;
    }
    printf("minidbg: front end pid %d, pointer width %d bits; engine pid %d, pointer width "
           "%d bits (%s), at %s\n",
           (int)getpid(), (int)(sizeof(void *) * 8), epid, ebits, what, argv[1]);
    xipc_rpc_free(what);

    /* launch: [path, args...] as the params; attach: [pid] */
    uint64_t pc = 0;
    int pid = 0;
    if (launch) {
        xipc_mp_buf b;
        xipc_mp_buf_init(&b);
        xipc_mp_write_array(&b, (uint32_t)(argc - 3));
        for (int i = 3; i < argc; i++)
            xipc_mp_write_cstr(&b, argv[i]);
        xipc_rpc_result res;
        xipc_rpc_result_init(&res);
        rv = xipc_rpc_call(cli, "launch", b.data, b.len, &res, EVENT_WAIT_S * 1000);
        if (rv == XIPC_OK)
            rv = xipc_rpc_result_scanf(&res, "iU", &pid, &pc);
        xipc_rpc_result_fini(&res);
        xipc_mp_buf_fini(&b);
    } else {
        char *end;
        long v = strtol(argv[3], &end, 10);
        if (*end != '\0' || v <= 0 || v > 0x7fffffff) {
            fprintf(stderr, "minidbg: attach: not a pid: '%s'\n", argv[3]);
            xipc_rpc_client_close(cli);
            return 2;
        }
        pid = (int)v;
        rv = xipc_rpc_callf(cli, "attach", "i", pid, "U", &pc);
    }
    if (failed(argv[2], rv)) {
        xipc_rpc_client_close(cli);
        return 1;
    }
    alive = 1;
    printf("%s %s: pid %d, stopped at 0x%016" PRIx64 "\n", launch ? "launched" : "attached to",
           argv[3], pid, pc);

    char line[1024];
    int done = 0;
    while (!done) {
        printf("(minidbg) ");
        if (fgets(line, sizeof(line), stdin) == NULL) {
            printf("\n");
            break;
        }
        line[strcspn(line, "\r\n")] = '\0';
        printf("%s\n", line);
        done = command(line);
    }
    if (alive && launch)
        do_resume("kill");
    else if (alive)
        command((char[]){"detach"});
    pthread_mutex_lock(&evq.mu);
    unsigned bad = evq.bad;
    pthread_mutex_unlock(&evq.mu);
    xipc_rpc_client_close(cli);
    if (bad > 0) {
        printf("minidbg: %u malformed notification(s) from the engine\n", bad);
        return 1;
    }
    return 0;
}
