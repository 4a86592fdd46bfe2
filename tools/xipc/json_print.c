/* MessagePack -> JSON text (see json.h). */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

void json_buf_init(json_buf *b)
{
    memset(b, 0, sizeof(*b));
}

void json_buf_fini(json_buf *b)
{
    if (b == NULL)
        return;
    free(b->data);
    json_buf_init(b);
}

static void json_put(json_buf *b, const void *p, size_t n)
{
    if (b->err != XIPC_OK)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *d = realloc(b->data, cap);
        if (d == NULL) {
            b->err = XIPC_ENOMEM;
            return;
        }
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
}

static void json_puts(json_buf *b, const char *s)
{
    json_put(b, s, strlen(s));
}

static void json_put_base64(json_buf *b, const unsigned char *p, size_t n)
{
    static const char abc[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    json_puts(b, "\"");
    for (size_t i = 0; i < n; i += 3) {
        unsigned long v = (unsigned long)p[i] << 16;
        if (i + 1 < n)
            v |= (unsigned long)p[i + 1] << 8;
        if (i + 2 < n)
            v |= p[i + 2];
        char q[4] = {abc[(v >> 18) & 63], abc[(v >> 12) & 63],
                     i + 1 < n ? abc[(v >> 6) & 63] : '=',
                     i + 2 < n ? abc[v & 63] : '='};
        json_put(b, q, 4);
    }
    json_puts(b, "\"");
}

/*
 * The control character at @p s (@p n >= 1 bytes): C0 and DEL as one byte,
 * C1 (U+0080..U+009F) as its UTF-8 form C2 80..C2 9F. A terminal acts on
 * any of them (ESC starts a sequence; some take C1's CSI, 0x9b, alone).
 * @return its code point, its length in @p *k; -1 when it is none
 */
static int json_control_at(const unsigned char *s, size_t n, size_t *k)
{
    if (s[0] < 0x20 || s[0] == 0x7f) {
        *k = 1;
        return s[0];
    }
    if (s[0] == 0xc2 && n >= 2 && s[1] >= 0x80 && s[1] <= 0x9f) {
        *k = 2;
        return s[1];
    }
    return -1;
}

/* A JSON string of @p n bytes: UTF-8 as is, control characters as \u00XX
 * (so the text is safe on a terminal), other bytes as \udcXX. */
static void json_put_string(json_buf *b, const unsigned char *s, size_t n)
{
    char esc[8];
    json_puts(b, "\"");
    for (size_t i = 0; i < n;) {
        unsigned char c = s[i];
        size_t k = json_utf8_len(s + i, n - i), kc = 1;
        int ctl = json_control_at(s + i, n - i, &kc);
        const char *short_esc = c == '"' ? "\\\"" : c == '\\' ? "\\\\"
                                : c == '\b' ? "\\b" : c == '\f' ? "\\f"
                                : c == '\n' ? "\\n" : c == '\r' ? "\\r"
                                : c == '\t' ? "\\t" : NULL;
        if (short_esc != NULL) {
            json_puts(b, short_esc);
            i++;
        } else if (ctl >= 0 || k == 0) {
            snprintf(esc, sizeof(esc), "\\u%04x", ctl >= 0 ? (unsigned)ctl : 0xdc00u + c);
            json_puts(b, esc);
            i += ctl >= 0 ? kc : 1;
        } else {
            json_put(b, s + i, k);
            i += k;
        }
    }
    json_puts(b, "\"");
}

/* A peer's text for the terminal (json.h): control characters as in
 * json_put_string (\u00XX, but no short forms), bytes that are not UTF-8
 * as \xNN, a backslash doubled; quotes stay as they are. */
void json_escape_text(json_buf *b, const void *text, size_t n)
{
    const unsigned char *s = text;
    char esc[8];
    json_put(b, "", 0); /* data is "" rather than NULL for empty text */
    for (size_t i = 0; i < n;) {
        size_t k = json_utf8_len(s + i, n - i), kc = 1;
        int ctl = json_control_at(s + i, n - i, &kc);
        if (s[i] == '\\') {
            json_puts(b, "\\\\");
            i++;
        } else if (ctl >= 0) {
            snprintf(esc, sizeof(esc), "\\u%04x", (unsigned)ctl);
            json_puts(b, esc);
            i += kc;
        } else if (k == 0) {
            snprintf(esc, sizeof(esc), "\\x%02x", s[i]);
            json_puts(b, esc);
            i++;
        } else {
            json_put(b, s + i, k);
            i += k;
        }
    }
}

/* The shortest %g that reads back as @p v (as a float when @p f32). */
static void json_put_double(json_buf *b, double v, int f32)
{
    char text[40];
    if (!isfinite(v)) {
        json_puts(b, "null");
        return;
    }
    for (int prec = f32 ? 6 : 15; prec <= (f32 ? 9 : 17); prec++) {
        snprintf(text, sizeof(text), "%.*g", prec, v);
        double back = strtod(text, NULL);
        if (f32 ? (float)back == (float)v : back == v)
            break;
    }
    json_puts(b, text);
    if (strpbrk(text, ".e") == NULL)
        json_puts(b, ".0"); /* still a float when read back */
}

static xipc_err json_print_value(xipc_mp_reader *r, json_buf *b);

/* A map key: a str as it is, anything else as its JSON text in a str. */
static xipc_err json_print_key(xipc_mp_reader *r, json_buf *b)
{
    xipc_mp_obj o;
    xipc_err rv = xipc_mp_peek(r, &o);
    if (rv != XIPC_OK || o.type == XIPC_MP_STR)
        return json_print_value(r, b);
    json_buf key;
    json_buf_init(&key);
    rv = json_print_value(r, &key);
    if (rv == XIPC_OK)
        rv = key.err;
    if (rv == XIPC_OK)
        json_put_string(b, (const unsigned char *)key.data, key.len);
    json_buf_fini(&key);
    return rv;
}

static xipc_err json_print_value(xipc_mp_reader *r, json_buf *b)
{
    xipc_mp_obj o;
    char num[48];
    xipc_err rv = xipc_mp_read_next(r, &o);
    if (rv != XIPC_OK)
        return rv;
    switch (o.type) {
    case XIPC_MP_NIL:
        json_puts(b, "null");
        break;
    case XIPC_MP_BOOL:
        json_puts(b, o.v.b ? "true" : "false");
        break;
    case XIPC_MP_UINT:
        snprintf(num, sizeof(num), "%" PRIu64, o.v.u);
        json_puts(b, num);
        break;
    case XIPC_MP_INT:
        snprintf(num, sizeof(num), "%" PRId64, o.v.i);
        json_puts(b, num);
        break;
    case XIPC_MP_FLOAT32:
        json_put_double(b, o.v.f32, 1);
        break;
    case XIPC_MP_FLOAT64:
        json_put_double(b, o.v.f64, 0);
        break;
    case XIPC_MP_STR:
        json_put_string(b, o.ptr, o.len);
        break;
    case XIPC_MP_BIN:
        json_puts(b, "{\"$bin\":");
        json_put_base64(b, o.ptr, o.len);
        json_puts(b, "}");
        break;
    case XIPC_MP_EXT:
        snprintf(num, sizeof(num), "{\"$ext\":[%d,", o.ext_type);
        json_puts(b, num);
        json_put_base64(b, o.ptr, o.len);
        json_puts(b, "]}");
        break;
    case XIPC_MP_TIMESTAMP:
        snprintf(num, sizeof(num), "{\"$timestamp\":[%" PRId64 ",%u]}", o.v.ts.sec,
                 (unsigned)o.v.ts.nsec);
        json_puts(b, num);
        break;
    case XIPC_MP_ARRAY:
        json_puts(b, "[");
        for (uint32_t i = 0; i < o.len && rv == XIPC_OK; i++) {
            if (i > 0)
                json_puts(b, ",");
            rv = json_print_value(r, b);
        }
        json_puts(b, "]");
        break;
    case XIPC_MP_MAP:
        json_puts(b, "{");
        for (uint32_t i = 0; i < o.len && rv == XIPC_OK; i++) {
            if (i > 0)
                json_puts(b, ",");
            rv = json_print_key(r, b);
            json_puts(b, ":");
            if (rv == XIPC_OK)
                rv = json_print_value(r, b);
        }
        json_puts(b, "}");
        break;
    }
    return rv;
}

xipc_err json_print(const void *mp, size_t len, json_buf *out)
{
    if (mp == NULL || out == NULL)
        return XIPC_EINVAL;
    xipc_mp_reader r;
    xipc_mp_reader_init(&r, mp, len);
    xipc_err rv = json_print_value(&r, out);
    if (rv == XIPC_OK && xipc_mp_reader_left(&r) != 0)
        rv = XIPC_EPROTO;
    return rv != XIPC_OK ? rv : out->err;
}
