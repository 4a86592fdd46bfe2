/* Options: defaults and validation. */
#include <string.h>

#include "core/opts.h"

xipc_err xipc_opts_init(xipc_opts *opts)
{
    if (opts == NULL)
        return XIPC_EINVAL;
    memset(opts, 0, sizeof(*opts));
    opts->magic = XIPC_OPTS_MAGIC;
    opts->size = (uint32_t)sizeof(*opts);
    opts->ring_capacity = XIPC_DEFAULT_RING;
    opts->spin_us = 50;
    opts->max_msg = 0;
    opts->backlog = 64;
    opts->pub_slots = 4096;
    opts->pub_slot_size = 2048;
    opts->mq_depth = 10;
    opts->tls_verify = 1; /* the strings stay NULL */
    return XIPC_OK;
}

xipc_err xipc__opts_resolve(xipc_opts *dst, const xipc_opts *src)
{
    xipc_opts_init(dst);
    if (src == NULL)
        return XIPC_OK;
    if (src->magic != XIPC_OPTS_MAGIC || src->size != sizeof(*src))
        return XIPC_EINVAL; /* never initialised, or another ABI */
    *dst = *src;
    if (dst->ring_capacity < XIPC_MIN_RING || dst->ring_capacity > XIPC_MAX_RING)
        return XIPC_EINVAL;
    uint32_t cap = XIPC_MIN_RING;
    while (cap < dst->ring_capacity)
        cap <<= 1;
    dst->ring_capacity = cap;
    if (dst->backlog == 0 || dst->backlog > XIPC_MAX_BACKLOG)
        return XIPC_EINVAL;
    if (dst->spin_us > 10u * 1000 * 1000)
        return XIPC_EINVAL;
    if (dst->max_msg > XIPC_MAX_MSG)
        return XIPC_EINVAL;
    if (dst->pub_slots < 2 || dst->pub_slots > (1u << 20) ||
        (dst->pub_slots & (dst->pub_slots - 1)) != 0)
        return XIPC_EINVAL;
    if (dst->pub_slot_size < 64 || dst->pub_slot_size > (16u << 20) ||
        dst->pub_slot_size % 64 != 0 ||
        (uint64_t)dst->pub_slots * dst->pub_slot_size > (1ull << 30))
        return XIPC_EINVAL;
    if (dst->mq_depth == 0 || dst->mq_depth > 65536)
        return XIPC_EINVAL;
    if (dst->allow_uid_count > sizeof(dst->allow_uid) / sizeof(dst->allow_uid[0]))
        return XIPC_EINVAL;
    if (dst->tls_verify > 1)
        return XIPC_EINVAL;
    return XIPC_OK;
}
