/*
 * minidbg-engine: the 64-bit half of examples/minidbg (docs/minidbg.md).
 * It debugs one process at a time with ptrace and serves the debugger as
 * MessagePack-RPC methods on every URL it is given (shm:// for a front end
 * on this machine, whatever its bitness; tcp:// for one on another):
 *
 *   minidbg-engine URL...
 *
 * ptrace answers only the thread that attached, so one tracer thread does
 * every ptrace call: the RPC handlers, on the server's workers, queue a
 * command to it and wait. While the process runs, the tracer waits for its
 * next stop and pushes it to the front end as a notification (server
 * push, docs/rpc.md): "stopped" [reason, pc, where, signal] or "exited"
 * [how, code]. Only kill and interrupt act on a running process; they
 * are signals, sent from the handler's thread.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "symbols.h"
#include "tracer.h"
#include "xipc/inspect.h"
#include "xipc/msgpack.h"
#include "xipc/rpc.h"

/* The error code of the engine's answers: [1, "what went wrong"] */
#define ENGINE_ERR 1

typedef struct engine engine;
typedef int (*cmd_fn)(engine *e, xipc_rpc_req *req, char *err);

/* A call waiting for the tracer thread. */
typedef struct cmd {
    struct cmd *next;
    cmd_fn fn;
    xipc_rpc_req *req;
    int rv;
    int done;
    char err[MD_ERR_MAX];
} cmd;

struct engine {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    cmd *head, *tail;
    int running; /* t.state == MD_RUNNING, for the handlers (mu) */
    pid_t pid;   /* t.pid, for kill and interrupt (mu) */
    int quit;
    /* the tracer thread's own */
    md_tracee t;
    md_syms *syms;       /* NULL: not read yet */
    uint64_t maps;       /* maps_hash() when syms were read */
    xipc_rpc_link *link; /* the front end that launched or resumed */
};

/* ---- on the tracer thread -------------------------------------------------- */

/* A hash of /proc/PID/maps: what is mapped where (0: unreadable). */
static uint64_t maps_hash(pid_t pid)
{
    char path[64], buf[4096];
    snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return 0;
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
        for (size_t i = 0; i < n; i++)
            h = (h ^ (uint8_t)buf[i]) * 1099511628211ull;
    fclose(f);
    return h;
}

/* The symbols of the process as it is now. Reading them costs
 * milliseconds (every module's ELF file and DWARF), so they are kept
 * from stop to stop while the process maps the same files at the same
 * places. */
static md_syms *syms(engine *e, char *err)
{
    if (e->t.state == MD_NONE) {
        md_err(err, "no process: launch or attach first");
        return NULL;
    }
    uint64_t h = maps_hash(e->t.pid);
    if (e->syms != NULL && (h == 0 || h != e->maps)) {
        md_syms_close(e->syms);
        e->syms = NULL;
    }
    if (e->syms == NULL) {
        e->syms = md_syms_open(e->t.pid, err);
        e->maps = h;
    }
    return e->syms;
}

static void forget_syms(engine *e)
{
    md_syms_close(e->syms);
    e->syms = NULL;
}

/* Events go to the front end that last launched, attached or resumed. */
static void take_link(engine *e, xipc_rpc_req *req)
{
    xipc_rpc_link *l;
    if (xipc_rpc_req_link(req, &l) == XIPC_OK) {
        xipc_rpc_link_free(e->link);
        e->link = l;
    }
}

static int c_launch(engine *e, xipc_rpc_req *req, char *err)
{
    uint32_t n = xipc_rpc_req_nparams(req);
    xipc_mp_reader *r = xipc_rpc_req_params(req);
    if (n < 1 || n > 64)
        return md_err(err, "launch takes a program and up to 63 arguments");
    char *argv[65] = {0};
    int rv = 0;
    for (uint32_t i = 0; i < n && rv == 0; i++) {
        const char *s;
        uint32_t len;
        if (xipc_mp_read_str(r, &s, &len) != XIPC_OK || (argv[i] = strndup(s, len)) == NULL)
            rv = md_err(err, "launch: argument %u is not a string", i + 1);
    }
    if (rv == 0)
        rv = md_launch(&e->t, argv, err);
    for (uint32_t i = 0; i < n; i++)
        free(argv[i]);
    if (rv != 0)
        return -1;
    forget_syms(e);
    take_link(e, req);
    struct user_regs_struct regs;
    md_regs(&e->t, &regs, err);
    return xipc_rpc_req_returnf(req, "iU", (int)e->t.pid, (uint64_t)regs.rip) == XIPC_OK ? 0 : -1;
}

