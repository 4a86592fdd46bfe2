/*
 * These are the functions a platform port must implement
 * (src/platform/posix/, src/platform/win32/). Nothing above src/platform
 * includes an OS header; everything it needs from the OS is here.
 *
 * The contract is grouped by OS primitive. Each group is one file per
 * port, with the same stem (posix_dir.c, win32_dir.c), as in nng and libuv:
 *
 *   clock                      posix_clock.c   (deadlines: core/deadline.h)
 *   processors                 posix_cpu.c
 *   memory                     posix_mem.c
 *   errors                     posix_err.c     (the one errno mapper)
 *   processes                  posix_proc.c, starting one: posix_spawn.c
 *   wait/wake on shared words  posix_futex.c
 *   shared memory              posix_shm.c
 *   stream sockets             posix_sock.c, addresses: posix_unix.c, posix_tcp.c
 *   local datagrams            posix_dgram.c
 *   folders and lock files     posix_dir.c
 *   message queues             posix_mq.c
 *   threads and locks          posix_thread.c
 *   readiness polling          posix_poll.c
 *   process inspection         posix_inspect.c
 *
 * Mechanisms are built from these in src/transport; where one is native
 * on one OS and emulated on the other (mailslot://, mq://), the transport
 * says which primitives it uses on each.
 *
 * All functions are thread-safe. Errors are xipc_err values; where a
 * system call failed the port returns XIPC_ESYS after recording errno with
 * xipc__set_syserr().
 */
#ifndef XIPC_CORE_PLATFORM_H
#define XIPC_CORE_PLATFORM_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "xipc/inspect.h"
#include "xipc/xipc.h"

/* A socket handle: an fd on POSIX; on Windows a pointer to the port's
 * stream object (a Winsock socket or a named pipe, win32_stream.h);
 * -1 for none. */
typedef intptr_t xipc_plat_sock;
#define XIPC_PLAT_SOCK_NONE ((xipc_plat_sock)-1)

/* ---- clock -------------------------------------------------------------- */

/* Monotonic clock in nanoseconds. */
uint64_t xipc_plat_now_ns(void);

/* Sleep the calling thread for about @p us microseconds. */
void xipc_plat_sleep_us(uint32_t us);

/* ---- processors --------------------------------------------------------- */

/* A hint to the CPU inside spin loops (pause). */
void xipc_plat_cpu_relax(void);

/* Give the CPU to another runnable thread, if any (sched_yield). */
void xipc_plat_yield(void);

/* Processors online (at least 1). */
uint32_t xipc_plat_cpu_count(void);

/* ---- memory ------------------------------------------------------------- */

/*
 * Give the memory free() kept back to the system, where the C library can
 * (glibc keeps freed chunks of up to 32 MiB in its arenas once a large
 * block was freed); nothing elsewhere. Walks every arena: call it rarely.
 */
void xipc_plat_mem_release(void);

/* ---- errors ------------------------------------------------------------- */

/* Record the system error code behind an XIPC_ESYS (thread-local). */
void xipc__set_syserr(int code);

/* ---- processes ---------------------------------------------------------- */

uint32_t xipc_plat_getpid(void);

/* User id of the caller (for object names and ownership checks). */
uint32_t xipc_plat_getuid(void);

/*
 * A handle that observes another process, opened once and polled cheaply
 * (pidfd on Linux, a process handle on Windows), or the other end of a
 * connection to it (xipc_plat_proc_watch).
 */
typedef struct xipc_plat_proc {
    intptr_t handle; /* -1: none, liveness falls back to a pid probe */
    uint32_t pid;
    int sock;        /* 1: handle is a connected socket (xipc_plat_proc_watch) */
    /* set once xipc_plat_proc_alive() saw it gone; sticky; read by the
     * other thread of a connection (one sends, one receives) */
    _Atomic int dead;
} xipc_plat_proc;

void xipc_plat_proc_open(xipc_plat_proc *p, uint32_t pid);
/*
 * Observe the peer through connected socket @p s, which @p p takes: the
 * peer is gone once the socket hangs up (it closed its end, or every
 * process holding the end died). Nothing the peer writes into memory can
 * fake that. @p pid (from the kernel: SO_PEERCRED) is only reported.
 */
void xipc_plat_proc_watch(xipc_plat_proc *p, intptr_t s, uint32_t pid);
void xipc_plat_proc_close(xipc_plat_proc *p);
/* 1 when the process is alive (or cannot be proved dead), 0 when gone
 * (and then sets p->dead). */
