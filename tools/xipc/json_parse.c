/* Strict JSON text -> MessagePack (see json.h). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

typedef struct json_parser {
    const unsigned char *s;
    size_t len;
    size_t pos;
    unsigned max_depth;
    json_error *err;
} json_parser;

static xipc_err json_parse_value(json_parser *p, xipc_mp_buf *out, unsigned depth);

static xipc_err json_fail(json_parser *p, size_t at, const char *why)
{
    p->err->offset = at;
    p->err->why = why;
    return XIPC_EINVAL;
}

static int json_is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static void json_skip_ws(json_parser *p)
{
    while (p->pos < p->len && (p->s[p->pos] == ' ' || p->s[p->pos] == '\t' ||
                               p->s[p->pos] == '\n' || p->s[p->pos] == '\r'))
        p->pos++;
}

size_t json_utf8_len(const unsigned char *s, size_t n)
{
    if (n == 0)
        return 0;
    unsigned char c = s[0];
    size_t k;
    unsigned char lo = 0x80, hi = 0xbf; /* range of the second byte */
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        k = 2;
    else if (c >= 0xe0 && c <= 0xef) {
        k = 3;
        if (c == 0xe0)
            lo = 0xa0; /* overlong */
        else if (c == 0xed)
            hi = 0x9f; /* surrogates */
    } else if (c >= 0xf0 && c <= 0xf4) {
        k = 4;
        if (c == 0xf0)
            lo = 0x90; /* overlong */
        else if (c == 0xf4)
            hi = 0x8f; /* beyond U+10FFFF */
    } else
        return 0;
    if (n < k || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < k; i++)
        if (s[i] < 0x80 || s[i] > 0xbf)
            return 0;
    return k;
}

/* Four hex digits at @p s (@p n bytes left). @return 0 and *v, or -1 */
static int json_hex4(const unsigned char *s, size_t n, unsigned *v)
{
    if (n < 4)
        return -1;
    unsigned x = 0;
    for (int i = 0; i < 4; i++) {
        unsigned char c = s[i];
        unsigned d;
        if (json_is_digit(c))
            d = c - '0';
        else if (c >= 'a' && c <= 'f')
            d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            d = c - 'A' + 10;
        else
            return -1;
        x = x * 16 + d;
    }
    *v = x;
    return 0;
}

