/* Helpers shared by the POSIX socket files (not part of the contract). */
#ifndef XIPC_PLATFORM_POSIX_SOCK_H
#define XIPC_PLATFORM_POSIX_SOCK_H

#include <stdint.h>

#include "core/platform.h"

/* Map an errno value to an xipc_err (and record it). */
xipc_err xipc__posix_err(int code);
/* Deadline in monotonic ns for a timeout (UINT64_MAX: forever). */
uint64_t xipc__posix_deadline(int timeout_ms);
/* Milliseconds left until @p deadline for poll(): -1 forever, 0 passed. */
int xipc__posix_left_ms(uint64_t deadline);
/* poll() one descriptor for @p events until @p deadline. */
xipc_err xipc__posix_wait(int fd, short events, uint64_t deadline);
/* Finish a non-blocking connect() on @p fd by @p deadline, then make the
 * descriptor blocking. */
xipc_err xipc__posix_connect(int fd, const void *addr, unsigned addrlen,
                             uint64_t deadline);

#endif
