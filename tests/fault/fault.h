/*
 * Crash tests: a victim process is killed with SIGKILL at a random moment
 * while it sends, receives, reserves, commits or serves a call, and the
 * survivor checks what the issue asks (docs/fault.md):
 *
 *   - its blocking call returns (XIPC_ECLOSED) within 1 s of the kill;
 *   - every message delivered is whole and in order (checksum, length,
 *     round, stream and sequence number in every message);
 *   - a new peer can use the same name at once, without clean-up;
 *   - at the end nothing of ours is left in /dev/shm, the runtime
 *     directory, the message-queue file system or the abstract namespace,
 *     and no descriptor leaked.
 *
 *   fault_test SCHEME KILLS [SEED]
 *
 * The same program plays every victim and helper, a mode chosen by its
 * arguments ("fault_test victim KIND SLOT SCHEME ..." / "fault_test
 * helper ..."). POSIX forks it without exec where it can (the child runs
 * that mode at once) and execs it where it must; Windows, which cannot
 * fork, always starts this program again (tests/xt_proc.h).
 */
#ifndef XIPC_TESTS_FAULT_H
#define XIPC_TESTS_FAULT_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "test.h"
#include "xipc/xipc.h"
#include "xt_proc.h"

/* A child process: a pid on POSIX, a process handle on Windows. */
typedef xt_pid fault_pid;

#define FAULT_SLOTS 8        /* victims and survivor children per round */
#define FAULT_TIMEOUT 5000   /* every blocking call: far above the bound */
#define FAULT_BOUND_NS 1000000000ull /* the detection bound: 1 s */
#define FAULT_HDR 32u        /* smallest message: the header */

/* What a victim is doing; the killer can wait for one of these. */
enum {
    PH_START = 0, /* forked, nothing done yet */
    PH_CONNECT,   /* listen / accept / dial */
    PH_SEND,      /* in xipc_send, a small or medium message */
    PH_LARGE,     /* in xipc_send of a large message (> 64 KiB) */
    PH_RESERVE,   /* reserved: writing the message in place */
    PH_COMMIT,    /* in xipc_commit */
    PH_RECV,      /* in xipc_recv */
    PH_PEEK,      /* peeked: reading the message in place */
    PH_IDLE,      /* between operations (a short pause) */
    PH_CALL,      /* RPC client: in a call */
    PH_SERVE,     /* RPC server: a handler is running */
    PH_COUNT
};

/* One victim's or survivor child's shared state (in a memfd mapping). */
typedef struct fault_slot {
    _Atomic uint32_t phase;
    _Atomic uint32_t ready;         /* connected */
    _Atomic uint32_t kill_started;  /* set by the killer just before kill() */
    _Atomic uint32_t phase_at_kill;
    _Atomic uint64_t t_kill;        /* CLOCK_MONOTONIC ns, before kill() */
    _Atomic uint64_t sent_try[4];   /* per stream: sends begun */
    _Atomic uint64_t sent_ok[4];    /* per stream: sends that returned OK */
    _Atomic uint64_t verified;      /* messages this process verified */
    _Atomic uint64_t detect_ns;     /* survivor child: kill -> ECLOSED */
    _Atomic uint64_t result;        /* survivor child: extra count */
    _Atomic uint32_t stop;          /* helper server: set when it should exit */
    _Atomic uint32_t running;       /* the child runs its mode (fault_role) */
    char msg[512];                  /* why the process failed */
} fault_slot;

/* The run: what is tested, names, statistics. */
typedef struct fault_run {
    const char *scheme;
    uint64_t seed;
    int kills_wanted;
    char exe[512];
    char prefix[48]; /* "fault-<pid>-<clock>": every name of this run starts so */
    unsigned pid;
    unsigned port[4]; /* fixed TCP ports of this run */
    fault_slot *slots; /* shared with every child (fault_util.c) */
    /* statistics */
    uint64_t kills;       /* victims killed */
    uint64_t early;       /* ... before the survivor was connected */
    uint64_t verified;    /* messages checked (all processes) */
    uint64_t reconnects;  /* new peers that exchanged a message after a kill */
    uint64_t detect_n, detect_sum_ns, detect_max_ns;
    uint64_t lost;        /* unreliable transports: messages not delivered */
    uint64_t phase_kills[PH_COUNT];
    uint64_t known[3]; /* known library bugs met (fault_known, KB_*) */
    int strict;        /* FAULT_STRICT=1: a known bug fails the run */
} fault_run;

