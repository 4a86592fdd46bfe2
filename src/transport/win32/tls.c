/*
 * tls+tcp:// with Schannel (SSPI): the backend of transport/tls.h on
 * Windows (the transport itself is ../tls.c). Options, verification rules,
 * error texts and what wine's Schannel does differently: docs/tls.md.
 *
 * Schannel never touches the socket: the handshake tokens and the records
 * it makes are written with the platform's calls, and what the socket
 * brings is fed to it (InitializeSecurityContextW / AcceptSecurityContext,
 * DecryptMessage), so every wait is xipc_plat_sock_wait's (no select(),
 * docs/windows.md) and keeps the caller's deadline.
 *
 * Schannel is told not to judge the server's certificate
 * (ISC_REQ_MANUAL_CRED_VALIDATION): win32/tls_cert.c checks it against
 * tls_ca or the system store and the name, and words the failure.
 *
 * Threads: only the receiving thread reads the socket and only the
 * sending one writes it after the handshake; the context is shared, so
 * EncryptMessage and DecryptMessage hold the connection's lock.
 */
#include <stdlib.h>
#include <string.h>

#include "core/detail.h"
#include "transport/tls.h"
#include "transport/win32/tls_api.h"
#include "transport/win32/tls_cert.h"

#include <schannel.h>

#define TLS_IN_MIN 65536 /* room for a handshake message or a record */

struct xipc_tls_cfg {
    volatile LONG refs;
    CredHandle cred;
    int has_cred;
    int server;
    int mutual;          /* a listener requiring client certificates */
    xipc_tls_ident id;   /* our certificate, if any */
    HCERTSTORE ca;       /* tls_ca, or NULL */
};

typedef struct tls_conn {
    xipc_tls_conn base; /* first: fd, lock (held during every SSPI call) */
    xipc_tls_cfg *cfg;
    CtxtHandle ctx;
    int has_ctx;
    SecPkgContext_StreamSizes sizes;
    xipc_err broken; /* the receive side's sticky error */
    /* received, not yet decrypted: in[0..in_len) */
    uint8_t *in;
    size_t in_len, in_cap;
    /* decrypted, not yet taken: plain[poff..plen) */
    uint8_t *plain;
    size_t poff, plen;
    /* one record committed, not yet written: out[ooff..olen) */
    uint8_t *out;
    size_t ooff, olen;
} tls_conn;

/* ---- errors -------------------------------------------------------------------- */

/* What SSPI status @p s means, in a few words. */
static const char *tls_status_text(SECURITY_STATUS s)
{
    switch (s) {
    case SEC_E_ILLEGAL_MESSAGE:
        return "illegal message (an alert from the peer, or not TLS)";
    case SEC_E_INVALID_TOKEN:
        return "invalid token (not TLS)";
    case SEC_E_ALGORITHM_MISMATCH:
        return "no protocol version or cipher suite in common";
    case SEC_E_UNSUPPORTED_FUNCTION:
        return "not supported by this Schannel";
    case SEC_E_NO_CREDENTIALS:
    case SEC_E_UNKNOWN_CREDENTIALS:
        return "the certificate or its key cannot be used";
    case SEC_E_CERT_UNKNOWN:
        return "certificate unknown";
    case SEC_E_CERT_EXPIRED:
        return "certificate expired";
    case SEC_E_UNTRUSTED_ROOT:
        return "unknown CA";
    case SEC_E_WRONG_PRINCIPAL:
        return "wrong principal";
    case SEC_E_DECRYPT_FAILURE:
        return "decryption failed";
    case SEC_E_MESSAGE_ALTERED:
        return "record altered (bad record mac)";
    case SEC_E_INTERNAL_ERROR:
        return "internal error";
    case SEC_I_RENEGOTIATE:
        return "the peer asked for renegotiation, which xipc does not do";
    default:
        return "error";
    }
}

static xipc_err tls_status_failure(tls_conn *t, SECURITY_STATUS s, const char *when)
{
    t->base.fatal = 1;
    xipc__set_detail("Schannel %s: %s (0x%08lx)%s", when, tls_status_text(s),
                     (unsigned long)s, xipc__tls_hint(&t->base));
    return XIPC_ETLS;
}

/* ---- socket I/O ---------------------------------------------------------------- */