int xipc_plat_proc_alive(xipc_plat_proc *p);
/* One-shot check without a handle. */
int xipc_plat_pid_alive(uint32_t pid);

/*
 * Start @p path with @p argv and one end of a connected socket pair,
 * announced in environment variable @p env; @p out gets the other end.
 * XIPC_ENOENT when the program cannot be executed.
 */
xipc_err xipc_plat_spawn(const char *path, char *const argv[], const char *env,
                         xipc_plat_sock *out, uint32_t *pid);

/* In the child: the inherited end named by environment variable @p env. */
xipc_err xipc_plat_sock_inherited(const char *env, xipc_plat_sock *out);

/* ---- wait/wake on a 32-bit word shared between processes ---------------- */

/*
 * Sleep while *addr == expected, at most @p timeout_us microseconds
 * (never forever: callers loop to notice dead peers).
 * Returns XIPC_OK on wake-up or value change, XIPC_ETIMEDOUT.
 */
xipc_err xipc_plat_futex_wait(uint32_t *addr, uint32_t expected,
                              uint32_t timeout_us);
/* Wake every sleeper on @p addr. */
void xipc_plat_futex_wake(uint32_t *addr);

/* ---- shared memory ------------------------------------------------------ */

/*
 * Shared memory is anonymous and handed over a socket (shm://, pubsub://):
 * no object has a name another process could open, resize or plant.
 */
typedef struct xipc_plat_shm {
    void *base;
    size_t size;
    intptr_t handle;
} xipc_plat_shm;

/*
 * An anonymous object of @p size bytes, zero-filled, mapped read-write,
 * that nobody can ever resize: a memfd sealed with F_SEAL_SHRINK |
 * F_SEAL_GROW | F_SEAL_SEAL on Linux (a section object is fixed in size
 * from creation on Windows). With @p readonly_later, also
 * F_SEAL_FUTURE_WRITE: this mapping stays writable, every later one is
 * read-only. m->handle keeps the object's handle, to pass to another
 * process (xipc_plat_sock_send_handle); xipc_plat_shm_unmap closes it.
 * A peer that maps it can therefore neither shrink it under our mapping
 * (SIGBUS) nor, with @p readonly_later, write it.
 */
xipc_err xipc_plat_shm_anon(xipc_plat_shm *m, size_t size, int readonly_later);

/*
 * Map object @p h, received from another process; @p h is taken (closed
 * here whatever the result). Refused with XIPC_EPROTO unless it is sealed
 * against shrinking, growing and further sealing and is exactly @p size
 * bytes: the sender cannot resize it under our mapping afterwards.
 * @p writable: map read-write; else read-only, and then it must also be
 * sealed against every later writable mapping (F_SEAL_FUTURE_WRITE): only
 * its creator writes what we read, no other process it was handed to.
 */
xipc_err xipc_plat_shm_adopt(xipc_plat_shm *m, intptr_t h, size_t size, int writable);

/*
 * Map an object that process @p pid holds as handle @p h, without its
 * help: Linux opens /proc/PID/fd/H (the same user may), Windows would
 * duplicate the handle from the process. Checked as xipc_plat_shm_adopt
 * checks a received one: sealed, exactly @p size bytes, and read-only
 * (@p writable 0) only when no one but its creator can write it.
 * @return XIPC_OK, XIPC_ENOENT (no such process or handle), XIPC_EPERM,
 *         XIPC_EPROTO (not such an object), XIPC_ESYS
 */
xipc_err xipc_plat_shm_from_peer(xipc_plat_shm *m, uint32_t pid, intptr_t h, size_t size,
                                 int writable);

/* Unmap; closes m->handle if any. */
void xipc_plat_shm_unmap(xipc_plat_shm *m);

/* ---- stream sockets: unix, tcp, message sockets, anonymous pairs -------- */


typedef struct xipc_plat_iov {
    const void *base;
    size_t len;
} xipc_plat_iov;

/*
 * Listen on a Unix stream socket at file @p path (created 0600; a stale
 * socket file nobody listens on is replaced) or, with @p abstract, at the
 * abstract name @p path. XIPC_EADDRINUSE when someone listens there.
 */
xipc_err xipc_plat_unix_listen(const char *path, int abstract, int backlog,
                               xipc_plat_sock *out);
xipc_err xipc_plat_unix_dial(const char *path, int abstract, int timeout_ms,
                             xipc_plat_sock *out);

