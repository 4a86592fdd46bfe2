/* TCP over IPv4 and IPv6 with Winsock; Winsock's one start. */
#include <winsock2.h>
#include <ws2tcpip.h>
#include <windows.h>
#include <stdio.h>
#include <string.h>

#include "platform/win32/win32_stream.h"

static INIT_ONCE wsa_once = INIT_ONCE_STATIC_INIT;
static int wsa_rc = -1;

static BOOL CALLBACK wsa_start(PINIT_ONCE once, PVOID arg, PVOID *ctx)
{
    WSADATA wd;
    (void)once, (void)arg, (void)ctx;
    wsa_rc = WSAStartup(MAKEWORD(2, 2), &wd); /* never cleaned up: for the process */
    return TRUE;
}

xipc_err xipc__win32_wsa_init(void)
{
    InitOnceExecuteOnce(&wsa_once, wsa_start, NULL, NULL);
    return wsa_rc == 0 ? XIPC_OK : xipc__win32_err((unsigned long)wsa_rc);
}

static xipc_err tcp_resolve(const char *host, uint16_t port, int passive,
                            struct addrinfo **res)
{
    char svc[8];
    struct addrinfo hints;
    xipc_err rv = xipc__win32_wsa_init();
    if (rv != XIPC_OK)
        return rv;
    if (host == NULL)
        return XIPC_EINVAL;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_protocol = IPPROTO_TCP;
    hints.ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0);
    snprintf(svc, sizeof(svc), "%u", (unsigned)port);
    int rc = getaddrinfo(host[0] ? host : NULL, svc, &hints, res);
    if (rc == EAI_MEMORY)
        return XIPC_ENOMEM;
    if (rc != 0) { /* unknown host */
        xipc__set_syserr(rc);
        return XIPC_ECONNREFUSED;
    }
    return XIPC_OK;
}

/* A socket no child inherits (made non-blocking when wrapped). */
static SOCKET tcp_socket(const struct addrinfo *a, xipc_err *rv)
{
    SOCKET s = WSASocketW(a->ai_family, a->ai_socktype, a->ai_protocol, NULL, 0,
                          WSA_FLAG_OVERLAPPED | WSA_FLAG_NO_HANDLE_INHERIT);
    if (s == INVALID_SOCKET)
        *rv = xipc__win32_err((unsigned long)WSAGetLastError());
    return s;
}

xipc_err xipc_plat_tcp_listen(const char *host, uint16_t port, int backlog,
                              xipc_plat_sock *out, uint16_t *bound)
{
    struct addrinfo *res;
    xipc_err rv = tcp_resolve(host, port, 1, &res);
    if (rv != XIPC_OK)
        return rv == XIPC_ECONNREFUSED ? XIPC_EINVAL : rv;
    rv = XIPC_EINVAL;
    for (struct addrinfo *a = res; a != NULL; a = a->ai_next) {
        SOCKET s = tcp_socket(a, &rv);
        if (s == INVALID_SOCKET)
            continue;
        /* Windows' SO_REUSEADDR would let another socket take the port
         * from us; exclusive use is what POSIX's bind gives by default */
        BOOL one = TRUE;
        setsockopt(s, SOL_SOCKET, SO_EXCLUSIVEADDRUSE, (const char *)&one, sizeof(one));
        if (bind(s, a->ai_addr, (int)a->ai_addrlen) != 0 || listen(s, backlog) != 0) {
            rv = xipc__win32_err((unsigned long)WSAGetLastError());
            closesocket(s);
            continue;
        }
        struct sockaddr_storage ss;
        int sl = (int)sizeof(ss);
        memset(&ss, 0, sizeof(ss));
        getsockname(s, (struct sockaddr *)&ss, &sl);
        uint16_t p = ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                              : ((struct sockaddr_in *)&ss)->sin_port;
        rv = xipc__ws_from_socket(s, out);
        if (rv == XIPC_OK && bound != NULL)
            *bound = ntohs(p);
        break;
    }
    freeaddrinfo(res);
    return rv;
}

/* Connect non-blocking socket @p s within @p d. */
static xipc_err tcp_connect(xipc__ws *w, const struct addrinfo *a, xipc_deadline *d)
{
    if (connect(w->sock, a->ai_addr, (int)a->ai_addrlen) == 0)
        return XIPC_OK;
    int e = WSAGetLastError();
    if (e != WSAEWOULDBLOCK)
        return xipc__win32_err((unsigned long)e);
    /* FD_CONNECT tells the end of it, with its error (WSAPoll missed
     * failed connects before Windows 10 2004; select() is avoided, see
     * win32_stream.h) */
    xipc_err rv = xipc__ws_sock_wait(w, FD_CONNECT, d);
    if (rv != XIPC_OK)
        return rv;
    if (w->cerr != 0)
        return xipc__win32_err((unsigned long)w->cerr);
    int err = 0, el = (int)sizeof(err);
    if (getsockopt(w->sock, SOL_SOCKET, SO_ERROR, (char *)&err, &el) != 0)
        err = WSAGetLastError();
    return err == 0 ? XIPC_OK : xipc__win32_err((unsigned long)err);
}

xipc_err xipc_plat_tcp_dial(const char *host, uint16_t port, int timeout_ms,
                            xipc_plat_sock *out)
{
    struct addrinfo *res;
    xipc_err rv = tcp_resolve(host, port, 0, &res);
    if (rv != XIPC_OK)
        return rv;
    xipc_deadline d = xipc__deadline(timeout_ms);
    rv = XIPC_ECONNREFUSED;
    for (struct addrinfo *a = res; a != NULL; a = a->ai_next) {
        SOCKET s = tcp_socket(a, &rv);
        if (s == INVALID_SOCKET)
            continue;
        xipc_plat_sock ps;
        rv = xipc__ws_from_socket(s, &ps); /* non-blocking from here on */
        if (rv != XIPC_OK)
            break;
        rv = tcp_connect(xipc__ws_get(ps), a, &d);
        if (rv == XIPC_OK) {
            BOOL one = TRUE;
            setsockopt(s, IPPROTO_TCP, TCP_NODELAY, (const char *)&one, sizeof(one));
            *out = ps;
            break;
        }
        xipc_plat_sock_close(ps);
        if (rv == XIPC_ETIMEDOUT)
            break;
    }
    freeaddrinfo(res);
    return rv;
}
