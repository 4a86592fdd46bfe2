/*
 * Named pipes: the listeners and dialers of pipe:// (byte streams) and
 * the message sockets of shm:// (message-mode pipes carrying handles).
 * Every instance has a DACL that grants the current user alone; the
 * first one of a name is made with FILE_FLAG_FIRST_PIPE_INSTANCE, so
 * nobody can have planted the name before us and a second listener fails.
 */
#include <winsock2.h>
#include <windows.h>
#include <stdlib.h>
#include <string.h>

#include "platform/win32/win32_shm.h"
#include "platform/win32/win32_stream.h"

#define NPIPE_PREFIX L"\\\\.\\pipe\\"
#define NPIPE_NAME_MAX 256 /* characters of a whole pipe name */
#define NPIPE_BUF 65536    /* each direction's buffer */
#define NPIPE_TRAILER 8    /* a message sock's handle value, at its end */

xipc_err xipc__win32_wide(const char *s, WCHAR **out)
{
    if (s == NULL)
        return XIPC_EINVAL;
    int n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, NULL, 0);
    if (n <= 0)
        return XIPC_EINVAL;
    WCHAR *w = malloc((size_t)n * sizeof(WCHAR));
    if (w == NULL)
        return XIPC_ENOMEM;
    MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, w, n);
    *out = w;
    return XIPC_OK;
}

/* @p pre + @p s in UTF-16, '\' turned into '/' in @p s with @p slash;
 * XIPC_EINVAL beyond what a pipe name holds. */
static xipc_err npipe_join(const WCHAR *pre, const char *s, int slash, WCHAR **out)
{
    WCHAR *w;
    if (s == NULL || s[0] == '\0')
        return XIPC_EINVAL;
    xipc_err rv = xipc__win32_wide(s, &w);
    if (rv != XIPC_OK)
        return rv;
    size_t n = wcslen(pre) + wcslen(w);
    WCHAR *full = n <= NPIPE_NAME_MAX ? malloc((n + 1) * sizeof(WCHAR)) : NULL;
    if (full != NULL) {
        for (WCHAR *c = w; slash && *c; c++)
            if (*c == L'\\')
                *c = L'/';
        wcscpy(full, pre);
        wcscat(full, w);
    }
    free(w);
    if (full == NULL)
        return n > NPIPE_NAME_MAX ? XIPC_EINVAL : XIPC_ENOMEM;
    *out = full;
    return XIPC_OK;
}

/* "\\.\pipe\" + @p name, unless it starts so already. */
static xipc_err npipe_name(const char *name, WCHAR **out)
{
    int has = name != NULL && _strnicmp(name, "\\\\.\\pipe\\", 9) == 0;
    if (has && name[9] == '\0')
        return XIPC_EINVAL;
    return npipe_join(has ? L"" : NPIPE_PREFIX, name, 0, out);
}

/* A security descriptor whose DACL grants our token user alone. */
typedef struct npipe_sd {
    SECURITY_DESCRIPTOR sd;
    union {
        TOKEN_USER tu;
        uint8_t raw[256];
    } user;
    union {
        ACL acl;
        uint8_t raw[512];
    } dacl;
} npipe_sd;

static xipc_err npipe_sd_init(npipe_sd *s)
{
    HANDLE tok;
    DWORD k;
    if (!OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &tok))
        return xipc__win32_err(GetLastError());
    BOOL ok = GetTokenInformation(tok, TokenUser, &s->user, sizeof(s->user), &k);
    DWORD e = GetLastError();
    CloseHandle(tok);
    if (!ok || !InitializeAcl(&s->dacl.acl, sizeof(s->dacl), ACL_REVISION) ||
        !AddAccessAllowedAce(&s->dacl.acl, ACL_REVISION, GENERIC_ALL, s->user.tu.User.Sid) ||
        !InitializeSecurityDescriptor(&s->sd, SECURITY_DESCRIPTOR_REVISION) ||
        !SetSecurityDescriptorDacl(&s->sd, TRUE, &s->dacl.acl, FALSE))
        return xipc__win32_err(ok ? GetLastError() : e);
    return XIPC_OK;
}