/*
 * The same, at a file path, for messages (SOCK_SEQPACKET): each send is
 * one message, never split or merged, and may carry handles. The
 * rendezvous of shm://. A dial into a full backlog waits for room until
 * @p timeout_ms; nobody listening there, or no such file:
 * XIPC_ECONNREFUSED.
 */
xipc_err xipc_plat_msgsock_listen(const char *path, int backlog, xipc_plat_sock *out);
xipc_err xipc_plat_msgsock_dial(const char *path, int timeout_ms, xipc_plat_sock *out);

/*
 * Send one message of @p len bytes carrying handle @p h (SCM_RIGHTS; -1:
 * none) on a message socket; never blocks. The receiver gets its own
 * handle to the same object; ours stays open.
 * @return XIPC_OK, XIPC_EBUSY (it would block), XIPC_ECLOSED, XIPC_ESYS
 */
xipc_err xipc_plat_sock_send_handle(xipc_plat_sock s, const void *buf, size_t len,
                                    intptr_t h);

/*
 * Receive one message of at most @p cap bytes and at most one handle;
 * never blocks. *h is -1 when the message carried none. A message longer
 * than @p cap, with more than one handle or with other control data is
 * refused whole: its handles are closed, XIPC_EPROTO.
 * @return XIPC_OK, XIPC_ETIMEDOUT (nothing queued), XIPC_ECLOSED (the
 *         peer hung up), XIPC_EPROTO, XIPC_ESYS
 */
xipc_err xipc_plat_sock_recv_handle(xipc_plat_sock s, void *buf, size_t cap,
                                    size_t *len, intptr_t *h);

/*
 * 1 when @p path is the kind of file a socket bound at a path leaves there
 * (xipc_plat_unix_listen, xipc_plat_msgsock_listen, xipc_plat_dgram_bind),
 * live or stale: a socket file on POSIX; on Windows the lock file the
 * owner of a named pipe or mailslot holds beside it.
 */
int xipc_plat_sock_file(const char *path);

/* Close a handle received with xipc_plat_sock_recv_handle. */
void xipc_plat_handle_close(intptr_t h);

/* TCP (IPv4 or IPv6 by @p host's form); port 0 binds a free port, which
 * @p bound receives. Both ends get TCP_NODELAY. */
xipc_err xipc_plat_tcp_listen(const char *host, uint16_t port, int backlog,
                              xipc_plat_sock *out, uint16_t *bound);
xipc_err xipc_plat_tcp_dial(const char *host, uint16_t port, int timeout_ms,
                            xipc_plat_sock *out);

/* Wait up to @p timeout_ms for a connection on listening socket @p l. */
xipc_err xipc_plat_sock_accept(xipc_plat_sock l, int timeout_ms,
                               xipc_plat_sock *out);

/*
 * Send the @p n buffers in order; returns once all went out or the
 * timeout expired, with the byte count in @p sent (XIPC_ETIMEDOUT when
 * not all went out). A closed or reset peer: XIPC_ECLOSED. Never raises
 * SIGPIPE.
 */
xipc_err xipc_plat_sock_sendv(xipc_plat_sock s, const xipc_plat_iov *iov,
                              int n, size_t *sent, int timeout_ms);

/* Receive at least one byte (at most @p cap). End of stream or a reset:
 * XIPC_ECLOSED. */
xipc_err xipc_plat_sock_recv(xipc_plat_sock s, void *buf, size_t cap,
                             size_t *got, int timeout_ms);

void xipc_plat_sock_close(xipc_plat_sock s);

/* The peer's process and user id (Unix sockets); XIPC_ENOTSUP elsewhere. */
xipc_err xipc_plat_sock_peer(xipc_plat_sock s, uint32_t *pid, uint32_t *uid);

/*
 * The IP address of the peer of socket @p s: 4 with its IPv4 address in
 * @p addr[0..3] (an IPv4-mapped IPv6 address included), 16 with its IPv6
 * address, 0 when it has none (a Unix socket, one not connected any more).
 */
int xipc_plat_sock_peer_addr(xipc_plat_sock s, uint8_t addr[16]);

/*
 * Wait up to @p timeout_ms until stream socket @p s is readable or, with
 * @p want_write, writable — or has an error or end of stream that the next
 * xipc_plat_sock_recv/sendv reports. Layers that move bytes with those
 * calls and a timeout of 0 (never blocking) wait here.
 * @return XIPC_OK, XIPC_ETIMEDOUT, XIPC_ESYS
 */
