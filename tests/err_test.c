/*
 * Errors: the list in XIPC_ERRNO_MAP has distinct, stable numbers, and the
 * text functions return the right text for each and never NULL.
 */
#include <string.h>

#include "test.h"

typedef struct err_row {
    xipc_err code;
    int num;
    const char *name;
    const char *text;
} err_row;

static const err_row err_rows[] = {
#define ERR_ROW_(name, num, text) {XIPC_##name, num, #name, text},
    XIPC_ERRNO_MAP(ERR_ROW_)
#undef ERR_ROW_
};

#define ERR_N (sizeof(err_rows) / sizeof(err_rows[0]))

/* Every code has its own number, equal to the one in the list. */
static void err_test_distinct(void)
{
    XT_ASSERT(ERR_N >= 17);
    for (size_t i = 0; i < ERR_N; i++) {
        XT_EQ((int)err_rows[i].code, err_rows[i].num);
        for (size_t j = i + 1; j < ERR_N; j++) {
            if (err_rows[i].num == err_rows[j].num)
                XT_FAIL("codes %s and %s share number %d", err_rows[i].name,
                        err_rows[j].name, err_rows[i].num);
            if (strcmp(err_rows[i].name, err_rows[j].name) == 0)
                XT_FAIL("name %s appears twice", err_rows[i].name);
        }
    }
}

/* The numbers are part of the ABI: literal values, never renumbered. */
static void err_test_stable(void)
{
    XT_EQ(XIPC_OK, 0);
    XT_EQ(XIPC_EINVAL, 1);
    XT_EQ(XIPC_ENOMEM, 2);
    XT_EQ(XIPC_ETIMEDOUT, 3);
    XT_EQ(XIPC_ECLOSED, 4);
    XT_EQ(XIPC_EMSGSIZE, 5);
    XT_EQ(XIPC_EPROTO, 6);
    XT_EQ(XIPC_EPERM, 7);
    XT_EQ(XIPC_EADDRINUSE, 8);
    XT_EQ(XIPC_ECONNREFUSED, 9);
    XT_EQ(XIPC_ENOTSUP, 10);
    XT_EQ(XIPC_ESTATE, 11);
    XT_EQ(XIPC_ESYS, 12);
    XT_EQ(XIPC_EBUSY, 13);
    XT_EQ(XIPC_EOVERRUN, 14);
    XT_EQ(XIPC_ENOENT, 15);
    XT_EQ(XIPC_EINTR, 16);
    /* the list is dense from 0: new codes go at the end */
    for (size_t i = 0; i < ERR_N; i++)
        XT_EQ(err_rows[i].num, (int)i);
}

/* Each code's text and name are the ones in the list, never NULL. */
static void err_test_text(void)
{
    for (size_t i = 0; i < ERR_N; i++) {
        const char *t = xipc_strerror(err_rows[i].code);
        const char *n = xipc_err_name(err_rows[i].code);
        XT_ASSERT(t != NULL);
        XT_ASSERT(n != NULL);
        if (strcmp(t, err_rows[i].text) != 0)
            XT_FAIL("xipc_strerror(%s) = \"%s\", want \"%s\"",
                    err_rows[i].name, t, err_rows[i].text);
        if (strcmp(n, err_rows[i].name) != 0)
            XT_FAIL("xipc_err_name(%d) = \"%s\", want \"%s\"", err_rows[i].num,
                    n, err_rows[i].name);
        XT_ASSERT(strcmp(t, "unknown error") != 0);
        XT_ASSERT(t[0] != '\0');
    }
    /* a few spelled out, independent of the macro list */
    XT_ASSERT(strcmp(xipc_strerror(XIPC_OK), "success") == 0);
    XT_ASSERT(strcmp(xipc_strerror(XIPC_ETIMEDOUT), "timed out") == 0);
    XT_ASSERT(strcmp(xipc_strerror(XIPC_EINVAL), "invalid argument") == 0);
    XT_ASSERT(strcmp(xipc_err_name(XIPC_ETIMEDOUT), "ETIMEDOUT") == 0);
    XT_ASSERT(strcmp(xipc_err_name(XIPC_EPROTO), "EPROTO") == 0);
    XT_ASSERT(strcmp(xipc_err_name(XIPC_OK), "OK") == 0);
    XT_ASSERT(strcmp(xipc_err_name(XIPC_EINTR), "EINTR") == 0);
}

/* Values outside the enum: "unknown error", and still a name. */
static void err_test_unknown(void)
{
    const int bad[] = {-1, (int)ERR_N, (int)ERR_N + 1, 100, 12345, -1000000};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        xipc_err e = (xipc_err)bad[i];
        const char *t = xipc_strerror(e);
        const char *n = xipc_err_name(e);
        XT_ASSERT(t != NULL);
        XT_ASSERT(n != NULL);
        if (strcmp(t, "unknown error") != 0)
            XT_FAIL("xipc_strerror(%d) = \"%s\", want \"unknown error\"",
                    bad[i], t);
        XT_ASSERT(n[0] != '\0');
        for (size_t j = 0; j < ERR_N; j++)
            XT_ASSERT(strcmp(n, err_rows[j].name) != 0);
    }
}

/* No ESYS has been returned on this thread yet. */
static void err_test_syserr(void)
{
    XT_EQ(xipc_last_syserr(), 0);
}

int main(void)
{
    err_test_distinct();
    err_test_stable();
    err_test_text();
    err_test_unknown();
    err_test_syserr();
    printf("err_test ok (%u codes)\n", (unsigned)ERR_N);
    return 0;
}
