/*
 * RPC reaches every channel through the transport layer. A stream-mode
 * connection (unix://, tcp://) is an xipc_sock of its scheme used through
 * the transport's byte face: its URL, message counters, peer and receive
 * buffer are the transport's, and the bytes are bare MessagePack (a
 * request written by hand is answered by bytes written by hand). A
 * message-mode connection (shm://, pipe://) has no byte face. An RPC
 * listener on unix:// keeps the transport's allow_uid rule. (Other
 * MessagePack-RPC programs on the same sockets: rpc_py_test.)
 */
#include "rpc/rpc_conn.h"
#include "rpc_util.h"

static const xipc_rpc_limits lim = {1u << 20, 16};

/* [0, 7, "add", [2, 3]] and its answer [1, 7, nil, 5]. */
static const uint8_t add_req[] = {0x94, 0x00, 0x07, 0xa3, 'a', 'd', 'd', 0x92, 0x02, 0x03};
static const uint8_t add_res[] = {0x94, 0x01, 0x07, 0xc0, 0x05};

/* One call by hand on @p c; the answer's bytes are checked. */
static void call_by_hand(xipc_rpc_conn *c)
{
    xipc_plat_iov iov[2] = {{add_req, 4}, {add_req + 4, sizeof(add_req) - 4}};
    XT_OK(xipc__rpc_conn_sendv(c, iov, 2, 10000));
    const uint8_t *msg;
    size_t len;
    XT_OK(xipc__rpc_conn_recv(c, &msg, &len, 10000));
    XT_EQ(len, sizeof(add_res));
    XT_ASSERT(memcmp(msg, add_res, len) == 0);
}

static void t_stream(const char *kind)
{
    xipc_rpc_server *srv = rt_server(1, NULL);
    char url[512], got[512];
    rt_serve(srv, kind, url, sizeof(url));
    xipc_rpc_conn *c;
    XT_OK(xipc__rpc_conn_dial(&c, url, &lim, NULL, 10000));
    XT_EQ(c->stream, 1);
    XT_ASSERT(c->raw != NULL && c->raw == xipc__raw(c->sock));
    XT_OK(xipc_sock_url(c->sock, got, sizeof(got)));
    if (strcmp(got, url) != 0)
        XT_FAIL("connection URL %s, dialled %s", got, url);
    intptr_t fd;
    XT_OK(xipc_sock_fd(c->sock, &fd));
    XT_EQ(fd, (intptr_t)c->fd);

    call_by_hand(c);
    call_by_hand(c);
    xipc_stats st;
    XT_OK(xipc_stats_get(c->sock, &st));
    XT_EQ(st.sent, 2);
    XT_EQ(st.received, 2);

    /* the receive buffer is the transport's: 1 KiB after a small
     * answer, nothing once trimmed */
    XT_EQ(c->raw->held(c->sock), 1024);
    XT_EQ(atomic_load(&c->held), 1024);
    XT_EQ(xipc__rpc_conn_trim(c), 1024);
    XT_EQ(c->raw->held(c->sock), 0);
    XT_EQ(atomic_load(&c->held), 0);

    uint32_t pid = 0;
    XT_OK(xipc_peer_pid(c->sock, &pid));
    if (strcmp(kind, "tcp") == 0) {
        XT_EQ(c->peer.kind, XIPC_RPC_PEER_IPV4);
    } else { /* the server is this process */
        XT_EQ(pid, xipc_plat_getpid());
        XT_EQ(c->peer_pid, xipc_plat_getpid());
        XT_EQ(c->peer.kind, XIPC_RPC_PEER_UID);
    }
    xipc__rpc_conn_close(c);
    xipc_rpc_server_free(srv);
}

static void t_message(const char *kind)
{
    xipc_rpc_server *srv = rt_server(1, NULL);
    char url[512];
    rt_serve(srv, kind, url, sizeof(url));
    xipc_rpc_conn *c;
    XT_OK(xipc__rpc_conn_dial(&c, url, &lim, NULL, 10000));
    XT_EQ(c->stream, 0);
    XT_ASSERT(c->raw == NULL && xipc__raw(c->sock) == NULL);
    call_by_hand(c);
    xipc_stats st;
    XT_OK(xipc_stats_get(c->sock, &st));
    XT_EQ(st.sent, 1);
    XT_EQ(st.received, 1);
    xipc__rpc_conn_close(c);
    xipc_rpc_server_free(srv);
}

/* A local RPC listener that lets another user only in refuses us:
 * unix:// (the kernel's peer credentials) on POSIX, pipe:// (the pipe
 * client's token) on Windows. */
static void t_allow_uid(void)
{
    xipc_rpc_server_opts o;
    XT_OK(xipc_rpc_server_opts_init(&o));
    o.sock.allow_uid[0] = xipc_plat_getuid() + 1;
    o.sock.allow_uid_count = 1;
    xipc_rpc_server *srv = rt_server(1, &o);
    char url[512];
#ifdef _WIN32
    rt_serve(srv, "pipe", url, sizeof(url));
#else
    rt_serve(srv, "unix", url, sizeof(url));
#endif
    xipc_rpc_client *c = rt_dial(url); /* the kernel takes it; accept refuses */
    int v = 0;
    XT_ERR(xipc_rpc_callf(c, "add", "ii", 1, 2, "i", &v), XIPC_ECLOSED);
    xipc_rpc_client_close(c);
    xipc_rpc_server_stats st;
    XT_OK(xipc_rpc_server_stats_get(srv, &st));
    XT_EQ(st.accepted, 0);
    xipc_rpc_server_free(srv);
}

int main(void)
{
#ifndef _WIN32 /* wine has no AF_UNIX */
    t_stream("unix");
    t_stream("unixpath");
#endif
    t_stream("tcp");
    t_message("shm");
    t_message("pipe");
    t_allow_uid();
    printf("rpc_tran_test ok\n");
    return 0;
}
