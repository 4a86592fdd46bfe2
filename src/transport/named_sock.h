/*
 * Endpoints named by files in the per-user runtime folder <rundir>/SUB:
 *  - a socket file NAME with NAME.pid beside it (pipe://, shm://);
 *  - a lock file NAME.pid alone, held by the owner while it lives
 *    (xipc_plat_lockfile_acquire: mq://, pubsub://).
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

/* Room for a lock file's path (no socket address limit). */
#define XIPC_NAMED_LOCK_MAX 600

/* <rundir>/@p sub/@p name.pid into @p path (@p cap bytes), the folder made
 * when missing. XIPC_EINVAL: a bad name, or too long a path. */
xipc_err xipc__named_lock_path(const char *sub, const char *name, char *path, size_t cap);

/*
 * The pid of the live process holding lock file @p path, waiting up to a
 * second for an owner that has the lock but has not written its pid yet.
 * @return XIPC_OK, XIPC_ECONNREFUSED (nobody holds it), XIPC_EPERM, XIPC_ESYS
 */
xipc_err xipc__named_lock_owner(const char *path, uint32_t *pid);

/*
 * xipc_endpoints for @p scheme: every lock file NAME.pid in <rundir>/@p sub
 * as an endpoint of @p kind. Held: alive, with its holder's pid (exact,
 * immune to pid reuse); free: dead, with the pid of the holder that died.
 */
xipc_err xipc__named_lock_list(const char *sub, const char *scheme, const char *kind,
                               void (*fn)(const xipc_endpoint_info *, void *), void *arg);

#endif
