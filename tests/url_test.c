/*
 * URL parsing (xipc__url_parse) and endpoint name checks
 * (xipc__name_check): both take untrusted text.
 */
#include <string.h>

#include "core/url.h"
#include "test.h"

/* Parse @p text, expect success with the given scheme and rest. */
static void url_good(const char *text, const char *scheme, const char *rest)
{
    xipc_url u;
    memset(&u, 0x5a, sizeof(u));
    xipc_err rv = xipc__url_parse(&u, text);
    if (rv != XIPC_OK)
        XT_FAIL("xipc__url_parse(\"%s\") = %s, want OK", text,
                xipc_err_name(rv));
    if (strcmp(u.scheme, scheme) != 0)
        XT_FAIL("\"%s\": scheme \"%s\", want \"%s\"", text, u.scheme, scheme);
    if (strcmp(u.rest, rest) != 0)
        XT_FAIL("\"%s\": rest \"%s\", want \"%s\"", text, u.rest, rest);
}

/* Parse @p text, expect XIPC_EINVAL. @p why names the case in a failure. */
static void url_bad(const char *text, const char *why)
{
    xipc_url u;
    xipc_err rv = xipc__url_parse(&u, text);
    if (rv != XIPC_EINVAL)
        XT_FAIL("xipc__url_parse(%s) = %s, want EINVAL", why,
                xipc_err_name(rv));
}

static void url_test_good(void)
{
    url_good("shm://abc", "shm", "abc");
    url_good("tcp://127.0.0.1:5555", "tcp", "127.0.0.1:5555");
    url_good("tls+tcp://host:1", "tls+tcp", "host:1");
    url_good("unix:///tmp/x.sock", "unix", "/tmp/x.sock");
    url_good("unix://@abstract", "unix", "@abstract");
    url_good("a://b", "a", "b");
    url_good("h2://x", "h2", "x");
    /* "://" later in the rest is part of the rest */
    url_good("shm://a://b", "shm", "a://b");
    /* the scheme is lower-cased, the rest kept as is */
    url_good("SHM://Name", "shm", "Name");
    url_good("TlS+TcP://HoSt:9", "tls+tcp", "HoSt:9");
    /* 15 characters is the longest scheme */
    url_good("abcdefghijklmno://x", "abcdefghijklmno", "x");
    /* non-ASCII bytes in the rest are not control characters */
    url_good("shm://caf\xc3\xa9", "shm", "caf\xc3\xa9");
    url_good("shm://a b", "shm", "a b");

    /* the longest URL: 511 bytes */
    char big[XIPC_URL_MAX];
    memcpy(big, "shm://", 6);
    memset(big + 6, 'r', sizeof(big) - 7);
    big[sizeof(big) - 1] = '\0';
    XT_EQ(strlen(big), XIPC_URL_MAX - 1);
    xipc_url u;
    XT_OK(xipc__url_parse(&u, big));
    XT_ASSERT(strcmp(u.scheme, "shm") == 0);
    XT_EQ(strlen(u.rest), XIPC_URL_MAX - 1 - 6);
    XT_ASSERT(strcmp(u.rest, big + 6) == 0);
}

static void url_test_bad(void)
{
    xipc_url u;
    XT_ERR(xipc__url_parse(&u, NULL), XIPC_EINVAL);
    XT_ERR(xipc__url_parse(NULL, "shm://x"), XIPC_EINVAL);
    url_bad("", "empty");
    url_bad("shm", "no separator");
    url_bad("shm:/x", "one slash");
    url_bad("shm:x", "colon only");
    url_bad("shm//x", "no colon");
    url_bad("://x", "empty scheme");
    url_bad("shm://", "empty rest");
    url_bad("abcdefghijklmnop://x", "16-character scheme");
    url_bad("abcdefghijklmnopqrstuvwxyz0123456789://x", "long scheme");
    url_bad("sh m://x", "space in scheme");
    url_bad("sh-m://x", "'-' in scheme");
    url_bad("sh.m://x", "'.' in scheme");
    url_bad("sh_m://x", "'_' in scheme");
    url_bad("sh\xc3\xa9://x", "non-ASCII scheme");
    url_bad("\tshm://x", "tab before scheme");
    url_bad("shm://a\nb", "newline in rest");
    url_bad("shm://a\rb", "CR in rest");
    url_bad("shm://\x01", "control byte in rest");
    url_bad("shm://ab\x1f", "0x1f in rest");
    url_bad("shm://a\x7f", "DEL in rest");
    url_bad("shm://\x1b[31m", "escape sequence in rest");

    /* 512 bytes (one too many) and 600 bytes */
    char big[601];
    memcpy(big, "shm://", 6);
    memset(big + 6, 'r', sizeof(big) - 7);
    big[600] = '\0';
    url_bad(big, "600-byte URL");
    big[XIPC_URL_MAX] = '\0';
    XT_EQ(strlen(big), XIPC_URL_MAX);
    url_bad(big, "512-byte URL");

    /* a long text without "://" at all */
    memset(big, 'x', 600);
    big[600] = '\0';
    url_bad(big, "600 bytes, no separator");
    /* the separator only past the limit */
    memcpy(big + 550, "://", 3);
    url_bad(big, "separator past the limit");
}

