/*
 * The CLI's unit tests (json_test.c, host_sig_test.c): CHECK counts a
 * check and reports a failed one with its place and a printf message;
 * the test prints the counts at its end.
 */
#ifndef XIPC_TOOLS_CHECK_H
#define XIPC_TOOLS_CHECK_H

#include <stdio.h>

static int fails, checks;

#define CHECK(cond, ...)                                                      \
    do {                                                                      \
        checks++;                                                             \
        if (!(cond)) {                                                        \
            fails++;                                                          \
            fprintf(stderr, "%s:%d: FAIL %s: ", __FILE__, __LINE__, #cond);   \
            fprintf(stderr, __VA_ARGS__);                                     \
            fputc('\n', stderr);                                              \
        }                                                                     \
    } while (0)

#endif