extern fault_run F;

/* ---- time, randomness -------------------------------------------------- */

uint64_t fault_now(void);
void fault_sleep_us(uint32_t us);

typedef struct fault_rng {
    uint64_t s;
} fault_rng;

void fault_rng_seed(fault_rng *r, uint64_t seed);
uint64_t fault_rand(fault_rng *r);
/* Uniform in [lo, hi]. */
uint64_t fault_range(fault_rng *r, uint64_t lo, uint64_t hi);
/* A message size: mostly small, sometimes up to @p max (large: > 64 KiB). */
size_t fault_size(fault_rng *r, size_t max);

/* ---- messages ----------------------------------------------------------- */

/*
 * Write a message of @p len bytes (>= FAULT_HDR) into @p buf: a header
 * (magic, round, stream, sequence number, length, checksum) and payload
 * derived from them.
 */
void fault_msg_make(void *buf, size_t len, uint32_t round, uint32_t stream,
                    uint64_t seq);

/*
 * Check a received message: 0 when it is whole and of @p round and
 * @p stream (its sequence number in @p seq); otherwise -1 and the reason
 * in @p why.
 */
int fault_msg_check(const void *buf, size_t len, uint32_t round,
                    uint32_t stream, uint64_t *seq, char *why, size_t cap);

/* ---- processes ---------------------------------------------------------- */

/* Clear slot @p i for a new round and return it. */
fault_slot *fault_slot_reset(int i);