xipc_err xipc__npipe_create(const WCHAR *name, int msg, int first, HANDLE *out)
{
    npipe_sd s;
    xipc_err rv = npipe_sd_init(&s);
    if (rv != XIPC_OK)
        return rv;
    /* Windows refuses the first instance of a name that exists; wine 8
     * ignores FILE_FLAG_FIRST_PIPE_INSTANCE (measured: a second listener
     * got a second instance). So look first: any answer but "no such
     * pipe" means someone has the name. Where the flag works it also
     * closes the window between the look and the create. */
    if (first && (WaitNamedPipeW(name, 1) || GetLastError() != ERROR_FILE_NOT_FOUND))
        return XIPC_EADDRINUSE;
    SECURITY_ATTRIBUTES sa = {sizeof(sa), &s.sd, FALSE};
    DWORD mode = msg ? PIPE_TYPE_MESSAGE | PIPE_READMODE_MESSAGE : PIPE_TYPE_BYTE;
    HANDLE h = CreateNamedPipeW(name,
                                PIPE_ACCESS_DUPLEX | FILE_FLAG_OVERLAPPED |
                                    (first ? FILE_FLAG_FIRST_PIPE_INSTANCE : 0),
                                mode | PIPE_WAIT | PIPE_REJECT_REMOTE_CLIENTS,
                                PIPE_UNLIMITED_INSTANCES, NPIPE_BUF, NPIPE_BUF, 0, &sa);
    if (h == INVALID_HANDLE_VALUE) {
        DWORD e = GetLastError();
        rv = xipc__win32_err(e);
        /* the first instance of a name that exists: someone listens */
        return first && e == ERROR_ACCESS_DENIED ? XIPC_EADDRINUSE : rv;
    }
    *out = h;
    return XIPC_OK;
}

/* Start waiting for the next client on the listener's instance. */
static void npipe_listen_start(xipc__ws *w)
{
    for (;;) {
        memset(&w->cov, 0, sizeof(w->cov));
        w->cov.hEvent = w->ev;
        ResetEvent(w->ev);
        w->connected = 0;
        w->lerr = 0;
        if (ConnectNamedPipe(w->h, &w->cov))
            break;
        DWORD e = GetLastError();
        if (e == ERROR_IO_PENDING)
            return;
        if (e == ERROR_NO_DATA) { /* it came and went already */
            DisconnectNamedPipe(w->h);
            continue;
        }
        if (e != ERROR_PIPE_CONNECTED)
            w->lerr = e;
        break;
    }
    w->connected = w->lerr == 0;
    SetEvent(w->ev); /* ready: the next accept reports it */
}

/* A listener at pipe name @p wname (taken). */
static xipc_err npipe_listen(WCHAR *wname, int msg, xipc_plat_sock *out)
{
    xipc__ws *w = xipc__ws_alloc(XIPC__WS_PLISTEN);
    if (w == NULL) {
        free(wname);
        return XIPC_ENOMEM;
    }
    w->name = wname;
    w->msg = msg;
    xipc_err rv = xipc__npipe_create(wname, msg, 1, &w->h);
    if (rv != XIPC_OK) {
        xipc_plat_sock_close((xipc_plat_sock)w);
        return rv;
    }
    npipe_listen_start(w);
    *out = (xipc_plat_sock)w;
    return XIPC_OK;
}

xipc_err xipc__npipe_accept(xipc__ws *w, int timeout_ms, xipc_plat_sock *out)
{
    xipc_deadline d = xipc__deadline(timeout_ms);
    AcquireSRWLockExclusive(&w->lock);
    for (;;) {
        DWORD k;
        if (!w->connected && w->lerr == 0) {
            if (GetOverlappedResult(w->h, &w->cov, &k, FALSE)) {
                w->connected = 1;
            } else {
                DWORD e = GetLastError();
                if (e == ERROR_NO_DATA) { /* gone before we took it */
                    DisconnectNamedPipe(w->h);
                    npipe_listen_start(w);
                    continue;
                }
                if (e != ERROR_IO_INCOMPLETE)
                    w->lerr = e;
            }
        }
        if (w->lerr != 0) {
            xipc_err rv = xipc__win32_err(w->lerr);
            ReleaseSRWLockExclusive(&w->lock);
            return rv;
        }
        if (w->connected) {
            /* the next instance first: a client never finds none */
            HANDLE next, c = w->h;
            xipc_err rv = xipc__npipe_create(w->name, w->msg, 0, &next);
            if (rv == XIPC_OK) {
                w->h = next;
                npipe_listen_start(w);
            }
            ReleaseSRWLockExclusive(&w->lock);
            return rv == XIPC_OK ? xipc__ws_from_pipe(c, w->msg, 1, 0, out) : rv;
        }
        int left = xipc__deadline_left_ms(&d);
        if (left == 0) {
            ReleaseSRWLockExclusive(&w->lock);
            return XIPC_ETIMEDOUT;
        }
        ReleaseSRWLockExclusive(&w->lock);
        WaitForSingleObject(w->ev, left < 0 ? INFINITE : (DWORD)left);
        AcquireSRWLockExclusive(&w->lock);
    }
}

