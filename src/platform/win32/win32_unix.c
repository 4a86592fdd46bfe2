/*
 * Unix stream sockets on Windows (AF_UNIX, Windows 10 1803 on). Where the
 * system has none (older Windows; wine 8, whose socket() fails with
 * WSAEAFNOSUPPORT) unix:// answers XIPC_ENOTSUP. The socket file takes
 * the access its folder gives (the run folder is the user's alone); the
 * message sockets of shm:// are named pipes (win32_npipe.c).
 */
#include <winsock2.h>
#include <ws2tcpip.h>
#include <afunix.h>
#include <windows.h>
#include <stddef.h>
#include <string.h>

#include "platform/win32/win32_stream.h"

static xipc_err unix_addr(struct sockaddr_un *sa, int *len, const char *path, int abstract)
{
    size_t n = path != NULL ? strlen(path) : 0;
    memset(sa, 0, sizeof(*sa));
    sa->sun_family = AF_UNIX;
    if (n == 0 || n + 1 > sizeof(sa->sun_path) - (abstract ? 1 : 0))
        return XIPC_EINVAL;
    memcpy(sa->sun_path + (abstract ? 1 : 0), path, n);
    *len = (int)(offsetof(struct sockaddr_un, sun_path) + n + 1);
    return XIPC_OK;
}

/* A Unix stream socket; XIPC_ENOTSUP where the system has none. */
static xipc_err unix_socket(SOCKET *out)
{
    xipc_err rv = xipc__win32_wsa_init();
    if (rv != XIPC_OK)
        return rv;
    SOCKET s = WSASocketW(AF_UNIX, SOCK_STREAM, 0, NULL, 0, WSA_FLAG_NO_HANDLE_INHERIT);
    if (s == INVALID_SOCKET) {
        int e = WSAGetLastError();
        rv = xipc__win32_err((unsigned long)e);
        /* the one mapper says EINVAL for an unknown family in general;
         * here it means the system lacks Unix sockets */
        return e == WSAEAFNOSUPPORT || e == WSAEPROTONOSUPPORT || e == WSAESOCKTNOSUPPORT
                   ? XIPC_ENOTSUP
                   : rv;
    }
    *out = s;
    return XIPC_OK;
}

/* The address of @p path and a socket for it. */
static xipc_err unix_open(const char *path, int abstract, struct sockaddr_un *sa, int *len,
                          SOCKET *s)
{
    if (unix_addr(sa, len, path, abstract) != XIPC_OK)
        return XIPC_EINVAL;
    return unix_socket(s);
}

static int unix_in_use(const struct sockaddr_un *sa, int len)
{
    SOCKET s;
    if (unix_socket(&s) != XIPC_OK)
        return 1;
    int rc = connect(s, (const struct sockaddr *)sa, len);
    int e = WSAGetLastError();
    closesocket(s);
    return rc == 0 || e != WSAECONNREFUSED;
}

xipc_err xipc_plat_unix_listen(const char *path, int abstract, int backlog,
                               xipc_plat_sock *out)
{
    struct sockaddr_un sa;
    int len;
    SOCKET s;
    xipc_err rv = unix_open(path, abstract, &sa, &len, &s);
    if (rv != XIPC_OK)
        return rv;
    for (int attempt = 0;; attempt++) {
        if (bind(s, (struct sockaddr *)&sa, len) == 0)
            break;
        int e = WSAGetLastError();
        /* a socket file nobody listens on is left by a crash: replace it */
        if (e == WSAEADDRINUSE && !abstract && attempt == 0 && !unix_in_use(&sa, len)) {
            DeleteFileA(path);
            continue;
        }
        closesocket(s);
        return xipc__win32_err((unsigned long)e);
    }
    if (listen(s, backlog) != 0) {
        rv = xipc__win32_err((unsigned long)WSAGetLastError());
        closesocket(s);
        if (!abstract)
            DeleteFileA(path);
        return rv;
    }
    return xipc__ws_from_socket(s, out);
}

xipc_err xipc_plat_unix_dial(const char *path, int abstract, int timeout_ms,
                             xipc_plat_sock *out)
{
    struct sockaddr_un sa;
    int len;
    SOCKET s;
    xipc_err rv = unix_open(path, abstract, &sa, &len, &s);
    if (rv != XIPC_OK)
        return rv;
    /* a local connect does not wait for a network: a blocking one is
     * quick (a full backlog is refused at once) */
    (void)timeout_ms;
    if (connect(s, (const struct sockaddr *)&sa, len) != 0) {
        int e = WSAGetLastError();
        closesocket(s);
        if (e == ERROR_FILE_NOT_FOUND || e == ERROR_PATH_NOT_FOUND) {
            xipc__set_syserr(e); /* no socket file: no listener */
            return XIPC_ECONNREFUSED;
        }
        return xipc__win32_err((unsigned long)e);
    }
    return xipc__ws_from_socket(s, out);
}
