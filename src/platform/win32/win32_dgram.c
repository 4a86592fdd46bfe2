/*
 * The "local datagrams" group on Windows: mailslots. What mailslot:// is
 * made of on Windows, with the lock files of win32_dir.c.
 *
 * The contract binds datagram sockets at paths in a private folder, so
 * that a client finds every server of NAME by listing the folder (POSIX
 * binds AF_UNIX sockets there). Windows allows one server per mailslot
 * name, and mailslots cannot be listed; so here a bound "socket" is two
 * things: the lock file at the path, held while the server lives (the
 * kernel drops the lock however the process ends), and the mailslot
 * \\.\mailslot\xipc\<hash of the path>, which dies with its process. A
 * client lists the folder as on POSIX and writes to each live server's
 * own mailslot. Writing to a mailslot never blocks: a message is queued
 * in the server's process until read.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <windows.h>

#include "platform/win32/win32.h"

/* Local mailslot messages have no size limit of their own; xipc keeps
 * them to what a POSIX host commonly carries in one datagram. */
#define DGRAM_LIMIT (1u << 20)

typedef struct w32_dgram {
    HANDLE h;      /* the mailslot (server) or a handle to write to it */
    intptr_t lock; /* server: the lock file at its path; -1 for a client */
    HANDLE proc;   /* client: the server's process (NULL: not opened) */
    HANDLE ev;     /* client: the event of a write (overlapped) */
    char *path;    /* server: that path */
} w32_dgram;

uint32_t xipc_plat_dgram_limit(void)
{
    return DGRAM_LIMIT;
}

/* The mailslot of the endpoint at @p path: FNV-1a 64 of the path. */
void xipc__win32_mailslot_name(wchar_t *out, const char *path)
{
    uint64_t x = 0xcbf29ce484222325ull;
    for (const unsigned char *p = (const unsigned char *)path; *p != '\0'; p++) {
        unsigned char c = *p == '\\' ? '/' : *p; /* one path, one name */
        x = (x ^ c) * 0x100000001b3ull;
    }
    swprintf(out, XIPC_WIN32_MAILSLOT_MAX, L"\\\\.\\mailslot\\xipc\\%016llx", (unsigned long long)x);
}

static w32_dgram *dgram_new(void)
{
    w32_dgram *d = malloc(sizeof(*d));
    if (d != NULL) {
        d->h = INVALID_HANDLE_VALUE;
        d->lock = -1;
        d->proc = NULL;
        d->ev = NULL;
        d->path = NULL;
    }
    return d;
}

xipc_err xipc_plat_dgram_bind(intptr_t *h, const char *path, uint32_t max_msg)
{
    *h = -1;
    if (max_msg == 0 || max_msg > DGRAM_LIMIT)
        return XIPC_EINVAL;
    if (xipc_plat_file_kind(path) != XIPC_PLAT_FILE_NONE)
        return XIPC_EADDRINUSE;
    w32_dgram *d = dgram_new();
    if (d == NULL)
        return XIPC_ENOMEM;
    d->path = _strdup(path);
    if (d->path == NULL) {
        free(d);
        return XIPC_ENOMEM;
    }
    xipc_err rv = xipc_plat_lockfile_acquire(&d->lock, path);
    if (rv != XIPC_OK) {
        free(d->path);
        free(d);
        return rv;
    }
    wchar_t name[XIPC_WIN32_MAILSLOT_MAX];
    xipc__win32_mailslot_name(name, path);
    d->h = CreateMailslotW(name, max_msg, 0, NULL);
    if (d->h == INVALID_HANDLE_VALUE) {
        DWORD e = GetLastError();
        rv = e == ERROR_ALREADY_EXISTS ? XIPC_EADDRINUSE : xipc__win32_err(e);
        xipc_plat_lockfile_release(d->lock, path);
        free(d->path);
        free(d);
        return rv;
    }
    *h = (intptr_t)d;
    return XIPC_OK;
}

xipc_err xipc_plat_dgram_connect(intptr_t *h, const char *path)
{
    *h = -1;
    uint32_t pid;
    xipc_err rv = xipc_plat_lockfile_owner(path, &pid);
    if (rv == XIPC_ENOENT)
        return xipc_plat_file_kind(path) == XIPC_PLAT_FILE_NONE ? XIPC_ENOENT
                                                                 : XIPC_ECONNREFUSED;
    if (rv != XIPC_OK)
        return rv;
    w32_dgram *d = dgram_new();
    if (d == NULL)
        return XIPC_ENOMEM;
    wchar_t name[XIPC_WIN32_MAILSLOT_MAX];
    xipc__win32_mailslot_name(name, path);
    /* overlapped: a write that does not complete at once is not waited
     * for (wine blocks a write to a full mailslot; Windows does not) */
    d->h = CreateFileW(name, GENERIC_WRITE, FILE_SHARE_READ, NULL, OPEN_EXISTING,
                       FILE_ATTRIBUTE_NORMAL | FILE_FLAG_OVERLAPPED, NULL);
    if (d->h == INVALID_HANDLE_VALUE) {
        DWORD e = GetLastError();
        free(d);
        /* the lock's holder is still starting, or has just gone */
        return e == ERROR_FILE_NOT_FOUND ? XIPC_ECONNREFUSED : xipc__win32_err(e);
    }
    /* the lock's holder, watched: under wine a server killed inside its
     * ReadFile leaves its mailslot open in wineserver, where writes go on
     * succeeding; Windows ends the mailslot with its process */
    d->proc = OpenProcess(SYNCHRONIZE, FALSE, (DWORD)pid);
    d->ev = CreateEventW(NULL, TRUE, FALSE, NULL);
    if (d->ev == NULL) {
        xipc_plat_dgram_close((intptr_t)d);
        return XIPC_ENOMEM;
    }
    *h = (intptr_t)d;
    return XIPC_OK;
}

