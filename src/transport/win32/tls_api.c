/* secur32 and crypt32 loaded on first use (see tls_api.h). */
#include "core/detail.h"
#include "transport/win32/tls_api.h"

PSecurityFunctionTableW xipc__sspi;
xipc_tls_crypt32 xipc__crypt;

static INIT_ONCE tls_api_once = INIT_ONCE_STATIC_INIT;
static const char *tls_api_missing; /* what could not be loaded, or NULL */

static BOOL CALLBACK tls_api_init(PINIT_ONCE once, PVOID arg, PVOID *ctx)
{
    HMODULE sec = LoadLibraryW(L"secur32.dll");
    HMODULE cry = LoadLibraryW(L"crypt32.dll");
    INIT_SECURITY_INTERFACE_W init =
        sec != NULL ? (INIT_SECURITY_INTERFACE_W)(void (*)(void))GetProcAddress(
                          sec, "InitSecurityInterfaceW")
                    : NULL;
    xipc__sspi = init != NULL ? init() : NULL;
    if (xipc__sspi == NULL)
        tls_api_missing = "secur32.dll (InitSecurityInterfaceW)";
    else if (cry == NULL)
        tls_api_missing = "crypt32.dll";
#define XIPC_TLS_LOAD_(name)                                                           \
    if (tls_api_missing == NULL &&                                                     \
        (xipc__crypt.name = (__typeof__(name) *)(void (*)(void))GetProcAddress(        \
             cry, #name)) == NULL)                                                     \
        tls_api_missing = "crypt32.dll (" #name ")";
    XIPC_TLS_CRYPT32(XIPC_TLS_LOAD_)
#undef XIPC_TLS_LOAD_
    return TRUE; /* the modules stay loaded for the process */
}

xipc_err xipc__tls_api_load(void)
{
    InitOnceExecuteOnce(&tls_api_once, tls_api_init, NULL, NULL);
    if (tls_api_missing != NULL) {
        xipc__set_detail("Schannel is not available: cannot load %s", tls_api_missing);
        return XIPC_ENOTSUP;
    }
    return XIPC_OK;
}
