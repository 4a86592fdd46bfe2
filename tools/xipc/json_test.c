/*
 * json_test: the JSON parser and printer of `xipc call` (json.h): exact
 * MessagePack bytes of numbers, every escape, round trips, error offsets,
 * hostile inputs (deep nesting, lone surrogates, bad UTF-8, every cut of a
 * document, huge numbers, random bytes), the printer's own forms, and
 * json_escape_text, which makes a peer's text safe for a terminal.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

#include "check.h"

/* Parse @p in; on success print it into @p out. */
static xipc_err parse_print(const char *in, size_t len, json_buf *out,
                            json_error *e)
{
    xipc_mp_buf mp;
    xipc_mp_buf_init(&mp);
    xipc_err rv = json_parse(in, len, JSON_DEPTH_CALL, &mp, e);
    if (rv == XIPC_OK)
        rv = json_print(mp.data, mp.len, out);
    xipc_mp_buf_fini(&mp);
    return rv;
}

/* @p in parses and prints back as @p want. */
static void round_trip(const char *in, const char *want)
{
    json_buf out;
    json_error e = {0, ""};
    json_buf_init(&out);
    xipc_err rv = parse_print(in, strlen(in), &out, &e);
    CHECK(rv == XIPC_OK, "%.40s: %s at %zu: %s", in, xipc_strerror(rv), e.offset, e.why);
    if (rv == XIPC_OK)
        CHECK(strcmp(out.data, want) == 0, "%.40s printed %s, want %s", in, out.data, want);
    json_buf_fini(&out);
}

/* @p in parses to exactly the MessagePack bytes @p want (@p n of them). */
static void bytes(const char *in, const char *want, size_t n)
{
    xipc_mp_buf mp;
    xipc_mp_buf_init(&mp);
    xipc_err rv = json_parse(in, strlen(in), JSON_DEPTH_CALL, &mp, NULL);
    CHECK(rv == XIPC_OK && mp.len == n && memcmp(mp.data, want, n) == 0,
          "%s: %s, %zu bytes, want %zu", in, xipc_strerror(rv), mp.len, n);
    xipc_mp_buf_fini(&mp);
}

/* @p in (@p len bytes) is refused at @p offset with a message containing
 * @p why. */
static void refused_n(const char *in, size_t len, size_t offset, const char *why)
{
    xipc_mp_buf mp;
    json_error e = {999999, NULL};
    xipc_mp_buf_init(&mp);
    xipc_err rv = json_parse(in, len, JSON_DEPTH_CALL, &mp, &e);
    CHECK(rv == XIPC_EINVAL, "%.40s: %s, want EINVAL", in, xipc_strerror(rv));
    if (rv == XIPC_EINVAL)
        CHECK(e.offset == offset && e.why != NULL && strstr(e.why, why) != NULL,
              "%.40s: offset %zu '%s', want %zu '%s'", in, e.offset,
              e.why ? e.why : "(null)", offset, why);
    xipc_mp_buf_fini(&mp);
}

static void refused(const char *in, size_t offset, const char *why)
{
    refused_n(in, strlen(in), offset, why);
}

/* The MessagePack @p mp (@p n bytes) prints as @p want. */
static void printed(const void *mp, size_t n, const char *want)
{
    json_buf out;
    json_buf_init(&out);
    xipc_err rv = json_print(mp, n, &out);
    CHECK(rv == XIPC_OK && strcmp(out.data, want) == 0, "printed %s (%s), want %s",
          out.data ? out.data : "", xipc_strerror(rv), want);
    json_buf_fini(&out);
}

