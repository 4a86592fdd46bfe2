/*
 * ptrace(2) for the engine (tracer.h). The classic software debugger:
 * a breakpoint is the byte 0xCC (int3) over the first byte of an
 * instruction; when the tracee executes it, it stops with SIGTRAP and its
 * pc one byte past the breakpoint, which we move back. To resume from a
 * breakpoint, the original byte goes back for one single step, then the
 * 0xCC again.
 *
 * Reading memory goes through the library's inspection API
 * (xipc_proc_read, process_vm_readv underneath: many bytes per call);
 * writing must use PTRACE_POKEDATA, the one way to write the tracee's
 * read-only text pages.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tracer.h"
#include "xipc/inspect.h"

#define ERR(...) md_err(err, __VA_ARGS__)

int md_err(char *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, MD_ERR_MAX, fmt, ap);
    va_end(ap);
    return -1;
}

static md_bp *bp_at(md_tracee *t, uint64_t addr)
{
    for (int i = 0; i < t->nbps; i++)
        if (t->bps[i].addr == addr)
            return &t->bps[i];
    return NULL;
}

/* Replace the byte at @p addr with @p byte; the old one in @p old. */
static int poke_byte(md_tracee *t, uint64_t addr, uint8_t byte, uint8_t *old, char *err)
{
    /* the aligned word around it: never a word that runs off the page */
    uint64_t at = addr & ~(uint64_t)(sizeof(long) - 1);
    unsigned shift = (unsigned)(addr - at) * 8;
    errno = 0;
    long word = ptrace(PTRACE_PEEKDATA, t->pid, (void *)(uintptr_t)at, NULL);
    if (errno != 0)
        return ERR("cannot read 0x%llx: %s", (unsigned long long)addr, strerror(errno));
    if (old != NULL)
        *old = (uint8_t)((unsigned long)word >> shift);
    word = (long)(((unsigned long)word & ~(0xfful << shift)) | ((unsigned long)byte << shift));
    if (ptrace(PTRACE_POKEDATA, t->pid, (void *)(uintptr_t)at, (void *)word) != 0)
        return ERR("cannot write 0x%llx: %s", (unsigned long long)addr, strerror(errno));
    return 0;
}

/* Wait for @p t's next status change; 0 and *@p st, or -1. */
static int wait_status(md_tracee *t, int *st, char *err)
{
    while (waitpid(t->pid, st, __WALL) < 0) {
        if (errno != EINTR)
            return ERR("waitpid %d: %s", (int)t->pid, strerror(errno));
    }
    return 0;
}

/* The tracee is gone if @p st says so: the event, state MD_NONE. */
static int gone(md_tracee *t, int st, md_event *ev)
{
    if (WIFEXITED(st)) {
        ev->kind = MD_EV_EXITED;
        ev->code = WEXITSTATUS(st);
    } else if (WIFSIGNALED(st)) {
        ev->kind = MD_EV_KILLED;
        ev->code = WTERMSIG(st);
    } else {
        return 0;
    }
    ev->pc = 0;
    t->state = MD_NONE;
    t->pid = 0;
    t->nbps = 0;
    return 1;
}

/* A new tracee, stopped: no breakpoints, nothing pending. */
static void now_stopped(md_tracee *t, int launched)
{
    t->state = MD_STOPPED;
    t->launched = launched;
    t->pending_sig = 0;
    t->stepping = 0;
    t->nbps = 0;
    t->have_event = 0;
}

int md_launch(md_tracee *t, char *const argv[], char *err)
{
    if (t->state != MD_NONE)
        return ERR("a process is being debugged already (pid %d): kill it first", (int)t->pid);
    /* the exec's failure comes back through a close-on-exec pipe */
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0)
        return ERR("pipe: %s", strerror(errno));
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return ERR("fork: %s", strerror(errno));
    }
    if (pid == 0) {
        close(fds[0]);
        if (ptrace(PTRACE_TRACEME, 0, NULL, NULL) == 0)
            execv(argv[0], argv);
        int e = errno;
        (void)!write(fds[1], &e, sizeof(e));
        _exit(127);
    }
    close(fds[1]);
    int e = 0;
    ssize_t n = read(fds[0], &e, sizeof(e));
    close(fds[0]);
    int st;
    t->pid = pid;
    if (n == (ssize_t)sizeof(e)) {
        wait_status(t, &st, err);
        t->pid = 0;
        return ERR("cannot run %s: %s", argv[0], strerror(e));
    }
    /* the exec stops it with SIGTRAP */
    if (wait_status(t, &st, err) != 0)
        return -1;
    if (!WIFSTOPPED(st)) {
        t->pid = 0;
        return ERR("%s ended before its first instruction (status 0x%x)", argv[0], st);
    }
    /* it dies with us: a debugger that crashes leaves no stopped orphan */
    ptrace(PTRACE_SETOPTIONS, pid, NULL, (void *)(long)PTRACE_O_EXITKILL);
    now_stopped(t, 1);
    return 0;
}