static xipc_err npipe_dial(WCHAR *wname, int msg, int timeout_ms, xipc_plat_sock *out)
{
    xipc_deadline d = xipc__deadline(timeout_ms);
    HANDLE h;
    for (;;) {
        /* SECURITY_IDENTIFICATION: the server may learn who we are, not
         * act as us */
        h = CreateFileW(wname, GENERIC_READ | GENERIC_WRITE, 0, NULL, OPEN_EXISTING,
                        FILE_FLAG_OVERLAPPED | SECURITY_SQOS_PRESENT | SECURITY_IDENTIFICATION,
                        NULL);
        if (h != INVALID_HANDLE_VALUE)
            break;
        DWORD e = GetLastError();
        if (e == ERROR_PIPE_BUSY) { /* every instance is taken: wait for one */
            int left = xipc__deadline_left_ms(&d);
            if (left == 0) {
                free(wname);
                return XIPC_ETIMEDOUT;
            }
            if (WaitNamedPipeW(wname, left < 0 ? NMPWAIT_WAIT_FOREVER : (DWORD)left) ||
                GetLastError() != ERROR_FILE_NOT_FOUND)
                continue;
            e = ERROR_FILE_NOT_FOUND;
        }
        free(wname);
        if (e == ERROR_FILE_NOT_FOUND) { /* nobody listens there */
            xipc__set_syserr((int)e);
            return XIPC_ECONNREFUSED;
        }
        return xipc__win32_err(e);
    }
    free(wname);
    DWORD mode = PIPE_READMODE_MESSAGE;
    if (msg && !SetNamedPipeHandleState(h, &mode, NULL, NULL)) {
        xipc_err rv = xipc__win32_err(GetLastError());
        CloseHandle(h);
        return rv;
    }
    return xipc__ws_from_pipe(h, msg, 0, 0, out);
}

xipc_err xipc_plat_npipe_listen(const char *name, int backlog, xipc_plat_sock *out)
{
    WCHAR *wname;
    (void)backlog; /* clients wait for an instance in WaitNamedPipe instead */
    xipc_err rv = npipe_name(name, &wname);
    return rv != XIPC_OK ? rv : npipe_listen(wname, 0, out);
}

xipc_err xipc_plat_npipe_dial(const char *name, int timeout_ms, xipc_plat_sock *out)
{
    WCHAR *wname;
    xipc_err rv = npipe_name(name, &wname);
    return rv != XIPC_OK ? rv : npipe_dial(wname, 0, timeout_ms, out);
}

/*
 * Windows lists the pipe file system's root with FindFirstFileW on
 * "\\.\pipe\*". Wine 8 cannot (measured here: FindFirstFileW fails with
 * ERROR_BAD_DEV_TYPE, 66): XIPC_ENOTSUP there. A name can still be
 * looked up one at a time (WaitNamedPipeW).
 */
xipc_err xipc_plat_npipe_list(const char *prefix, void (*fn)(const char *name, void *arg),
                              void *arg)
{
    WIN32_FIND_DATAW fd;
    size_t plen = prefix != NULL ? strlen(prefix) : 0;
    HANDLE f = FindFirstFileW(NPIPE_PREFIX L"*", &fd);
    if (f == INVALID_HANDLE_VALUE) {
        DWORD e = GetLastError();
        if (e == ERROR_FILE_NOT_FOUND || e == ERROR_NO_MORE_FILES)
            return XIPC_OK; /* no pipe at all */
        xipc_err rv = xipc__win32_err(e);
        return e == ERROR_BAD_DEV_TYPE || e == ERROR_INVALID_FUNCTION ? XIPC_ENOTSUP : rv;
    }
    do {
        char name[4 * MAX_PATH];
        if (WideCharToMultiByte(CP_UTF8, 0, fd.cFileName, -1, name, (int)sizeof(name), NULL,
                                NULL) > 0 &&
            strncmp(name, prefix != NULL ? prefix : "", plen) == 0)
            fn(name, arg);
    } while (FindNextFileW(f, &fd));
    FindClose(f);
    return XIPC_OK;
}

