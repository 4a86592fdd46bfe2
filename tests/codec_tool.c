/*
 * A helper for codec_py_test.py: converts between MessagePack and a simple
 * text form of values, with xipc's codec.
 *
 *   codec_tool encode   text on stdin  -> xipc's MessagePack on stdout
 *   codec_tool decode   MessagePack on stdin -> text on stdout
 *
 * The text form: one top-level value per line, tokens separated by spaces,
 * containers in prefix order (a header token, then its elements):
 *   n  t  f                nil, true, false
 *   u<decimal>  i<decimal>  integer >= 0 / < 0 (encode accepts any sign
 *                          after i: written with xipc_mp_write_int)
 *   D<16 hex>  F<8 hex>    float 64 / float 32, the IEEE bits
 *   S<hex>  B<hex>         str / bin, the bytes in hex (may be empty)
 *   E<type>:<hex>          ext of type -128..127 (not -1)
 *   T<sec>:<nsec>          timestamp
 *   A<n>  M<n>             array of n values / map of n key-value pairs
 * Exit status 0, or 1 with a message on stderr (bad text, bad MessagePack).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xipc/msgpack.h"

static void die(const char *msg, const char *detail)
{
    fprintf(stderr, "codec_tool: %s%s%s\n", msg, detail ? ": " : "",
            detail ? detail : "");
    exit(1);
}

/* All of stdin; @p *n gets its length. */
static char *slurp(size_t *n)
{
    size_t cap = 1 << 20, len = 0;
    char *p = malloc(cap + 1);
    if (p == NULL)
        die("out of memory", NULL);
    for (;;) {
        size_t got = fread(p + len, 1, cap - len, stdin);
        len += got;
        if (len < cap) {
            if (ferror(stdin))
                die("read error", NULL);
            if (feof(stdin))
                break;
            continue;
        }
        cap *= 2;
        p = realloc(p, cap + 1);
        if (p == NULL)
            die("out of memory", NULL);
    }
    p[len] = '\0';
    *n = len;
    return p;
}

static int hexdigit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decode @p n hex digits at @p s into @p out (n/2 bytes). */
static void unhex(const char *s, size_t n, uint8_t *out, const char *tok)
{
    if (n % 2 != 0)
        die("odd hex length", tok);
    for (size_t i = 0; i < n / 2; i++) {
        int hi = hexdigit(s[2 * i]), lo = hexdigit(s[2 * i + 1]);
        if (hi < 0 || lo < 0)
            die("bad hex", tok);
        out[i] = (uint8_t)(hi << 4 | lo);
    }
}

static uint64_t hexnum(const char *s, size_t n, const char *tok)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        int d = hexdigit(s[i]);
        if (d < 0)
            die("bad hex number", tok);
        v = v << 4 | (uint64_t)d;
    }
    return v;
}

static uint64_t dec_u(const char *s, char **end, const char *tok)
{
    errno = 0;
    if (*s == '-' || *s == '+' || *s == ' ')
        die("bad unsigned number", tok);
    unsigned long long v = strtoull(s, end, 10);
    if (errno != 0 || *end == s)
        die("bad unsigned number", tok);
    return v;
}

static int64_t dec_i(const char *s, char **end, const char *tok)
{
    errno = 0;
    long long v = strtoll(s, end, 10);
    if (errno != 0 || *end == s)
        die("bad number", tok);
    return v;
}

static void check(xipc_err rv, const char *tok)
{
    if (rv != XIPC_OK)
        die(xipc_strerror(rv), tok);
}

/* Write the value of one token @p tok of @p len characters. */
static void encode_token(xipc_mp_buf *b, char *tok, size_t len, uint8_t *tmp)
{
    char *end = tok + len, *e = end;
    char c = *end;
    *end = '\0'; /* tokens end at a space or newline: make it a string */
    const char *arg = tok + 1;
    size_t alen = len - 1;
    if ((tok[0] == 'n' || tok[0] == 't' || tok[0] == 'f') && alen != 0)
        die("unknown token", tok);
    switch (tok[0]) {
    case 'n':
        check(xipc_mp_write_nil(b), tok);
        break;
    case 't':
    case 'f':
        check(xipc_mp_write_bool(b, tok[0] == 't'), tok);
        break;
    case 'u':
        check(xipc_mp_write_uint(b, dec_u(arg, &e, tok)), tok);
        break;
    case 'i':
        check(xipc_mp_write_int(b, dec_i(arg, &e, tok)), tok);
        break;
    case 'D': {
        if (alen != 16)
            die("D takes 16 hex digits", tok);
        uint64_t bits = hexnum(arg, 16, tok);
        double d;
        memcpy(&d, &bits, 8);
        check(xipc_mp_write_double(b, d), tok);
        break;
    }
    case 'F': {
        if (alen != 8)
            die("F takes 8 hex digits", tok);
        uint32_t bits = (uint32_t)hexnum(arg, 8, tok);
        float f;
        memcpy(&f, &bits, 4);
        check(xipc_mp_write_float(b, f), tok);
        break;
    }
    case 'S':
    case 'B':
        unhex(arg, alen, tmp, tok);
        if (tok[0] == 'S')
            check(xipc_mp_write_str(b, (const char *)tmp, alen / 2), tok);
        else
            check(xipc_mp_write_bin(b, tmp, alen / 2), tok);
        break;
    case 'E': {
        int64_t type = dec_i(arg, &e, tok);
        if (*e != ':' || type < -128 || type > 127)
            die("bad ext", tok);
        size_t hn = (size_t)(end - (e + 1));
        unhex(e + 1, hn, tmp, tok);
        check(xipc_mp_write_ext(b, (int8_t)type, tmp, hn / 2), tok);
        e = end;
        break;
    }
    case 'T': {
        int64_t sec = dec_i(arg, &e, tok);
        if (*e != ':')
            die("bad timestamp", tok);
        uint64_t nsec = dec_u(e + 1, &e, tok);
        if (nsec > UINT32_MAX)
            die("bad timestamp", tok);
        check(xipc_mp_write_timestamp(b, sec, (uint32_t)nsec), tok);
        break;
    }
    case 'A':
    case 'M': {
        uint64_t count = dec_u(arg, &e, tok);
        if (count > UINT32_MAX)
            die("count too large", tok);
        if (tok[0] == 'A')
            check(xipc_mp_write_array(b, (uint32_t)count), tok);
        else
            check(xipc_mp_write_map(b, (uint32_t)count), tok);
        break;
    }
    default:
        die("unknown token", tok);
        return;
    }
    if (e != end)
        die("trailing characters", tok);
    *end = c;
}

