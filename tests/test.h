/*
 * A small test header: each failed assertion prints where, what, and for
 * xipc_err values the error's name and text, then exits 1.
 */
#ifndef XIPC_TESTS_TEST_H
#define XIPC_TESTS_TEST_H

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xipc/xipc.h"

#define XT_FAIL(...)                                                           \
    do {                                                                       \
        fprintf(stderr, "%s:%d: ", __FILE__, __LINE__);                        \
        fprintf(stderr, __VA_ARGS__);                                          \
        fputc('\n', stderr);                                                   \
        exit(1);                                                               \
    } while (0)

#define XT_ASSERT(cond)                                                        \
    do {                                                                       \
        if (!(cond))                                                           \
            XT_FAIL("assertion failed: %s", #cond);                            \
    } while (0)

/* expr must return @p want (an xipc_err). */
#define XT_ERR(expr, want)                                                     \
    do {                                                                       \
        xipc_err xt_rv_ = (expr);                                              \
        xipc_err xt_want_ = (want);                                            \
        if (xt_rv_ != xt_want_)                                                \
            XT_FAIL("%s: got %s (%s), want %s (%s)", #expr,                    \
                    xipc_err_name(xt_rv_), xipc_strerror(xt_rv_),              \
                    xipc_err_name(xt_want_), xipc_strerror(xt_want_));         \
    } while (0)

#define XT_OK(expr) XT_ERR(expr, XIPC_OK)

#ifdef _WIN32
/* expr must return the HRESULT @p want (COM's tests). */
#define XT_HR(expr, want)                                                      \
    do {                                                                       \
        HRESULT xt_hr_ = (expr), xt_hwant_ = (want);                           \
        if (xt_hr_ != xt_hwant_)                                               \
            XT_FAIL("%s: HRESULT 0x%08lx, want 0x%08lx", #expr,                \
                    (unsigned long)xt_hr_, (unsigned long)xt_hwant_);          \
    } while (0)
#endif

#ifndef _WIN32
#include <sys/resource.h>

/* CPU time, user and system, of @p who (getrusage's RUSAGE_*), in ms. */
static inline double xt_cpu_ms(int who)
{
    struct rusage ru;
    if (getrusage(who, &ru) != 0)
        XT_FAIL("getrusage: %s", strerror(errno));
    return ru.ru_utime.tv_sec * 1e3 + ru.ru_utime.tv_usec / 1e3 +
           ru.ru_stime.tv_sec * 1e3 + ru.ru_stime.tv_usec / 1e3;
}
#endif

#define XT_EQ(a, b)                                                            \
    do {                                                                       \
        long long xt_a_ = (long long)(a), xt_b_ = (long long)(b);              \
        if (xt_a_ != xt_b_)                                                    \
            XT_FAIL("%s == %s: %lld != %lld", #a, #b, xt_a_, xt_b_);           \
    } while (0)

/*
 * readdir(), but a failure to read (EOVERFLOW, EIO...) fails the test
 * instead of looking like the end of the folder: a test that counts what
 * is left behind must not pass because it could not look.
 */
#define xt_readdir(d) xt_readdir_at((d), __FILE__, __LINE__)

static inline struct dirent *xt_readdir_at(DIR *d, const char *file, int line)
{
    errno = 0;
    struct dirent *e = readdir(d);
    if (e == NULL && errno != 0) {
        fprintf(stderr, "%s:%d: readdir: %s\n", file, line, strerror(errno));
        exit(1);
    }
    return e;
}

/* Entries of folder @p dir whose name starts with @p prefix (0 when the
 * folder does not exist). */
static inline int xt_count_prefix(const char *dir, const char *prefix)
{
    DIR *d = opendir(dir);
    if (d == NULL && errno == ENOENT)
        return 0;
    XT_ASSERT(d != NULL);
    int n = 0;
    for (struct dirent *e; (e = xt_readdir(d)) != NULL;)
        n += strncmp(e->d_name, prefix, strlen(prefix)) == 0;
    closedir(d);
    return n;
}

#endif
