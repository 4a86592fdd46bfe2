/*
 * The stream object of the Windows port (win32_stream.h): I/O with
 * timeouts, accept, peer ids and waits, for sockets and named pipes alike.
 */
#include <winsock2.h>
#include <ws2tcpip.h>
#include <afunix.h>
#include <windows.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "platform/win32/win32_stream.h"

/* A pipe's read buffer: a byte stream reads this much at a time; a
 * message pipe holds one whole message (shm://'s are a few dozen bytes). */
#define WS_PIPE_BUF 65536

xipc__ws *xipc__ws_get(xipc_plat_sock s)
{
    xipc__ws *w = (xipc__ws *)s;
    if (s == XIPC_PLAT_SOCK_NONE || w == NULL || w->magic != XIPC__WS_MAGIC)
        return NULL;
    return w;
}

xipc__ws *xipc__ws_alloc(int kind)
{
    xipc__ws *w = calloc(1, sizeof(*w));
    if (w == NULL)
        return NULL;
    w->magic = XIPC__WS_MAGIC;
    w->kind = kind;
    w->sock = INVALID_SOCKET;
    w->h = INVALID_HANDLE_VALUE;
    w->lockfile = -1;
    InitializeSRWLock(&w->lock);
    w->ev = CreateEventW(NULL, TRUE, FALSE, NULL);
    if (w->ev == NULL) {
        free(w);
        return NULL;
    }
    return w;
}

static void ws_free(xipc__ws *w)
{
    if (w->ev != NULL)
        CloseHandle(w->ev);
    if (w->wev != NULL)
        CloseHandle(w->wev);
    free(w->rbuf);
    free(w->name);
    if (w->lockfile != -1) /* removes the file: the endpoint is no more */
        xipc_plat_lockfile_release(w->lockfile, w->lockpath);
    free(w->lockpath);
    w->magic = 0;
    free(w);
}

xipc_err xipc__ws_from_socket(SOCKET s, xipc_plat_sock *out)
{
    xipc__ws *w = xipc__ws_alloc(XIPC__WS_SOCKET);
    if (w == NULL) {
        closesocket(s);
        return XIPC_ENOMEM;
    }
    /* the socket's own event (an accepted socket shares its listener's
     * until told otherwise). It also makes the socket non-blocking. */
    if (WSAEventSelect(s, w->ev, FD_READ | FD_WRITE | FD_ACCEPT | FD_CONNECT | FD_CLOSE) != 0) {
        xipc_err rv = xipc__win32_err((unsigned long)WSAGetLastError());
        closesocket(s);
        ws_free(w);
        return rv;
    }
    w->sock = s;
    BOOL acc = FALSE;
    int al = (int)sizeof(acc);
    w->listening = getsockopt(s, SOL_SOCKET, SO_ACCEPTCONN, (char *)&acc, &al) == 0 && acc;
    w->seen = FD_WRITE; /* until a send is refused, one may go through */
    *out = (xipc_plat_sock)w;
    return XIPC_OK;
}

xipc_err xipc__ws_from_pipe(HANDLE h, int msg, int server, uint32_t peer_pid,
                            xipc_plat_sock *out)
{
    xipc__ws *w = xipc__ws_alloc(XIPC__WS_PIPE);
    if (w != NULL) {
        w->wev = CreateEventW(NULL, TRUE, FALSE, NULL);
        w->rbuf = malloc(WS_PIPE_BUF);
        w->rcap = WS_PIPE_BUF;
    }
    if (w == NULL || w->wev == NULL || w->rbuf == NULL) {
        if (w != NULL)
            ws_free(w);
        CloseHandle(h);
        return XIPC_ENOMEM;
    }
    w->h = h;
    w->msg = msg;
    w->server = server;
    w->peer_pid = peer_pid;
    *out = (xipc_plat_sock)w;
    return XIPC_OK;
}

