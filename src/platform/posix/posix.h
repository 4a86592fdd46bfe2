/*
 * What the files of the POSIX port share (not part of the platform
 * contract): the one errno mapper, what "private" means for a file, and
 * waiting on a descriptor by a deadline.
 */
#ifndef XIPC_PLATFORM_POSIX_H
#define XIPC_PLATFORM_POSIX_H

#include <stdint.h>
#include <sys/stat.h>

#include "core/deadline.h"
#include "core/platform.h"

/*
 * Map an errno value to an xipc_err, and record it for xipc_last_syserr.
 * The one table of the port: a caller that gives a code a meaning of its
 * own (ENOENT at a connect is "no listener") says so before calling it.
 */
xipc_err xipc__posix_err(int code);

/* A file or folder of ours that no one else may open: anything else was
 * planted or is open to others. */
int xipc__posix_private(const struct stat *st);

/* poll() one descriptor for @p events until @p d passes. */
xipc_err xipc__posix_wait(int fd, short events, xipc_deadline *d);

/* Finish a non-blocking connect() on @p fd by @p d, then make the
 * descriptor blocking. */
xipc_err xipc__posix_connect(int fd, const void *addr, unsigned addrlen, xipc_deadline *d);

#endif