/* Write @p len bytes of @p buf by @p d; *@p done: how many went. */
static xipc_err tls_write(tls_conn *t, const void *buf, size_t len, size_t *done,
                          xipc_deadline *d)
{
    *done = 0;
    while (*done < len) {
        xipc_plat_iov v = {(const uint8_t *)buf + *done, len - *done};
        size_t k = 0;
        xipc_err rv = xipc_plat_sock_sendv(t->base.fd, &v, 1, &k, xipc__deadline_left_ms(d));
        *done += k;
        if (rv != XIPC_OK)
            return rv;
    }
    return XIPC_OK;
}

/* Bring more bytes into in[] by @p d. */
static xipc_err tls_fill(tls_conn *t, xipc_deadline *d)
{
    if (t->in_len == t->in_cap) {
        xipc__set_detail("a TLS record larger than %u bytes", (unsigned)t->in_cap);
        return XIPC_EPROTO;
    }
    for (;;) {
        size_t k = 0;
        xipc_err rv = xipc_plat_sock_recv(t->base.fd, t->in + t->in_len,
                                          t->in_cap - t->in_len, &k, 0);
        if (rv == XIPC_OK) {
            t->in_len += k;
            return XIPC_OK;
        }
        if (rv != XIPC_ETIMEDOUT)
            return rv;
        int left = xipc__deadline_left_ms(d);
        if (left == 0)
            return XIPC_ETIMEDOUT;
        rv = xipc_plat_sock_wait(t->base.fd, 0, left);
        if (rv != XIPC_OK)
            return rv;
    }
}

/* Keep only the SECBUFFER_EXTRA bytes of @p b (the unused end of in[]). */
static void tls_keep_extra(tls_conn *t, const SecBuffer *b)
{
    if (b->BufferType == SECBUFFER_EXTRA && b->cbBuffer > 0 && b->cbBuffer <= t->in_len) {
        memmove(t->in, t->in + t->in_len - b->cbBuffer, b->cbBuffer);
        t->in_len = b->cbBuffer;
    } else {
        t->in_len = 0;
    }
}

/* ---- the handshake ------------------------------------------------------------- */

#define TLS_ISC_FLAGS                                                                  \
    (ISC_REQ_SEQUENCE_DETECT | ISC_REQ_REPLAY_DETECT | ISC_REQ_CONFIDENTIALITY |      \
     ISC_REQ_STREAM | ISC_REQ_ALLOCATE_MEMORY | ISC_REQ_EXTENDED_ERROR |              \
     ISC_REQ_MANUAL_CRED_VALIDATION | ISC_REQ_USE_SUPPLIED_CREDS)
#define TLS_ASC_FLAGS                                                                  \
    (ASC_REQ_SEQUENCE_DETECT | ASC_REQ_REPLAY_DETECT | ASC_REQ_CONFIDENTIALITY |      \
     ASC_REQ_STREAM | ASC_REQ_ALLOCATE_MEMORY | ASC_REQ_EXTENDED_ERROR)

/* One handshake call with in[] as input; its output token written by @p d. */
static SECURITY_STATUS tls_step(tls_conn *t, const WCHAR *target, xipc_deadline *d,
                                xipc_err *io)
{
    SecBuffer ib[2] = {{(ULONG)t->in_len, SECBUFFER_TOKEN, t->in}, {0, SECBUFFER_EMPTY, NULL}};
    SecBufferDesc id = {SECBUFFER_VERSION, 2, ib};
    SecBuffer ob[2] = {{0, SECBUFFER_TOKEN, NULL}, {0, SECBUFFER_ALERT, NULL}};
    SecBufferDesc od = {SECBUFFER_VERSION, 2, ob};
    ULONG attr = 0;
    SECURITY_STATUS s;
    CtxtHandle *old = t->has_ctx ? &t->ctx : NULL;
    /* input: always for a server; for a client, not in its first call,
     * nor when there is none (the close_notify call) */
    int input = t->in_len > 0 && (t->cfg->server || old != NULL);
    if (t->cfg->server)
        s = xipc__sspi->AcceptSecurityContext(&t->cfg->cred, old, input ? &id : NULL,
                                  TLS_ASC_FLAGS | (t->cfg->mutual ? ASC_REQ_MUTUAL_AUTH : 0),
                                  0, &t->ctx, &od, &attr, NULL);
    else
        s = xipc__sspi->InitializeSecurityContextW(&t->cfg->cred, old, (SEC_WCHAR *)target, TLS_ISC_FLAGS,
                                       0, 0, input ? &id : NULL, 0, &t->ctx, &od, &attr,
                                       NULL);
    if (s == SEC_E_OK || s == SEC_I_CONTINUE_NEEDED || s == SEC_I_INCOMPLETE_CREDENTIALS)
        t->has_ctx = 1;
    *io = XIPC_OK;
    if (ob[0].pvBuffer != NULL) {
        size_t done;
        /* a failure's token is an alert for the peer: sent when it can be */
        if (ob[0].cbBuffer > 0)
            *io = tls_write(t, ob[0].pvBuffer, ob[0].cbBuffer, &done, d);
        xipc__sspi->FreeContextBuffer(ob[0].pvBuffer);
    }
    if (ob[1].pvBuffer != NULL)
        xipc__sspi->FreeContextBuffer(ob[1].pvBuffer);
    /* what was taken goes; incomplete input, and the input of a call that
     * asked for credentials (called again with it), stays */
    if (input && s != SEC_E_INCOMPLETE_MESSAGE && s != SEC_I_INCOMPLETE_CREDENTIALS)
        tls_keep_extra(t, &ib[1]);
    return s;
}