xipc_err xipc_plat_sock_wait(xipc_plat_sock s, int want_write, int timeout_ms);

/*
 * Wait up to @p timeout_ms until one of the @p n sockets @p s is readable
 * (a connection to accept, a message) or hung up. At most 1025 sockets.
 * @return XIPC_OK, XIPC_ETIMEDOUT, XIPC_EINVAL, XIPC_ESYS
 */
xipc_err xipc_plat_sock_wait_any(const xipc_plat_sock *s, unsigned n, int timeout_ms);

/* ---- local datagram sockets --------------------------------------------- */

/*
 * Datagram sockets bound at paths in the file system (AF_UNIX SOCK_DGRAM on
 * POSIX). Paths longer than the system's socket address limit work too. A
 * datagram is never split or merged. Handles are -1 when none.
 */

/* The largest datagram a sender can carry on this host. */
uint32_t xipc_plat_dgram_limit(void);

/*
 * A socket bound at @p path (mode 0600) that queues datagrams of up to
 * @p max_msg bytes. XIPC_EADDRINUSE when @p path exists, XIPC_ENOENT when
 * its folder does not.
 */
xipc_err xipc_plat_dgram_bind(intptr_t *h, const char *path, uint32_t max_msg);

/*
 * A socket for sending to the one bound at @p path, with the largest send
 * buffer allowed (a sender's buffer holds what its receiver has not read
 * yet, so one socket per receiver keeps a slow receiver from starving the
 * others). XIPC_ECONNREFUSED: a stale file, nobody is bound there;
 * XIPC_ENOENT: no such file.
 */
xipc_err xipc_plat_dgram_connect(intptr_t *h, const char *path);

/*
 * Send one datagram on a socket from xipc_plat_dgram_connect; never blocks.
 * @return XIPC_OK; XIPC_EBUSY (the receiver's queue or our send buffer is
 *         full: nothing was sent); XIPC_ECONNREFUSED (the receiver is
 *         gone); XIPC_EMSGSIZE; XIPC_ESYS
 */
xipc_err xipc_plat_dgram_send(intptr_t h, const void *buf, size_t len);

/* 1 when a socket is bound at @p path; 0 when the file is stale or gone.
 * Sends nothing. */
int xipc_plat_dgram_live(const char *path);

/*
 * Receive the next datagram into @p buf (@p cap bytes), waiting at most
 * @p timeout_ms. Datagrams are expected to be at most @p max bytes: when
 * @p cap < @p max the size is looked at first, and a datagram larger than
 * @p cap is left queued (XIPC_EMSGSIZE, *len = its size); when
 * @p cap >= @p max a larger one (no xipc writer sends it) is discarded
 * with XIPC_EPROTO.
 * @return XIPC_OK, XIPC_EMSGSIZE, XIPC_ETIMEDOUT, XIPC_EPROTO, XIPC_ESYS
 */
xipc_err xipc_plat_dgram_recv(intptr_t h, void *buf, size_t cap, size_t max,
                              size_t *len, int timeout_ms);

/* Remove the socket file @p path (nothing when it is missing). */
void xipc_plat_dgram_unlink(const char *path);

void xipc_plat_dgram_close(intptr_t h);

/* ---- folders and lock files --------------------------------------------- */

/*
 * The folder for this user's endpoints ($XDG_RUNTIME_DIR/xipc, else
 * /tmp/xipc-<uid>), created 0700 when missing; refused (XIPC_EPERM) when it
 * exists but is not a directory owned by us with mode 0700. @p sub, when
 * not NULL, names a subfolder created the same way.
 */
xipc_err xipc_plat_rundir(char *buf, size_t cap, const char *sub);

/*
 * The per-user runtime directory as xipc_plat_rundir() names it (with
 * subfolder @p sub when not NULL), creating nothing.
 * @return XIPC_OK, XIPC_ENOENT (it does not exist), XIPC_EPERM (not a
 *         private directory of ours), XIPC_EINVAL (does not fit), XIPC_ESYS
 */
xipc_err xipc_plat_rundir_find(char *buf, size_t cap, const char *sub);

/* What is at @p path (a symbolic link is not followed: OTHER). */
#define XIPC_PLAT_FILE_NONE 0 /* nothing, or not accessible */
#define XIPC_PLAT_FILE_REG 1
#define XIPC_PLAT_FILE_DIR 2
#define XIPC_PLAT_FILE_SOCK 3
#define XIPC_PLAT_FILE_OTHER 4
int xipc_plat_file_kind(const char *path);

