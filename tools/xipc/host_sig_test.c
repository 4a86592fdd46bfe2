/*
 * host_sig_test: the signature language of `xipc host` (host_sig.h):
 * every form of the grammar, what each declaration turns into, errors at
 * their line and column, and hostile inputs (every cut of a good text,
 * every byte at every place, random bytes, limits), none of which may
 * crash the parser or be accepted half.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host_sig.h"

#include "check.h"

static host_sigs *sigs;

static int parse(const char *text, host_sig_error *e)
{
    host_sigs_init(sigs);
    return host_sig_parse(sigs, text, strlen(text), e);
}

static const char vendor[] =
    "# the example's library\n"
    "struct point { int32 x; int32 y; };\n"
    "int32 vendor_add(int32 a, int32 b);\n"
    "const char *vendor_greet(const char * name);  // C spelling\n"
    "uint32 vendor_fill(out buf[len] dst, uint32 len);\n"
    "struct point vendor_mid(struct point a, struct point b);\n"
    "void vendor_get(out struct point * p) errno;\n"
    "int64 vendor_sum(nullable in buf[n], uint16 n, inout buf[m] io, uint8 m, nullable str s);\n"
    "double vendor_scale(float f, double d, int8 a, int16 b, uint64 c, int64 e, uint8 g)\n";

static void test_grammar(void)
{
    host_sig_error e;
    char text[512];
    CHECK(parse(vendor, &e) == 0, "%u:%u %s", e.line, e.col, e.msg);
    CHECK(sigs->nstructs == 1 && sigs->nfns == 7, "%u %u", sigs->nstructs, sigs->nfns);
    const host_struct *pt = &sigs->structs[0];
    CHECK(strcmp(pt->name, "point") == 0 && pt->nfields == 2 && pt->fields[1].kind == HOST_I32 &&
              strcmp(pt->fields[1].name, "y") == 0, "%s", pt->name);
    const host_fn *f = &sigs->fns[0];
    CHECK(strcmp(f->name, "vendor_add") == 0 && f->ret == HOST_I32 && f->nparams == 2 &&
              f->nargs == 2 && f->nouts == 0 && !f->want_errno, "%s", f->name);
    f = &sigs->fns[1];
    CHECK(f->ret == HOST_STR && f->params[0].kind == HOST_STR && !f->params[0].nullable, "greet");
    f = &sigs->fns[2];
    CHECK(f->params[0].kind == HOST_BUF && f->params[0].dir == HOST_OUT &&
              f->params[0].len_param == 1 && f->params[1].len_of == 0 && f->nargs == 1 &&
              f->nouts == 1, "fill %u %u", f->nargs, f->nouts);
    f = &sigs->fns[3];
    CHECK(f->ret == HOST_STRUCT && f->ret_struct == 0 && f->params[1].kind == HOST_STRUCT &&
              f->params[1].dir == HOST_IN && f->nargs == 2, "mid");
    f = &sigs->fns[4];
    CHECK(f->ret == HOST_VOID && f->params[0].dir == HOST_OUT && f->nargs == 0 &&
              f->nouts == 1 && f->want_errno, "get");
    f = &sigs->fns[5];
    CHECK(f->nparams == 5 && f->nargs == 3 && f->nouts == 1 && f->params[0].nullable &&
              f->params[2].dir == HOST_INOUT && f->params[3].len_of == 2 &&
              f->params[4].nullable && f->params[4].kind == HOST_STR, "sum %u", f->nargs);
    f = &sigs->fns[6];
    CHECK(f->ret == HOST_DOUBLE && f->nparams == 7 && f->params[0].kind == HOST_FLOAT &&
              f->params[4].kind == HOST_U64, "scale");
    host_fn_format(sigs, &sigs->fns[5], text, sizeof(text));
    CHECK(strcmp(text, "int64 vendor_sum(nullable in buf[n], uint16 n, inout buf[m] io, "
                       "uint8 m, nullable str s)") == 0, "%s", text);
    host_fn_format(sigs, &sigs->fns[4], text, sizeof(text));
    CHECK(strcmp(text, "void vendor_get(out struct point * p) errno") == 0, "%s", text);
    /* str fields, nullable or not */
    CHECK(parse("struct who { const char *name; nullable str nick; uint8 age; }", &e) == 0 &&
              sigs->structs[0].fields[0].kind == HOST_STR &&
              !sigs->structs[0].fields[0].nullable && sigs->structs[0].fields[1].nullable &&
              sigs->structs[0].fields[2].kind == HOST_U8, "%s", e.msg);
    /* (void), (), a last ';' or none; declarations add up across parses */
    CHECK(parse("int32 a(void); int32 b();", &e) == 0 && sigs->nfns == 2, "%s", e.msg);
    CHECK(host_sig_parse(sigs, "int8 c(int8)", 12, &e) == 0 && sigs->nfns == 3, "%s", e.msg);
    /* a struct declared in an earlier text is known in a later one */
    CHECK(parse("struct s { uint8 a; };", &e) == 0, "%s", e.msg);
    CHECK(host_sig_parse(sigs, "struct s f(struct s v)", 22, &e) == 0, "%s", e.msg);
}