/*
 * Does in[] begin like a TLS record (content type 20..24, version 3.x)?
 * Schannel under wine waits for a "record" of whatever length the first
 * bytes of a non-TLS peer spell; this ends that at once, as OpenSSL does.
 */
static int tls_looks_tls(const tls_conn *t)
{
    return t->in_len < 2 || (t->in[0] >= 20 && t->in[0] <= 24 && t->in[1] == 3);
}

static xipc_err tls_handshake(tls_conn *t, const WCHAR *target, xipc_deadline *d)
{
    int need_input = t->cfg->server; /* a client speaks first */
    for (;;) {
        xipc_err rv = XIPC_OK;
        if (need_input)
            rv = tls_fill(t, d);
        if (rv == XIPC_ECLOSED) {
            t->base.fatal = 1;
            xipc__set_detail("the peer closed the connection during the TLS handshake%s",
                             xipc__tls_hint(&t->base));
            return XIPC_ETLS;
        }
        if (rv != XIPC_OK)
            return rv;
        if (!tls_looks_tls(t)) {
            t->base.fatal = 1;
            xipc__set_detail("the peer does not speak TLS (wrong version number)");
            return XIPC_ETLS;
        }
        SECURITY_STATUS s = tls_step(t, target, d, &rv);
        if (s == SEC_E_OK)
            return rv;
        if (s == SEC_I_INCOMPLETE_CREDENTIALS) { /* asked for a certificate we lack */
            t->base.cert_asked = 1;
            need_input = 0;
            continue;
        }
        if (s == SEC_I_CONTINUE_NEEDED || s == SEC_E_INCOMPLETE_MESSAGE) {
            if (rv != XIPC_OK)
                return rv;
            need_input = s == SEC_E_INCOMPLETE_MESSAGE || t->in_len == 0;
            continue;
        }
        return tls_status_failure(t, s, "handshake failed");
    }
}

/* After the handshake: the record sizes, the buffers, the peer's certificate. */
static xipc_err tls_established(tls_conn *t, const char *name, int verify)
{
    if (xipc__sspi->QueryContextAttributesW(&t->ctx, SECPKG_ATTR_STREAM_SIZES, &t->sizes) != SEC_E_OK)
        return XIPC_ENOMEM;
    size_t rec = (size_t)t->sizes.cbHeader + t->sizes.cbMaximumMessage + t->sizes.cbTrailer;
    if (rec > t->in_cap) {
        uint8_t *in = realloc(t->in, rec);
        if (in == NULL)
            return XIPC_ENOMEM;
        t->in = in;
        t->in_cap = rec;
    }
    t->out = malloc(rec);
    t->plain = malloc(t->sizes.cbMaximumMessage);
    if (t->out == NULL || t->plain == NULL)
        return XIPC_ENOMEM;
    int check = name != NULL ? verify : t->cfg->mutual;
    if (!check)
        return XIPC_OK;
    PCCERT_CONTEXT peer = NULL;
    if (xipc__sspi->QueryContextAttributesW(&t->ctx, SECPKG_ATTR_REMOTE_CERT_CONTEXT, &peer) != SEC_E_OK ||
        peer == NULL) {
        xipc__set_detail(name != NULL ? "the server sent no certificate"
                                      : "peer did not return a certificate");
        return XIPC_ETLS;
    }
    xipc_err rv = xipc__tls_verify(peer, t->cfg->ca, name);
    xipc__crypt.CertFreeCertificateContext(peer);
    return rv;
}