static int c_attach(engine *e, xipc_rpc_req *req, char *err)
{
    int pid;
    struct user_regs_struct regs;
    if (xipc_rpc_req_argsf(req, "i", &pid) != XIPC_OK)
        return md_err(err, "attach takes a pid");
    if (md_attach(&e->t, pid, err) != 0 || md_regs(&e->t, &regs, err) != 0)
        return -1;
    forget_syms(e);
    take_link(e, req);
    return xipc_rpc_req_returnf(req, "U", (uint64_t)regs.rip) == XIPC_OK ? 0 : -1;
}

/* "0x..." is an address; anything else a function's name. */
static int c_break(engine *e, xipc_rpc_req *req, char *err)
{
    char *where;
    uint64_t entry, at;
    if (xipc_rpc_req_argsf(req, "s", &where) != XIPC_OK)
        return md_err(err, "break takes a function or an address");
    md_syms *s = syms(e, err);
    if (s == NULL)
        return -1;
    if (strncmp(where, "0x", 2) == 0) {
        char *end;
        errno = 0;
        at = strtoull(where, &end, 16);
        if (errno != 0 || *end != '\0' || end == where + 2)
            return md_err(err, "not an address: '%s'", where);
    } else if (md_syms_function(s, where, &entry, &at, err) != 0) {
        return -1;
    }
    if (md_bp_set(&e->t, at, err) != 0)
        return -1;
    char name[256];
    md_syms_name(s, at, name, sizeof(name));
    return xipc_rpc_req_returnf(req, "Us", at, name) == XIPC_OK ? 0 : -1;
}

static int c_delete(engine *e, xipc_rpc_req *req, char *err)
{
    uint64_t addr;
    if (xipc_rpc_req_argsf(req, "U", &addr) != XIPC_OK)
        return md_err(err, "delete takes a breakpoint's address");
    return md_bp_clear(&e->t, addr, err);
}

static int resume(engine *e, xipc_rpc_req *req, int step, char *err)
{
    if (md_resume(&e->t, step, err) != 0)
        return -1;
    take_link(e, req);
    return 0;
}

static int c_cont(engine *e, xipc_rpc_req *req, char *err)
{
    return resume(e, req, 0, err);
}

static int c_step(engine *e, xipc_rpc_req *req, char *err)
{
    return resume(e, req, 1, err);
}

static int c_regs(engine *e, xipc_rpc_req *req, char *err)
{
    struct user_regs_struct r;
    if (md_regs(&e->t, &r, err) != 0)
        return -1;
    const struct {
        const char *name;
        unsigned long long v;
    } regs[] = {{"rip", r.rip}, {"rsp", r.rsp}, {"rbp", r.rbp}, {"rax", r.rax},
                {"rbx", r.rbx}, {"rcx", r.rcx}, {"rdx", r.rdx}, {"rsi", r.rsi},
                {"rdi", r.rdi}, {"r8", r.r8},   {"r9", r.r9},   {"r10", r.r10},
                {"r11", r.r11}, {"r12", r.r12}, {"r13", r.r13}, {"r14", r.r14},
                {"r15", r.r15}, {"eflags", r.eflags}};
    /* an array of [name, value] pairs: the front end keeps the order */
    xipc_mp_buf *b = xipc_rpc_req_result(req);
    xipc_mp_write_array(b, sizeof(regs) / sizeof(regs[0]));
    for (size_t i = 0; i < sizeof(regs) / sizeof(regs[0]); i++) {
        xipc_mp_write_array(b, 2);
        xipc_mp_write_cstr(b, regs[i].name);
        xipc_mp_write_uint(b, regs[i].v);
    }
    return 0;
}