static void test_values(void)
{
    round_trip("null", "null");
    round_trip(" \t\r\n true \n", "true");
    round_trip("false", "false");
    round_trip("[]", "[]");
    round_trip("{}", "{}");
    round_trip("[ [ ] , { } ]", "[[],{}]");
    round_trip("{\"a\": [1, 2, {\"b\": null}], \"c\": true}",
               "{\"a\":[1,2,{\"b\":null}],\"c\":true}");
    round_trip("{\"k\":1,\"k\":2}", "{\"k\":1,\"k\":2}"); /* duplicates kept */
    round_trip("0", "0");
    round_trip("-0", "0");
    round_trip("9223372036854775807", "9223372036854775807");
    round_trip("-9223372036854775808", "-9223372036854775808");
    round_trip("18446744073709551615", "18446744073709551615");
    round_trip("18446744073709551616", "1.8446744073709552e+19");
    round_trip("-9223372036854775809", "-9.223372036854776e+18");
    round_trip("1.5", "1.5");
    round_trip("0.1", "0.1");
    round_trip("2.0", "2.0");
    round_trip("-0.0", "-0.0");
    round_trip("1e300", "1e+300");
    round_trip("1E-2", "0.01");
    round_trip("1e-400", "0.0"); /* underflow: zero, not an error */
    round_trip("3.141592653589793", "3.141592653589793");
    round_trip("1" "00000000000000000000000000000000000000000", "1e+41");
    round_trip("\"\"", "\"\"");
    round_trip("\"\\\" \\\\ \\/ \\b \\f \\n \\r \\t\"", "\"\\\" \\\\ / \\b \\f \\n \\r \\t\"");
    round_trip("\"\\u0041\\u00e9\\u20AC\\ud83d\\ude00\"", "\"A\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"");
    round_trip("\"\\u0000\\u001f\\u007f\"", "\"\\u0000\\u001f\\u007f\""); /* DEL too */
    round_trip("\"\xc3\xa9\xf0\x9f\x98\x80\"", "\"\xc3\xa9\xf0\x9f\x98\x80\"");
}

static void test_bytes(void)
{
    bytes("0", "\x00", 1);
    bytes("-1", "\xff", 1);
    bytes("127", "\x7f", 1);
    bytes("-33", "\xd0\xdf", 2);
    bytes("18446744073709551615", "\xcf\xff\xff\xff\xff\xff\xff\xff\xff", 9);
    bytes("-9223372036854775808", "\xd3\x80\x00\x00\x00\x00\x00\x00\x00", 9);
    bytes("1.0", "\xcb\x3f\xf0\x00\x00\x00\x00\x00\x00", 9);
    bytes("1e0", "\xcb\x3f\xf0\x00\x00\x00\x00\x00\x00", 9);
    bytes("[1,\"a\"]", "\x92\x01\xa1\x61", 4);
    bytes("{\"a\":{}}", "\x81\xa1\x61\x80", 4);
    bytes("\"\\ud83d\\ude00\"", "\xa4\xf0\x9f\x98\x80", 5);
}

static void test_errors(void)
{
    refused("", 0, "unexpected end");
    refused("   ", 3, "unexpected end");
    refused("nul", 3, "unexpected end");
    refused("nulL", 0, "invalid literal");
    refused("True", 0, "unexpected character");
    refused("[1,2", 4, "unexpected end");
    refused("[1 2]", 3, "expected ',' or ']'");
    refused("[1,]", 3, "unexpected character");
    refused("{\"a\" 1}", 5, "expected ':'");
    refused("{\"a\":1,}", 7, "expected a string key");
    refused("{a:1}", 1, "expected a string key");
    refused("{\"a\":1 \"b\":2}", 7, "expected ',' or '}'");
    refused("1 2", 2, "after the value");
    refused("01", 1, "after the value");
    refused("+1", 0, "unexpected character");
    refused("-", 1, "end of input in a number");
    refused("-a", 1, "expected a digit");
    refused("1.", 2, "after '.'");
    refused(".5", 0, "unexpected character");
    refused("1e", 2, "exponent");
    refused("1e+", 3, "exponent");
    refused("NaN", 0, "unexpected character");
    refused("Infinity", 0, "unexpected character");
    refused("1e309", 0, "out of range");
    refused("-1e309", 0, "out of range");
    refused("\"abc", 4, "unterminated string");
    refused("\"abc\\", 5, "unterminated string");
    refused("\"\\x\"", 1, "invalid escape");
    refused("\"\\u12\"", 1, "4 hex digits");
    refused("\"\\u12G4\"", 1, "4 hex digits");
    refused("\"ab\\ud800\"", 3, "lone high surrogate");
    refused("\"\\ud800\\u0041\"", 1, "lone high surrogate");
    refused("\"\\ud800\\ud800\"", 1, "lone high surrogate");
    refused("\"\\udc00\"", 1, "lone low surrogate");
    refused("\"a\tb\"", 2, "control character");
    refused("\"a\nb\"", 2, "control character");
    refused("\"\xff\"", 1, "invalid UTF-8");
    refused("\"\xc0\xaf\"", 1, "invalid UTF-8");          /* overlong '/' */
    refused("\"\xed\xa0\x80\"", 1, "invalid UTF-8");      /* a surrogate */
    refused("\"\xf4\x90\x80\x80\"", 1, "invalid UTF-8");  /* > U+10FFFF */
    refused("\"\xe2\x82\"", 1, "invalid UTF-8");          /* cut */
    refused_n("[1,\0 2]", 7, 3, "unexpected character");  /* a NUL byte */
    refused("'a'", 0, "unexpected character");
    refused("[1]]", 3, "after the value");
}

static void test_depth(void)
{
    char deep[2 * (JSON_DEPTH_CALL + 1) + 1];
    for (int n = JSON_DEPTH_CALL; n <= JSON_DEPTH_CALL + 1; n++) {
        memset(deep, '[', (size_t)n);
        memset(deep + n, ']', (size_t)n);
        deep[2 * n] = '\0';
        xipc_mp_buf mp;
        xipc_mp_buf_init(&mp);
        json_error e = {0, ""};
        xipc_err rv = json_parse(deep, strlen(deep), JSON_DEPTH_CALL, &mp, &e);
        if (n == JSON_DEPTH_CALL)
            CHECK(rv == XIPC_OK && mp.len == (size_t)n, "depth %d: %s", n,
                  xipc_strerror(rv));
        else
            CHECK(rv == XIPC_EINVAL && e.offset == JSON_DEPTH_CALL &&
                      strstr(e.why, "too deeply") != NULL,
                  "depth %d: %s at %zu", n, xipc_strerror(rv), e.offset);
        xipc_mp_buf_fini(&mp);
    }
    /* a million opening brackets and objects: refused at the limit, no
     * stack overflow */
    size_t big = 1000000;
    char *s = malloc(big + 1);
    for (size_t i = 0; i < big; i++)
        s[i] = i % 2 ? '[' : '{';
    s[big] = '\0';
    refused_n(s, big, 1, "expected a string key");
    memset(s, '[', big);
    refused_n(s, big, JSON_DEPTH_CALL, "too deeply");
    /* a number of a million digits: float 64 out of range */
    memset(s, '7', big);
    refused_n(s, big, 0, "out of range");
    s[1] = '.';
    round_trip(s, "7.777777777777778"); /* 7.777... fits */
    free(s);
}

/* Every proper prefix of a document is refused, within the prefix. */
static void test_cuts(void)
{
    const char *doc = "{\"a\":[1,-2.5e3,\"\\u00e9\\ud83d\\ude00\xc3\xa9\",true,"
                      "null,false,{\"b\":[]}],\"c\":\"\\n\"}";
    size_t n = strlen(doc);
    for (size_t cut = 0; cut < n; cut++) {
        xipc_mp_buf mp;
        json_error e = {0, ""};
        xipc_mp_buf_init(&mp);
        xipc_err rv = json_parse(doc, cut, JSON_DEPTH_CALL, &mp, &e);
        CHECK(rv == XIPC_EINVAL && e.offset <= cut, "cut %zu: %s at %zu", cut,
              xipc_strerror(rv), e.offset);
        xipc_mp_buf_fini(&mp);
    }
    json_buf out;
    json_buf_init(&out);
    CHECK(parse_print(doc, n, &out, NULL) == XIPC_OK &&
              strcmp(out.data, "{\"a\":[1,-2500.0,\"\xc3\xa9\xf0\x9f\x98\x80\xc3\xa9\","
                               "true,null,false,{\"b\":[]}],\"c\":\"\\n\"}") == 0,
          "whole document: %s", out.data ? out.data : "");
    json_buf_fini(&out);
}

static void test_printer(void)
{
    printed("\xc4\x03\x00\xff\x10", 5, "{\"$bin\":\"AP8Q\"}");
    printed("\xc4\x00", 2, "{\"$bin\":\"\"}");
    printed("\xc4\x01\xfb", 3, "{\"$bin\":\"+w==\"}");
    printed("\xc4\x02\xfb\xff", 4, "{\"$bin\":\"+/8=\"}");
    printed("\xd4\x05\x41", 3, "{\"$ext\":[5,\"QQ==\"]}");
    printed("\xd6\xff\x00\x00\x00\x10", 6, "{\"$timestamp\":[16,0]}");
    printed("\xcb\x7f\xf8\x00\x00\x00\x00\x00\x00", 9, "null");       /* NaN */
    printed("\xcb\xff\xf0\x00\x00\x00\x00\x00\x00", 9, "null");       /* -inf */
    printed("\xca\x3d\xcc\xcc\xcd", 5, "0.1");                         /* float 32 */
    printed("\xca\x40\x00\x00\x00", 5, "2.0");
    printed("\xa3" "a\xffz", 4, "\"a\\udcffz\"");                      /* not UTF-8 */
    printed("\xa2\xed\xa0", 3, "\"\\udced\\udca0\"");
    printed("\xa1\x01", 2, "\"\\u0001\"");
    /* DEL and C1 too: a terminal acts on them (0x9b is CSI) */
    printed("\xa4\x1b\x7f\xc2\x9b", 5, "\"\\u001b\\u007f\\u009b\"");
    printed("\xa4\xc2\x80\xc2\x9f", 5, "\"\\u0080\\u009f\"");
    printed("\xa2\xc2\xa0", 3, "\"\xc2\xa0\"");                  /* NBSP prints */
    printed("\xa2\xc0\x9b", 3, "\"\\udcc0\\udc9b\"");          /* overlong CSI */
    printed("\x83\x01\xa1x\x92\x01\x02\xc0\xc3\x01", 10,
            "{\"1\":\"x\",\"[1,2]\":null,\"true\":1}");               /* keys */
    printed("\x81\xa1\x22\x01", 4, "{\"\\\"\":1}");
    printed("\xd3\x80\x00\x00\x00\x00\x00\x00\x00", 9, "-9223372036854775808");
    /* not exactly one well-formed value */
    json_buf out;
    json_buf_init(&out);
    CHECK(json_print("\x01\x02", 2, &out) == XIPC_EPROTO, "two values");
    CHECK(json_print("\x92\x01", 2, &out) == XIPC_EPROTO, "truncated array");
    CHECK(json_print("\xc1", 1, &out) == XIPC_EPROTO, "reserved byte");
    CHECK(json_print("", 0, &out) == XIPC_EPROTO, "empty");
    json_buf_fini(&out);
}

/* json_escape_text turns @p in (@p n bytes) into exactly @p want. */
static void escaped(const char *in, size_t n, const char *want)
{
    json_buf out;
    json_buf_init(&out);
    json_escape_text(&out, in, n);
    CHECK(out.err == XIPC_OK && out.data != NULL && strcmp(out.data, want) == 0,
          "escaped %.*s as %s, want %s", (int)n, in, out.data ? out.data : "(null)",
          want);
    json_buf_fini(&out);
}

/* Is @p s (NUL-terminated) valid UTF-8 with no control character? */
static int safe_text(const char *s)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t n = strlen(s);
    for (size_t i = 0; i < n;) {
        size_t k = json_utf8_len(u + i, n - i);
        if (k == 0 || u[i] < 0x20 || u[i] == 0x7f ||
            (u[i] == 0xc2 && u[i + 1] <= 0x9f))
            return 0;
        i += k;
    }
    return 1;
}

