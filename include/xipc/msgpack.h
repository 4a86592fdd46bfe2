/*
 * MessagePack codec: the serialization layer of MessagePack-RPC.
 *
 * The whole format of https://github.com/msgpack/msgpack/blob/master/spec.md:
 * nil, bool, int/uint of every width, float32/float64, str, bin, array,
 * map, ext and the timestamp extension (type -1). Plain C11, no OS header:
 * it builds unchanged on Linux (x86_64, i686) and Windows (mingw).
 *
 * Writer (xipc_mp_buf): appends to a growable heap buffer or to a fixed
 * caller buffer, always in the smallest encoding (as msgpack-c and
 * python-msgpack do). Each call writes its whole value or nothing. Errors
 * are sticky: after one failure every later write returns the same error
 * and writes nothing, so a caller may pack a whole message and check once.
 *
 * Reader (xipc_mp_reader): a cursor over (bytes, length) that never
 * allocates and never reads outside the input. xipc_mp_read_next() returns
 * one value: scalars with their value, str/bin/ext as a pointer into the
 * input, array/map as a count (the caller then reads the elements). Every
 * header is checked before use against hard limits:
 *   - nesting depth (XIPC_MP_DEPTH_DEFAULT = 64, settable per reader);
 *   - element counts: every element takes at least one byte, so the sum of
 *     the elements still owed by all open containers never exceeds the
 *     bytes left (an array header claiming 2^32-1 elements in a 10-byte
 *     input is refused at once);
 *   - str/bin/ext lengths beyond the input, truncated headers and bodies;
 *   - the reserved byte 0xc1;
 *   - timestamps (ext -1) whose length is not 4/8/12 or whose nanoseconds
 *     exceed 999999999.
 *
 * Error model (reader):
 *   XIPC_EPROTO  the bytes are malformed, truncated or exceed a limit. The
 *                reader is broken for good: every later call returns
 *                XIPC_EPROTO.
 *   XIPC_EINVAL  the next value is well formed but not what a typed read
 *                asked for (another type, or an integer out of the range
 *                of the requested C type); the cursor does not move, so
 *                the caller may read the value another way or skip it.
 *                Also: a NULL argument.
 * Reading past the last value of the input is truncation: XIPC_EPROTO
 * (check xipc_mp_reader_left() to know when a stream of values ends).
 *
 * Not checked: UTF-8 validity of str, duplicate map keys.
 *
 * Threading: a buffer or reader is used by one thread at a time.
 */
#ifndef XIPC_MSGPACK_H
#define XIPC_MSGPACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xipc/xipc.h"

/* ---------------------------------------------------------------- writer */

/*!
 * An output buffer. Read @c data and @c len after writing; do not change
 * the fields directly.
 */
typedef struct xipc_mp_buf {
    uint8_t *data; /*!< the encoded bytes */
    size_t len;    /*!< bytes written */
    size_t cap;    /*!< bytes available at @c data */
    bool fixed;    /*!< true: caller storage, never grows */
    xipc_err err;  /*!< sticky error of the first failed write */
} xipc_mp_buf;

/*! Start an empty growable buffer (no allocation until the first write). */
XIPC_API void xipc_mp_buf_init(xipc_mp_buf *b);

/*!
 * Start a buffer over the caller's @p mem of @p cap bytes. A write that
 * does not fit returns XIPC_EMSGSIZE and writes nothing.
 */
XIPC_API void xipc_mp_buf_init_fixed(xipc_mp_buf *b, void *mem, size_t cap);

/*! Free a growable buffer's storage (not the caller's); NULL is a no-op. */
XIPC_API void xipc_mp_buf_fini(xipc_mp_buf *b);

/*! Forget the contents and the sticky error; keep the storage. */
XIPC_API void xipc_mp_buf_reset(xipc_mp_buf *b);

/*
 * The writers. Each returns XIPC_OK, or the buffer's sticky error:
 * XIPC_EMSGSIZE (fixed buffer full, or a length beyond 2^32-1 that the
 * format cannot carry), XIPC_ENOMEM (growable buffer), XIPC_EINVAL (NULL
 * data with a non-zero length, a timestamp with nsec > 999999999, an
 * ext of type -1 that is not a valid timestamp).
 */