static int c_read(engine *e, xipc_rpc_req *req, char *err)
{
    uint64_t addr;
    unsigned len;
    size_t got;
    if (xipc_rpc_req_argsf(req, "Uu", &addr, &len) != XIPC_OK || len == 0 || len > 65536)
        return md_err(err, "read takes an address and 1..65536 bytes");
    uint8_t *buf = malloc(len);
    if (buf == NULL)
        return md_err(err, "out of memory");
    int rv = md_read(&e->t, addr, buf, len, &got, err);
    if (rv == 0)
        rv = xipc_rpc_req_returnf(req, "b", buf, got) == XIPC_OK ? 0 : -1;
    free(buf);
    return rv;
}

static int c_write(engine *e, xipc_rpc_req *req, char *err)
{
    uint64_t addr;
    void *p;
    size_t len;
    if (xipc_rpc_req_argsf(req, "Ub", &addr, &p, &len) != XIPC_OK || len == 0 || len > 4096)
        return md_err(err, "write takes an address and 1..4096 bytes");
    return md_write(&e->t, addr, p, len, err);
}

static int read_mem(void *arg, uint64_t addr, void *buf, size_t len)
{
    engine *e = arg;
    char err[MD_ERR_MAX];
    size_t got;
    return md_read(&e->t, addr, buf, len, &got, err) == 0 && got == len ? 0 : -1;
}

static int c_var(engine *e, xipc_rpc_req *req, char *err)
{
    char *name;
    struct user_regs_struct r;
    md_var v;
    if (xipc_rpc_req_argsf(req, "s", &name) != XIPC_OK)
        return md_err(err, "var takes a variable's name");
    md_syms *s;
    if (md_regs(&e->t, &r, err) != 0 || (s = syms(e, err)) == NULL ||
        md_syms_var(s, &r, name, read_mem, e, &v, err) != 0)
        return -1;
    return xipc_rpc_req_returnf(req, "sUus", v.type, v.addr, (unsigned)v.size, v.text) ==
                   XIPC_OK
               ? 0
               : -1;
}

typedef struct mod_list {
    xipc_mp_buf b;
    uint32_t n;
} mod_list;

static void mod_one(const xipc_module_info *m, void *arg)
{
    mod_list *l = arg;
    xipc_mp_write_array(&l->b, 4);
    xipc_mp_write_cstr(&l->b, m->path);
    xipc_mp_write_uint(&l->b, m->base);
    xipc_mp_write_uint(&l->b, m->size);
    xipc_mp_write_uint(&l->b, m->bits);
    l->n++;
}

/* Through the library's inspection API (docs/inspect.md). */
static int c_modules(engine *e, xipc_rpc_req *req, char *err)
{
    if (e->t.state == MD_NONE)
        return md_err(err, "no process: launch or attach first");
    mod_list l = {.n = 0};
    xipc_mp_buf_init(&l.b);
    xipc_err rv = xipc_proc_modules((uint32_t)e->t.pid, mod_one, &l);
    if (rv != XIPC_OK) {
        snprintf(err, MD_ERR_MAX, "modules: %s (%s)", xipc_strerror(rv), xipc_last_detail());
    } else {
        xipc_mp_buf *b = xipc_rpc_req_result(req);
        xipc_mp_write_array(b, l.n);
        xipc_mp_write_raw(b, l.b.data, l.b.len);
    }
    xipc_mp_buf_fini(&l.b);
    return rv == XIPC_OK ? 0 : -1;
}

static int c_detach(engine *e, xipc_rpc_req *req, char *err)
{
    if (e->t.state == MD_NONE)
        return md_err(err, "no process: launch or attach first");
    if (e->t.launched)
        return md_err(err, "the engine started this process: kill it instead");
    md_end(&e->t);
    forget_syms(e);
    return 0;
}

/* A stopped process is killed here: the tracer's wait then reports its end
 * as for a running one. */
