/*
 * Endpoints named by a socket file in the per-user runtime folder:
 * <rundir>/SUB/NAME, with NAME.pid beside it (pipe://, shm://, pubsub://).
 * The folder is 0700 (xipc_plat_rundir), so only our user reaches them.
 */
#ifndef XIPC_TRANSPORT_NAMED_SOCK_H
#define XIPC_TRANSPORT_NAMED_SOCK_H

#include <stddef.h>

#include "core/platform.h"
#include "core/transport.h"

/* Room for a socket path: a socket address holds 107 bytes. */
#define XIPC_NAMED_SOCK_MAX 160

/*
 * <rundir>/@p sub/@p name into @p path (@p cap bytes); the folder is made
 * when missing. XIPC_EINVAL: a bad name, or a path longer than a socket
 * address holds.
 */
xipc_err xipc__named_sock_path(const char *sub, const char *name, char *path, size_t cap);

/*
 * xipc_endpoints for @p scheme: every socket file NAME in <rundir>/@p sub
 * as an endpoint of @p kind, its pid from NAME.pid (0: none), alive when
 * that process lives. Looks only: creates, probes and removes nothing.
 */
xipc_err xipc__named_sock_list(const char *sub, const char *scheme, const char *kind,
                               void (*fn)(const xipc_endpoint_info *, void *), void *arg);

#endif
