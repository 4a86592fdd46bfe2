/*
 * JSON <-> MessagePack for `xipc call` (docs/rpc.md, "From the shell").
 *
 * json_parse: strict RFC 8259 text -> one MessagePack value. null, true,
 * false; numbers: an integer (no fraction, no exponent) that fits int64 or
 * uint64 becomes an integer, any other number a float 64 (a number beyond
 * float 64's range is an error); strings with every escape, \uXXXX pairs
 * joined into one code point, written as UTF-8 (lone surrogates, invalid
 * UTF-8 and raw control characters are errors); arrays; objects become
 * maps with str keys (duplicate keys are kept, in order). Nesting deeper
 * than max_depth containers is an error. Whitespace around the value is
 * allowed, anything else after it is not.
 *
 * json_print: one MessagePack value -> JSON text on one line, compact
 * (no blanks). Forms that JSON lacks:
 *   float 32/64    the shortest of %.{6..9}g / %.{15..17}g that reads back
 *                  exactly, with ".0" added to an integral value (2.0, not
 *                  2); NaN and infinities print as null
 *   str            valid UTF-8 as is; ", \ and control characters escaped
 *                  (C0, DEL and C1 U+0080..U+009F, as \n, \t... or
 *                  \u00XX: valid JSON that no terminal acts on); each byte
 *                  that is not UTF-8 as \udc80..\udcff (Python's
 *                  "surrogateescape"; json_parse refuses those back)
 *   bin            {"$bin":"BASE64"}
 *   ext            {"$ext":[TYPE,"BASE64"]}
 *   timestamp      {"$timestamp":[SECONDS,NANOSECONDS]}
 *   map key        a str key as it is; any other key as the JSON text of
 *                  the key, in a string (1 -> "1", [1,2] -> "[1,2]")
 * json_parse reads these tagged forms back as the maps they look like.
 *
 * json_escape_text: a peer's text (an error message) made safe to print,
 * with the printer's rules for UTF-8 and control characters.
 */
#ifndef XIPC_TOOLS_JSON_H
#define XIPC_TOOLS_JSON_H

#include <stddef.h>

#include "xipc/msgpack.h"

/* Nesting json_parse allows for `xipc call` arguments: the request's
 * envelope and params array add two levels to the server's default
 * max_depth of 64. */
#define JSON_DEPTH_CALL 62

/* Where and why json_parse refused its input. */
typedef struct json_error {
    size_t offset;   /* byte offset in the text, from 0 */
    const char *why; /* a static message */
} json_error;

/*
 * Parse all of @p text (@p len bytes, need not be NUL-terminated) as one
 * JSON value and append it to @p out as MessagePack.
 * @return XIPC_OK; XIPC_EINVAL (not JSON: see @p err; @p out may hold a
 *         partial value); @p out's error (XIPC_ENOMEM, XIPC_EMSGSIZE)
 */
xipc_err json_parse(const char *text, size_t len, unsigned max_depth,
                    xipc_mp_buf *out, json_error *err);

/* A growable text buffer: data is NUL-terminated once anything is put. */
typedef struct json_buf {
    char *data;
    size_t len;
    size_t cap;
    xipc_err err; /* sticky XIPC_ENOMEM */
} json_buf;

void json_buf_init(json_buf *b);
void json_buf_fini(json_buf *b);

/*
 * Append the JSON text of the one MessagePack value in @p mp (@p len bytes)
 * to @p out.
 * @return XIPC_OK, XIPC_EPROTO (not exactly one well-formed value),
 *         XIPC_ENOMEM
 */
xipc_err json_print(const void *mp, size_t len, json_buf *out);

/*
 * Append @p text (@p n bytes, from a peer: anything) to @p out as text
 * that is safe to print on a terminal, one readable form for all of it:
 *   control characters   C0 (U+0000..U+001F), DEL and C1 (U+0080..U+009F,
 *                        UTF-8 C2 80..C2 9F) as \u00XX: ESC is \u001b
 *   bytes not UTF-8      \xNN each: 0xff is \xff
 *   a backslash          \\ (so the escapes above are never ambiguous)
 *   anything else        as it is (valid UTF-8, printable)
 * out->data is NUL-terminated afterwards, "" for empty text (unless
 * out->err says XIPC_ENOMEM).
 */
void json_escape_text(json_buf *out, const void *text, size_t n);

/*
 * Length of the valid UTF-8 sequence at @p s (at most @p n bytes): 1..4,
 * or 0 when it is not one (overlong, surrogate, beyond U+10FFFF, cut).
 */
size_t json_utf8_len(const unsigned char *s, size_t n);

#endif
