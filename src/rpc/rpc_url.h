/*
 * Which connection mode an RPC URL selects. unix:// and tcp:// carry bare
 * MessagePack on the socket, as every MessagePack-RPC implementation does
 * (stream mode); every other scheme carries one MessagePack-RPC message
 * per xipc message (message mode). The address rules are those of
 * src/transport/unix.c and tcp.c.
 */
#ifndef XIPC_RPC_URL_H
#define XIPC_RPC_URL_H

#include <stdint.h>

#include "xipc/xipc.h"

#define XIPC_RPC_URL_MAX 512

typedef enum xipc_rpc_url_kind {
    XIPC_RPC_URL_MESSAGE, /* any xipc scheme, through xipc_listen/dial */
    XIPC_RPC_URL_UNIX,    /* unix:///PATH or unix://@NAME, bare stream */
    XIPC_RPC_URL_TCP,     /* tcp://HOST:PORT, tcp://[V6]:PORT, bare stream */
} xipc_rpc_url_kind;

typedef struct xipc_rpc_url {
    xipc_rpc_url_kind kind;
    char path[108]; /* UNIX: the path or abstract name (without '@') */
    int abstract;   /* UNIX: 1 for unix://@NAME */
    char host[256]; /* TCP: host without brackets */
    int v6;         /* TCP: the host was in brackets */
    uint16_t port;  /* TCP */
} xipc_rpc_url;

/* Classify and, for unix:// and tcp://, parse @p text. XIPC_EINVAL on a
 * malformed URL (message-mode URLs are checked by xipc_listen/dial). */
xipc_err xipc__rpc_url_parse(xipc_rpc_url *u, const char *text);

/* Format a stream URL back, with port @p port for TCP. */
void xipc__rpc_url_format(const xipc_rpc_url *u, uint16_t port, char *buf,
                          size_t cap);

#endif
