/*
 * libFuzzer target: URL parsing and name checks (src/core/url.c), the
 * tcp:// and tls+tcp:// address parser of the transports (tcp.c,
 * xipc__tcp_parse) and the unix:// one (xipc__unix_parse). The RPC layer
 * has no parser of its own: its URLs go to xipc_dial and xipc_listen.
 *
 * Input: the URL text (cut at the first NUL). Only parsers run: dialing a
 * fuzzed URL would reach the network (tcp host names go to the resolver)
 * or the endpoints of tests running at the same time. Checks: a parsed URL
 * has a lower-case scheme of allowed characters, a non-empty rest without
 * control bytes, and spells the input back; an accepted name has only
 * allowed characters; a parsed unix:// or tcp:// address formats back to
 * a URL that parses to the same address.
 */
#define _POSIX_C_SOURCE 200809L
#include "core/url.h"
#include "fuzz.h"
#include "transport/stream.h"

static int url_fz_scheme_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+';
}

static void url_fz_name(const char *name)
{
    if (xipc__name_check(name) != XIPC_OK)
        return;
    size_t n = strlen(name);
    FZ_CHECK(n >= 1 && n <= XIPC_NAME_MAX && name[0] != '.');
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        FZ_CHECK((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                 (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-');
    }
}

static void url_fz_core(const char *text)
{
    xipc_url u;
    memset(&u, 0xa5, sizeof(u));
    if (xipc__url_parse(&u, text) != XIPC_OK)
        return;
    size_t sl = strnlen(u.scheme, sizeof(u.scheme));
    size_t rl = strnlen(u.rest, sizeof(u.rest));
    FZ_CHECK(sl >= 1 && sl <= XIPC_SCHEME_MAX);
    FZ_CHECK(rl >= 1 && rl < XIPC_URL_MAX);
    for (size_t i = 0; i < sl; i++)
        FZ_CHECK(url_fz_scheme_char(u.scheme[i]));
    for (size_t i = 0; i < rl; i++)
        FZ_CHECK((unsigned char)u.rest[i] >= 0x20 && u.rest[i] != 0x7f);
    /* scheme "://" rest is the input, the scheme folded to lower case */
    FZ_CHECK(strlen(text) == sl + 3 + rl);
    for (size_t i = 0; i < sl; i++) {
        char c = text[i];
        FZ_CHECK((c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c) == u.scheme[i]);
    }
    FZ_CHECK(memcmp(text + sl, "://", 3) == 0);
    FZ_CHECK(memcmp(text + sl + 3, u.rest, rl) == 0);
    url_fz_name(u.rest);
}

/* The transports' TCP address parser on the rest of any URL. */
static void url_fz_tcp(const char *text)
{
    xipc_url u;
    xipc_tcp_addr a, b;
    if (xipc__url_parse(&u, text) != XIPC_OK)
        return;
    memset(&a, 0x5a, sizeof(a));
    xipc_err rv = xipc__tcp_parse(u.rest, &a);
    if (rv != XIPC_OK)
        return;
    size_t hl = strnlen(a.host, sizeof(a.host));
    FZ_CHECK(hl >= 1 && hl < sizeof(a.host));
    char again[XIPC_URL_MAX + 64];
    xipc__tcp_url(again, sizeof(again), "tls+tcp", &a, a.port);
    FZ_CHECK(xipc__url_parse(&u, again) == XIPC_OK && strcmp(u.scheme, "tls+tcp") == 0);
    FZ_CHECK(xipc__tcp_parse(u.rest, &b) == XIPC_OK);
    FZ_CHECK(strcmp(a.host, b.host) == 0 && a.port == b.port && a.v6 == b.v6);
}

/* The unix:// address parser: a path or an abstract name that formats
 * back to a URL naming the same socket. */
static void url_fz_unix(const char *text)
{
    xipc_url u;
    const char *path, *again_path;
    int abstract, again_abstract;
    if (xipc__url_parse(&u, text) != XIPC_OK ||
        xipc__unix_parse(u.rest, &path, &abstract) != XIPC_OK)
        return;
    size_t pl = strlen(path);
    FZ_CHECK(pl >= 1 && pl <= XIPC_UNIX_PATH_MAX);
    FZ_CHECK(abstract || path[0] == '/');
    char again[XIPC_URL_MAX + 8];
    snprintf(again, sizeof(again), "unix://%s%s", abstract ? "@" : "", path);
    FZ_CHECK(xipc__url_parse(&u, again) == XIPC_OK);
    FZ_CHECK(xipc__unix_parse(u.rest, &again_path, &again_abstract) == XIPC_OK);
    FZ_CHECK(again_abstract == abstract && strcmp(again_path, path) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* exactly sized: AddressSanitizer sees a read past the terminator */
    char *text = malloc(size + 1);
    FZ_CHECK(text != NULL);
    memcpy(text, data, size);
    text[size] = '\0';
    url_fz_core(text);
    url_fz_name(text);
    url_fz_tcp(text);
    url_fz_unix(text);
    free(text);
    return 0;
}