static void name_good(const char *name)
{
    xipc_err rv = xipc__name_check(name);
    if (rv != XIPC_OK)
        XT_FAIL("xipc__name_check(\"%s\") = %s, want OK", name,
                xipc_err_name(rv));
}

static void name_bad(const char *name, const char *why)
{
    xipc_err rv = xipc__name_check(name);
    if (rv != XIPC_EINVAL)
        XT_FAIL("xipc__name_check(%s) = %s, want EINVAL", why,
                xipc_err_name(rv));
}

static void url_test_names(void)
{
    name_good("a");
    name_good("abc");
    name_good("A-Z_a-z.0-9");
    name_good("x.y");
    name_good("a..b"); /* ".." inside a name without '/' cannot climb */
    name_good("a.");
    name_good("0");
    name_good("-");
    name_good("_");

    /* 64 bytes is the longest; 65 is refused */
    char n[XIPC_NAME_MAX + 2];
    memset(n, 'n', XIPC_NAME_MAX);
    n[XIPC_NAME_MAX] = '\0';
    name_good(n);
    n[XIPC_NAME_MAX] = 'n';
    n[XIPC_NAME_MAX + 1] = '\0';
    XT_EQ(strlen(n), 65);
    name_bad(n, "65 bytes");
    char big[300];
    memset(big, 'n', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    name_bad(big, "299 bytes");

    name_bad(NULL, "NULL");
    name_bad("", "empty");
    name_bad("a/b", "a/b");
    name_bad("/a", "/a");
    name_bad("a/", "a/");
    name_bad("/", "/");
    name_bad("..", "..");
    name_bad("../x", "../x");
    name_bad(".", ".");
    name_bad(".hidden", "leading dot");
    name_bad("a\\b", "backslash");
    name_bad("a b", "space");
    name_bad("a:b", "colon");
    name_bad("a@b", "at");
    name_bad("a\nb", "newline");
    name_bad("a\tb", "tab");
    name_bad("\x01", "control byte");
    name_bad("a\x7f", "DEL");
    name_bad("caf\xc3\xa9", "UTF-8 e-acute");
    name_bad("\xff", "0xff");
    name_bad("a\x80", "0x80");
    name_bad("*", "star");
    name_bad("a%2fb", "percent");

    /* Names are C strings: the check sees the part before a NUL. */
    static const char nul_good[] = "abc\0/../etc";
    name_good(nul_good);
    static const char nul_bad[] = "a/b\0cdef";
    name_bad(nul_bad, "\"a/b\\0cdef\"");
    static const char nul_first[] = "\0abc";
    name_bad(nul_first, "\"\\0abc\"");
    /* 64 good bytes, then NUL, then more: the name is the 64 bytes */
    char nb[80];
    memset(nb, 'q', sizeof(nb));
    nb[XIPC_NAME_MAX] = '\0';
    nb[sizeof(nb) - 1] = '\0';
    name_good(nb);
}

/* A parsed URL's rest is what the transports check as a name. */
static void url_test_parse_then_name(void)
{
    xipc_url u;
    XT_OK(xipc__url_parse(&u, "shm://good-name"));
    XT_OK(xipc__name_check(u.rest));
    XT_OK(xipc__url_parse(&u, "shm://a/b"));
    XT_ERR(xipc__name_check(u.rest), XIPC_EINVAL);
    XT_OK(xipc__url_parse(&u, "shm://.."));
    XT_ERR(xipc__name_check(u.rest), XIPC_EINVAL);
}

int main(void)
{
    url_test_good();
    url_test_bad();
    url_test_names();
    url_test_parse_then_name();
    printf("url_test ok\n");
    return 0;
}