static void test_escape(void)
{
    escaped("", 0, "");
    escaped("method not found: ping", 22, "method not found: ping");
    escaped("\xff\xfe", 2, "\\xff\\xfe");                          /* not UTF-8 */
    escaped("\x1b[31mred", 8, "\\u001b[31mred");                   /* ESC */
    escaped("a\0b\n\t\r", 6, "a\\u0000b\\u000a\\u0009\\u000d");
    escaped("\x7f", 1, "\\u007f");                                   /* DEL */
    escaped("\xc2\x80\xc2\x9b\xc2\x9f", 6, "\\u0080\\u009b\\u009f");   /* C1 */
    escaped("\x9b", 1, "\\x9b");                                     /* CSI, bare */
    escaped("\xc0\x9b", 2, "\\xc0\\x9b");                           /* overlong */
    escaped("\xc2", 1, "\\xc2");                                     /* cut */
    escaped("\xc2\xa0\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 11,
            "\xc2\xa0\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");           /* printable */
    escaped("\xed\xa0\x80", 3, "\\xed\\xa0\\x80");                  /* surrogate */
    escaped("\xf4\x90\x80\x80", 4, "\\xf4\\x90\\x80\\x80");          /* > U+10FFFF */
    escaped("a\\x1b", 5, "a\\\\x1b");       /* a literal backslash stays apart */
    /* random bytes: always valid UTF-8 without a control character */
    uint64_t seed = 99;
    char in[24];
    for (int round = 0; round < 100000; round++) {
        size_t n = (size_t)(round % (int)sizeof(in));
        for (size_t i = 0; i < n; i++) {
            seed = seed * 6364136223846793005ull + 1442695040888963407ull;
            in[i] = (char)(seed >> 56);
        }
        json_buf out;
        json_buf_init(&out);
        json_escape_text(&out, in, n);
        if (out.err != XIPC_OK || out.data == NULL || !safe_text(out.data)) {
            CHECK(0, "random text %d escaped unsafely: %s", round,
                  out.data ? out.data : "(null)");
            round = 1 << 30;
        }
        json_buf_fini(&out);
    }
}