XIPC_API xipc_err xipc_mp_write_nil(xipc_mp_buf *b);
XIPC_API xipc_err xipc_mp_write_bool(xipc_mp_buf *b, bool v);
/*! Any int64; a non-negative value is written as unsigned (msgpack-c does). */
XIPC_API xipc_err xipc_mp_write_int(xipc_mp_buf *b, int64_t v);
XIPC_API xipc_err xipc_mp_write_uint(xipc_mp_buf *b, uint64_t v);
/*! float 32 (0xca): only through this call. */
XIPC_API xipc_err xipc_mp_write_float(xipc_mp_buf *b, float v);
/*! float 64 (0xcb), bit for bit (NaN payloads, -0.0 kept). */
XIPC_API xipc_err xipc_mp_write_double(xipc_mp_buf *b, double v);
/*! A str of @p len bytes (not checked for UTF-8). */
XIPC_API xipc_err xipc_mp_write_str(xipc_mp_buf *b, const char *s, size_t len);
/*! A str from a NUL-terminated string. */
XIPC_API xipc_err xipc_mp_write_cstr(xipc_mp_buf *b, const char *s);
XIPC_API xipc_err xipc_mp_write_bin(xipc_mp_buf *b, const void *p, size_t len);
/*! An array header: the caller then writes @p n values. */
XIPC_API xipc_err xipc_mp_write_array(xipc_mp_buf *b, uint32_t n);
/*! A map header: the caller then writes @p n key/value pairs. */
XIPC_API xipc_err xipc_mp_write_map(xipc_mp_buf *b, uint32_t n);
/*! An ext of @p type with @p len bytes of payload (fixext when it fits). */
XIPC_API xipc_err xipc_mp_write_ext(xipc_mp_buf *b, int8_t type, const void *p,
                           size_t len);
/*!
 * A timestamp (ext -1) in its smallest form: 32-bit when nsec is 0 and
 * 0 <= sec < 2^32, 64-bit when 0 <= sec < 2^34, else 96-bit.
 */
XIPC_API xipc_err xipc_mp_write_timestamp(xipc_mp_buf *b, int64_t sec, uint32_t nsec);

/*
 * Headers alone, for payloads written in pieces with xipc_mp_write_raw:
 * the caller must then write exactly @p len bytes.
 */
XIPC_API xipc_err xipc_mp_write_str_hdr(xipc_mp_buf *b, uint32_t len);
XIPC_API xipc_err xipc_mp_write_bin_hdr(xipc_mp_buf *b, uint32_t len);
XIPC_API xipc_err xipc_mp_write_ext_hdr(xipc_mp_buf *b, int8_t type, uint32_t len);
/*! Append bytes as they are (a payload, or values encoded elsewhere). */
XIPC_API xipc_err xipc_mp_write_raw(xipc_mp_buf *b, const void *p, size_t len);

/* ---------------------------------------------------------------- reader */

/*! Default nesting limit, and the depth the reader holds without help. */
#define XIPC_MP_DEPTH_DEFAULT 64

/*! Largest timestamp nanoseconds. */
#define XIPC_MP_NSEC_MAX 999999999u

/*! The MessagePack type of a value read. */
typedef enum xipc_mp_type {
    XIPC_MP_NIL,
    XIPC_MP_BOOL,
    XIPC_MP_UINT,      /*!< any integer >= 0, whatever its encoding */
    XIPC_MP_INT,       /*!< any integer < 0 */
    XIPC_MP_FLOAT32,
    XIPC_MP_FLOAT64,
    XIPC_MP_STR,
    XIPC_MP_BIN,
    XIPC_MP_ARRAY,
    XIPC_MP_MAP,
    XIPC_MP_EXT,       /*!< any ext but type -1 */
    XIPC_MP_TIMESTAMP, /*!< ext -1, decoded (ptr/len/ext_type also set) */
} xipc_mp_type;

/*! One value as xipc_mp_read_next returns it. */
typedef struct xipc_mp_obj {
    xipc_mp_type type;
    uint8_t tag;        /*!< the format byte it was encoded with */
    int8_t ext_type;    /*!< EXT, TIMESTAMP */
    /*! STR, BIN, EXT, TIMESTAMP: payload bytes at @c ptr;
     *  ARRAY: elements that follow; MAP: key/value pairs that follow */
    uint32_t len;
    const uint8_t *ptr; /*!< STR, BIN, EXT, TIMESTAMP: inside the input */
    union {
        bool b;       /*!< BOOL */
        uint64_t u;   /*!< UINT */
        int64_t i;    /*!< INT */
        float f32;    /*!< FLOAT32 */
        double f64;   /*!< FLOAT64 */
        struct {
            int64_t sec;
            uint32_t nsec;
        } ts;         /*!< TIMESTAMP */
    } v;
} xipc_mp_obj;