int md_attach(md_tracee *t, pid_t pid, char *err)
{
    if (t->state != MD_NONE)
        return ERR("a process is being debugged already (pid %d): kill it first", (int)t->pid);
    if (pid <= 0 || pid == getpid())
        return ERR("cannot attach to pid %d", (int)pid);
    if (ptrace(PTRACE_ATTACH, pid, NULL, NULL) != 0) {
        int e = errno;
        if (e == EPERM)
            return ERR("not allowed to trace pid %d (another user's process, a process "
                       "traced already, or kernel.yama.ptrace_scope): %s", (int)pid,
                       strerror(e));
        return ERR("cannot attach to pid %d: %s", (int)pid, strerror(e));
    }
    t->pid = pid;
    int st;
    /* PTRACE_ATTACH sends SIGSTOP; other signals may be reported first */
    for (;;) {
        if (wait_status(t, &st, err) != 0)
            return -1;
        if (!WIFSTOPPED(st)) {
            t->pid = 0;
            return ERR("pid %d ended while attaching", (int)pid);
        }
        if (WSTOPSIG(st) == SIGSTOP)
            break;
        ptrace(PTRACE_CONT, pid, NULL, (void *)(long)WSTOPSIG(st));
    }
    now_stopped(t, 0);
    return 0;
}

int md_regs(md_tracee *t, struct user_regs_struct *r, char *err)
{
    if (t->state != MD_STOPPED)
        return ERR(t->state == MD_NONE ? "no process: launch or attach first"
                                       : "the process is running");
    if (ptrace(PTRACE_GETREGS, t->pid, NULL, r) != 0)
        return ERR("cannot read the registers: %s", strerror(errno));
    return 0;
}

/* Single-step over the breakpoint at the pc: original byte, one step,
 * 0xCC again. 1: stepped, still stopped; 0: the tracee is gone or stopped
 * otherwise (t->event set); -1: failed. */
static int step_over(md_tracee *t, md_bp *bp, char *err)
{
    int st;
    if (poke_byte(t, bp->addr, bp->orig, NULL, err) != 0)
        return -1;
    if (ptrace(PTRACE_SINGLESTEP, t->pid, NULL, (void *)(long)t->pending_sig) != 0)
        return ERR("cannot step: %s", strerror(errno));
    t->pending_sig = 0;
    if (wait_status(t, &st, err) != 0)
        return -1;
    uint64_t addr = bp->addr;
    if (gone(t, st, &t->event)) {
        t->have_event = 1;
        return 0;
    }
    if (poke_byte(t, addr, 0xcc, NULL, err) != 0)
        return -1;
    if (WSTOPSIG(st) != SIGTRAP) { /* a signal came instead */
        struct user_regs_struct r;
        ptrace(PTRACE_GETREGS, t->pid, NULL, &r);
        t->pending_sig = WSTOPSIG(st) == SIGSTOP ? 0 : WSTOPSIG(st);
        t->event = (md_event){MD_EV_SIGNAL, r.rip, WSTOPSIG(st)};
        t->have_event = 1;
        return 0;
    }
    return 1;
}

int md_resume(md_tracee *t, int step, char *err)
{
    struct user_regs_struct r;
    if (md_regs(t, &r, err) != 0)
        return -1;
    md_bp *bp = bp_at(t, r.rip);
    t->have_event = 0;
    t->state = MD_RUNNING;
    if (bp != NULL) {
        int rv = step_over(t, bp, err);
        if (rv < 0) {
            t->state = MD_STOPPED;
            return -1;
        }
        if (rv == 0)
            return 0; /* md_wait reports what happened */
        if (step) {   /* that step was the one asked for */
            ptrace(PTRACE_GETREGS, t->pid, NULL, &r);
            t->event = (md_event){MD_EV_STEP, r.rip, 0};
            t->have_event = 1;
            return 0;
        }
    }
    t->stepping = step;
    if (ptrace(step ? PTRACE_SINGLESTEP : PTRACE_CONT, t->pid, NULL,
               (void *)(long)t->pending_sig) != 0) {
        t->state = MD_STOPPED;
        return ERR("cannot resume: %s", strerror(errno));
    }
    t->pending_sig = 0;
    return 0;
}