/* Random documents from JSON's alphabet: never a crash, and what parses
 * prints as JSON that parses to the same MessagePack bytes. */
static void test_random(void)
{
    static const char alpha[] = "[]{}:,\"\\u0123456789abcdefE+-. \ntrulsn\xc3\xa9\xff";
    char doc[48];
    uint64_t seed = 12345;
    unsigned long parsed = 0;
    for (int round = 0; round < 200000; round++) {
        size_t n = 1 + (size_t)(round % (int)(sizeof(doc) - 1));
        for (size_t i = 0; i < n; i++) {
            seed = seed * 6364136223846793005ull + 1442695040888963407ull;
            doc[i] = alpha[(seed >> 33) % (sizeof(alpha) - 1)];
        }
        xipc_mp_buf a, b;
        json_buf text;
        xipc_mp_buf_init(&a);
        xipc_mp_buf_init(&b);
        json_buf_init(&text);
        json_error e = {0, ""};
        xipc_err rv = json_parse(doc, n, JSON_DEPTH_CALL, &a, &e);
        if (rv == XIPC_OK) {
            parsed++;
            rv = json_print(a.data, a.len, &text);
            if (rv == XIPC_OK)
                rv = json_parse(text.data, text.len, JSON_DEPTH_CALL, &b, NULL);
            if (rv != XIPC_OK || a.len != b.len || memcmp(a.data, b.data, a.len) != 0) {
                CHECK(0, "%.*s printed as %s: %s", (int)n, doc, text.data,
                      xipc_strerror(rv));
                round = 1 << 30;
            }
        } else if (rv != XIPC_EINVAL || e.offset > n || e.why == NULL) {
            CHECK(0, "%.*s: %s at %zu", (int)n, doc, xipc_strerror(rv), e.offset);
            round = 1 << 30;
        }
        xipc_mp_buf_fini(&a);
        xipc_mp_buf_fini(&b);
        json_buf_fini(&text);
    }
    CHECK(parsed > 100, "only %lu random documents parsed", parsed);
}

int main(void)
{
    test_values();
    test_bytes();
    test_errors();
    test_depth();
    test_cuts();
    test_printer();
    test_escape();
    test_random();
    printf("json_test: %d checks, %d failed\n", checks, fails);
    return fails ? 1 : 0;
}