/* ---- pipes: one read pending into the object's buffer --------------------- */

/* Collect the read in flight; 0 while it still is. */
static int pipe_collect(xipc__ws *w)
{
    DWORD k = 0;
    if (GetOverlappedResult(w->h, &w->rov, &k, FALSE)) {
        w->rmore = 0;
    } else {
        DWORD e = GetLastError();
        if (e == ERROR_IO_INCOMPLETE)
            return 0;
        if (e == ERROR_MORE_DATA) {
            w->rmore = 1; /* the rest of the message comes with the next read */
        } else {
            w->rerr = e;
            k = 0;
        }
    }
    w->rpending = 0;
    w->roff = 0;
    w->rlen = k;
    /* a byte reader skips an empty message; a message reader gets it */
    w->rhave = w->rerr == 0 && (k > 0 || w->msg);
    return 1;
}

static void pipe_start(xipc__ws *w)
{
    memset(&w->rov, 0, sizeof(w->rov));
    w->rov.hEvent = w->ev;
    w->rlen = w->roff = 0;
    w->rhave = 0;
    if (!ReadFile(w->h, w->rbuf, (DWORD)w->rcap, NULL, &w->rov)) {
        DWORD e = GetLastError();
        if (e != ERROR_IO_PENDING && e != ERROR_MORE_DATA) {
            w->rerr = e;
            return;
        }
    }
    w->rpending = 1; /* done at once or not: GetOverlappedResult says */
}

int xipc__ws_pipe_ready(xipc__ws *w)
{
    for (;;) {
        if (w->rhave || w->rerr != 0)
            return 1;
        if (!w->rpending) {
            pipe_start(w);
            continue;
        }
        if (!pipe_collect(w))
            return 0;
    }
}

xipc_err xipc__ws_pipe_wait(xipc__ws *w, xipc_deadline *d)
{
    AcquireSRWLockExclusive(&w->lock);
    for (;;) {
        if (xipc__ws_pipe_ready(w))
            return XIPC_OK;
        int left = xipc__deadline_left_ms(d);
        if (left == 0)
            return XIPC_ETIMEDOUT;
        ReleaseSRWLockExclusive(&w->lock);
        WaitForSingleObject(w->ev, left < 0 ? INFINITE : (DWORD)left);
        AcquireSRWLockExclusive(&w->lock);
    }
}

xipc_err xipc__ws_pipe_write(xipc__ws *w, const void *buf, size_t len, xipc_deadline *d,
                             size_t *done)
{
    OVERLAPPED ov;
    DWORD k = 0;
    *done = 0;
    if (len > 0x7fffffff)
        return XIPC_EMSGSIZE;
    memset(&ov, 0, sizeof(ov));
    ov.hEvent = w->wev;
    if (!WriteFile(w->h, buf, (DWORD)len, NULL, &ov)) {
        DWORD e = GetLastError();
        if (e != ERROR_IO_PENDING)
            return xipc__win32_err(e); /* a broken pipe: XIPC_ECLOSED */
        int left = xipc__deadline_left_ms(d);
        if (WaitForSingleObject(w->wev, left < 0 ? INFINITE : (DWORD)left) != WAIT_OBJECT_0)
            CancelIoEx(w->h, &ov); /* out of time: what went out is counted */
    }
    BOOL ok = GetOverlappedResult(w->h, &ov, &k, TRUE);
    DWORD e = ok ? 0 : GetLastError();
    *done = k;
    if (k == len)
        return XIPC_OK;
    return e == 0 || e == ERROR_OPERATION_ABORTED ? XIPC_ETIMEDOUT : xipc__win32_err(e);
}

/* ---- readiness ----------------------------------------------------------- */

/* Take the socket's new network events (resetting its event) into
 * w->seen; when there were any, set the event again, so that a thread
 * about to sleep on it looks once more. 0 when the socket has failed. */