static int encode(void)
{
    size_t n;
    char *text = slurp(&n);
    uint8_t *tmp = malloc(n / 2 + 1);
    if (tmp == NULL)
        die("out of memory", NULL);
    xipc_mp_buf b;
    xipc_mp_buf_init(&b);
    size_t i = 0;
    while (i < n) {
        if (text[i] == ' ' || text[i] == '\n' || text[i] == '\r' ||
            text[i] == '\t') {
            i++;
            continue;
        }
        size_t j = i;
        while (j < n && text[j] != ' ' && text[j] != '\n' && text[j] != '\r' &&
               text[j] != '\t')
            j++;
        encode_token(&b, text + i, j - i, tmp);
        i = j;
    }
    if (b.len > 0 && fwrite(b.data, 1, b.len, stdout) != b.len)
        die("write error", NULL);
    xipc_mp_buf_fini(&b);
    free(tmp);
    free(text);
    return fflush(stdout) == 0 ? 0 : 1;
}

static void put_hex(const uint8_t *p, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    char chunk[4096];
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        chunk[k++] = digits[p[i] >> 4];
        chunk[k++] = digits[p[i] & 15];
        if (k == sizeof(chunk)) {
            fwrite(chunk, 1, k, stdout);
            k = 0;
        }
    }
    fwrite(chunk, 1, k, stdout);
}

static int decode(void)
{
    size_t n;
    char *in = slurp(&n);
    xipc_mp_reader r;
    xipc_mp_obj o;
    xipc_mp_reader_init(&r, in, n);
    long values = 0;
    bool first = true; /* first token of a line */
    while (xipc_mp_reader_left(&r) > 0) {
        size_t at = n - xipc_mp_reader_left(&r);
        xipc_err rv = xipc_mp_read_next(&r, &o);
        if (rv != XIPC_OK) {
            fflush(stdout);
            fprintf(stderr, "codec_tool: decode: %s at byte %zu (value %ld)\n",
                    xipc_err_name(rv), at, values);
            return 1;
        }
        if (!first)
            putchar(' ');
        first = false;
        switch (o.type) {
        case XIPC_MP_NIL: putchar('n'); break;
        case XIPC_MP_BOOL: putchar(o.v.b ? 't' : 'f'); break;
        case XIPC_MP_UINT: printf("u%llu", (unsigned long long)o.v.u); break;
        case XIPC_MP_INT: printf("i%lld", (long long)o.v.i); break;
        case XIPC_MP_FLOAT32: {
            uint32_t bits;
            memcpy(&bits, &o.v.f32, 4);
            printf("F%08lx", (unsigned long)bits);
            break;
        }
        case XIPC_MP_FLOAT64: {
            uint64_t bits;
            memcpy(&bits, &o.v.f64, 8);
            printf("D%016llx", (unsigned long long)bits);
            break;
        }
        case XIPC_MP_STR: putchar('S'); put_hex(o.ptr, o.len); break;
        case XIPC_MP_BIN: putchar('B'); put_hex(o.ptr, o.len); break;
        case XIPC_MP_EXT:
            printf("E%d:", (int)o.ext_type);
            put_hex(o.ptr, o.len);
            break;
        case XIPC_MP_TIMESTAMP:
            printf("T%lld:%lu", (long long)o.v.ts.sec,
                   (unsigned long)o.v.ts.nsec);
            break;
        case XIPC_MP_ARRAY: printf("A%lu", (unsigned long)o.len); break;
        case XIPC_MP_MAP: printf("M%lu", (unsigned long)o.len); break;
        }
        if (xipc_mp_reader_depth(&r) == 0) {
            putchar('\n');
            first = true;
            values++;
        }
    }
    free(in);
    return fflush(stdout) == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "encode") == 0)
        return encode();
    if (argc == 2 && strcmp(argv[1], "decode") == 0)
        return decode();
    fprintf(stderr, "usage: codec_tool encode|decode  (stdin -> stdout)\n");
    return 2;
}
