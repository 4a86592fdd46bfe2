/*
 * The parser of host_sig.h: a tokenizer that counts lines and columns,
 * and a recursive descent over its tokens. Strict: anything the grammar
 * does not name is an error at its position, a NUL or a byte above 0x7e
 * included, so that a hostile signature file cannot get past it.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "host_sig.h"

typedef enum sig_tok { SIG_END, SIG_IDENT, SIG_PUNCT, SIG_BAD } sig_tok;

typedef struct sig_lex {
    const char *p, *end;
    unsigned line, col;
    /* the current token */
    sig_tok tok;
    const char *t; /* its first byte */
    size_t tlen;
    unsigned tline, tcol;
    host_sig_error *e;
} sig_lex;

static const char *const sig_kind_names[] = {
    "void", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32",
    "uint64", "float", "double", "str", "buf", "struct",
};

const char *host_kind_name(host_kind k)
{
    return (unsigned)k < sizeof(sig_kind_names) / sizeof(sig_kind_names[0])
               ? sig_kind_names[k]
               : "?";
}

int host_kind_is_int(host_kind k)
{
    return k >= HOST_I8 && k <= HOST_U64;
}

void host_sigs_init(host_sigs *s)
{
    s->nstructs = 0;
    s->nfns = 0;
}

static int sig_fail(sig_lex *l, const char *fmt, ...)
{
    va_list ap;
    l->e->line = l->tline;
    l->e->col = l->tcol;
    va_start(ap, fmt);
    vsnprintf(l->e->msg, sizeof(l->e->msg), fmt, ap);
    va_end(ap);
    return -1;
}

static void sig_step(sig_lex *l)
{
    if (*l->p == '\n') {
        l->line++;
        l->col = 1;
    } else {
        l->col++;
    }
    l->p++;
}

static int sig_is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

/* Move to the next token. */
static void sig_next(sig_lex *l)
{
    for (;;) {
        while (l->p < l->end && (*l->p == ' ' || *l->p == '\t' || *l->p == '\n' ||
                                 *l->p == '\r'))
            sig_step(l);
        int hash = l->p < l->end && *l->p == '#';
        int slashes = l->end - l->p >= 2 && l->p[0] == '/' && l->p[1] == '/';
        if (!hash && !slashes)
            break;
        while (l->p < l->end && *l->p != '\n')
            sig_step(l);
    }
    l->t = l->p;
    l->tline = l->line;
    l->tcol = l->col;
    if (l->p == l->end) {
        l->tok = SIG_END;
        l->tlen = 0;
        return;
    }
    char c = *l->p;
    if (sig_is_alpha(c)) {
        while (l->p < l->end && (sig_is_alpha(*l->p) || (*l->p >= '0' && *l->p <= '9')))
            sig_step(l);
        l->tok = SIG_IDENT;
    } else if (c != 0 && strchr("(){}[],;*", c) != NULL) {
        sig_step(l);
        l->tok = SIG_PUNCT;
    } else {
        l->tok = SIG_BAD;
    }
    l->tlen = (size_t)(l->p - l->t);
}

static int sig_is(const sig_lex *l, const char *word)
{
    return l->tok != SIG_END && l->tok != SIG_BAD && l->tlen == strlen(word) &&
           memcmp(l->t, word, l->tlen) == 0;
}

/* What the current token is, for messages: "'foo'", "end of text". */
static const char *sig_what(const sig_lex *l, char *buf, size_t cap)
{
    if (l->tok == SIG_END)
        return "end of text";
    if (l->tok == SIG_BAD) {
        snprintf(buf, cap, "byte 0x%02x", (unsigned)(unsigned char)*l->t);
        return buf;
    }
    snprintf(buf, cap, "'%.*s'", l->tlen > 40 ? 40 : (int)l->tlen, l->t);
    return buf;
}

/* Take the punctuation or keyword @p word, or fail. */
static int sig_expect(sig_lex *l, const char *word)
{
    char w[64];
    if (!sig_is(l, word))
        return sig_fail(l, "expected '%s', found %s", word, sig_what(l, w, sizeof(w)));
    sig_next(l);
    return 0;
}

