/* Error texts, generated from the one list in xipc.h. */
#include <stdarg.h>
#include <stdio.h>

#include "xipc/xipc.h"
#include "core/detail.h"
#include "core/platform.h"

static _Thread_local int xipc_err_sys;

const char *xipc_strerror(xipc_err err)
{
    switch (err) {
#define XIPC_ERR_TEXT_(name, num, text)                                        \
    case XIPC_##name:                                                          \
        return text;
        XIPC_ERRNO_MAP(XIPC_ERR_TEXT_)
#undef XIPC_ERR_TEXT_
    }
    return "unknown error";
}

const char *xipc_err_name(xipc_err err)
{
    switch (err) {
#define XIPC_ERR_NAME_(name, num, text)                                        \
    case XIPC_##name:                                                          \
        return #name;
        XIPC_ERRNO_MAP(XIPC_ERR_NAME_)
#undef XIPC_ERR_NAME_
    }
    return "EUNKNOWN";
}

int xipc_last_syserr(void)
{
    return xipc_err_sys;
}

void xipc__set_syserr(int code)
{
    xipc_err_sys = code;
}

/* ---- failure details (xipc_last_detail) ------------------------------------- */

static _Thread_local char xipc_err_detail[256];

const char *xipc_last_detail(void)
{
    return xipc_err_detail;
}

void xipc__set_detail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(xipc_err_detail, sizeof(xipc_err_detail), fmt, ap);
    va_end(ap);
}

void xipc__clear_detail(void)
{
    xipc_err_detail[0] = '\0';
}