xipc_err xipc_plat_dgram_send(intptr_t h, const void *buf, size_t len)
{
    w32_dgram *d = (w32_dgram *)h;
    if (d == NULL || d->lock >= 0)
        return XIPC_EINVAL;
    if (len > DGRAM_LIMIT)
        return XIPC_EMSGSIZE;
    if (d->proc != NULL && WaitForSingleObject(d->proc, 0) == WAIT_OBJECT_0)
        return XIPC_ECONNREFUSED; /* its server is gone */
    DWORD put = 0;
    OVERLAPPED ov;
    memset(&ov, 0, sizeof(ov));
    ov.hEvent = d->ev;
    BOOL ok = WriteFile(d->h, buf, (DWORD)len, NULL, &ov);
    if (!ok && GetLastError() == ERROR_IO_PENDING) {
        CancelIoEx(d->h, &ov); /* too late when it has completed meanwhile */
        ok = TRUE;
    }
    if (ok)
        ok = GetOverlappedResult(d->h, &ov, &put, TRUE);
    if (!ok) {
        DWORD e = GetLastError();
        if (e == ERROR_OPERATION_ABORTED)
            return XIPC_EBUSY; /* a full mailslot (wine): dropped */
        if (e == ERROR_NOT_ENOUGH_MEMORY || e == ERROR_NO_SYSTEM_RESOURCES)
            return XIPC_EBUSY;
        if (e == ERROR_INVALID_PARAMETER || e == ERROR_BAD_LENGTH)
            return XIPC_EMSGSIZE; /* beyond the server's largest message */
        if (e == ERROR_HANDLE_EOF || e == ERROR_BROKEN_PIPE || e == ERROR_NO_DATA ||
            e == ERROR_FILE_NOT_FOUND)
            return XIPC_ECONNREFUSED;
        return xipc__win32_err(e);
    }
    return put == len ? XIPC_OK : XIPC_ESYS;
}

int xipc_plat_dgram_live(const char *path)
{
    uint32_t pid;
    xipc_err rv = xipc_plat_lockfile_owner(path, &pid);
    return rv != XIPC_ENOENT; /* what cannot be proved stale is kept */
}

xipc_err xipc_plat_dgram_recv(intptr_t h, void *buf, size_t cap, size_t max,
                              size_t *len, int timeout_ms)
{
    w32_dgram *d = (w32_dgram *)h;
    if (d == NULL || d->lock < 0)
        return XIPC_EINVAL;
    DWORD next = MAILSLOT_NO_MESSAGE, count = 0, got = 0;
    /* the read waits up to the mailslot's read timeout */
    if (!SetMailslotInfo(d->h, timeout_ms < 0 ? MAILSLOT_WAIT_FOREVER : (DWORD)timeout_ms))
        return xipc__win32_err(GetLastError());
    DWORD want = cap > DGRAM_LIMIT ? DGRAM_LIMIT : (DWORD)cap;
    if (ReadFile(d->h, buf, want, &got, NULL)) {
        *len = got;
        return XIPC_OK;
    }
    DWORD e = GetLastError();
    if (e == ERROR_SEM_TIMEOUT)
        return XIPC_ETIMEDOUT;
    if (e == ERROR_BROKEN_PIPE) { /* a mailslot has no connection to break: */
        *len = 0;                 /* wine reads a zero-length message so */
        return XIPC_OK;
    }
    if (e != ERROR_INSUFFICIENT_BUFFER)
        return xipc__win32_err(e);
    /* larger than @p cap: it is still queued */
    if (!GetMailslotInfo(d->h, NULL, &next, &count, NULL) || next == MAILSLOT_NO_MESSAGE)
        return xipc__win32_err(GetLastError());
    *len = next;
    if (cap < max)
        return XIPC_EMSGSIZE;
    void *junk = malloc(next); /* no xipc writer sends it: discard it */
    if (junk == NULL)
        return XIPC_ENOMEM;
    ReadFile(d->h, junk, next, &got, NULL);
    free(junk);
    return XIPC_EPROTO;
}

void xipc_plat_dgram_unlink(const char *path)
{
    xipc_plat_unlink(path);
}

void xipc_plat_dgram_close(intptr_t h)
{
    w32_dgram *d = (w32_dgram *)h;
    if (d == NULL || h == -1)
        return;
    if (d->h != INVALID_HANDLE_VALUE)
        CloseHandle(d->h);
    if (d->proc != NULL)
        CloseHandle(d->proc);
    if (d->ev != NULL)
        CloseHandle(d->ev);
    if (d->lock >= 0) /* the file goes with the lock: a closed server is no more */
        xipc_plat_lockfile_release(d->lock, d->path);
    free(d->path);
    free(d);
}
