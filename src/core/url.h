/* URL parsing: "scheme://rest". */
#ifndef XIPC_CORE_URL_H
#define XIPC_CORE_URL_H

#include <stddef.h>

#include "xipc/xipc.h"

#define XIPC_URL_MAX 512
#define XIPC_SCHEME_MAX 15
#define XIPC_NAME_MAX 64

typedef struct xipc_url {
    char scheme[XIPC_SCHEME_MAX + 1]; /* lower case, e.g. "shm" */
    char rest[XIPC_URL_MAX];          /* everything after "://" */
} xipc_url;

/*
 * Split @p text into scheme and rest. The scheme is letters, digits and
 * '+', at most 15; the whole URL at most 511 bytes; the rest non-empty.
 */
xipc_err xipc__url_parse(xipc_url *u, const char *text);

/*
 * Check an endpoint name: 1..XIPC_NAME_MAX bytes of [A-Za-z0-9._-], not
 * starting with '.', so no '/', "..", NUL or control bytes get through.
 */
xipc_err xipc__name_check(const char *name);

#endif
