/*
 * PEM files for Schannel, and the checks of a peer's certificate chain
 * (win32/tls.c asks Schannel not to check, so that tls_ca, the name and the
 * error texts are ours: docs/tls.md, "Windows").
 *
 * The key: Schannel (and wine's, which reads the container from the
 * registry) takes a certificate whose private key sits in a named key
 * container, so the PEM key is imported into a container of its own
 * (Microsoft's RSA/AES provider) named in the certificate's
 * CERT_KEY_PROV_INFO, and deleted again when the listener or the
 * connection is done. RSA keys only: the CryptoAPI providers wine
 * implements hold no other kind (docs/tls.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <ws2tcpip.h>
#include <wininet.h> /* SECURITY_FLAG_IGNORE_* */

#include "core/detail.h"
#include "transport/win32/tls_api.h"
#include "transport/win32/tls_cert.h"

#define PEM_FILE_MAX (1u << 20)
#define ENC (X509_ASN_ENCODING | PKCS_7_ASN_ENCODING)

/* File @p path whole, NUL-terminated, or NULL with the detail set. */
static char *pem_read(const char *what, const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        xipc__set_detail("cannot use %s %s: %s", what, path, strerror(errno));
        return NULL;
    }
    char *buf = malloc(PEM_FILE_MAX + 1);
    size_t n = buf != NULL ? fread(buf, 1, PEM_FILE_MAX + 1, f) : 0;
    fclose(f);
    if (buf == NULL || n > PEM_FILE_MAX) {
        xipc__set_detail("cannot use %s %s: %s", what, path,
                         buf == NULL ? "out of memory" : "larger than 1 MiB");
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

/*
 * The next "-----BEGIN @p label-----" block from *@p at on, decoded (free
 * with LocalFree); *@p at moves past it. 0: none left (or not base64).
 */
static int pem_next(const char **at, const char *label, BYTE **der, DWORD *len)
{
    char begin[64], end[64];
    snprintf(begin, sizeof(begin), "-----BEGIN %s-----", label);
    snprintf(end, sizeof(end), "-----END %s-----", label);
    const char *b = strstr(*at, begin);
    const char *e = b != NULL ? strstr(b, end) : NULL;
    if (e == NULL)
        return 0;
    e += strlen(end);
    *at = e;
    DWORD n = 0;
    if (!xipc__crypt.CryptStringToBinaryA(b, (DWORD)(e - b), CRYPT_STRING_BASE64HEADER, NULL, &n, NULL,
                              NULL))
        return 0;
    *der = LocalAlloc(LMEM_FIXED, n);
    if (*der == NULL ||
        !xipc__crypt.CryptStringToBinaryA(b, (DWORD)(e - b), CRYPT_STRING_BASE64HEADER, *der, &n, NULL,
                              NULL)) {
        LocalFree(*der);
        return 0;
    }
    *len = n;
    return 1;
}

/* Every CERTIFICATE block of @p pem into @p store; the first in *@p first
 * (NULL: do not keep). The count, or -1 when one is not a certificate. */
static int pem_certs(const char *pem, HCERTSTORE store, PCCERT_CONTEXT *first)
{
    int count = 0;
    BYTE *der;
    DWORD len;
    while (pem_next(&pem, "CERTIFICATE", &der, &len)) {
        PCCERT_CONTEXT c = NULL;
        BOOL ok = xipc__crypt.CertAddEncodedCertificateToStore(store, X509_ASN_ENCODING, der, len,
                                                   CERT_STORE_ADD_USE_EXISTING,
                                                   count == 0 && first ? &c : NULL);
        LocalFree(der);
        if (!ok)
            return -1;
        if (c != NULL)
            *first = c;
        count++;
    }
    return count;
}

xipc_err xipc__tls_pem_store(HCERTSTORE *out, const char *what, const char *path)
{
    size_t len;
    char *pem = pem_read(what, path, &len);
    if (pem == NULL)
        return XIPC_EINVAL;
    HCERTSTORE s = xipc__crypt.CertOpenStore(CERT_STORE_PROV_MEMORY, 0, 0, 0, NULL);
    int n = s != NULL ? pem_certs(pem, s, NULL) : -1;
    free(pem);
    if (n <= 0) {
        xipc__set_detail("cannot use %s %s: %s", what, path,
                         n == 0 ? "no PEM certificate in it" : "not a certificate");
        if (s != NULL)
            xipc__crypt.CertCloseStore(s, 0);
        return XIPC_EINVAL;
    }
    *out = s;
    return XIPC_OK;
}

/* ---- the private key ----------------------------------------------------------- */

/* The DER element at *@p p (before @p end) if its tag is @p tag: its
 * contents in @p val, @p len; *@p p moves past it. 0: not that. */
static int der_next(const BYTE **p, const BYTE *end, BYTE tag, const BYTE **val, size_t *len)
{
    const BYTE *q = *p;
    if (end - q < 2 || q[0] != tag)
        return 0;
    size_t n = q[1];
    q += 2;
    if (n & 0x80) { /* long form: 1..3 length bytes are plenty for a key */
        int k = (int)(n & 0x7f);
        if (k < 1 || k > 3 || end - q < k)
            return 0;
        for (n = 0; k > 0; k--)
            n = n << 8 | *q++;
    }
    if ((size_t)(end - q) < n)
        return 0;
    *val = q;
    *len = n;
    *p = q + n;
    return 1;
}

/*
 * The RSAPrivateKey inside PKCS#8 PrivateKeyInfo @p der: SEQUENCE { INTEGER
 * version, SEQUENCE { OID, parameters }, OCTET STRING key }. Read here, not
 * with CryptDecodeObjectEx(PKCS_PRIVATE_KEY_INFO), which wine 8 lacks.
 */
static const char *pkcs8_rsa(const BYTE *der, size_t n, const BYTE **rsa, size_t *rsa_len)
{
    static const BYTE rsa_oid[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01};
    const BYTE *p = der, *seq, *v, *alg, *oid;
    size_t len, alg_len, oid_len;
    if (!der_next(&p, der + n, 0x30, &seq, &len))
        return "not a PKCS#8 private key";
    p = seq;
    const BYTE *end = seq + len;
    if (!der_next(&p, end, 0x02, &v, &len) || !der_next(&p, end, 0x30, &alg, &alg_len))
        return "not a PKCS#8 private key";
    const BYTE *a = alg;
    if (!der_next(&a, alg + alg_len, 0x06, &oid, &oid_len) || oid_len != sizeof(rsa_oid) ||
        memcmp(oid, rsa_oid, oid_len) != 0)
        return "not an RSA key (Schannel here takes RSA keys only)";
    if (!der_next(&p, end, 0x04, rsa, rsa_len))
        return "not a PKCS#8 private key";
    return NULL;
}

/*
 * The RSA key of @p pem as a CryptoAPI PRIVATEKEYBLOB (LocalFree), from a
 * PKCS#1 "RSA PRIVATE KEY" or a PKCS#8 "PRIVATE KEY" block; NULL with the
 * reason in @p why.
 */
static BYTE *key_blob(const char *pem, DWORD *len, const char **why)
{
    BYTE *der = NULL, *blob = NULL;
    DWORD n;
    const char *at = pem;
    const BYTE *rsa = NULL;
    size_t rsa_len = 0;
    if (pem_next(&at, "RSA PRIVATE KEY", &der, &n)) {
        rsa = der;
        rsa_len = n;
    } else if (at = pem, pem_next(&at, "PRIVATE KEY", &der, &n)) {
        *why = pkcs8_rsa(der, n, &rsa, &rsa_len);
    } else {
        at = pem;
        *why = pem_next(&at, "EC PRIVATE KEY", &der, &n)
                   ? "not an RSA key (Schannel here takes RSA keys only)"
               : strstr(pem, "-----BEGIN ENCRYPTED PRIVATE KEY-----") != NULL
                   ? "an encrypted key (give it unencrypted)"
                   : "no PEM private key in it";
    }
    if (rsa != NULL && !xipc__crypt.CryptDecodeObjectEx(ENC, PKCS_RSA_PRIVATE_KEY, rsa, (DWORD)rsa_len,
                                            CRYPT_DECODE_ALLOC_FLAG, NULL, &blob, len)) {
        *why = "not a valid RSA private key";
        blob = NULL;
    }
    if (der != NULL) {
        SecureZeroMemory(der, n);
        LocalFree(der);
    }
    return blob;
}

/* A key container name of our own: process, counter, time. */
static void key_container_name(WCHAR *buf, size_t cap)
{
    static volatile LONG counter;
    LONG k = InterlockedIncrement(&counter);
    _snwprintf(buf, cap, L"xipc-tls-%lu-%ld-%llu", GetCurrentProcessId(), k,
               (unsigned long long)GetTickCount64());
    buf[cap - 1] = 0;
}

static void key_container_delete(const WCHAR *name)
{
    HCRYPTPROV p;
    CryptAcquireContextW(&p, name, MS_ENH_RSA_AES_PROV_W, PROV_RSA_AES, CRYPT_DELETEKEYSET);
}

/*
 * Import @p blob into a new container for @p id and check that it is the
 * key of id->cert. The container is written out when released, which is
 * where Schannel (wine's: from the registry) finds it.
 */
static xipc_err key_import(xipc_tls_ident *id, const BYTE *blob, DWORD len, const char *key,
                           const char *cert)
{
    HCRYPTPROV prov;
    HCRYPTKEY k;
    key_container_name(id->container, sizeof(id->container) / sizeof(WCHAR));
    if (!CryptAcquireContextW(&prov, id->container, MS_ENH_RSA_AES_PROV_W, PROV_RSA_AES,
                              CRYPT_NEWKEYSET)) {
        id->container[0] = 0;
        xipc__set_detail("cannot use tls_key %s: no key container (error %lu)", key,
                         GetLastError());
        return XIPC_EINVAL;
    }
    xipc_err rv = XIPC_OK;
    if (!CryptImportKey(prov, blob, len, 0, 0, &k)) {
        xipc__set_detail("cannot use tls_key %s: the key was refused (error 0x%lx)", key,
                         GetLastError());
        rv = XIPC_EINVAL;
    } else {
        CryptDestroyKey(k);
        DWORD sz = 0;
        CERT_PUBLIC_KEY_INFO *pub = NULL;
        if (xipc__crypt.CryptExportPublicKeyInfo(prov, AT_KEYEXCHANGE, X509_ASN_ENCODING, NULL, &sz))
            pub = malloc(sz);
        if (pub == NULL ||
            !xipc__crypt.CryptExportPublicKeyInfo(prov, AT_KEYEXCHANGE, X509_ASN_ENCODING, pub, &sz) ||
            !xipc__crypt.CertComparePublicKeyInfo(X509_ASN_ENCODING,
                                      &id->cert->pCertInfo->SubjectPublicKeyInfo, pub)) {
            xipc__set_detail("tls_key %s does not match tls_cert %s", key, cert);
            rv = XIPC_EINVAL;
        }
        free(pub);
    }
    CryptReleaseContext(prov, 0);
    CRYPT_KEY_PROV_INFO kp = {
        .pwszContainerName = id->container,
        .pwszProvName = (LPWSTR)MS_ENH_RSA_AES_PROV_W,
        .dwProvType = PROV_RSA_AES,
        .dwKeySpec = AT_KEYEXCHANGE,
    };
    if (rv == XIPC_OK &&
        !xipc__crypt.CertSetCertificateContextProperty(id->cert, CERT_KEY_PROV_INFO_PROP_ID, 0, &kp)) {
        xipc__set_detail("cannot use tls_key %s: error %lu", key, GetLastError());
        rv = XIPC_EINVAL;
    }
    return rv;
}

xipc_err xipc__tls_ident_load(xipc_tls_ident *id, const char *cert, const char *key)
{
    memset(id, 0, sizeof(*id));
    if (key == NULL)
        key = cert;
    size_t len;
    char *pem = pem_read("tls_cert", cert, &len);
    if (pem == NULL)
        return XIPC_EINVAL;
    id->store = xipc__crypt.CertOpenStore(CERT_STORE_PROV_MEMORY, 0, 0, 0, NULL);
    int n = id->store != NULL ? pem_certs(pem, id->store, &id->cert) : -1;
    free(pem);
    if (n <= 0) {
        xipc__set_detail("cannot use tls_cert %s: %s", cert,
                         n == 0 ? "no PEM certificate in it" : "not a certificate");
        xipc__tls_ident_free(id);
        return XIPC_EINVAL;
    }
    pem = pem_read("tls_key", key, &len);
    if (pem == NULL) {
        xipc__tls_ident_free(id);
        return XIPC_EINVAL;
    }
    const char *why = NULL;
    DWORD blen = 0;
    BYTE *blob = key_blob(pem, &blen, &why);
    free(pem);
    xipc_err rv = XIPC_EINVAL;
    if (blob == NULL)
        xipc__set_detail("cannot use tls_key %s: %s", key, why);
    else
        rv = key_import(id, blob, blen, key, cert);
    if (blob != NULL) {
        SecureZeroMemory(blob, blen);
        LocalFree(blob);
    }
    if (rv != XIPC_OK)
        xipc__tls_ident_free(id);
    return rv;
}

void xipc__tls_ident_free(xipc_tls_ident *id)
{
    if (id->cert != NULL)
        xipc__crypt.CertFreeCertificateContext(id->cert);
    if (id->store != NULL)
        xipc__crypt.CertCloseStore(id->store, 0);
    if (id->container[0] != 0)
        key_container_delete(id->container);
    memset(id, 0, sizeof(*id));
}

/* ---- verification -------------------------------------------------------------- */

int xipc__tls_name_ip(const char *name, BYTE *a, DWORD *len)
{
    char ip[64];
    BYTE tmp[16];
    size_t n = strcspn(name, "%");
    if (n >= sizeof(ip))
        return 0;
    memcpy(ip, name, n);
    ip[n] = '\0';
    DWORD k = InetPtonA(AF_INET, ip, a != NULL ? a : tmp) == 1    ? 4
              : InetPtonA(AF_INET6, ip, a != NULL ? a : tmp) == 1 ? 16
                                                                  : 0;
    if (len != NULL)
        *len = k;
    return k != 0;
}

/* Is numeric address @p name among @p c's IP entries? -1: @p name is not
 * an address. */
static int name_ip_match(PCCERT_CONTEXT c, const char *name)
{
    BYTE a[16];
    DWORD alen;
    if (!xipc__tls_name_ip(name, a, &alen))
        return -1;
    PCERT_EXTENSION ext = xipc__crypt.CertFindExtension(szOID_SUBJECT_ALT_NAME2,
                                            c->pCertInfo->cExtension,
                                            c->pCertInfo->rgExtension);
    CERT_ALT_NAME_INFO *alt = NULL;
    DWORD sz;
    if (ext == NULL || !xipc__crypt.CryptDecodeObjectEx(ENC, X509_ALTERNATE_NAME, ext->Value.pbData,
                                            ext->Value.cbData, CRYPT_DECODE_ALLOC_FLAG,
                                            NULL, &alt, &sz))
        return 0;
    int found = 0;
    for (DWORD i = 0; i < alt->cAltEntry && !found; i++) {
        const CERT_ALT_NAME_ENTRY *e = &alt->rgAltEntry[i];
        found = e->dwAltNameChoice == CERT_ALT_NAME_IP_ADDRESS &&
                e->IPAddress.cbData == alen && memcmp(e->IPAddress.pbData, a, alen) == 0;
    }
    LocalFree(alt);
    return found;
}

/* Is host name @p name accepted for @p chain by the SSL policy? */
static int name_dns_match(PCCERT_CHAIN_CONTEXT chain, const char *name)
{
    WCHAR w[256];
    if (MultiByteToWideChar(CP_UTF8, 0, name, -1, w, 256) == 0)
        return 0;
    /* the chain's trust was judged by us: only the name is asked here */
    SSL_EXTRA_CERT_CHAIN_POLICY_PARA ssl = {
        .cbSize = sizeof(ssl),
        .dwAuthType = AUTHTYPE_SERVER,
        .fdwChecks = SECURITY_FLAG_IGNORE_UNKNOWN_CA | SECURITY_FLAG_IGNORE_CERT_DATE_INVALID |
                     SECURITY_FLAG_IGNORE_REVOCATION | SECURITY_FLAG_IGNORE_WRONG_USAGE,
        .pwszServerName = w,
    };
    CERT_CHAIN_POLICY_PARA para = {.cbSize = sizeof(para), .pvExtraPolicyPara = &ssl};
    CERT_CHAIN_POLICY_STATUS st = {.cbSize = sizeof(st)};
    if (!xipc__crypt.CertVerifyCertificateChainPolicy(CERT_CHAIN_POLICY_SSL, chain, &para, &st))
        return 0;
    return st.dwError == 0;
}

/* Why chain @p chain (whose root is, or is not, in tls_ca: @p root_ours)
 * is not trusted, or NULL. */
static const char *chain_failure(PCCERT_CHAIN_CONTEXT chain, int root_ours)
{
    const CERT_SIMPLE_CHAIN *sc = chain->rgpChain[0];
    const CERT_CHAIN_ELEMENT *root = sc->rgpElement[sc->cElement - 1];
    DWORD err = chain->TrustStatus.dwErrorStatus &
                ~(CERT_TRUST_REVOCATION_STATUS_UNKNOWN | CERT_TRUST_IS_OFFLINE_REVOCATION);
    if (root_ours)
        err &= ~(DWORD)CERT_TRUST_IS_UNTRUSTED_ROOT;
    if (!root_ours || (err & CERT_TRUST_IS_PARTIAL_CHAIN)) {
        if (sc->cElement == 1 && (root->TrustStatus.dwInfoStatus & CERT_TRUST_IS_SELF_SIGNED))
            return "self-signed certificate";
        return "unable to get local issuer certificate";
    }
    if (err & CERT_TRUST_IS_NOT_TIME_VALID) {
        FILETIME now;
        GetSystemTimeAsFileTime(&now);
        for (DWORD i = 0; i < sc->cElement; i++)
            if (CompareFileTime(&now, &sc->rgpElement[i]->pCertContext->pCertInfo->NotBefore) < 0)
                return "certificate is not yet valid";
        return "certificate has expired";
    }
    if (err & CERT_TRUST_IS_NOT_SIGNATURE_VALID)
        return "certificate signature failure";
    if (err & CERT_TRUST_IS_REVOKED)
        return "certificate revoked";
    if (err & ~(DWORD)CERT_TRUST_IS_NOT_VALID_FOR_USAGE)
        return "the chain is not valid";
    return NULL;
}

xipc_err xipc__tls_verify(PCCERT_CONTEXT peer, HCERTSTORE ca, const char *name)
{
    /* build from the peer's certificates (its store holds what it sent)
     * and the CAs given: the system store roots the chain when ca is NULL */
    HCERTSTORE more = xipc__crypt.CertOpenStore(CERT_STORE_PROV_COLLECTION, 0, 0, 0, NULL);
    if (more != NULL) {
        xipc__crypt.CertAddStoreToCollection(more, peer->hCertStore, 0, 0);
        if (ca != NULL)
            xipc__crypt.CertAddStoreToCollection(more, ca, 0, 0);
    }
    CERT_CHAIN_PARA cp = {.cbSize = sizeof(cp)};
    PCCERT_CHAIN_CONTEXT chain = NULL;
    if (!xipc__crypt.CertGetCertificateChain(NULL, peer, NULL, more, &cp, 0, NULL, &chain)) {
        if (more != NULL)
            xipc__crypt.CertCloseStore(more, 0);
        xipc__set_detail("certificate verify failed: no chain (error %lu)", GetLastError());
        return XIPC_ETLS;
    }
    const CERT_SIMPLE_CHAIN *sc = chain->rgpChain[0];
    PCCERT_CONTEXT root = sc->rgpElement[sc->cElement - 1]->pCertContext;
    int ours = 0;
    if (ca != NULL) {
        PCCERT_CONTEXT f = xipc__crypt.CertFindCertificateInStore(ca, X509_ASN_ENCODING, 0,
                                                      CERT_FIND_EXISTING, root, NULL);
        ours = f != NULL;
        if (f != NULL)
            xipc__crypt.CertFreeCertificateContext(f);
    }
    /* without tls_ca: the system's roots, as Windows trusts them */
    const char *why = chain_failure(chain, ca != NULL ? ours : 1);
    if (why == NULL && ca == NULL &&
        (chain->TrustStatus.dwErrorStatus & CERT_TRUST_IS_UNTRUSTED_ROOT))
        why = sc->cElement == 1 ? "self-signed certificate"
                                : "unable to get local issuer certificate";
    if (why == NULL && name != NULL) {
        int ip = name_ip_match(peer, name);
        if (ip == 0)
            why = "IP address mismatch";
        else if (ip < 0 && !name_dns_match(chain, name))
            why = "hostname mismatch";
    }
    xipc__crypt.CertFreeCertificateChain(chain);
    xipc__crypt.CertCloseStore(more, 0);
    if (why != NULL) {
        xipc__set_detail("certificate verify failed: %s", why);
        return XIPC_ETLS;
    }
    return XIPC_OK;
}