typedef struct bad_case {
    const char *text;
    unsigned line, col;
    const char *msg; /* a part of the message */
} bad_case;

static const bad_case bad_cases[] = {
    {"", 1, 1, "no declaration"},
    {"  # only a comment\n", 2, 1, "no declaration"},
    {"int32 add(int32,, int32)", 1, 17, "expected a parameter type"},
    {"int32 add(int32 a int32 b)", 1, 19, "expected ','"},
    {"int32 add(int32 a, int32 b", 1, 27, "end of text"},
    {"int33 add(void)", 1, 1, "expected a declaration"},
    {"int32 (int32)", 1, 7, "expected a function name"},
    {"int32 int32(void)", 1, 7, "the type 'int32'"},
    {"int32 f(int32 in)", 1, 15, "the keyword 'in'"},
    {"int32 f(void) int32 g(void)", 1, 15, "expected ';'"},
    {"int32 f(void);\nint32 f(void)", 2, 7, "declared twice"},
    {"int32 f(int32 a, int8 a)", 1, 18, "declared twice"},
    {"struct p f(void)", 1, 8, "not declared"},
    {"int32 f(struct q v)", 1, 16, "not declared"},
    {"struct p { };", 1, 12, "has no fields"},
    {"struct p { in buf[n] b; };", 1, 12, "expected a field type"},
    {"struct p { nullable int8 a; };", 1, 21, "'nullable' applies to str fields"},
    {"struct p { int32 x; int32 x; };", 1, 28, "declared twice"},
    {"struct p { int8 a; }; struct p { int8 b; };", 1, 30, "declared twice"},
    {"int32 f(out buf[n])", 1, 9, "names no parameter"},
    {"int32 f(out buf[n], double n)", 1, 9, "not an integer"},
    {"int32 f(out buf[n], in buf[n], uint32 n)", 1, 21, "two buffers"},
    {"int32 f(out buf n)", 1, 17, "expected '['"},
    {"int32 f(nullable int32 a)", 1, 24, "'nullable' applies"},
    {"struct p { int8 a; }; int32 f(struct p *v)", 1, 40, "out struct p *"},
    {"int32 f(const char s)", 1, 20, "expected '*'"},
    {"int32 f(int32 a) errno errno", 1, 24, "expected ';'"},
    {"int32 f(int32 a);;", 1, 18, "expected a declaration"},
    {"int32 f(int32 @)", 1, 15, "byte 0x40"},
    {"int32 f\xc3\xa9(void)", 1, 8, "byte 0xc3"},
    {"int32 f(int32 a)\n  \n\t$", 3, 2, "byte 0x24"},
};

static void test_errors(void)
{
    host_sig_error e;
    for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
        const bad_case *b = &bad_cases[i];
        int r = parse(b->text, &e);
        CHECK(r == -1 && e.line == b->line && e.col == b->col && strstr(e.msg, b->msg),
              "'%s': %d at %u:%u '%s', want %u:%u '%s'", b->text, r, e.line, e.col, e.msg,
              b->line, b->col, b->msg);
        CHECK(sigs->nfns == 0 && sigs->nstructs == 0, "'%s' left %u fns", b->text, sigs->nfns);
    }
    /* a NUL inside the text is a byte like any other, not its end */
    CHECK(host_sig_parse(sigs, "int32 f(void)\0", 14, &e) == -1 && e.col == 14 &&
              strstr(e.msg, "byte 0x00"), "%u %s", e.col, e.msg);
}

