/*
 * The stream object of the Windows port (not part of the platform
 * contract). On Windows an xipc_plat_sock is a pointer to one of these: a
 * Winsock socket, a connected named-pipe instance (either end, overlapped,
 * byte or message mode) or a named-pipe listener. Every call of
 * platform.h's stream group takes each kind.
 *
 * Readiness. Each object has one manual-reset event that is signalled
 * whenever it may be ready, and a probe that says whether it is:
 *  - a socket: the event of WSAEventSelect (which also makes the socket
 *    non-blocking). The probe takes the socket's new network events
 *    (WSAEnumNetworkEvents, which resets the event), keeps the edge ones
 *    (FD_ACCEPT, FD_WRITE, FD_CONNECT, FD_CLOSE) in the object and sets
 *    the event again when there were any, so another waiter looks too;
 *    then a connected socket peeks one byte (recv MSG_PEEK: bytes, the
 *    end or an error are ready) and a listener looks for FD_ACCEPT. An
 *    event that arrives after the probe wakes the wait. Never select():
 *    under wine a process killed inside select() (even with a zero
 *    timeout) leaves every socket of that select open in wineserver, so
 *    its peers never see the end of the stream (docs/windows.md);
 *  - a pipe: one overlapped ReadFile is kept pending into the object's own
 *    buffer (as libuv does); its event is the read's, set once it
 *    completed. The probe starts the read when none is pending and tells
 *    whether bytes, the end of the stream or an error are there;
 *  - a pipe listener: an instance with ConnectNamedPipe pending; its event
 *    is the connect's.
 * xipc_plat_sock_wait_any and the poller are built on these two things:
 * probe everything, then sleep on the events (xipc__win32_wait_events).
 * One waiter per object at a time (the poller's one-shot rule): two
 * threads waiting on one socket may steal each other's wake-up.
 */
#ifndef XIPC_PLATFORM_WIN32_STREAM_H
#define XIPC_PLATFORM_WIN32_STREAM_H

#include <winsock2.h>
#include <windows.h>

#include "core/deadline.h"
#include "platform/win32/win32.h"

enum {
    XIPC__WS_SOCKET = 1, /* a Winsock SOCKET */
    XIPC__WS_PIPE,       /* a connected named-pipe instance */
    XIPC__WS_PLISTEN     /* a named-pipe listener */
};

#define XIPC__WS_MAGIC 0x78777331u /* "xws1": a stray pointer is refused */

typedef struct xipc__ws {
    uint32_t magic;
    int kind;
    SOCKET sock;  /* XIPC__WS_SOCKET */
    volatile LONG seen; /* sockets: FD_ACCEPT/WRITE/CONNECT/CLOSE taken by a
                           probe and not yet used up (FD_WRITE: a send may
                           go through; cleared before each send) */
    int cerr;     /* sockets: the error of the FD_CONNECT */
    int listening; /* sockets: a listener (readiness is FD_ACCEPT) */
    HANDLE ev;    /* the readiness event (owned) */
    SRWLOCK lock; /* pipes: the read state below */

    /* XIPC__WS_PIPE */
    HANDLE h;
    int msg;          /* message mode: a read is one message */
    int server;       /* we created the instance (the peer is its client) */
    uint32_t peer_pid; /* not 0: the peer's pid, known at creation (spawn) */
    HANDLE wev;       /* the event of a write */
    OVERLAPPED rov;   /* the pending read; hEvent == ev */
    int rpending;     /* rov is in flight */
    int rhave;        /* a completed read is buffered (message mode: one
                         whole message, even an empty one) */
    DWORD rerr;       /* sticky: the read that ended the stream (0: none) */
    int rmore;        /* message mode: the buffered message is cut short */
    uint8_t *rbuf;
    size_t rcap, rlen, roff; /* buffered bytes: rbuf[roff..rlen) */

    /* XIPC__WS_PLISTEN: h is the instance waiting for a client */
    WCHAR *name;
    OVERLAPPED cov;   /* the pending ConnectNamedPipe; hEvent == ev */
    int connected;    /* the instance h has its client */
    DWORD lerr;       /* the connect failed (0: none) */
    intptr_t lockfile; /* a message listener's lock file at its path; -1: none */
    char *lockpath;
} xipc__ws;

/* The object behind @p s, or NULL when @p s is none or not one. */
xipc__ws *xipc__ws_get(xipc_plat_sock s);

/* A new object of @p kind with its event; NULL when out of memory. */
xipc__ws *xipc__ws_alloc(int kind);

/* Wrap a connected socket (made non-blocking, with its event). */
xipc_err xipc__ws_from_socket(SOCKET s, xipc_plat_sock *out);

/* Wrap a connected pipe handle opened with FILE_FLAG_OVERLAPPED; taken. */
xipc_err xipc__ws_from_pipe(HANDLE h, int msg, int server, uint32_t peer_pid,
                            xipc_plat_sock *out);

/*
 * Pipes, with w->lock held: 1 when a completed read is buffered or the
 * stream ended (w->rerr); else a read is pending (started here if none
 * was).
 */
int xipc__ws_pipe_ready(xipc__ws *w);

/* Pipes: wait (lock not held) until xipc__ws_pipe_ready or @p d passes;
 * returns with the lock held. XIPC_OK or XIPC_ETIMEDOUT. */
xipc_err xipc__ws_pipe_wait(xipc__ws *w, xipc_deadline *d);

/* Pipes: write @p len bytes as one WriteFile (one message in message
 * mode) within @p d; @p done gets what went out. */
xipc_err xipc__ws_pipe_write(xipc__ws *w, const void *buf, size_t len, xipc_deadline *d,
                             size_t *done);

/* 1 when @p w is ready for reading (or accepting, or has an error or end). */
int xipc__ws_probe(xipc__ws *w);

/* Sockets: wait within @p d until @p w is ready for reading (accepting),
 * or with @p what FD_WRITE for writing, FD_CONNECT for its connect's end.
 * XIPC_OK or XIPC_ETIMEDOUT. */
xipc_err xipc__ws_sock_wait(xipc__ws *w, long what, xipc_deadline *d);

/*
 * Sleep until one of the @p n events is signalled or @p d passes. Any
 * number of events: more than WaitForMultipleObjects takes (64) are
 * watched by thread-pool waits (RegisterWaitForSingleObject) that set one
 * event we sleep on. XIPC_OK (one may be set), XIPC_ETIMEDOUT, XIPC_ESYS.
 */
xipc_err xipc__win32_wait_events(const HANDLE *ev, unsigned n, xipc_deadline *d);

/* Winsock is started (once, thread-safe). XIPC_OK or XIPC_ESYS. */
xipc_err xipc__win32_wsa_init(void);

/* The next accepted connection of pipe listener @p w. */
xipc_err xipc__npipe_accept(xipc__ws *w, int timeout_ms, xipc_plat_sock *out);

/*
 * A pipe instance of @p name that only the current user may open
 * (CreateNamedPipeW with a DACL granting our token user alone); @p first:
 * FILE_FLAG_FIRST_PIPE_INSTANCE.
 */
xipc_err xipc__npipe_create(const WCHAR *name, int msg, int first, HANDLE *out);

/* The pid of the process at the other end of pipe @p w, as the kernel
 * reports it (GetNamedPipeClientProcessId / ServerProcessId). */
xipc_err xipc__ws_peer_pid(xipc__ws *w, uint32_t *pid);


#endif