/*!
 * A cursor over an input. Plain storage: xipc_mp_reader_init, no fini.
 * The fields are private.
 */
typedef struct xipc_mp_reader {
    const uint8_t *buf;
    size_t len;
    size_t pos;
    uint64_t need;       /* elements owed by all open containers */
    uint32_t depth;      /* open containers on the stack */
    uint32_t max_depth;
    uint64_t *ext_stack; /* caller's stack, or NULL for inline_stack */
    xipc_err err;        /* sticky XIPC_EPROTO */
    uint64_t inline_stack[XIPC_MP_DEPTH_DEFAULT]; /* elements left per level */
} xipc_mp_reader;

/*! Start reading @p len bytes at @p buf with the default limits. */
XIPC_API void xipc_mp_reader_init(xipc_mp_reader *r, const void *buf, size_t len);

/*!
 * Change the nesting limit before the first read. Up to
 * XIPC_MP_DEPTH_DEFAULT the reader needs no help (@p stack NULL); a deeper
 * limit needs @p stack of @p max_depth entries, kept alive while reading.
 * 0 refuses every array and map.
 * @return XIPC_OK, XIPC_EINVAL (deep limit without a stack), XIPC_ESTATE
 *         (reading has begun)
 */
XIPC_API xipc_err xipc_mp_reader_set_depth(xipc_mp_reader *r, uint32_t max_depth,
                                  uint64_t *stack);

/*! Bytes not read yet. */
XIPC_API size_t xipc_mp_reader_left(const xipc_mp_reader *r);

/*! Containers open at the cursor (0: between top-level values). */
uint32_t xipc_mp_reader_depth(const xipc_mp_reader *r);

/*!
 * Read the next value (for an array or a map only its header).
 * @return XIPC_OK, XIPC_EPROTO, XIPC_EINVAL (NULL argument)
 */
XIPC_API xipc_err xipc_mp_read_next(xipc_mp_reader *r, xipc_mp_obj *out);

/*! Like xipc_mp_read_next but leave the cursor where it is. */
XIPC_API xipc_err xipc_mp_peek(xipc_mp_reader *r, xipc_mp_obj *out);

/*!
 * Skip the next value whole (an array or map with everything inside),
 * iteratively, under the same limits as read_next.
 * @return XIPC_OK, XIPC_EPROTO
 */
XIPC_API xipc_err xipc_mp_skip(xipc_mp_reader *r);

/*
 * Typed reads: XIPC_OK and the value, XIPC_EINVAL (another type or out of
 * range: nothing consumed), or XIPC_EPROTO.
 */
XIPC_API xipc_err xipc_mp_read_nil(xipc_mp_reader *r);
XIPC_API xipc_err xipc_mp_read_bool(xipc_mp_reader *r, bool *v);
/*! Any integer encoding whose value fits the C type. */
XIPC_API xipc_err xipc_mp_read_int(xipc_mp_reader *r, int64_t *v);
XIPC_API xipc_err xipc_mp_read_uint(xipc_mp_reader *r, uint64_t *v);
XIPC_API xipc_err xipc_mp_read_int32(xipc_mp_reader *r, int32_t *v);
XIPC_API xipc_err xipc_mp_read_uint32(xipc_mp_reader *r, uint32_t *v);
/*! float 32 (widened exactly) or float 64; integers are not accepted. */
XIPC_API xipc_err xipc_mp_read_double(xipc_mp_reader *r, double *v);
/*! A str: @p *s points into the input and is not NUL-terminated. */
XIPC_API xipc_err xipc_mp_read_str(xipc_mp_reader *r, const char **s, uint32_t *len);
XIPC_API xipc_err xipc_mp_read_bin(xipc_mp_reader *r, const void **p, uint32_t *len);
/*! An array header: the caller then reads @p *n values. */
XIPC_API xipc_err xipc_mp_read_array(xipc_mp_reader *r, uint32_t *n);
/*! A map header: the caller then reads @p *n key/value pairs. */
XIPC_API xipc_err xipc_mp_read_map(xipc_mp_reader *r, uint32_t *n);
/*! Any ext, timestamps included (type -1, raw payload). */
XIPC_API xipc_err xipc_mp_read_ext(xipc_mp_reader *r, int8_t *type, const void **p,
                          uint32_t *len);
XIPC_API xipc_err xipc_mp_read_timestamp(xipc_mp_reader *r, int64_t *sec,
                                uint32_t *nsec);

/*! "nil", "uint", "timestamp"...; "?" outside the enum. */
XIPC_API const char *xipc_mp_type_name(xipc_mp_type t);

#endif