/*
 * Call @p fn for each entry of folder @p path except "." and "..". The
 * folder must be a directory owned by us with no access for others.
 * @return XIPC_OK, XIPC_ENOENT (no such folder), XIPC_EPERM (not private),
 *         XIPC_ESYS
 */
xipc_err xipc_plat_dir_list(const char *path,
                            void (*fn)(const char *name, void *arg), void *arg);

/* Remove folder @p path when it is empty; keep it silently otherwise. */
void xipc_plat_dir_remove(const char *path);

/*
 * A stamp of folder @p path that changes whenever an entry is added or
 * removed, so that a listing can be reused while the stamp stays the same.
 * File times are coarse: a change just after the stamp was taken might
 * carry the same time, so a stamp proves "no change since" only when
 * @p *settled says the folder had not changed for a while when it was taken.
 * @return XIPC_OK, XIPC_ENOENT, XIPC_ESYS
 */
xipc_err xipc_plat_dir_stamp(const char *path, uint64_t stamp[2], int *settled);

/*
 * Take the lock file @p path (created 0600): while the returned handle is
 * open, the file is locked and holds our pid. The kernel drops the lock
 * when the process dies, however it dies.
 * @return XIPC_OK, XIPC_EADDRINUSE (a live process holds it), XIPC_EPERM
 *         (not our private file), XIPC_ESYS
 */
xipc_err xipc_plat_lockfile_acquire(intptr_t *h, const char *path);

/* Remove @p path and drop the lock. */
void xipc_plat_lockfile_release(intptr_t h, const char *path);

/*
 * Whether a live process holds lock file @p path, and its pid (0 for a
 * moment while the holder is writing it).
 * @return XIPC_OK (held), XIPC_ENOENT (missing, or its holder is gone),
 *         XIPC_EPERM, XIPC_ESYS
 */
xipc_err xipc_plat_lockfile_owner(const char *path, uint32_t *pid);

/*
 * Write @p text as the whole content of file @p path, mode 0600, in
 * place: a writer killed half-way leaves a short file, which readers must
 * take for garbage (a temporary file would be left over instead).
 */
xipc_err xipc_plat_textfile_write(const char *path, const char *text);

/*
 * Read at most @p cap - 1 bytes of file @p path into @p buf, NUL-ended.
 * @return XIPC_OK, XIPC_ENOENT (missing), XIPC_EPERM (not a plain file of
 *         ours closed to others), XIPC_ESYS
 */
xipc_err xipc_plat_textfile_read(const char *path, char *buf, size_t cap);
void xipc_plat_unlink(const char *path);

/* ---- named pipes (Windows) ---------------------------------------------- */

/*
 * pipe:// on Windows. @p name is a pipe name ("\\.\pipe\" is put in
 * front unless it is there already; at most 256 characters in all). The
 * pipes carry byte streams through xipc_plat_sock_recv/sendv.
 *
 * The message sockets above are message-mode named pipes on Windows,
 * named "\\.\pipe\xipc" + the path with '\' as '/' (XIPC_EINVAL
 * beyond 256 characters). A handle travels as its value and the receiver
 * duplicates it out of the process at the other end of the pipe (as the
 * kernel reports it): the sender must keep it open until then.
 */

/*
 * Listen at @p name: only the current user may connect (the DACL), and
 * the name is taken as its first instance, so XIPC_EADDRINUSE when
 * someone listens there already. Each xipc_plat_sock_accept takes a
 * client and readies the instance for the next one (@p backlog: clients
 * beyond one wait in xipc_plat_npipe_dial).
 */
xipc_err xipc_plat_npipe_listen(const char *name, int backlog, xipc_plat_sock *out);

/* Connect to @p name, waiting up to @p timeout_ms while its instances are
 * busy. XIPC_ECONNREFUSED when nobody listens there. */
xipc_err xipc_plat_npipe_dial(const char *name, int timeout_ms, xipc_plat_sock *out);

/* Call @p fn for each pipe of this host whose name (without
 * "\\.\pipe\") starts with @p prefix. */
xipc_err xipc_plat_npipe_list(const char *prefix, void (*fn)(const char *name, void *arg),
                              void *arg);

/* ---- message queues (POSIX; mq:// on Windows uses window messages) ------ */