static int sock_events(xipc__ws *w)
{
    WSANETWORKEVENTS ne;
    if (WSAEnumNetworkEvents(w->sock, w->ev, &ne) != 0)
        return 0;
    if (ne.lNetworkEvents == 0)
        return 1;
    if (ne.lNetworkEvents & FD_CONNECT)
        w->cerr = ne.iErrorCode[FD_CONNECT_BIT];
    InterlockedOr(&w->seen, ne.lNetworkEvents & (FD_ACCEPT | FD_WRITE | FD_CONNECT | FD_CLOSE));
    SetEvent(w->ev);
    return 1;
}

/* Is socket @p w ready for @p what (0: reading or accepting)? */
static int sock_ready(xipc__ws *w, long what)
{
    if (!sock_events(w))
        return 1; /* the next call reports the error */
    if (what != 0)
        return (w->seen & (what | FD_CLOSE)) != 0;
    if (w->listening)
        return (w->seen & FD_ACCEPT) != 0;
    char c;
    return recv(w->sock, &c, 1, MSG_PEEK) >= 0 || WSAGetLastError() != WSAEWOULDBLOCK;
}

xipc_err xipc__ws_sock_wait(xipc__ws *w, long what, xipc_deadline *d)
{
    for (;;) {
        if (sock_ready(w, what))
            return XIPC_OK;
        xipc_err rv = xipc__win32_wait_events(&w->ev, 1, d);
        if (rv != XIPC_OK)
            return rv == XIPC_ETIMEDOUT ? rv : XIPC_OK; /* a failed wait: look again */
    }
}

int xipc__ws_probe(xipc__ws *w)
{
    if (w->kind == XIPC__WS_SOCKET)
        return sock_ready(w, 0);
    AcquireSRWLockExclusive(&w->lock);
    int ready;
    if (w->kind == XIPC__WS_PIPE)
        ready = xipc__ws_pipe_ready(w);
    else
        ready = w->connected || w->lerr != 0 || HasOverlappedIoCompleted(&w->cov);
    ReleaseSRWLockExclusive(&w->lock);
    return ready;
}

static VOID CALLBACK wait_fired(PVOID ctx, BOOLEAN timed_out)
{
    (void)timed_out;
    SetEvent((HANDLE)ctx);
}

xipc_err xipc__win32_wait_events(const HANDLE *ev, unsigned n, xipc_deadline *d)
{
    int left = xipc__deadline_left_ms(d);
    DWORD ms = left < 0 ? INFINITE : (DWORD)left;
    if (n <= MAXIMUM_WAIT_OBJECTS) {
        DWORD r = WaitForMultipleObjects(n, ev, FALSE, ms);
        if (r == WAIT_TIMEOUT)
            return XIPC_ETIMEDOUT;
        return r == WAIT_FAILED ? xipc__win32_err(GetLastError()) : XIPC_OK;
    }
    /* more than one wait takes: the thread pool watches each, any of them
     * sets @p one */
    HANDLE one = CreateEventW(NULL, TRUE, FALSE, NULL);
    HANDLE *reg = calloc(n, sizeof(*reg));
    xipc_err rv = XIPC_OK;
    if (one == NULL || reg == NULL)
        rv = XIPC_ENOMEM;
    unsigned i = 0;
    for (; rv == XIPC_OK && i < n; i++)
        if (!RegisterWaitForSingleObject(&reg[i], ev[i], wait_fired, one, INFINITE,
                                         WT_EXECUTEONLYONCE)) {
            rv = xipc__win32_err(GetLastError());
            break;
        }
    if (rv == XIPC_OK && WaitForSingleObject(one, ms) == WAIT_TIMEOUT)
        rv = XIPC_ETIMEDOUT;
    while (i-- > 0)
        UnregisterWaitEx(reg[i], INVALID_HANDLE_VALUE); /* its callback is done */
    free(reg);
    if (one != NULL)
        CloseHandle(one);
    return rv;
}

