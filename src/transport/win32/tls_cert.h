/*
 * The certificates of tls+tcp:// on Windows (win32/tls.c): PEM files made
 * into what Schannel takes (crypt32 certificate contexts and stores, the
 * key in a CryptoAPI key container), and the checks of a peer's chain.
 */
#ifndef XIPC_TRANSPORT_WIN32_TLS_CERT_H
#define XIPC_TRANSPORT_WIN32_TLS_CERT_H

#include <windows.h>
#include <wincrypt.h>

#include "xipc/xipc.h"

/* Our own certificate, with its chain in @p store and its RSA key in the
 * key container @p container (deleted again by xipc__tls_ident_free). */
typedef struct xipc_tls_ident {
    PCCERT_CONTEXT cert;
    HCERTSTORE store;
    WCHAR container[64];
} xipc_tls_ident;

/* tls_cert @p cert and tls_key @p key (NULL: in @p cert): XIPC_EINVAL with
 * a detail naming the file when unusable. */
xipc_err xipc__tls_ident_load(xipc_tls_ident *id, const char *cert, const char *key);
void xipc__tls_ident_free(xipc_tls_ident *id);

/* Every certificate of PEM file @p path (option @p what) in a memory store. */
xipc_err xipc__tls_pem_store(HCERTSTORE *out, const char *what, const char *path);

/* Is @p name a numeric IPv4 or IPv6 address (a zone "%eth0" ignored)? Its
 * bytes in @p a (16 bytes; NULL: not wanted) and their count in @p len. */
int xipc__tls_name_ip(const char *name, BYTE *a, DWORD *len);

/*
 * Check peer certificate @p peer: its chain must lead to a CA in @p ca (NULL:
 * the system's store) and be valid now; @p name (NULL: none, a client's
 * certificate) must be among its subjectAltName entries. XIPC_ETLS with
 * "certificate verify failed: REASON" in the detail.
 */
xipc_err xipc__tls_verify(PCCERT_CONTEXT peer, HCERTSTORE ca, const char *name);

#endif