/* In a victim or child: record why it fails, print it, _exit(3). */
_Noreturn void fault_vfail(fault_slot *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Map the slots shared with the children: make them (test process), or
 * map the test process's (a child started with exec). */
void fault_slots_map(int create);

/*
 * Start this program in the mode @p args names (NULL-terminated, no
 * argv[0]: "victim", KIND, SLOT, SCHEME, ...). POSIX forks and runs the
 * mode in the child at once, or, with @p exec (the test process has
 * threads), execs this program; Windows starts it again either way.
 */
fault_pid fault_start(char *const args[], int exec);

/* A round of the datagram and pubsub tests, as their children get it. */
typedef struct fault_round_cfg {
    uint32_t round;
    uint64_t seed;
    char url[200];
} fault_round_cfg;

/* fault_start(mode WHO KIND SLOT SCHEME ROUND SEED URL), without exec:
 * the modes of the datagram and pubsub children. */
fault_pid fault_start_round(const char *who, const char *kind, int slot, uint32_t round,
                            uint64_t seed, const char *url);

/* In such a child: its round from argv (fails with a usage message). */
void fault_round_args(fault_round_cfg *c, int argc, char **argv, fault_slot *sl);

/* The mode of a child: argv as fault_start passed it. Its exit code. */
int fault_role(int argc, char **argv);

/* The number that names @p pid in messages. */
unsigned fault_pid_num(fault_pid pid);

/*
 * xipc_spawn this program with the arguments @p args (NULL-terminated, no
 * argv[0]), through scripts/run32 like every exec here; the child is
 * tracked like those above. @return its pid; *s is the channel to it.
 */
fault_pid fault_spawn(xipc_sock **s, char *const args[]);

/* Wait for @p pid; its status (waitpid's on POSIX, the exit code on
 * Windows). */
int fault_reap(fault_pid pid);

/* A victim must have been killed (SIGKILL; on Windows TerminateProcess,
 * exit code XT_KILLED); otherwise fail with what it said. */
void fault_expect_killed(fault_pid pid, fault_slot *s, const char *what);

/* A child must have exited with 0; otherwise fail with what it said. */
void fault_expect_ok(fault_pid pid, fault_slot *s, const char *what);

/* Is the child @p pid gone (reaped now or before)? Stores its status. */
int fault_gone(fault_pid pid, int *status);

/* ---- the killer thread --------------------------------------------------- */

typedef struct fault_kill {
    fault_pid pid;
    int slot;          /* index of the victim's slot */
    uint32_t delay_us; /* after arming; with a target: the longest wait */
    uint32_t target;   /* 0, or a phase to wait for before killing */
    uint32_t jitter_us; /* with a target: extra delay once it is reached */
} fault_kill;

void fault_killer_start(void);
/* Kill the victims of @p k (sorted by delay) from the killer thread. */
void fault_killer_arm(const fault_kill *k, int n);
/* Wait until every armed kill is done. */
void fault_killer_wait(void);
/* Has the killer finished the current batch? */
int fault_killer_done(void);
/* A random kill plan for one victim: now, after a delay, or at a phase
 * chosen from @p phases (n of them). */
fault_kill fault_plan(fault_rng *r, fault_pid pid, int slot, const uint32_t *phases, int n);

/*
 * The survivor's call returned @p rv at @p t_err (ns) on a connection that
 * was up before the kill: fail unless the kill had started, and record the
 * detection time (fail beyond the 1 s bound). @p what names the call.
 */
void fault_detected(xipc_err rv, uint64_t t_err, int slot, fault_pid victim,
                    const char *what);
/* Record a detection time measured elsewhere (a survivor child). */
void fault_detect_add(uint64_t ns, const char *what);

/* After a victim was killed: count it (early: before it was connected). */
void fault_count_kill(int slot, int early);

/* ---- checks --------------------------------------------------------------- */

/* Number of open descriptors (Windows: handles) of @p pid (0: this
 * process); -1 when it cannot be known. */
int fault_fd_count(fault_pid pid);
/* Number of threads of @p pid. */
int fault_thread_count(fault_pid pid);
/* Print and count what is left of this run's names; 0 when nothing. */
int fault_leftovers(int quiet);
/* Prove fault_leftovers sees a planted object in each place it scans. */
void fault_leftovers_selftest(void);

/*
 * KNOWN LIBRARY BUGS (docs/fault.md, reproduced on their own by
 * fault_bugs.c). The run counts each time it meets one and goes on, so
 * that the rest stays tested; the summary prints the counts, and with
 * FAULT_STRICT=1 in the environment the first one fails the run.
 */
enum {
    KB_STUCK_NAME,   /* a shm/pubsub listener killed inside xipc_listen
                        leaves an all-zero header: its NAME is taken for good */
    KB_DIAL_EPROTO,  /* xipc_dial racing a shm/pubsub listener's creation
                        returns XIPC_EPROTO (the object is still empty) */
    KB_ORPHAN_OFFER, /* a shm client killed inside xipc_dial leaves its
                        offer segment NAME@pid.id in /dev/shm for good */
    KB_COUNT
};
void fault_known(int bug, const char *detail);
const char *fault_known_name(int bug);
/* Listening on @p url failed with XIPC_EADDRINUSE although its owner is
 * dead: remove the object if it is the stuck, all-zero one of
 * KB_STUCK_NAME (1), else leave it (0). */
int fault_unstick(const char *url);
/* A dial to @p url returned @p rv: 1 when it is KB_DIAL_EPROTO (retry). */
int fault_dial_race(const char *url, xipc_err rv);

/* ---- the transports (one file each) -------------------------------------- */

void fault_chan_run(void);    /* shm pipe unix unix-abstract tcp spawn */
void fault_dgram_run(void);   /* mailslot mq */
void fault_pubsub_run(void);  /* pubsub */
void fault_rpc_run(void);     /* rpc over shm, pipe, unix, tcp */

/* The modes of the children, "fault_test victim|helper KIND SLOT SCHEME
 * ...": @p sl is slot SLOT; each returns the exit code. */
int fault_chan_role(int argc, char **argv, fault_slot *sl);
int fault_dgram_role(int argc, char **argv, fault_slot *sl);
int fault_pubsub_role(int argc, char **argv, fault_slot *sl);
int fault_rpc_role(int argc, char **argv, fault_slot *sl);

/* A free TCP port for a name about to be used (see fault_test.c). */
unsigned fault_free_port(void);

/* The options every endpoint of this run uses. */
void fault_opts(xipc_opts *o);

/* A URL of the run: @p tag distinguishes names ("a", "b", "rs"...), @p kind
 * the scheme (shm, pipe, unix, unix-abstract, tcp, mailslot, mq, pubsub);
 * @p port_idx picks the TCP port. */
void fault_url(char *buf, size_t cap, const char *kind, const char *tag, int port_idx);

#endif
