/* Internal view of the options. */
#ifndef XIPC_CORE_OPTS_H
#define XIPC_CORE_OPTS_H

#include "xipc/xipc.h"

#define XIPC_DEFAULT_RING (1u << 20)
#define XIPC_MIN_RING (4u << 10)
#define XIPC_MAX_RING (1u << 30)
#define XIPC_MAX_BACKLOG 1024u
#define XIPC_MAX_MSG (1u << 30)
#define XIPC_STREAM_MAX_MSG (16u << 20)

/*
 * Copy @p src (may be NULL: defaults) into @p dst, refusing an options
 * struct that was never initialised or holds values out of range, and
 * rounding the ring capacity up to a power of two.
 */
xipc_err xipc__opts_resolve(xipc_opts *dst, const xipc_opts *src);

#endif