/* ---- connections --------------------------------------------------------------- */

static void tls_cfg_ref(xipc_tls_cfg *c)
{
    InterlockedIncrement(&c->refs);
}

void xipc__tls_conn_free(xipc_tls_conn *c)
{
    tls_conn *t = (tls_conn *)c;
    if (t->has_ctx)
        xipc__sspi->DeleteSecurityContext(&t->ctx);
    xipc__tls_cfg_free(t->cfg);
    free(t->in);
    free(t->out);
    free(t->plain);
    xipc__tls_conn_base_free(c);
}

xipc_err xipc__tls_connect(xipc_tls_conn **out, xipc_tls_cfg *c, xipc_plat_sock fd,
                           const char *name, int verify, xipc_deadline *d)
{
    tls_conn *t = xipc__tls_conn_alloc(sizeof(*t), fd);
    if (t == NULL)
        return XIPC_ENOMEM;
    tls_cfg_ref(c);
    t->cfg = c;
    t->in_cap = TLS_IN_MIN;
    t->in = malloc(t->in_cap);
    WCHAR target[256] = {0};
    if (name != NULL && !xipc__tls_name_ip(name, NULL, NULL)) /* SNI: not for an address */
        MultiByteToWideChar(CP_UTF8, 0, name, -1, target, 256);
    xipc_err rv = t->in == NULL ? XIPC_ENOMEM
                                : tls_handshake(t, target[0] != 0 ? target : NULL, d);
    if (rv == XIPC_OK)
        rv = tls_established(t, name, verify);
    if (rv != XIPC_OK) {
        xipc__tls_conn_free(&t->base);
        return rv;
    }
    *out = &t->base;
    return XIPC_OK;
}

/* close_notify (SCHANNEL_SHUTDOWN), written without waiting. */
static void tls_close_notify(tls_conn *t)
{
    DWORD type = SCHANNEL_SHUTDOWN;
    SecBuffer b = {sizeof(type), SECBUFFER_TOKEN, &type};
    SecBufferDesc bd = {SECBUFFER_VERSION, 1, &b};
    if (xipc__sspi->ApplyControlToken(&t->ctx, &bd) != SEC_E_OK)
        return; /* wine: not implemented, the socket just closes */
    xipc_deadline now = xipc__deadline(0);
    xipc_err io;
    t->in_len = 0;
    tls_step(t, NULL, &now, &io);
}

void xipc__tls_finish(xipc_tls_conn *c)
{
    tls_conn *t = (tls_conn *)c;
    if (!t->base.fatal && t->has_ctx)
        tls_close_notify(t);
    xipc_plat_sock_close(t->base.fd);
    xipc__tls_conn_free(c);
}

/* ---- data ---------------------------------------------------------------------- */

xipc_err xipc__tls_flush(xipc_tls_conn *c, xipc_deadline *d)
{
    tls_conn *t = (tls_conn *)c;
    if (t->ooff < t->olen) {
        size_t k;
        xipc_err rv = tls_write(t, t->out + t->ooff, t->olen - t->ooff, &k, d);
        t->ooff += k;
        if (rv != XIPC_OK) {
            if (rv != XIPC_ETIMEDOUT)
                t->base.fatal = 1;
            return rv;
        }
    }
    t->ooff = t->olen = 0;
    return XIPC_OK;
}

uint8_t *xipc__tls_chunk(xipc_tls_conn *c, size_t *cap)
{
    tls_conn *t = (tls_conn *)c;
    *cap = t->sizes.cbMaximumMessage < XIPC_TLS_CHUNK ? t->sizes.cbMaximumMessage
                                                      : XIPC_TLS_CHUNK;
    return t->out + t->sizes.cbHeader;
}

xipc_err xipc__tls_put(xipc_tls_conn *c, size_t len, xipc_deadline *d)
{
    tls_conn *t = (tls_conn *)c;
    SecBuffer b[4] = {
        {t->sizes.cbHeader, SECBUFFER_STREAM_HEADER, t->out},
        {(ULONG)len, SECBUFFER_DATA, t->out + t->sizes.cbHeader},
        {t->sizes.cbTrailer, SECBUFFER_STREAM_TRAILER, t->out + t->sizes.cbHeader + len},
        {0, SECBUFFER_EMPTY, NULL},
    };
    SecBufferDesc bd = {SECBUFFER_VERSION, 4, b};
    xipc_plat_mutex_lock(&t->base.lock);
    SECURITY_STATUS s = xipc__sspi->EncryptMessage(&t->ctx, 0, &bd, 0);
    xipc_plat_mutex_unlock(&t->base.lock);
    if (s != SEC_E_OK)
        return tls_status_failure(t, s, "cannot encrypt");
    t->ooff = 0;
    t->olen = (size_t)b[0].cbBuffer + b[1].cbBuffer + b[2].cbBuffer;
    return xipc__tls_flush(c, d);
}