static size_t json_put_utf8(unsigned char *d, unsigned cp)
{
    if (cp < 0x80) {
        d[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        d[0] = (unsigned char)(0xc0 | (cp >> 6));
        d[1] = (unsigned char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        d[0] = (unsigned char)(0xe0 | (cp >> 12));
        d[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
        d[2] = (unsigned char)(0x80 | (cp & 0x3f));
        return 3;
    }
    d[0] = (unsigned char)(0xf0 | (cp >> 18));
    d[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
    d[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
    d[3] = (unsigned char)(0x80 | (cp & 0x3f));
    return 4;
}

/* The escape at s[i] == '\\' into @p d. @return bytes written, 0 on error */
static size_t json_parse_escape(json_parser *p, size_t *i, unsigned char *d)
{
    const unsigned char *s = p->s;
    size_t at = *i;
    if (at + 1 >= p->len) {
        json_fail(p, p->len, "unterminated string");
        return 0;
    }
    static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
    const char *hit = s[at + 1] != 'u' ? strchr(from, s[at + 1]) : NULL;
    if (hit != NULL && *hit != '\0') {
        d[0] = (unsigned char)to[hit - from];
        *i = at + 2;
        return 1;
    }
    if (s[at + 1] != 'u') {
        json_fail(p, at, "invalid escape");
        return 0;
    }
    unsigned cp, lo;
    if (json_hex4(s + at + 2, p->len - at - 2, &cp) != 0) {
        json_fail(p, at, "\\u needs 4 hex digits");
        return 0;
    }
    *i = at + 6;
    if (cp >= 0xdc00 && cp <= 0xdfff) {
        json_fail(p, at, "lone low surrogate");
        return 0;
    }
    if (cp >= 0xd800 && cp <= 0xdbff) {
        if (at + 7 >= p->len || s[at + 6] != '\\' || s[at + 7] != 'u' ||
            json_hex4(s + at + 8, p->len - at - 8, &lo) != 0 || lo < 0xdc00 ||
            lo > 0xdfff) {
            json_fail(p, at, "lone high surrogate");
            return 0;
        }
        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
        *i = at + 12;
    }
    return json_put_utf8(d, cp);
}

/* A string at p->pos (on its '"'), appended to @p out as a str. */
static xipc_err json_parse_string(json_parser *p, xipc_mp_buf *out)
{
    const unsigned char *s = p->s;
    size_t i = p->pos + 1, n = 0, end = i;
    while (end < p->len && s[end] != '"') /* the source's extent */
        end += s[end] == '\\' ? 2 : 1;
    /* the decoded text is never longer than the source */
    unsigned char *d = malloc((end < p->len ? end : p->len) - i + 1);
    if (d == NULL)
        return XIPC_ENOMEM;
    xipc_err rv = XIPC_OK;
    for (;;) {
        if (i >= p->len) {
            rv = json_fail(p, p->len, "unterminated string");
            break;
        }
        unsigned char c = s[i];
        if (c == '"')
            break;
        size_t k;
        if (c < 0x20) {
            rv = json_fail(p, i, "control character in a string (escape it)");
            break;
        } else if (c == '\\') {
            if ((k = json_parse_escape(p, &i, d + n)) == 0) {
                rv = XIPC_EINVAL;
                break;
            }
            n += k;
        } else if ((k = json_utf8_len(s + i, p->len - i)) == 0) {
            rv = json_fail(p, i, "invalid UTF-8 in a string");
            break;
        } else {
            memcpy(d + n, s + i, k);
            n += k;
            i += k;
        }
    }
    if (rv == XIPC_OK) {
        p->pos = i + 1;
        rv = xipc_mp_write_str(out, (const char *)d, n);
    }
    free(d);
    return rv;
}

/* A number that is not an int64/uint64 integer: float 64 by strtod. */
static xipc_err json_parse_float(json_parser *p, size_t start, xipc_mp_buf *out)
{
    size_t n = p->pos - start;
    char small[64];
    char *text = n < sizeof(small) ? small : malloc(n + 1);
    if (text == NULL)
        return XIPC_ENOMEM;
    memcpy(text, p->s + start, n);
    text[n] = '\0';
    errno = 0;
    double v = strtod(text, NULL); /* the JSON grammar is a subset of its */
    int range = errno == ERANGE && (v > 1.0 || v < -1.0);
    if (text != small)
        free(text);
    if (range)
        return json_fail(p, start, "number out of range");
    return xipc_mp_write_double(out, v);
}

static size_t json_skip_digits(json_parser *p, size_t i)
{
    while (i < p->len && json_is_digit(p->s[i]))
        i++;
    return i;
}

static xipc_err json_parse_number(json_parser *p, xipc_mp_buf *out)
{
    const unsigned char *s = p->s;
    size_t start = p->pos, i = start;
    int neg = 0, integer = 1;
    if (s[i] == '-') {
        neg = 1;
        i++;
    }
    if (i >= p->len)
        return json_fail(p, i, "unexpected end of input in a number");
    if (s[i] == '0')
        i++;
    else if (json_is_digit(s[i]))
        i = json_skip_digits(p, i);
    else
        return json_fail(p, i, "expected a digit");
    size_t int_end = i;
    if (i < p->len && s[i] == '.') {
        integer = 0;
        if (++i >= p->len || !json_is_digit(s[i]))
            return json_fail(p, i, "expected a digit after '.'");
        i = json_skip_digits(p, i);
    }
    if (i < p->len && (s[i] == 'e' || s[i] == 'E')) {
        integer = 0;
        if (++i < p->len && (s[i] == '+' || s[i] == '-'))
            i++;
        if (i >= p->len || !json_is_digit(s[i]))
            return json_fail(p, i, "expected a digit in the exponent");
        i = json_skip_digits(p, i);
    }
    p->pos = i;
    if (integer) {
        uint64_t mag = 0;
        int over = 0;
        for (size_t k = start + (size_t)neg; k < int_end && !over; k++) {
            unsigned d = s[k] - '0';
            if (mag > (UINT64_MAX - d) / 10)
                over = 1;
            else
                mag = mag * 10 + d;
        }
        if (!over && !neg)
            return xipc_mp_write_uint(out, mag);
        if (!over && mag <= (uint64_t)INT64_MAX + 1)
            return xipc_mp_write_int(out, mag == (uint64_t)INT64_MAX + 1
                                              ? INT64_MIN
                                              : -(int64_t)mag);
    }
    return json_parse_float(p, start, out);
}

/* @p word at p->pos, not followed by more letters. */
static xipc_err json_parse_word(json_parser *p, const char *word)
{
    size_t n = strlen(word), i = p->pos;
    for (size_t k = 0; k < n; k++, i++) {
        if (i >= p->len)
            return json_fail(p, i, "unexpected end of input");
        if (p->s[i] != (unsigned char)word[k])
            return json_fail(p, p->pos, "invalid literal");
    }
    p->pos = i;
    return XIPC_OK;
}

/* After an element: ',' (then another comes) or @p close. @return 1, 0 */
static int json_parse_next(json_parser *p, char close, xipc_err *rv,
                           const char *why)
{
    json_skip_ws(p);
    if (p->pos >= p->len) {
        *rv = json_fail(p, p->pos, "unexpected end of input");
        return 0;
    }
    if (p->s[p->pos] == ',') {
        p->pos++;
        return 1;
    }
    if (p->s[p->pos] != (unsigned char)close)
        *rv = json_fail(p, p->pos, why);
    else
        p->pos++;
    return 0;
}

/*
 * An array or object at p->pos: the elements go to a buffer of their own,
 * then the header (whose count is known only now) and they to @p out.
 */
static xipc_err json_parse_container(json_parser *p, xipc_mp_buf *out,
                                     unsigned depth)
{
    int object = p->s[p->pos] == '{';
    char close = object ? '}' : ']';
    if (depth >= p->max_depth)
        return json_fail(p, p->pos, "nested too deeply");
    p->pos++;
    xipc_mp_buf body;
    xipc_mp_buf_init(&body);
    xipc_err rv = XIPC_OK;
    uint32_t n = 0;
    json_skip_ws(p);
    if (p->pos < p->len && p->s[p->pos] == (unsigned char)close) {
        p->pos++;
    } else {
        do {
            if (n == UINT32_MAX) {
                rv = json_fail(p, p->pos, "too many elements");
                break;
            }
            if (object) {
                json_skip_ws(p);
                if (p->pos >= p->len)
                    rv = json_fail(p, p->pos, "unexpected end of input");
                else if (p->s[p->pos] != '"')
                    rv = json_fail(p, p->pos, "expected a string key");
                else
                    rv = json_parse_string(p, &body);
                if (rv == XIPC_OK) {
                    json_skip_ws(p);
                    if (p->pos >= p->len)
                        rv = json_fail(p, p->pos, "unexpected end of input");
                    else if (p->s[p->pos] != ':')
                        rv = json_fail(p, p->pos, "expected ':' after the key");
                    else
                        p->pos++;
                }
            }
            if (rv == XIPC_OK)
                rv = json_parse_value(p, &body, depth + 1);
            if (rv != XIPC_OK)
                break;
            n++;
        } while (json_parse_next(p, close, &rv,
                                 object ? "expected ',' or '}'" : "expected ',' or ']'"));
    }
    if (rv == XIPC_OK) {
        rv = object ? xipc_mp_write_map(out, n) : xipc_mp_write_array(out, n);
        if (rv == XIPC_OK)
            rv = xipc_mp_write_raw(out, body.data, body.len);
    }
    xipc_mp_buf_fini(&body);
    return rv;
}

static xipc_err json_parse_value(json_parser *p, xipc_mp_buf *out, unsigned depth)
{
    xipc_err rv;
    json_skip_ws(p);
    if (p->pos >= p->len)
        return json_fail(p, p->pos, "unexpected end of input");
    switch (p->s[p->pos]) {
    case '{':
    case '[':
        return json_parse_container(p, out, depth);
    case '"':
        return json_parse_string(p, out);
    case 'n':
        rv = json_parse_word(p, "null");
        return rv != XIPC_OK ? rv : xipc_mp_write_nil(out);
    case 't':
        rv = json_parse_word(p, "true");
        return rv != XIPC_OK ? rv : xipc_mp_write_bool(out, 1);
    case 'f':
        rv = json_parse_word(p, "false");
        return rv != XIPC_OK ? rv : xipc_mp_write_bool(out, 0);
    default:
        if (p->s[p->pos] == '-' || json_is_digit(p->s[p->pos]))
            return json_parse_number(p, out);
        return json_fail(p, p->pos, "unexpected character");
    }
}

xipc_err json_parse(const char *text, size_t len, unsigned max_depth,
                    xipc_mp_buf *out, json_error *err)
{
    json_error spare;
    json_parser p = {(const unsigned char *)text, len, 0, max_depth,
                     err != NULL ? err : &spare};
    if (text == NULL || out == NULL)
        return XIPC_EINVAL;
    xipc_err rv = json_parse_value(&p, out, 0);
    if (rv != XIPC_OK)
        return rv;
    json_skip_ws(&p);
    if (p.pos != len)
        return json_fail(&p, p.pos, "unexpected character after the value");
    return XIPC_OK;
}