xipc_err xipc_plat_sock_wait(xipc_plat_sock s, int want_write, int timeout_ms)
{
    xipc__ws *w = xipc__ws_get(s);
    if (w == NULL)
        return XIPC_EINVAL;
    xipc_deadline d = xipc__deadline(timeout_ms);
    if (w->kind == XIPC__WS_SOCKET)
        return xipc__ws_sock_wait(w, want_write ? FD_WRITE : 0, &d);
    if (want_write && w->kind == XIPC__WS_PIPE)
        return XIPC_OK; /* a write waits for room inside sendv */
    return xipc_plat_sock_wait_any(&s, 1, timeout_ms);
}

xipc_err xipc_plat_sock_wait_any(const xipc_plat_sock *s, unsigned n, int timeout_ms)
{
    HANDLE ev[1025];
    if (n == 0 || n > sizeof(ev) / sizeof(ev[0]))
        return XIPC_EINVAL;
    for (unsigned i = 0; i < n; i++) {
        xipc__ws *w = xipc__ws_get(s[i]);
        if (w == NULL)
            return XIPC_EINVAL;
        ev[i] = w->ev;
    }
    xipc_deadline d = xipc__deadline(timeout_ms);
    for (;;) {
        for (unsigned i = 0; i < n; i++)
            if (xipc__ws_probe(xipc__ws_get(s[i])))
                return XIPC_OK;
        if (d.poll)
            return XIPC_ETIMEDOUT;
        xipc_err rv = xipc__win32_wait_events(ev, n, &d);
        if (rv != XIPC_OK)
            return rv;
    }
}

/* ---- I/O ----------------------------------------------------------------- */

/* After error @p e of a non-blocking call: wait for input within @p d
 * (XIPC_OK: try again), or the error. */
static xipc_err sock_again(xipc__ws *w, int e, xipc_deadline *d)
{
    if (e != WSAEWOULDBLOCK)
        return xipc__win32_err((unsigned long)e);
    return xipc__ws_sock_wait(w, 0, d);
}

xipc_err xipc_plat_sock_accept(xipc_plat_sock l, int timeout_ms, xipc_plat_sock *out)
{
    xipc__ws *w = xipc__ws_get(l);
    if (w == NULL || w->kind == XIPC__WS_PIPE)
        return XIPC_EINVAL;
    if (w->kind == XIPC__WS_PLISTEN)
        return xipc__npipe_accept(w, timeout_ms, out);
    xipc_deadline d = xipc__deadline(timeout_ms);
    for (;;) {
        /* a refused accept makes the next connection post FD_ACCEPT */
        InterlockedAnd(&w->seen, ~(LONG)FD_ACCEPT);
        SOCKET c = accept(w->sock, NULL, NULL);
        if (c != INVALID_SOCKET) {
            BOOL one = TRUE; /* TCP only; fails harmlessly on Unix sockets */
            setsockopt(c, IPPROTO_TCP, TCP_NODELAY, (const char *)&one, sizeof(one));
            return xipc__ws_from_socket(c, out);
        }
        int e = WSAGetLastError();
        if (e == WSAECONNRESET)
            continue; /* gone before we took it */
        xipc_err rv = sock_again(w, e, &d);
        if (rv != XIPC_OK)
            return rv;
    }
}

/* Gather @p n buffers into one (a message pipe writes each call as one). */
static xipc_err pipe_sendv(xipc__ws *w, const xipc_plat_iov *iov, int n, size_t *sent,
                           int timeout_ms)
{
    xipc_deadline d = xipc__deadline(timeout_ms);
    if (n == 1)
        return xipc__ws_pipe_write(w, iov[0].base, iov[0].len, &d, sent);
    size_t total = 0;
    for (int i = 0; i < n; i++) {
        if (iov[i].len > SIZE_MAX - total)
            return XIPC_EINVAL;
        total += iov[i].len;
    }
    uint8_t *buf = malloc(total > 0 ? total : 1);
    if (buf == NULL)
        return XIPC_ENOMEM;
    size_t at = 0;
    for (int i = 0; i < n; i++) {
        if (iov[i].len > 0)
            memcpy(buf + at, iov[i].base, iov[i].len);
        at += iov[i].len;
    }
    xipc_err rv = xipc__ws_pipe_write(w, buf, total, &d, sent);
    free(buf);
    return rv;
}

