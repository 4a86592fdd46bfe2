/*
 * The signature language of `xipc host` (docs/host.md): the C functions
 * of a library, declared so that a host can call them through libffi and
 * check every argument of an RPC call before it does.
 *
 *   decl    := struct | fn                       each ends with ';' (the
 *                                                last of --fn may omit it)
 *   struct  := 'struct' NAME '{' (field NAME ';')+ '}'
 *   field   := scalar | ['nullable'] str
 *   fn      := ret NAME '(' ['void' | param (',' param)*] ')' ['errno']
 *   ret     := 'void' | scalar | str | 'struct' NAME
 *   param   := scalar [NAME]
 *            | ['nullable'] str [NAME]
 *            | ['nullable'] ('in'|'out'|'inout') 'buf' '[' NAME ']' [NAME]
 *            | 'struct' NAME [NAME]                    by value
 *            | 'out' 'struct' NAME '*' [NAME]          filled by the callee
 *   scalar  := int8 | int16 | int32 | int64 | uint8 | uint16 | uint32
 *            | uint64 | float | double
 *   str     := 'str' | 'const' 'char' '*'
 *
 * A buffer's [NAME] is the integer parameter that carries its length; the
 * host fills that one in, so it is not an RPC argument, nor is an out
 * struct. '#' and '//' start comments to the end of the line.
 *
 * This file knows nothing of libffi: the parser is tested (and fuzzed)
 * in every build, with libffi or without.
 */
#ifndef XIPC_TOOLS_HOST_SIG_H
#define XIPC_TOOLS_HOST_SIG_H

#include <stddef.h>

#define HOST_IDENT_MAX 63     /* bytes of a name */
#define HOST_PARAMS_MAX 16   /* parameters of a function */
#define HOST_FIELDS_MAX 16   /* fields of a struct */
#define HOST_STRUCTS_MAX 32  /* structs of a host */
#define HOST_FNS_MAX 256     /* functions of a host */
#define HOST_SIG_MAX 65536   /* bytes of one --fn or --sig FILE */
#define HOST_BUF_MAX (16u << 20) /* bytes of one buffer argument */

typedef enum host_kind {
    HOST_VOID,
    HOST_I8,
    HOST_I16,
    HOST_I32,
    HOST_I64,
    HOST_U8,
    HOST_U16,
    HOST_U32,
    HOST_U64,
    HOST_FLOAT,
    HOST_DOUBLE,
    HOST_STR,    /* const char *, NUL-terminated */
    HOST_BUF,    /* void * and a length parameter */
    HOST_STRUCT, /* by value, or a pointer for an out struct */
} host_kind;

typedef enum host_dir { HOST_IN, HOST_OUT, HOST_INOUT } host_dir;

typedef struct host_param {
    char name[HOST_IDENT_MAX + 1]; /* "" when not named */
    host_kind kind;
    host_dir dir;  /* buffers and structs */
    int nullable;  /* str and buffers: nil is NULL */
    int strct;     /* HOST_STRUCT: index into host_sigs.structs */
    int len_param; /* HOST_BUF: index of its length parameter */
    int len_of;    /* an integer that is a buffer's length: that buffer, else -1 */
} host_param;

typedef struct host_field {
    char name[HOST_IDENT_MAX + 1];
    host_kind kind; /* a scalar or HOST_STR */
    int nullable;   /* HOST_STR: nil is NULL */
} host_field;

typedef struct host_struct {
    char name[HOST_IDENT_MAX + 1];
    host_field fields[HOST_FIELDS_MAX];
    unsigned nfields;
} host_struct;

typedef struct host_fn {
    char name[HOST_IDENT_MAX + 1];
    host_kind ret;
    int ret_struct; /* ret == HOST_STRUCT: its index */
    host_param params[HOST_PARAMS_MAX];
    unsigned nparams;
    unsigned nargs; /* RPC arguments: params minus lengths and out structs */
    unsigned nouts; /* out and inout buffers, out structs */
    int want_errno;
} host_fn;

typedef struct host_sigs {
    host_struct structs[HOST_STRUCTS_MAX];
    unsigned nstructs;
    host_fn fns[HOST_FNS_MAX];
    unsigned nfns;
} host_sigs;

/* Where and why a text was refused: line and column from 1. */
typedef struct host_sig_error {
    unsigned line, col;
    char msg[160];
} host_sig_error;

/* An empty set of declarations. */
void host_sigs_init(host_sigs *s);

/*
 * Parse @p len bytes of declarations into @p s, after those it holds
 * (structs declared earlier may be used). On an error @p s is left as it
 * was and @p e says where and why.
 * @return 0, or -1
 */
int host_sig_parse(host_sigs *s, const char *text, size_t len, host_sig_error *e);

/* "int32", "str", ... */
const char *host_kind_name(host_kind k);

/* Is @p k one of the integer kinds? */
int host_kind_is_int(host_kind k);

/* Write @p f as "ret name(params)" into @p buf (xipc.methods shows it). */
void host_fn_format(const host_sigs *s, const host_fn *f, char *buf, size_t cap);

#endif