static const char *const sig_reserved[] = {
    "struct", "void", "const", "char", "str", "in", "out", "inout", "buf",
    "nullable", "errno",
};

/* Take a name (an identifier that is no keyword) into @p out, naming it
 * @p what in the message when it is missing. */
static int sig_name(sig_lex *l, char *out, const char *what)
{
    char w[64];
    if (l->tok != SIG_IDENT)
        return sig_fail(l, "expected %s, found %s", what, sig_what(l, w, sizeof(w)));
    if (l->tlen > HOST_IDENT_MAX)
        return sig_fail(l, "%s longer than %d bytes", what, HOST_IDENT_MAX);
    for (size_t i = 0; i < sizeof(sig_reserved) / sizeof(sig_reserved[0]); i++)
        if (sig_is(l, sig_reserved[i]))
            return sig_fail(l, "expected %s, found the keyword '%s'", what,
                            sig_reserved[i]);
    for (int k = HOST_VOID; k <= HOST_DOUBLE; k++)
        if (sig_is(l, host_kind_name((host_kind)k)))
            return sig_fail(l, "expected %s, found the type '%s'", what,
                            host_kind_name((host_kind)k));
    memcpy(out, l->t, l->tlen);
    out[l->tlen] = 0;
    sig_next(l);
    return 0;
}

/* The current token as a scalar kind, else HOST_VOID (not taken). */
static host_kind sig_scalar(sig_lex *l)
{
    for (int k = HOST_I8; k <= HOST_DOUBLE; k++)
        if (sig_is(l, host_kind_name((host_kind)k))) {
            sig_next(l);
            return (host_kind)k;
        }
    return HOST_VOID;
}

/* 'str' | 'const' 'char' '*': 1 taken, 0 not there, -1 error */
static int sig_str(sig_lex *l)
{
    if (sig_is(l, "str")) {
        sig_next(l);
        return 1;
    }
    if (!sig_is(l, "const"))
        return 0;
    sig_next(l);
    if (sig_expect(l, "char") != 0 || sig_expect(l, "*") != 0)
        return -1;
    return 1;
}

static int sig_find_struct(const host_sigs *s, const char *name)
{
    for (unsigned i = 0; i < s->nstructs; i++)
        if (strcmp(s->structs[i].name, name) == 0)
            return (int)i;
    return -1;
}

/* 'struct' was taken: the declared struct NAME into @p *idx */
static int sig_struct_ref(sig_lex *l, const host_sigs *s, int *idx)
{
    char name[HOST_IDENT_MAX + 1];
    unsigned line = l->tline, col = l->tcol;
    if (sig_name(l, name, "a struct name") != 0)
        return -1;
    if ((*idx = sig_find_struct(s, name)) < 0) {
        l->tline = line;
        l->tcol = col;
        return sig_fail(l, "struct %s is not declared (declare it before its use)", name);
    }
    return 0;
}

/* 'struct' NAME was taken: '{' fields '}' */
static int sig_struct_body(sig_lex *l, host_sigs *s, const char *name)
{
    if (s->nstructs == HOST_STRUCTS_MAX)
        return sig_fail(l, "more than %d structs", HOST_STRUCTS_MAX);
    host_struct *st = &s->structs[s->nstructs];
    snprintf(st->name, sizeof(st->name), "%s", name);
    st->nfields = 0;
    if (sig_expect(l, "{") != 0)
        return -1;
    while (!sig_is(l, "}")) {
        char w[64];
        if (st->nfields == HOST_FIELDS_MAX)
            return sig_fail(l, "struct %s: more than %d fields", name, HOST_FIELDS_MAX);
        host_field *f = &st->fields[st->nfields];
        int r;
        f->nullable = sig_is(l, "nullable");
        if (f->nullable)
            sig_next(l);
        if ((r = sig_str(l)) < 0)
            return -1;
        if (!r && f->nullable)
            return sig_fail(l, "struct %s: 'nullable' applies to str fields, found %s", name,
                            sig_what(l, w, sizeof(w)));
        f->kind = r ? HOST_STR : sig_scalar(l);
        if (f->kind == HOST_VOID)
            return sig_fail(l, "struct %s: expected a field type (int8..uint64, float, "
                            "double, [nullable] str) or '}', found %s", name,
                            sig_what(l, w, sizeof(w)));
        if (sig_name(l, f->name, "a field name") != 0)
            return -1;
        for (unsigned i = 0; i < st->nfields; i++)
            if (strcmp(st->fields[i].name, f->name) == 0)
                return sig_fail(l, "struct %s: field %s declared twice", name, f->name);
        st->nfields++;
        if (sig_expect(l, ";") != 0)
            return -1;
    }
    if (st->nfields == 0)
        return sig_fail(l, "struct %s has no fields", name);
    sig_next(l);
    s->nstructs++;
    return 0;
}

