/*
 * The engine's hold on one traced process (docs/minidbg.md): launching or
 * attaching, resuming and stepping, software breakpoints, registers and
 * memory. Linux x86-64, ptrace(2). Every function must be called from the
 * one thread that launched or attached (ptrace's rule: the tracer is a
 * thread); md_kill() and md_interrupt() are the exceptions (signals).
 *
 * Functions return 0, or -1 with a sentence in @p err.
 */
#ifndef MINIDBG_TRACER_H
#define MINIDBG_TRACER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/user.h>

#define MD_MAX_BPS 64
#define MD_ERR_MAX 256

enum md_state { MD_NONE, MD_STOPPED, MD_RUNNING };

enum md_event_kind {
    MD_EV_BREAKPOINT, /* a breakpoint of ours was hit */
    MD_EV_STEP,       /* a single step ended */
    MD_EV_SIGNAL,     /* a signal stopped it (delivered at the next resume) */
    MD_EV_EXITED,     /* it exited: code */
    MD_EV_KILLED      /* a signal ended it: code is the signal */
};

/* Write the sentence into @p err (MD_ERR_MAX bytes); returns -1. */
int md_err(char *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

typedef struct md_event {
    int kind;    /* md_event_kind */
    uint64_t pc; /* where it stopped (breakpoint: the breakpoint's address) */
    int code;    /* exit status or signal number */
} md_event;

typedef struct md_bp {
    uint64_t addr;
    uint8_t orig; /* the byte 0xCC replaced */
} md_bp;

typedef struct md_tracee {
    pid_t pid;
    int state;        /* md_state */
    int launched;     /* we started it (killed at the end), else attached */
    int pending_sig;  /* delivered at the next resume */
    int stepping;     /* the resume in flight is a single step */
    int have_event;   /* an event happened inside md_resume: md_wait gives it */
    md_event event;
    md_bp bps[MD_MAX_BPS];
    int nbps;
} md_tracee;

/* Start @p argv[0] with @p argv, traced; stopped at its first instruction
 * after exec. */
int md_launch(md_tracee *t, char *const argv[], char *err);

/* Trace the running process @p pid; stopped when it returns. */
int md_attach(md_tracee *t, pid_t pid, char *err);

/* Let a stopped tracee run (@p step 0) or execute one instruction (1).
 * A breakpoint at the current pc is stepped over first. */
int md_resume(md_tracee *t, int step, char *err);

/* Wait for the running tracee's next event. After EXITED or KILLED the
 * tracee is gone (state MD_NONE). */
int md_wait(md_tracee *t, md_event *ev, char *err);

int md_regs(md_tracee *t, struct user_regs_struct *r, char *err);

/* Plant a software breakpoint (int3) at @p addr; refused twice at one place. */
int md_bp_set(md_tracee *t, uint64_t addr, char *err);
int md_bp_clear(md_tracee *t, uint64_t addr, char *err);

/* Read memory as the program sees it: breakpoints show their original
 * bytes. @p got: how many bytes could be read (fewer at unmapped memory). */
int md_read(md_tracee *t, uint64_t addr, void *buf, size_t len, size_t *got, char *err);

/* Write memory (text pages too); a write over a breakpoint changes the
 * byte it will restore. */
int md_write(md_tracee *t, uint64_t addr, const void *buf, size_t len, char *err);

/* End the tracee: a launched one is killed, an attached one detached
 * (breakpoints removed first). */
void md_end(md_tracee *t);

/* Any thread: SIGKILL to the tracee; md_wait then reports it. */
void md_kill(pid_t pid);

/* Any thread: stop the running tracee (SIGSTOP, not delivered later). */
void md_interrupt(pid_t pid);

#endif