typedef struct xipc_plat_mq {
    intptr_t handle; /* -1: none */
    uint32_t depth;   /* messages the queue holds */
    uint32_t msgsize; /* largest message */
} xipc_plat_mq;

/* The system's limits for a new queue's depth and message size. */
void xipc_plat_mq_limits(uint32_t *depth_max, uint32_t *msgsize_max);

/*
 * Create queue @p name ("/..."), exclusively, owner-only, for receiving.
 * @return XIPC_OK, XIPC_EADDRINUSE (the name exists), XIPC_EINVAL (beyond
 *         xipc_plat_mq_limits), XIPC_ENOMEM (the user's queue memory is
 *         used up), XIPC_EPERM, XIPC_ESYS
 */
xipc_err xipc_plat_mq_create(xipc_plat_mq *q, const char *name, uint32_t depth,
                             uint32_t msgsize);

/*
 * Open queue @p name for sending. Refuses (XIPC_EPERM) a queue owned by
 * another user or accessible by others; XIPC_ENOENT when absent.
 */
xipc_err xipc_plat_mq_open(xipc_plat_mq *q, const char *name);

/*
 * Send, waiting at most @p timeout_us while the queue is full (0: not at
 * all). @return XIPC_OK, XIPC_ETIMEDOUT, XIPC_EMSGSIZE, XIPC_EINVAL, XIPC_ESYS
 */
xipc_err xipc_plat_mq_send(xipc_plat_mq *q, const void *buf, size_t len,
                           unsigned prio, uint32_t timeout_us);

/*
 * Receive the oldest message of the highest priority into @p buf, which
 * holds at least q->msgsize bytes, waiting at most @p timeout_us.
 * @return XIPC_OK, XIPC_ETIMEDOUT, XIPC_ESYS
 */
xipc_err xipc_plat_mq_recv(xipc_plat_mq *q, void *buf, size_t *len,
                           unsigned *prio, uint32_t timeout_us);

/* 1 when the queue @p q has open was unlinked (closed by its owner). */
int xipc_plat_mq_unlinked(xipc_plat_mq *q);

/* 1 when @p name still names the queue @p q has open (not unlinked, not
 * replaced by another queue); opens the name afresh to compare. */
int xipc_plat_mq_current(xipc_plat_mq *q, const char *name);

void xipc_plat_mq_close(xipc_plat_mq *q);
void xipc_plat_mq_unlink(const char *name);

/* ---- the clipboard (Windows; XIPC_ENOTSUP elsewhere) -------------------- */

/*
 * The session's clipboard: one value per registered format, the latest
 * set wins, and any process of the session may read it; it outlives the
 * process that set it. clipboard:// (src/transport/clipboard.c) is built
 * on these calls.
 */
typedef struct xipc_plat_clip xipc_plat_clip;

/* Register clipboard format @p format (RegisterClipboardFormat). A
 * @p setter will own what it sets (Windows: through a hidden window of
 * its own; a reader gets one too, to open the clipboard with).
 * XIPC_ENOTSUP where there is no clipboard (POSIX). */
xipc_err xipc_plat_clip_open(xipc_plat_clip **out, const char *format, int setter);

/* The clipboard's change count: it moves on whenever any format changes. */
uint32_t xipc_plat_clip_seq(xipc_plat_clip *c);

/*
 * Make @p buf the format's value (replacing everything on the clipboard,
 * as every clipboard write does), retrying while another process has the
 * clipboard open, up to @p timeout_ms. XIPC_OK, XIPC_ETIMEDOUT,
 * XIPC_ENOMEM, XIPC_ESYS.
 */
xipc_err xipc_plat_clip_set(xipc_plat_clip *c, const void *buf, size_t len, int timeout_ms);

/*
 * A copy of the format's value (malloc'd, *@p buf; free() it), retrying
 * while another process has the clipboard open, up to @p timeout_ms.
 * XIPC_OK, XIPC_ENOENT (the format has no value), XIPC_ETIMEDOUT,
 * XIPC_EMSGSIZE (beyond @p max bytes), XIPC_ENOMEM, XIPC_ESYS.
 */
xipc_err xipc_plat_clip_get(xipc_plat_clip *c, size_t max, void **buf, size_t *len,
                            int timeout_ms);

void xipc_plat_clip_close(xipc_plat_clip *c);

/* ---- DDE (Windows; XIPC_ENOTSUP elsewhere) ------------------------------ */