/* An optional parameter name, then ',' or ')' must follow. */
static int sig_param_name(sig_lex *l, host_param *p)
{
    p->name[0] = 0;
    if (l->tok == SIG_IDENT)
        return sig_name(l, p->name, "a parameter name");
    return 0;
}

static int sig_param(sig_lex *l, host_sigs *s, host_param *p, char *len_name)
{
    char w[64];
    int nullable = 0, r;
    memset(p, 0, sizeof(*p));
    p->len_param = -1;
    p->len_of = -1;
    p->strct = -1;
    if (sig_is(l, "nullable")) {
        nullable = 1;
        sig_next(l);
    }
    if ((p->kind = sig_scalar(l)) != HOST_VOID) {
        if (nullable)
            return sig_fail(l, "'nullable' applies to str and buffers, not %s",
                            host_kind_name(p->kind));
        return sig_param_name(l, p);
    }
    if ((r = sig_str(l)) != 0) {
        if (r < 0)
            return -1;
        p->kind = HOST_STR;
        p->nullable = nullable;
        return sig_param_name(l, p);
    }
    if (sig_is(l, "in") || sig_is(l, "out") || sig_is(l, "inout")) {
        p->dir = sig_is(l, "in") ? HOST_IN : sig_is(l, "out") ? HOST_OUT : HOST_INOUT;
        sig_next(l);
        if (p->dir == HOST_OUT && sig_is(l, "struct")) {
            if (nullable)
                return sig_fail(l, "'nullable' applies to str and buffers, not structs");
            sig_next(l);
            p->kind = HOST_STRUCT;
            if (sig_struct_ref(l, s, &p->strct) != 0 || sig_expect(l, "*") != 0)
                return -1;
            return sig_param_name(l, p);
        }
        p->kind = HOST_BUF;
        p->nullable = nullable;
        if (sig_expect(l, "buf") != 0 || sig_expect(l, "[") != 0 ||
            sig_name(l, len_name, "the name of the length parameter") != 0 ||
            sig_expect(l, "]") != 0)
            return -1;
        return sig_param_name(l, p);
    }
    if (sig_is(l, "struct")) {
        if (nullable)
            return sig_fail(l, "'nullable' applies to str and buffers, not structs");
        sig_next(l);
        p->kind = HOST_STRUCT;
        p->dir = HOST_IN;
        if (sig_struct_ref(l, s, &p->strct) != 0)
            return -1;
        if (sig_is(l, "*"))
            return sig_fail(l, "a struct pointer is 'out struct %s *': in structs "
                            "are passed by value", s->structs[p->strct].name);
        return sig_param_name(l, p);
    }
    return sig_fail(l, "expected a parameter type (a scalar, str, in/out/inout buf[LEN], "
                    "struct NAME, out struct NAME *), found %s", sig_what(l, w, sizeof(w)));
}