int md_wait(md_tracee *t, md_event *ev, char *err)
{
    if (t->have_event) {
        t->have_event = 0;
        *ev = t->event;
        if (t->state == MD_RUNNING)
            t->state = MD_STOPPED;
        return 0;
    }
    if (t->state != MD_RUNNING)
        return ERR("the process is not running");
    int st;
    if (wait_status(t, &st, err) != 0)
        return -1;
    if (gone(t, st, ev))
        return 0;
    t->state = MD_STOPPED;
    struct user_regs_struct r;
    if (ptrace(PTRACE_GETREGS, t->pid, NULL, &r) != 0)
        return ERR("cannot read the registers: %s", strerror(errno));
    int sig = WSTOPSIG(st);
    if (sig == SIGTRAP && t->stepping) {
        *ev = (md_event){MD_EV_STEP, r.rip, 0};
    } else if (sig == SIGTRAP && bp_at(t, r.rip - 1) != NULL) {
        r.rip--; /* back onto the breakpoint's instruction */
        if (ptrace(PTRACE_SETREGS, t->pid, NULL, &r) != 0)
            return ERR("cannot set the pc: %s", strerror(errno));
        *ev = (md_event){MD_EV_BREAKPOINT, r.rip, 0};
    } else {
        /* a signal of its own: delivered when it resumes (a SIGTRAP of
         * its own int3 and our interrupt's SIGSTOP are not) */
        t->pending_sig = sig == SIGTRAP || sig == SIGSTOP ? 0 : sig;
        *ev = (md_event){MD_EV_SIGNAL, r.rip, sig};
    }
    t->stepping = 0;
    return 0;
}

int md_bp_set(md_tracee *t, uint64_t addr, char *err)
{
    if (t->state != MD_STOPPED)
        return ERR(t->state == MD_NONE ? "no process: launch or attach first"
                                       : "the process is running");
    if (bp_at(t, addr) != NULL)
        return ERR("there is a breakpoint at 0x%llx already", (unsigned long long)addr);
    if (t->nbps == MD_MAX_BPS)
        return ERR("too many breakpoints (%d)", MD_MAX_BPS);
    uint8_t orig;
    if (poke_byte(t, addr, 0xcc, &orig, err) != 0)
        return -1;
    t->bps[t->nbps++] = (md_bp){addr, orig};
    return 0;
}

int md_bp_clear(md_tracee *t, uint64_t addr, char *err)
{
    if (t->state != MD_STOPPED)
        return ERR(t->state == MD_NONE ? "no process: launch or attach first"
                                       : "the process is running");
    md_bp *bp = bp_at(t, addr);
    if (bp == NULL)
        return ERR("no breakpoint at 0x%llx", (unsigned long long)addr);
    if (poke_byte(t, addr, bp->orig, NULL, err) != 0)
        return -1;
    *bp = t->bps[--t->nbps];
    return 0;
}

int md_read(md_tracee *t, uint64_t addr, void *buf, size_t len, size_t *got, char *err)
{
    if (t->state == MD_NONE)
        return ERR("no process: launch or attach first");
    xipc_err rv = xipc_proc_read((uint32_t)t->pid, addr, buf, len, got);
    if (rv != XIPC_OK)
        return ERR("cannot read %zu bytes at 0x%llx: %s (%s)", len, (unsigned long long)addr,
                   xipc_strerror(rv), xipc_last_detail());
    for (int i = 0; i < t->nbps; i++)
        if (t->bps[i].addr >= addr && t->bps[i].addr - addr < *got)
            ((uint8_t *)buf)[t->bps[i].addr - addr] = t->bps[i].orig;
    return 0;
}

int md_write(md_tracee *t, uint64_t addr, const void *buf, size_t len, char *err)
{
    if (t->state != MD_STOPPED)
        return ERR(t->state == MD_NONE ? "no process: launch or attach first"
                                       : "the process is running");
    const uint8_t *p = buf;
    for (size_t i = 0; i < len; i++) {
        md_bp *bp = bp_at(t, addr + i);
        if (bp != NULL) /* the byte under a breakpoint: restored later */
            bp->orig = p[i];
        else if (poke_byte(t, addr + i, p[i], NULL, err) != 0)
            return -1;
    }
    return 0;
}

void md_end(md_tracee *t)
{
    if (t->state == MD_NONE)
        return;
    int st;
    if (t->launched) {
        kill(t->pid, SIGKILL);
        waitpid(t->pid, &st, __WALL);
    } else {
        if (t->state == MD_RUNNING) { /* detaching needs a stopped tracee */
            md_interrupt(t->pid);
            waitpid(t->pid, &st, __WALL);
        }
        char err[MD_ERR_MAX];
        t->state = MD_STOPPED;
        while (t->nbps > 0)
            md_bp_clear(t, t->bps[0].addr, err);
        ptrace(PTRACE_DETACH, t->pid, NULL, NULL);
    }
    t->state = MD_NONE;
    t->pid = 0;
    t->nbps = 0;
}

void md_kill(pid_t pid)
{
    if (pid > 0)
        kill(pid, SIGKILL);
}

void md_interrupt(pid_t pid)
{
    if (pid > 0)
        kill(pid, SIGSTOP);
}