/*
 * Dynamic Data Exchange through DDEML: a server names SERVICE and TOPIC
 * and keeps the latest value of each item a client pokes or it sets; a
 * client holds one conversation with it about one item. dde://
 * (src/transport/dde.c) is built on these calls; values are bytes in
 * CF_TEXT, up to @p max.
 */
typedef struct xipc_plat_dde xipc_plat_dde;

/* Serve SERVICE/TOPIC; the pokes of @p item are queued for next.
 * XIPC_EADDRINUSE when a server of SERVICE/TOPIC answers already;
 * XIPC_ENOTSUP where there is no DDE (POSIX). */
xipc_err xipc_plat_dde_serve(xipc_plat_dde **out, const char *service, const char *topic,
                             const char *item, size_t max);

/* A conversation with the server of SERVICE/TOPIC about @p item.
 * XIPC_ECONNREFUSED when none answers; XIPC_ENOTSUP as above. */
xipc_err xipc_plat_dde_connect(xipc_plat_dde **out, const char *service, const char *topic,
                               const char *item, size_t max);

/* Server: make @p buf the item's value and send it to each advise link.
 * Client: poke it. XIPC_OK, XIPC_ETIMEDOUT (the server stayed busy),
 * XIPC_EREMOTE (the server did not take it), XIPC_ECLOSED, XIPC_EMSGSIZE. */
xipc_err xipc_plat_dde_put(xipc_plat_dde *d, const void *buf, size_t len, int timeout_ms);

/* Client: the item's value now (malloc'd; free() it). XIPC_ENOENT when the
 * server has none; XIPC_ETIMEDOUT, XIPC_ECLOSED, XIPC_EPROTO (over max). */
xipc_err xipc_plat_dde_request(xipc_plat_dde *d, void **buf, size_t *len, int timeout_ms);

/* Client: have each new value of the item sent to us (a hot advise link)
 * and queued for next. XIPC_OK, XIPC_EREMOTE (refused), XIPC_ETIMEDOUT,
 * XIPC_ECLOSED. */
xipc_err xipc_plat_dde_advise(xipc_plat_dde *d, int timeout_ms);

/* The next queued value (malloc'd): a server's next poke of its item, a
 * client's next advised value. XIPC_ETIMEDOUT; XIPC_ECLOSED (client: the
 * conversation ended). */
xipc_err xipc_plat_dde_next(xipc_plat_dde *d, void **buf, size_t *len, int timeout_ms);

void xipc_plat_dde_close(xipc_plat_dde *d);

/* ---- process inspection (include/xipc/inspect.h) ------------------------ */

/*
 * What these return when the target or the address is beyond this
 * process's reach: a 32-bit process and an address over 4 GiB, a system
 * call this process cannot make (qemu-user has no process_vm_readv), a
 * 32-bit Windows process and a 64-bit process's module list. The detail
 * says why; src/inspect/inspect.c then asks the 64-bit helper. No other
 * failure of this group is XIPC_ENOTSUP.
 */
#define XIPC_PLAT_BEYOND XIPC_ENOTSUP

/* Every process: xipc_proc_list()'s contract. */
xipc_err xipc_plat_proc_list(void (*fn)(const xipc_proc_info *p, void *arg), void *arg);

/* The modules of @p pid, ascending by base: xipc_proc_modules()'s contract. */
xipc_err xipc_plat_modules(uint32_t pid, void (*fn)(const xipc_module_info *m, void *arg),
                           void *arg);

/* xipc_proc_read()'s contract; @p len > 0 and the range lies within this
 * process's pointers (src/inspect/inspect.c checks: xipc__inspect_beyond). */
xipc_err xipc_plat_peek(uint32_t pid, uint64_t addr, void *buf, size_t len, size_t *got);

/* Wait for child @p pid (started by xipc_plat_spawn) to end, so that it
 * leaves nothing behind; a no-op where the OS keeps nothing (Windows). */
void xipc_plat_child_reap(uint32_t pid);

/* ---- threads and locks -------------------------------------------------- */

/* Run @p fn(@p arg) on a new detached thread. */
xipc_err xipc_plat_thread_detached(void (*fn)(void *), void *arg);

/*
 * Storage for the OS objects, large and aligned enough for each port's
 * (checked by static assertions in the port). Used within one process
 * only. A mutex is not recursive; unlocking one the caller does not hold
 * is undefined.
 */
typedef struct xipc_plat_mutex {
    _Alignas(16) uint64_t opaque[8];
} xipc_plat_mutex;