/* Decrypt the record at the start of in[] into plain[]. */
static SECURITY_STATUS tls_decrypt(tls_conn *t)
{
    SecBuffer b[4] = {{(ULONG)t->in_len, SECBUFFER_DATA, t->in},
                      {0, SECBUFFER_EMPTY, NULL},
                      {0, SECBUFFER_EMPTY, NULL},
                      {0, SECBUFFER_EMPTY, NULL}};
    SecBufferDesc bd = {SECBUFFER_VERSION, 4, b};
    xipc_plat_mutex_lock(&t->base.lock);
    SECURITY_STATUS s = xipc__sspi->DecryptMessage(&t->ctx, &bd, 0, NULL);
    xipc_plat_mutex_unlock(&t->base.lock);
    if (s != SEC_E_OK)
        return s;
    const SecBuffer *extra = &b[3]; /* an empty one if none */
    for (int i = 0; i < 4; i++) {
        if (b[i].BufferType == SECBUFFER_DATA && b[i].cbBuffer <= t->sizes.cbMaximumMessage) {
            memcpy(t->plain, b[i].pvBuffer, b[i].cbBuffer);
            t->poff = 0;
            t->plen = b[i].cbBuffer;
        } else if (b[i].BufferType == SECBUFFER_EXTRA) {
            extra = &b[i];
        }
    }
    tls_keep_extra(t, extra);
    return SEC_E_OK;
}

/*
 * Everything decrypted goes into @p buf while it has room, records already
 * read included (the socket will not say they are there), as the OpenSSL
 * side does; the socket is read only when nothing is decrypted yet.
 */
xipc_err xipc__tls_recv(void *ctx, xipc_plat_sock fd, void *buf, size_t cap, size_t *got,
                        xipc_deadline *d)
{
    tls_conn *t = ctx;
    size_t k = 0;
    for (;;) {
        size_t m = t->plen - t->poff < cap - k ? t->plen - t->poff : cap - k;
        memcpy((uint8_t *)buf + k, t->plain + t->poff, m);
        t->poff += m;
        k += m;
        if (k == cap || t->broken != XIPC_OK)
            break;
        SECURITY_STATUS s = t->in_len > 0 ? tls_decrypt(t) : SEC_E_INCOMPLETE_MESSAGE;
        if (s == SEC_E_OK)
            continue;
        if (s == SEC_I_CONTEXT_EXPIRED) { /* close_notify */
            t->broken = XIPC_ECLOSED;
        } else if (s != SEC_E_INCOMPLETE_MESSAGE) {
            /* a record changed on the way is EPROTO, an alert ETLS */
            xipc_err rv = tls_status_failure(t, s, "cannot decrypt");
            t->broken = s == SEC_E_DECRYPT_FAILURE || s == SEC_E_MESSAGE_ALTERED ? XIPC_EPROTO
                                                                                : rv;
        } else if (k == 0) {
            xipc_err rv = tls_fill(t, d);
            if (rv != XIPC_OK)
                return rv;
        } else {
            break;
        }
    }
    *got = k;
    return k > 0 ? XIPC_OK : t->broken;
}

/* ---- settings ------------------------------------------------------------------ */

/*
 * Can this Schannel accept connections? wine 8's has no
 * AcceptSecurityContext: SSPI answers SEC_E_UNSUPPORTED_FUNCTION for any
 * Schannel credential, so a certificate-less client one asks (Windows
 * refuses it otherwise), before any file is read.
 */