/* Tie each buffer to its length parameter; count the RPC arguments. */
static int sig_link(sig_lex *l, host_fn *f, char lens[][HOST_IDENT_MAX + 1],
                    const unsigned *cols, const unsigned *lines)
{
    f->nargs = 0;
    f->nouts = 0;
    for (unsigned i = 0; i < f->nparams; i++) {
        host_param *p = &f->params[i];
        for (unsigned j = 0; j < i; j++)
            if (p->name[0] && strcmp(p->name, f->params[j].name) == 0) {
                l->tline = lines[i];
                l->tcol = cols[i];
                return sig_fail(l, "%s: parameter %s declared twice", f->name, p->name);
            }
    }
    for (unsigned i = 0; i < f->nparams; i++) {
        host_param *p = &f->params[i];
        if (p->kind != HOST_BUF)
            continue;
        l->tline = lines[i];
        l->tcol = cols[i];
        int k = -1;
        for (unsigned j = 0; j < f->nparams; j++)
            if (strcmp(f->params[j].name, lens[i]) == 0)
                k = (int)j;
        if (k < 0)
            return sig_fail(l, "%s: buffer length '%s' names no parameter", f->name, lens[i]);
        host_param *n = &f->params[k];
        if (!host_kind_is_int(n->kind))
            return sig_fail(l, "%s: buffer length '%s' is %s, not an integer", f->name,
                            lens[i], host_kind_name(n->kind));
        if (n->len_of >= 0)
            return sig_fail(l, "%s: '%s' is the length of two buffers", f->name, lens[i]);
        n->len_of = (int)i;
        p->len_param = k;
    }
    for (unsigned i = 0; i < f->nparams; i++) {
        const host_param *p = &f->params[i];
        int out = p->kind == HOST_STRUCT ? p->dir == HOST_OUT
                                         : p->kind == HOST_BUF && p->dir != HOST_IN;
        f->nouts += (unsigned)out;
        f->nargs += p->len_of < 0 && !(p->kind == HOST_STRUCT && p->dir == HOST_OUT);
    }
    return 0;
}

/* The parameter list after '(' up to and with ')' */
static int sig_params(sig_lex *l, host_sigs *s, host_fn *f)
{
    char lens[HOST_PARAMS_MAX][HOST_IDENT_MAX + 1];
    unsigned cols[HOST_PARAMS_MAX], lines[HOST_PARAMS_MAX];
    f->nparams = 0;
    if (sig_is(l, "void")) {
        sig_next(l);
        return sig_expect(l, ")");
    }
    if (sig_is(l, ")")) {
        sig_next(l);
        return 0;
    }
    for (;;) {
        if (f->nparams == HOST_PARAMS_MAX)
            return sig_fail(l, "%s: more than %d parameters", f->name, HOST_PARAMS_MAX);
        lines[f->nparams] = l->tline;
        cols[f->nparams] = l->tcol;
        lens[f->nparams][0] = 0;
        if (sig_param(l, s, &f->params[f->nparams], lens[f->nparams]) != 0)
            return -1;
        f->nparams++;
        if (sig_is(l, ")"))
            break;
        if (sig_expect(l, ",") != 0)
            return -1;
    }
    sig_next(l);
    return sig_link(l, f, lens, cols, lines);
}

/* A function declaration, its return type taken into @p f. */
static int sig_fn_rest(sig_lex *l, host_sigs *s, host_fn *f)
{
    unsigned line = l->tline, col = l->tcol;
    if (sig_name(l, f->name, "a function name") != 0)
        return -1;
    for (unsigned i = 0; i < s->nfns; i++)
        if (strcmp(s->fns[i].name, f->name) == 0) {
            l->tline = line;
            l->tcol = col;
            return sig_fail(l, "function %s declared twice", f->name);
        }
    if (sig_expect(l, "(") != 0 || sig_params(l, s, f) != 0)
        return -1;
    f->want_errno = sig_is(l, "errno");
    if (f->want_errno)
        sig_next(l);
    return 0;
}