typedef struct xipc_plat_cond {
    _Alignas(16) uint64_t opaque[8];
} xipc_plat_cond;

typedef struct xipc_plat_thread {
    uint64_t handle;
} xipc_plat_thread;

/* XIPC_OK, XIPC_ENOMEM, XIPC_ESYS. */
xipc_err xipc_plat_mutex_init(xipc_plat_mutex *m);
void xipc_plat_mutex_fini(xipc_plat_mutex *m);
void xipc_plat_mutex_lock(xipc_plat_mutex *m);
/* Take @p m if it is free: 1 taken, 0 held by another thread. */
int xipc_plat_mutex_trylock(xipc_plat_mutex *m);
void xipc_plat_mutex_unlock(xipc_plat_mutex *m);

/* XIPC_OK, XIPC_ENOMEM, XIPC_ESYS. */
xipc_err xipc_plat_cond_init(xipc_plat_cond *c);
void xipc_plat_cond_fini(xipc_plat_cond *c);
void xipc_plat_cond_signal(xipc_plat_cond *c);
void xipc_plat_cond_broadcast(xipc_plat_cond *c);

/*
 * Release @p m, sleep until signalled or until the monotonic clock
 * (xipc_plat_now_ns) reaches @p deadline_ns (UINT64_MAX: no deadline),
 * take @p m again. Wake-ups may be spurious: callers re-check in a loop.
 * @return XIPC_OK (woken), XIPC_ETIMEDOUT (deadline passed)
 */
xipc_err xipc_plat_cond_wait(xipc_plat_cond *c, xipc_plat_mutex *m,
                             uint64_t deadline_ns);

/* Run @p fn(@p arg) on a new thread that xipc_plat_thread_join() waits for
 * (exactly once). XIPC_OK, XIPC_ENOMEM, XIPC_ESYS. */
xipc_err xipc_plat_thread_create(xipc_plat_thread *t, void (*fn)(void *),
                                 void *arg);
void xipc_plat_thread_join(xipc_plat_thread *t);

/*
 * A joinable thread as xipc_plat_thread_create, with a stack of
 * @p stack_bytes (0: the system's default; raised to the system's minimum).
 * For threads that run only the library's own code, so that many of them
 * fit a 32-bit address space.
 */
xipc_err xipc_plat_thread_create_stack(xipc_plat_thread *t, void (*fn)(void *),
                                       void *arg, size_t stack_bytes);

/* ---- readiness polling: many sockets, one thread ------------------------ */

/*
 * A poller: waits for input on many stream sockets at once (epoll on
 * Linux). Sockets are watched one-shot: once a socket has been reported,
 * it is not reported again until re-armed, so exactly one thread handles
 * it at a time and the handler decides when to listen again. "Input"
 * includes end of stream and errors, which the next
 * xipc_plat_sock_recv reports. Add, arm and del may be called from any
 * thread; one thread waits.
 */
typedef struct xipc_plat_poller xipc_plat_poller;

/* XIPC_OK, XIPC_ENOMEM, XIPC_ESYS (out of descriptors). */
xipc_err xipc_plat_poller_alloc(xipc_plat_poller **out);
/* Free @p p; the sockets it watches are not closed. NULL is a no-op. */
void xipc_plat_poller_free(xipc_plat_poller *p);

/* Watch @p s for input; @p tag (not NULL) is what wait reports. Armed. */
xipc_err xipc_plat_poller_add(xipc_plat_poller *p, xipc_plat_sock s, void *tag);
/* Listen again for input on @p s after it was reported. */
xipc_err xipc_plat_poller_arm(xipc_plat_poller *p, xipc_plat_sock s, void *tag);
/* Stop watching @p s (before closing it). */
void xipc_plat_poller_del(xipc_plat_poller *p, xipc_plat_sock s);

/*
 * Wait up to @p timeout_ms (-1: no limit) until a watched socket has input
 * or xipc_plat_poller_wake is called; store the tags of up to @p cap
 * reported sockets in @p tags and their number in @p n (0 after a wake-up
 * or a timeout).
 * @return XIPC_OK, XIPC_ESYS
 */
xipc_err xipc_plat_poller_wait(xipc_plat_poller *p, void **tags, int cap,
                               int *n, int timeout_ms);

/* Make the current (or the next) xipc_plat_poller_wait return at once. */
void xipc_plat_poller_wake(xipc_plat_poller *p);

#endif