xipc_err xipc_plat_sock_sendv(xipc_plat_sock s, const xipc_plat_iov *iov, int n, size_t *sent,
                              int timeout_ms)
{
    xipc__ws *w = xipc__ws_get(s);
    *sent = 0;
    if (w == NULL || w->kind == XIPC__WS_PLISTEN || n < 1 || n > 8)
        return XIPC_EINVAL;
    if (w->kind == XIPC__WS_PIPE)
        return pipe_sendv(w, iov, n, sent, timeout_ms);
    xipc_plat_iov v[8];
    memcpy(v, iov, (size_t)n * sizeof(v[0]));
    xipc_deadline d = xipc__deadline(timeout_ms);
    int first = 0;
    size_t done = 0;
    while (first < n) {
        WSABUF b[8];
        DWORD cnt = 0, k = 0;
        for (int i = first; i < n; i++, cnt++) {
            /* WSABUF lengths are 32 bits: a larger buffer goes in parts */
            b[cnt].len = v[i].len > 0x40000000 ? 0x40000000 : (ULONG)v[i].len;
            b[cnt].buf = (char *)v[i].base;
        }
        /* a refused send makes the next room post FD_WRITE */
        InterlockedAnd(&w->seen, ~(LONG)FD_WRITE);
        if (WSASend(w->sock, b, cnt, &k, 0, NULL, NULL) != 0) {
            int e = WSAGetLastError();
            if (e != WSAEWOULDBLOCK)
                return xipc__win32_err((unsigned long)e);
            xipc_err rv = timeout_ms == 0 ? XIPC_ETIMEDOUT : xipc__ws_sock_wait(w, FD_WRITE, &d);
            if (rv != XIPC_OK)
                return rv;
            continue;
        }
        InterlockedOr(&w->seen, FD_WRITE);
        done += k;
        *sent = done;
        while (first < n && k >= v[first].len) {
            k -= (DWORD)v[first].len;
            first++;
        }
        if (first < n) {
            v[first].base = (const uint8_t *)v[first].base + k;
            v[first].len -= k;
        }
    }
    return XIPC_OK;
}

static xipc_err pipe_recv(xipc__ws *w, void *buf, size_t cap, size_t *got, int timeout_ms)
{
    xipc_deadline d = xipc__deadline(timeout_ms);
    for (;;) {
        xipc_err rv = xipc__ws_pipe_wait(w, &d); /* returns with the lock */
        if (rv == XIPC_OK && w->roff == w->rlen && w->rhave) {
            w->rhave = 0; /* an empty message: nothing for a byte reader */
            ReleaseSRWLockExclusive(&w->lock);
            continue;
        }
        if (rv == XIPC_OK && w->rhave) {
            size_t k = w->rlen - w->roff < cap ? w->rlen - w->roff : cap;
            memcpy(buf, w->rbuf + w->roff, k);
            w->roff += k;
            w->rhave = w->roff < w->rlen;
            *got = k;
        } else if (rv == XIPC_OK) {
            DWORD e = w->rerr;
            /* the peer closed or is gone: the end of the stream */
            rv = e == ERROR_BROKEN_PIPE || e == ERROR_PIPE_NOT_CONNECTED || e == ERROR_NO_DATA
                     ? XIPC_ECLOSED
                     : xipc__win32_err(e);
        }
        ReleaseSRWLockExclusive(&w->lock);
        return rv;
    }
}