static int sig_decl(sig_lex *l, host_sigs *s)
{
    char w[64];
    if (s->nfns == HOST_FNS_MAX)
        return sig_fail(l, "more than %d functions", HOST_FNS_MAX);
    host_fn *f = &s->fns[s->nfns];
    memset(f, 0, sizeof(*f));
    f->ret_struct = -1;
    int r;
    if (sig_is(l, "struct")) {
        char name[HOST_IDENT_MAX + 1];
        unsigned line, col;
        sig_next(l);
        line = l->tline;
        col = l->tcol;
        if (sig_name(l, name, "a struct name") != 0)
            return -1;
        if (sig_is(l, "{")) {
            if (sig_find_struct(s, name) >= 0) {
                l->tline = line;
                l->tcol = col;
                return sig_fail(l, "struct %s declared twice", name);
            }
            return sig_struct_body(l, s, name);
        }
        if ((f->ret_struct = sig_find_struct(s, name)) < 0) {
            l->tline = line;
            l->tcol = col;
            return sig_fail(l, "struct %s is not declared (declare it before its use)", name);
        }
        f->ret = HOST_STRUCT;
    } else if (sig_is(l, "void")) {
        sig_next(l);
        f->ret = HOST_VOID;
    } else if ((r = sig_str(l)) != 0) {
        if (r < 0)
            return -1;
        f->ret = HOST_STR;
    } else if ((f->ret = sig_scalar(l)) == HOST_VOID) {
        return sig_fail(l, "expected a declaration (a return type or 'struct'), found %s",
                        sig_what(l, w, sizeof(w)));
    }
    if (sig_fn_rest(l, s, f) != 0)
        return -1;
    s->nfns++;
    return 0;
}

int host_sig_parse(host_sigs *s, const char *text, size_t len, host_sig_error *e)
{
    sig_lex l = {.p = text, .end = text + len, .line = 1, .col = 1, .e = e};
    unsigned nstructs = s->nstructs, nfns = s->nfns;
    memset(e, 0, sizeof(*e));
    if (len > HOST_SIG_MAX) {
        e->line = e->col = 1;
        snprintf(e->msg, sizeof(e->msg), "longer than %d bytes", HOST_SIG_MAX);
        return -1;
    }
    sig_next(&l);
    int n = 0;
    while (l.tok != SIG_END) {
        if (sig_decl(&l, s) != 0)
            goto fail;
        n++;
        if (l.tok == SIG_END)
            break;
        if (sig_expect(&l, ";") != 0)
            goto fail;
    }
    if (n == 0) {
        sig_fail(&l, "no declaration");
        goto fail;
    }
    return 0;
fail:
    s->nstructs = nstructs;
    s->nfns = nfns;
    return -1;
}

static size_t sig_put(char *buf, size_t cap, size_t at, const char *fmt, ...)
{
    va_list ap;
    if (at >= cap)
        return at;
    va_start(ap, fmt);
    int n = vsnprintf(buf + at, cap - at, fmt, ap);
    va_end(ap);
    return n < 0 ? at : at + (size_t)n;
}

void host_fn_format(const host_sigs *s, const host_fn *f, char *buf, size_t cap)
{
    static const char *const dirs[] = {"in", "out", "inout"};
    size_t at = 0;
    if (cap == 0)
        return;
    buf[0] = 0;
    if (f->ret == HOST_STRUCT)
        at = sig_put(buf, cap, at, "struct %s", s->structs[f->ret_struct].name);
    else
        at = sig_put(buf, cap, at, "%s", host_kind_name(f->ret));
    at = sig_put(buf, cap, at, " %s(", f->name);
    for (unsigned i = 0; i < f->nparams; i++) {
        const host_param *p = &f->params[i];
        at = sig_put(buf, cap, at, "%s%s", i ? ", " : "", p->nullable ? "nullable " : "");
        if (p->kind == HOST_BUF)
            at = sig_put(buf, cap, at, "%s buf[%s]", dirs[p->dir],
                         f->params[p->len_param].name);
        else if (p->kind == HOST_STRUCT)
            at = sig_put(buf, cap, at, "%sstruct %s%s", p->dir == HOST_OUT ? "out " : "",
                         s->structs[p->strct].name, p->dir == HOST_OUT ? " *" : "");
        else
            at = sig_put(buf, cap, at, "%s", host_kind_name(p->kind));
        if (p->name[0])
            at = sig_put(buf, cap, at, " %s", p->name);
    }
    sig_put(buf, cap, at, ")%s", f->want_errno ? " errno" : "");
}