xipc_err xipc__tls_can_listen(void)
{
    if (xipc__tls_api_load() != XIPC_OK)
        return XIPC_ENOTSUP;
    SCHANNEL_CRED sc = {.dwVersion = SCHANNEL_CRED_VERSION,
                        .dwFlags = SCH_CRED_MANUAL_CRED_VALIDATION | SCH_CRED_NO_DEFAULT_CREDS};
    CredHandle cred;
    if (xipc__sspi->AcquireCredentialsHandleW(NULL, (SEC_WCHAR *)UNISP_NAME_W, SECPKG_CRED_OUTBOUND, NULL,
                                  &sc, NULL, NULL, &cred, NULL) != SEC_E_OK)
        return XIPC_OK; /* the listener's own credentials will say */
    SecBuffer ib[2] = {{0, SECBUFFER_TOKEN, NULL}, {0, SECBUFFER_EMPTY, NULL}};
    SecBufferDesc id = {SECBUFFER_VERSION, 2, ib};
    SecBuffer ob = {0, SECBUFFER_TOKEN, NULL};
    SecBufferDesc od = {SECBUFFER_VERSION, 1, &ob};
    CtxtHandle ctx;
    ULONG attr;
    SECURITY_STATUS s = xipc__sspi->AcceptSecurityContext(&cred, NULL, &id, TLS_ASC_FLAGS, 0, &ctx, &od,
                                              &attr, NULL);
    if (s == SEC_E_OK || s == SEC_I_CONTINUE_NEEDED)
        xipc__sspi->DeleteSecurityContext(&ctx);
    if (ob.pvBuffer != NULL)
        xipc__sspi->FreeContextBuffer(ob.pvBuffer);
    xipc__sspi->FreeCredentialsHandle(&cred);
    if (s == SEC_E_UNSUPPORTED_FUNCTION) {
        xipc__set_detail("this Schannel cannot accept TLS connections "
                         "(AcceptSecurityContext not implemented, as in wine)");
        return XIPC_ENOTSUP;
    }
    return XIPC_OK;
}

xipc_err xipc__tls_cfg_new(xipc_tls_cfg **out, const xipc_opts *o, int server)
{
    xipc_err rv = xipc__tls_api_load();
    if (rv != XIPC_OK)
        return rv;
    xipc_tls_cfg *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return XIPC_ENOMEM;
    c->refs = 1;
    c->server = server;
    if (o->tls_cert != NULL)
        rv = xipc__tls_ident_load(&c->id, o->tls_cert, o->tls_key);
    if (rv == XIPC_OK && o->tls_ca != NULL && o->tls_verify)
        rv = xipc__tls_pem_store(&c->ca, "tls_ca", o->tls_ca);
    c->mutual = server && c->ca != NULL;
    SCHANNEL_CRED sc = {
        .dwVersion = SCHANNEL_CRED_VERSION,
        .cCreds = c->id.cert != NULL,
        .paCred = &c->id.cert,
        .hRootStore = c->mutual ? c->ca : NULL, /* the CAs named to clients */
        /* SCHANNEL_CRED reaches TLS 1.2 at most (1.3 needs SCH_CREDENTIALS,
         * which wine 8 refuses): docs/tls.md */
        .grbitEnabledProtocols = server ? SP_PROT_TLS1_2_SERVER : SP_PROT_TLS1_2_CLIENT,
        .dwFlags = server ? 0
                          : SCH_CRED_MANUAL_CRED_VALIDATION | SCH_CRED_NO_DEFAULT_CREDS,
    };
    if (rv == XIPC_OK) {
        SECURITY_STATUS s = xipc__sspi->AcquireCredentialsHandleW(
            NULL, (SEC_WCHAR *)UNISP_NAME_W, server ? SECPKG_CRED_INBOUND : SECPKG_CRED_OUTBOUND,
            NULL, &sc, NULL, NULL, &c->cred, NULL);
        if (s != SEC_E_OK) {
            xipc__set_detail("cannot use tls_cert %s: Schannel: %s (0x%08lx)",
                             o->tls_cert != NULL ? o->tls_cert : "(none)",
                             tls_status_text(s), (unsigned long)s);
            rv = XIPC_EINVAL;
        } else {
            c->has_cred = 1;
        }
    }
    if (rv != XIPC_OK) {
        xipc__tls_cfg_free(c);
        return rv;
    }
    *out = c;
    return XIPC_OK;
}

void xipc__tls_cfg_free(xipc_tls_cfg *c)
{
    if (c == NULL || InterlockedDecrement(&c->refs) > 0)
        return;
    if (c->has_cred)
        xipc__sspi->FreeCredentialsHandle(&c->cred);
    xipc__tls_ident_free(&c->id);
    if (c->ca != NULL)
        xipc__crypt.CertCloseStore(c->ca, 0);
    free(c);
}