xipc_err xipc_plat_sock_recv(xipc_plat_sock s, void *buf, size_t cap, size_t *got,
                             int timeout_ms)
{
    xipc__ws *w = xipc__ws_get(s);
    *got = 0;
    if (w == NULL || w->kind == XIPC__WS_PLISTEN || cap == 0)
        return XIPC_EINVAL;
    if (w->kind == XIPC__WS_PIPE)
        return pipe_recv(w, buf, cap, got, timeout_ms);
    xipc_deadline d = xipc__deadline(timeout_ms);
    int len = cap > INT_MAX ? INT_MAX : (int)cap;
    for (;;) {
        int k = recv(w->sock, buf, len, 0);
        if (k > 0) {
            *got = (size_t)k;
            return XIPC_OK;
        }
        if (k == 0)
            return XIPC_ECLOSED;
        xipc_err rv = sock_again(w, WSAGetLastError(), &d);
        if (rv != XIPC_OK)
            return rv;
    }
}

void xipc_plat_sock_close(xipc_plat_sock s)
{
    xipc__ws *w = xipc__ws_get(s);
    if (w == NULL)
        return;
    if (w->kind == XIPC__WS_SOCKET) {
        closesocket(w->sock);
    } else if (w->h != INVALID_HANDLE_VALUE) {
        /* what is in flight reads into or from this object: end it first */
        DWORD k;
        CancelIoEx(w->h, NULL);
        if (w->kind == XIPC__WS_PIPE && w->rpending)
            GetOverlappedResult(w->h, &w->rov, &k, TRUE);
        if (w->kind == XIPC__WS_PLISTEN && !w->connected && w->lerr == 0)
            GetOverlappedResult(w->h, &w->cov, &k, TRUE);
        CloseHandle(w->h);
    }
    ws_free(w);
}

xipc_err xipc_plat_sock_peer(xipc_plat_sock s, uint32_t *pid, uint32_t *uid)
{
    xipc__ws *w = xipc__ws_get(s);
    if (w == NULL)
        return XIPC_EINVAL;
    ULONG p = 0;
    if (w->kind == XIPC__WS_SOCKET) {
        /* a Unix socket (Windows 10 1803 on) knows its peer's pid */
        DWORD k = 0;
        if (WSAIoctl(w->sock, SIO_AF_UNIX_GETPEERPID, NULL, 0, &p, sizeof(p), &k, NULL,
                     NULL) != 0 ||
            p == 0)
            return XIPC_ENOTSUP;
    } else if (w->kind == XIPC__WS_PIPE) {
        uint32_t pp;
        xipc_err rv = xipc__ws_peer_pid(w, &pp);
        if (rv != XIPC_OK)
            return rv;
        p = pp;
    } else {
        return XIPC_ENOTSUP;
    }
    *pid = (uint32_t)p;
    return xipc__win32_uid_of_pid((uint32_t)p, uid);
}

int xipc_plat_sock_peer_addr(xipc_plat_sock s, uint8_t addr[16])
{
    xipc__ws *w = xipc__ws_get(s);
    struct sockaddr_storage ss;
    int len = (int)sizeof(ss);
    memset(&ss, 0, sizeof(ss));
    if (w == NULL || w->kind != XIPC__WS_SOCKET ||
        getpeername(w->sock, (struct sockaddr *)&ss, &len) != 0)
        return 0;
    if (ss.ss_family == AF_INET) {
        memcpy(addr, &((const struct sockaddr_in *)&ss)->sin_addr, 4);
        return 4;
    }
    if (ss.ss_family == AF_INET6) {
        static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        const uint8_t *a = (const uint8_t *)&((const struct sockaddr_in6 *)&ss)->sin6_addr;
        if (memcmp(a, mapped, sizeof(mapped)) == 0) {
            memcpy(addr, a + 12, 4);
            return 4;
        }
        memcpy(addr, a, 16);
        return 16;
    }
    return 0;
}
