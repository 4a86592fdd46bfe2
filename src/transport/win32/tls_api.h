/*
 * secur32 and crypt32 for tls+tcp:// (win32/tls.c, tls_cert.c), loaded on
 * first use rather than imported: under wine, importing them costs every
 * process that links xipc 0.2-0.4 s at start (measured: a program
 * importing both started in 0.3-0.5 s, one importing neither in 0.08 s;
 * secur32 brings up GnuTLS), tls+tcp:// or not.
 */
#ifndef XIPC_TRANSPORT_WIN32_TLS_API_H
#define XIPC_TRANSPORT_WIN32_TLS_API_H

#define SECURITY_WIN32
#include <windows.h>
#include <security.h>
#include <wincrypt.h>

#include "xipc/xipc.h"

/* The crypt32 functions used, each a member of the same name. */
#define XIPC_TLS_CRYPT32(X)                                                            \
    X(CertAddEncodedCertificateToStore)                                                \
    X(CertAddStoreToCollection)                                                        \
    X(CertCloseStore)                                                                  \
    X(CertComparePublicKeyInfo)                                                        \
    X(CertFindCertificateInStore)                                                      \
    X(CertFindExtension)                                                               \
    X(CertFreeCertificateChain)                                                        \
    X(CertFreeCertificateContext)                                                      \
    X(CertGetCertificateChain)                                                         \
    X(CertOpenStore)                                                                   \
    X(CertSetCertificateContextProperty)                                               \
    X(CertVerifyCertificateChainPolicy)                                                \
    X(CryptDecodeObjectEx)                                                             \
    X(CryptExportPublicKeyInfo)                                                        \
    X(CryptStringToBinaryA)

#define XIPC_TLS_FN_(name) __typeof__(name) *name;
typedef struct xipc_tls_crypt32 {
    XIPC_TLS_CRYPT32(XIPC_TLS_FN_)
} xipc_tls_crypt32;
#undef XIPC_TLS_FN_

/* Filled by xipc__tls_api_load: the SSPI table (InitSecurityInterfaceW)
 * and crypt32's functions. */
extern PSecurityFunctionTableW xipc__sspi;
extern xipc_tls_crypt32 xipc__crypt;

/* Load both once (thread-safe): XIPC_OK, or XIPC_ENOTSUP with the reason
 * in the detail. */
xipc_err xipc__tls_api_load(void);

#endif
