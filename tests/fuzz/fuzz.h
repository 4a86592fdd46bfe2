/*
 * Shared bits of the libFuzzer targets (docs/testing.md): a check that
 * aborts with its text (libFuzzer then saves the input), and a cursor that
 * hands out the fuzz input as control bytes and payloads.
 */
#ifndef XIPC_TESTS_FUZZ_H
#define XIPC_TESTS_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FZ_CHECK(cond)                                                         \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__,   \
                    #cond);                                                    \
            abort();                                                           \
        }                                                                      \
    } while (0)

/* The input, consumed from the front; reads past the end give zeros. */
typedef struct fz_in {
    const uint8_t *p;
    size_t len;
    size_t pos;
} fz_in;

static inline size_t fz_left(const fz_in *in)
{
    return in->len - in->pos;
}

static inline uint8_t fz_u8(fz_in *in)
{
    return in->pos < in->len ? in->p[in->pos++] : 0;
}

static inline uint16_t fz_u16(fz_in *in)
{
    uint16_t v = fz_u8(in);
    return (uint16_t)(v | (uint16_t)fz_u8(in) << 8);
}

static inline uint32_t fz_u32(fz_in *in)
{
    uint32_t v = fz_u16(in);
    return v | (uint32_t)fz_u16(in) << 16;
}

static inline uint64_t fz_u64(fz_in *in)
{
    uint64_t v = fz_u32(in);
    return v | (uint64_t)fz_u32(in) << 32;
}

/* Up to @p max bytes (fewer at the end of the input): a pointer into it. */
static inline const uint8_t *fz_bytes(fz_in *in, size_t max, size_t *n)
{
    size_t k = fz_left(in) < max ? fz_left(in) : max;
    const uint8_t *at = in->p + in->pos;
    in->pos += k;
    *n = k;
    return at;
}

#endif