/* ---- the message sockets of shm:// ------------------------------------- */

/* "\\.\pipe\xipc" + @p path with '\' as '/': the same path, the same name. */
static xipc_err msgsock_name(const char *path, WCHAR **out)
{
    return npipe_join(NPIPE_PREFIX L"xipc", path, 1, out);
}

/*
 * A message listener also holds a lock file at @p path, as a Unix socket
 * leaves its file there: `xipc ls` finds the endpoint by listing the
 * folder (xipc_plat_sock_file), and a dead listener's file is known stale.
 */
xipc_err xipc_plat_msgsock_listen(const char *path, int backlog, xipc_plat_sock *out)
{
    WCHAR *wname;
    intptr_t lock = -1;
    (void)backlog;
    xipc_err rv = msgsock_name(path, &wname);
    if (rv != XIPC_OK)
        return rv;
    char *lockpath = _strdup(path);
    rv = lockpath == NULL ? XIPC_ENOMEM : xipc_plat_lockfile_acquire(&lock, path);
    if (rv != XIPC_OK) {
        free(wname);
        free(lockpath);
        return rv;
    }
    rv = npipe_listen(wname, 1, out); /* takes wname */
    if (rv != XIPC_OK) {
        xipc_plat_lockfile_release(lock, path);
        free(lockpath);
        return rv;
    }
    xipc__ws *w = xipc__ws_get(*out);
    w->lockfile = lock;
    w->lockpath = lockpath;
    return XIPC_OK;
}

int xipc_plat_sock_file(const char *path)
{
    return xipc_plat_file_kind(path) == XIPC_PLAT_FILE_REG;
}

xipc_err xipc_plat_msgsock_dial(const char *path, int timeout_ms, xipc_plat_sock *out)
{
    WCHAR *wname;
    xipc_err rv = msgsock_name(path, &wname);
    return rv != XIPC_OK ? rv : npipe_dial(wname, 1, timeout_ms, out);
}

xipc_err xipc__ws_peer_pid(xipc__ws *w, uint32_t *pid)
{
    ULONG p = w->peer_pid;
    if (p == 0 && !(w->server ? GetNamedPipeClientProcessId(w->h, &p)
                              : GetNamedPipeServerProcessId(w->h, &p)))
        return xipc__win32_err(GetLastError());
    *pid = (uint32_t)p;
    return XIPC_OK;
}

/*
 * Handles travel as values: the sender duplicates its handle into the
 * process at the other end of the pipe (whose pid the kernel reports) and
 * sends the value it has there, in 8 bytes after the message (-1: none).
 * So, as with SCM_RIGHTS, the object is the receiver's from the moment it
 * was sent: the sender may close its own handle or die before the
 * receiver reads the message (a dialler of shm:// does both).
 *
 * The other way, the receiver duplicating the value out of the sender,
 * would let a hostile sender hand over only objects it holds itself, but
 * loses the object when the sender exits first. Here a hostile sender can
 * name any handle value of the receiver's; the receiver therefore takes
 * only a section named as xipc names them that it has not mapped
 * (xipc__win32_shm_given), and neither uses nor closes anything else. A
 * same-user process could open the receiver with PROCESS_DUP_HANDLE
 * anyway (SECURITY.md, Windows).
 */