static int c_kill(engine *e, xipc_rpc_req *req, char *err)
{
    if (e->t.state == MD_NONE)
        return md_err(err, "no process: launch or attach first");
    md_kill(e->t.pid);
    e->t.state = MD_RUNNING;
    e->t.have_event = 0;
    take_link(e, req);
    return 0;
}

/* Push the event to the front end. */
static void publish(engine *e, const md_event *ev)
{
    if (ev->kind == MD_EV_EXITED || ev->kind == MD_EV_KILLED) {
        xipc_rpc_link_notifyf(e->link, "exited", "si",
                              ev->kind == MD_EV_EXITED ? "exited" : "killed", ev->code);
        return;
    }
    static const char *const why[] = {"breakpoint", "step", "signal"};
    char where[256], err[MD_ERR_MAX];
    md_syms *s = syms(e, err);
    if (s != NULL)
        md_syms_name(s, ev->pc, where, sizeof(where));
    else
        snprintf(where, sizeof(where), "??");
    xipc_rpc_link_notifyf(e->link, "stopped", "sUsi", why[ev->kind], ev->pc, where, ev->code);
}

static void *tracer_main(void *arg)
{
    engine *e = arg;
    pthread_mutex_lock(&e->mu);
    for (;;) {
        while (e->head == NULL && !e->running && !e->quit)
            pthread_cond_wait(&e->cv, &e->mu);
        if (e->head != NULL) {
            cmd *c = e->head;
            e->head = c->next;
            if (e->head == NULL)
                e->tail = NULL;
            pthread_mutex_unlock(&e->mu);
            c->rv = c->fn(e, c->req, c->err);
            pthread_mutex_lock(&e->mu);
            e->running = e->t.state == MD_RUNNING;
            e->pid = e->t.pid;
            c->done = 1;
            pthread_cond_broadcast(&e->cv);
        } else if (e->running) {
            pthread_mutex_unlock(&e->mu);
            md_event ev;
            char err[MD_ERR_MAX];
            int rv = md_wait(&e->t, &ev, err);
            /* the state first: a front end calls as soon as it hears */
            pthread_mutex_lock(&e->mu);
            e->running = rv == 0 && e->t.state == MD_RUNNING;
            e->pid = e->t.pid;
            pthread_mutex_unlock(&e->mu);
            if (rv == 0)
                publish(e, &ev);
            else
                fprintf(stderr, "minidbg-engine: %s\n", err);
            pthread_mutex_lock(&e->mu);
        } else {
            break; /* quit */
        }
    }
    pthread_mutex_unlock(&e->mu);
    md_end(&e->t);
    forget_syms(e);
    xipc_rpc_link_free(e->link);
    e->link = NULL;
    return NULL;
}

/* ---- on the server's workers ------------------------------------------------ */

static engine eng = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

/* Run @p fn on the tracer thread and answer with what it says. Kill and
 * interrupt act at once on a running process; the rest must wait for a
 * stop. */
static xipc_err on_call(xipc_rpc_req *req, void *ud)
{
    engine *e = &eng;
    cmd c = {.fn = (cmd_fn)ud, .req = req};
    pthread_mutex_lock(&e->mu);
    if (e->running) {
        pid_t pid = e->pid;
        pthread_mutex_unlock(&e->mu);
        if (c.fn != c_kill)
            return xipc_rpc_req_error(req, ENGINE_ERR,
                                      "the process is running: interrupt it first");
        md_kill(pid);
        return XIPC_OK;
    }
    if (e->tail != NULL)
        e->tail->next = &c;
    else
        e->head = &c;
    e->tail = &c;
    pthread_cond_broadcast(&e->cv);
    while (!c.done)
        pthread_cond_wait(&e->cv, &e->mu);
    pthread_mutex_unlock(&e->mu);
    return c.rv == 0 ? XIPC_OK : xipc_rpc_req_error(req, ENGINE_ERR, c.err);
}