static void test_limits(void)
{
    host_sig_error e;
    char *text = malloc(HOST_SIG_MAX + 2);
    char name[HOST_IDENT_MAX + 2];
    memset(name, 'a', sizeof(name) - 1);
    name[sizeof(name) - 1] = 0;
    snprintf(text, HOST_SIG_MAX, "int32 %s(void)", name);
    CHECK(parse(text, &e) == -1 && strstr(e.msg, "longer than 63"), "%s", e.msg);
    name[HOST_IDENT_MAX] = 0;
    snprintf(text, HOST_SIG_MAX, "int32 %s(void)", name);
    CHECK(parse(text, &e) == 0, "%s", e.msg);
    /* 16 parameters pass, 17 do not */
    strcpy(text, "int32 f(int8");
    for (int i = 1; i < HOST_PARAMS_MAX; i++)
        strcat(text, ", int8");
    size_t len = strlen(text);
    CHECK(parse(strcat(text, ")"), &e) == 0, "%s", e.msg);
    text[len] = 0;
    CHECK(parse(strcat(text, ", int8)"), &e) == -1 && strstr(e.msg, "more than 16"), "%s",
          e.msg);
    /* 256 functions pass, the 257th does not */
    text[0] = 0;
    size_t at = 0;
    for (int i = 0; i <= HOST_FNS_MAX; i++)
        at += (size_t)sprintf(text + at, "void f%d(void);", i);
    CHECK(parse(text, &e) == -1 && strstr(e.msg, "more than 256"), "%s", e.msg);
    /* longer than HOST_SIG_MAX: refused before reading */
    memset(text, ' ', HOST_SIG_MAX + 1);
    CHECK(host_sig_parse(sigs, text, HOST_SIG_MAX + 1, &e) == -1 && strstr(e.msg, "longer"),
          "%s", e.msg);
    free(text);
}

/* Every cut of a good text, and every byte in place of each of its
 * bytes: parsed or refused with a position inside the text, never a
 * crash, and a refusal leaves nothing behind. */
static void test_hostile(void)
{
    host_sig_error e;
    size_t n = strlen(vendor);
    char *t = malloc(n + 1);
    unsigned ok = 0, refused = 0;
    for (size_t cut = 0; cut < n; cut++) {
        host_sigs_init(sigs);
        int r = host_sig_parse(sigs, vendor, cut, &e);
        CHECK(r == 0 || (e.line >= 1 && e.msg[0] != 0), "cut %zu", cut);
        r == 0 ? ok++ : refused++;
    }
    for (size_t i = 0; i < n; i += 3)
        for (int c = 0; c < 256; c += 7) {
            memcpy(t, vendor, n);
            t[i] = (char)c;
            host_sigs_init(sigs);
            int r = host_sig_parse(sigs, t, n, &e);
            CHECK(r == 0 || (e.line >= 1 && e.line <= 10 && e.col >= 1 && e.msg[0] != 0 &&
                             sigs->nfns == 0),
                  "byte %d at %zu: %u:%u", c, i, e.line, e.col);
            r == 0 ? ok++ : refused++;
        }
    uint32_t x = 2463534242u;
    for (int round = 0; round < 20000; round++) {
        char buf[64];
        size_t len = (size_t)(round % 64);
        for (size_t i = 0; i < len; i++) {
            x ^= x << 13, x ^= x >> 17, x ^= x << 5;
            /* mostly the grammar's own characters, some of anything */
            static const char alpha[] = "int32 uint8 str( ) { } [ ] , ; * buf out struct p a n";
            buf[i] = (x & 7) ? alpha[(x >> 8) % (sizeof(alpha) - 1)] : (char)(x >> 16);
        }
        host_sigs_init(sigs);
        int r = host_sig_parse(sigs, buf, len, &e);
        CHECK(r == 0 || e.msg[0] != 0, "random round %d", round);
    }
    printf("host_sig_test: hostile texts: %u parsed, %u refused\n", ok, refused);
    CHECK(ok > 0 && refused > 0, "both kinds");
    free(t);
}

int main(void)
{
    sigs = malloc(sizeof(*sigs));
    if (sigs == NULL)
        return 1;
    test_grammar();
    test_errors();
    test_limits();
    test_hostile();
    free(sigs);
    printf("host_sig_test: %d checks, %d failed\n", checks, fails);
    if (fails == 0)
        printf("host_sig_test ok\n");
    return fails != 0;
}