xipc_err xipc_plat_sock_send_handle(xipc_plat_sock s, const void *buf, size_t len, intptr_t h)
{
    xipc__ws *w = xipc__ws_get(s);
    if (w == NULL || w->kind != XIPC__WS_PIPE || !w->msg || len > NPIPE_BUF - NPIPE_TRAILER)
        return XIPC_EINVAL;
    uint8_t *msg = malloc(len + NPIPE_TRAILER);
    if (msg == NULL)
        return XIPC_ENOMEM;
    int64_t v = -1;
    HANDLE peer = NULL, theirs = NULL;
    uint32_t pid = 0;
    xipc_err rv = XIPC_OK;
    if (h != -1) {
        rv = xipc__ws_peer_pid(w, &pid);
        if (rv == XIPC_OK && (peer = OpenProcess(PROCESS_DUP_HANDLE, FALSE, pid)) == NULL)
            rv = xipc__win32_err(GetLastError());
        if (rv == XIPC_OK && !DuplicateHandle(GetCurrentProcess(), (HANDLE)h, peer, &theirs,
                                              0, FALSE, DUPLICATE_SAME_ACCESS))
            rv = xipc__win32_err(GetLastError());
        /* a process that is dying refuses to be opened (access denied):
         * that is the other end gone, not a permission */
        if (rv != XIPC_OK && rv != XIPC_ENOMEM && !xipc_plat_pid_alive(pid))
            rv = XIPC_ECLOSED;
        v = (int64_t)(intptr_t)theirs;
    }
    if (rv == XIPC_OK) {
        if (len > 0)
            memcpy(msg, buf, len);
        memcpy(msg + len, &v, sizeof(v));
        xipc_deadline d = xipc__deadline(0);
        size_t done;
        rv = xipc__ws_pipe_write(w, msg, len + NPIPE_TRAILER, &d, &done);
        if (rv == XIPC_ETIMEDOUT)
            rv = XIPC_EBUSY; /* cancelled: nothing went */
        if (rv != XIPC_OK && theirs != NULL) /* take it back out of the peer */
            DuplicateHandle(peer, theirs, NULL, NULL, 0, FALSE, DUPLICATE_CLOSE_SOURCE);
    }
    if (peer != NULL)
        CloseHandle(peer);
    free(msg);
    return rv;
}

xipc_err xipc_plat_sock_recv_handle(xipc_plat_sock s, void *buf, size_t cap, size_t *len,
                                    intptr_t *h)
{
    xipc__ws *w = xipc__ws_get(s);
    *h = -1;
    *len = 0;
    if (w == NULL || w->kind != XIPC__WS_PIPE || !w->msg)
        return XIPC_EINVAL;
    xipc_deadline d = xipc__deadline(0);
    xipc_err rv = xipc__ws_pipe_wait(w, &d); /* returns with the lock */
    int64_t v = -1;
    if (rv == XIPC_OK && !w->rhave) {
        DWORD e = w->rerr;
        rv = e == ERROR_BROKEN_PIPE || e == ERROR_PIPE_NOT_CONNECTED || e == ERROR_NO_DATA
                 ? XIPC_ECLOSED
                 : xipc__win32_err(e);
    } else if (rv == XIPC_OK) {
        int bad = w->rmore || w->rlen < NPIPE_TRAILER || w->rlen - NPIPE_TRAILER > cap;
        while (w->rmore && w->rerr == 0) { /* refused whole: read the rest away */
            DWORD k;
            w->rhave = 0;
            memset(&w->rov, 0, sizeof(w->rov));
            w->rov.hEvent = w->ev;
            if (!ReadFile(w->h, w->rbuf, (DWORD)w->rcap, NULL, &w->rov) &&
                GetLastError() != ERROR_IO_PENDING && GetLastError() != ERROR_MORE_DATA)
                break;
            BOOL ok = GetOverlappedResult(w->h, &w->rov, &k, TRUE);
            w->rmore = !ok && GetLastError() == ERROR_MORE_DATA;
        }
        if (!bad && w->rlen >= NPIPE_TRAILER)
            memcpy(&v, w->rbuf + w->rlen - NPIPE_TRAILER, sizeof(v));
        if (v != -1 && !xipc__win32_shm_given((HANDLE)(intptr_t)v))
            bad = 1; /* not a section given to us: left alone, it may be ours */
        else if (bad && v != -1)
            CloseHandle((HANDLE)(intptr_t)v); /* given with a bad message */
        if (bad) {
            rv = XIPC_EPROTO;
        } else {
            *len = w->rlen - NPIPE_TRAILER;
            memcpy(buf, w->rbuf, *len);
            *h = (intptr_t)v;
        }
        w->rhave = 0;
        w->rmore = 0;
    }
    ReleaseSRWLockExclusive(&w->lock);
    return rv;
}

void xipc_plat_handle_close(intptr_t h)
{
    if (h != -1 && h != 0)
        CloseHandle((HANDLE)h);
}