static xipc_err on_interrupt(xipc_rpc_req *req, void *ud)
{
    pthread_mutex_lock(&eng.mu);
    int running = eng.running;
    pid_t pid = eng.pid;
    pthread_mutex_unlock(&eng.mu);
    if (!running)
        return xipc_rpc_req_error(req, ENGINE_ERR, "the process is not running");
    md_interrupt(pid);
    return XIPC_OK;
}

static xipc_err on_info(xipc_rpc_req *req, void *ud)
{
    return xipc_rpc_req_returnf(req, "iis", (int)getpid(), (int)(sizeof(void *) * 8),
                                "x86_64 Linux, ptrace");
}

static const struct {
    const char *name, *sig;
    cmd_fn fn;
} methods[] = {
    {"launch", "(str path, str arg...) -> [int pid, uint pc]", c_launch},
    {"attach", "(int pid) -> uint pc", c_attach},
    {"break", "(str function_or_0xaddress) -> [uint addr, str where]", c_break},
    {"delete", "(uint addr) -> nil", c_delete},
    {"cont", "() -> nil; then a stopped or exited notification", c_cont},
    {"step", "() -> nil; then a stopped or exited notification", c_step},
    {"regs", "() -> [[str name, uint value]...]", c_regs},
    {"read", "(uint addr, uint len) -> bin", c_read},
    {"write", "(uint addr, bin bytes) -> nil", c_write},
    {"var", "(str name) -> [str type, uint addr, uint size, str value]", c_var},
    {"modules", "() -> [[str path, uint base, uint size, uint bits]...]", c_modules},
    {"detach", "() -> nil", c_detach},
    {"kill", "() -> nil; then an exited notification", c_kill},
};

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: minidbg-engine URL...\n");
        return 2;
    }
    /* SIGINT and SIGTERM end the engine: waited for below, by this thread */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);

    xipc_rpc_server_opts o;
    xipc_rpc_server_opts_init(&o);
    o.workers = 2;
    o.idle_timeout_ms = -1; /* a front end may think for as long as it likes */
    xipc_rpc_server *srv;
    xipc_err rv = xipc_rpc_server_alloc(&srv, &o);
    for (size_t i = 0; rv == XIPC_OK && i < sizeof(methods) / sizeof(methods[0]); i++)
        rv = xipc_rpc_server_register(srv, methods[i].name, methods[i].sig, on_call,
                                      (void *)methods[i].fn);
    if (rv == XIPC_OK)
        rv = xipc_rpc_server_register(srv, "interrupt", "() -> nil", on_interrupt, NULL);
    if (rv == XIPC_OK)
        rv = xipc_rpc_server_register(srv, "info", "() -> [int pid, int bits, str what]",
                                      on_info, NULL);
    if (rv != XIPC_OK) {
        fprintf(stderr, "minidbg-engine: %s\n", xipc_strerror(rv));
        return 1;
    }
    pthread_t tracer;
    if (pthread_create(&tracer, NULL, tracer_main, &eng) != 0) {
        fprintf(stderr, "minidbg-engine: cannot start the tracer thread\n");
        return 1;
    }
    int status = 0;
    for (int i = 1; i < argc; i++) {
        char url[512];
        rv = xipc_rpc_server_serve(srv, argv[i]);
        if (rv != XIPC_OK) {
            fprintf(stderr, "minidbg-engine: %s: %s (%s)\n", argv[i], xipc_strerror(rv),
                    xipc_last_detail());
            status = 1;
            break;
        }
        xipc_rpc_server_url(srv, (unsigned)(i - 1), url, sizeof(url));
        fprintf(stderr, "minidbg-engine: serving %s, pid %d, pointer width %d bits\n", url,
                (int)getpid(), (int)(sizeof(void *) * 8));
    }
    if (status == 0) {
        int sig;
        sigwait(&stop, &sig);
    }
    xipc_rpc_server_stop(srv);
    pthread_mutex_lock(&eng.mu);
    eng.quit = 1;
    md_kill(eng.running ? eng.pid : 0); /* a running one: its wait returns */
    pthread_cond_broadcast(&eng.cv);
    pthread_mutex_unlock(&eng.mu);
    pthread_join(tracer, NULL);
    xipc_rpc_server_free(srv);
    return status;
}
