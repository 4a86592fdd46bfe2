/*
 * tls+tcp:// with OpenSSL: the backend of transport/tls.h on POSIX
 * systems (the transport itself is ../tls.c). Options, verification rules
 * and error texts: docs/tls.md.
 *
 * OpenSSL never touches the socket itself: a BIO moves the bytes with the
 * platform's calls at timeout 0 (never blocking, never SIGPIPE), and an SSL
 * call that wants more waits in xipc_plat_sock_wait until its deadline, so
 * handshakes and data calls keep xipc's timeouts.
 *
 * A connection may have one sending and one receiving thread at once: SSL
 * objects allow one call at a time, so every SSL call holds the
 * connection's lock, and the waits happen without it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "core/detail.h"
#include "transport/tls.h"

#define TLS_SLICE_MS 1000 /* a waiting receiver looks again this often */

/* ---- one connection's TLS state ------------------------------------------------ */

typedef struct tls_conn {
    xipc_tls_conn base; /* first: fd, lock (held during every SSL call) */
    SSL *ssl;
    BIO_METHOD *meth;
    xipc_err io_err; /* what the socket said when a BIO call failed */
    /* wbuf[woff..wlen): a chunk counted as sent that SSL has not fully
     * taken yet (its record may sit half-written in OpenSSL's buffer) */
    size_t woff, wlen;
    uint8_t wbuf[XIPC_TLS_CHUNK];
} tls_conn;

struct xipc_tls_cfg {
    SSL_CTX *ctx; /* each SSL holds a reference of its own */
};

static int tls_bio_type;
static CRYPTO_ONCE tls_bio_once = CRYPTO_ONCE_STATIC_INIT;

static void tls_bio_type_init(void)
{
    int i = BIO_get_new_index();
    tls_bio_type = (i > 0 ? i : 0) | BIO_TYPE_SOURCE_SINK;
}

static int tls_bio_write(BIO *b, const char *buf, int len)
{
    tls_conn *t = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    if (len <= 0)
        return 0;
    xipc_plat_iov v = {buf, (size_t)len};
    size_t sent = 0;
    xipc_err rv = xipc_plat_sock_sendv(t->base.fd, &v, 1, &sent, 0);
    if (sent > 0)
        return (int)sent;
    if (rv == XIPC_ETIMEDOUT) {
        BIO_set_retry_write(b);
        return -1;
    }
    t->io_err = rv == XIPC_OK ? XIPC_ECLOSED : rv;
    return -1;
}

static int tls_bio_read(BIO *b, char *buf, int len)
{
    tls_conn *t = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    if (len <= 0)
        return 0;
    size_t got = 0;
    xipc_err rv = xipc_plat_sock_recv(t->base.fd, buf, (size_t)len, &got, 0);
    if (rv == XIPC_OK)
        return (int)got;
    if (rv == XIPC_ETIMEDOUT) {
        BIO_set_retry_read(b);
        return -1;
    }
    t->io_err = rv;
    return rv == XIPC_ECLOSED ? 0 : -1; /* 0: end of stream */
}

static long tls_bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    return cmd == BIO_CTRL_FLUSH; /* nothing buffered here */
}

void xipc__tls_conn_free(xipc_tls_conn *c)
{
    tls_conn *t = (tls_conn *)c;
    SSL_free(t->ssl); /* and the BIO */
    BIO_meth_free(t->meth);
    xipc__tls_conn_base_free(c);
}

/* TLS state for socket @p fd (not taken over). */
static xipc_err tls_conn_new(tls_conn **out, SSL_CTX *ctx, xipc_plat_sock fd)
{
    CRYPTO_THREAD_run_once(&tls_bio_once, tls_bio_type_init);
    tls_conn *t = xipc__tls_conn_alloc(sizeof(*t), fd);
    if (t == NULL)
        return XIPC_ENOMEM;
    t->meth = BIO_meth_new(tls_bio_type, "xipc socket");
    t->ssl = SSL_new(ctx);
    BIO *b = NULL;
    if (t->meth == NULL || t->ssl == NULL ||
        !BIO_meth_set_write(t->meth, tls_bio_write) ||
        !BIO_meth_set_read(t->meth, tls_bio_read) ||
        !BIO_meth_set_ctrl(t->meth, tls_bio_ctrl) || (b = BIO_new(t->meth)) == NULL) {
        xipc__tls_conn_free(&t->base);
        ERR_clear_error();
        return XIPC_ENOMEM;
    }
    BIO_set_data(b, t);
    BIO_set_init(b, 1);
    SSL_set_bio(t->ssl, b, b);
    SSL_set_app_data(t->ssl, t);
    *out = t;
    return XIPC_OK;
}

/* ---- errors -------------------------------------------------------------------- */

/* The reason text of OpenSSL error @p e ("certificate verify failed"). */
static const char *tls_reason(unsigned long e, char *buf, size_t cap)
{
    if (e == 0)
        return "unknown TLS error";
    ERR_error_string_n(e, buf, cap); /* error:CODE:LIBRARY:FUNCTION:REASON */
    const char *p = buf;
    for (int colons = 0; colons < 4; colons++) {
        const char *c = strchr(p, ':');
        if (c == NULL)
            return buf;
        p = c + 1;
    }
    return p;
}

/*
 * Why an SSL call failed with SSL_get_error() code @p e, as an xipc_err
 * with xipc_last_detail() set; clears OpenSSL's error queue.
 */
static xipc_err tls_failure(tls_conn *t, int e, int handshake)
{
    char buf[256];
    unsigned long err = ERR_peek_error();
    int ssl_reason = ERR_GET_LIB(err) == ERR_LIB_SSL ? ERR_GET_REASON(err) : 0;
    long vr = SSL_get_verify_result(t->ssl);
    xipc_err rv;
    t->base.fatal = e != SSL_ERROR_ZERO_RETURN;
    if (e == SSL_ERROR_ZERO_RETURN) {
        rv = XIPC_ECLOSED; /* close_notify */
    } else if (handshake && vr != X509_V_OK &&
               (SSL_get_verify_mode(t->ssl) & SSL_VERIFY_PEER)) {
        xipc__set_detail("certificate verify failed: %s",
                         X509_verify_cert_error_string(vr));
        rv = XIPC_ETLS;
    } else if (e == SSL_ERROR_SYSCALL ||
               (e == SSL_ERROR_SSL && ssl_reason == SSL_R_UNEXPECTED_EOF_WHILE_READING)) {
        /* the connection ended: closed, reset, or the peer died */
        if (t->io_err != XIPC_OK && t->io_err != XIPC_ECLOSED) {
            rv = t->io_err;
        } else if (handshake) {
            xipc__set_detail("the peer closed the connection during the TLS handshake%s",
                             xipc__tls_hint(&t->base));
            rv = XIPC_ETLS;
        } else {
            if (t->base.cert_asked) /* TLS 1.3: refused after our handshake */
                xipc__set_detail("the server closed the connection%s", xipc__tls_hint(&t->base));
            rv = XIPC_ECLOSED;
        }
    } else {
        xipc__set_detail("%s%s", tls_reason(err, buf, sizeof(buf)), xipc__tls_hint(&t->base));
        /* after the handshake, an alert from the peer is ETLS and anything
         * else (a record failing its integrity check) EPROTO */
        rv = handshake || ssl_reason >= SSL_AD_REASON_OFFSET ? XIPC_ETLS : XIPC_EPROTO;
    }
    ERR_clear_error();
    return rv;
}

/* The reason OpenSSL could not use file @p path given as option @p what. */
static xipc_err tls_file_failure(const char *what, const char *path)
{
    char buf[256];
    xipc__set_detail("cannot use %s %s: %s", what, path,
                     tls_reason(ERR_peek_error(), buf, sizeof(buf)));
    ERR_clear_error();
    return XIPC_EINVAL;
}

/* ---- handshake and data ------------------------------------------------------ */

static int tls_wants(int e)
{
    return e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE;
}

static xipc_err tls_handshake(tls_conn *t, xipc_deadline *d)
{
    for (;;) {
        ERR_clear_error();
        t->io_err = XIPC_OK;
        int r = SSL_do_handshake(t->ssl);
        if (r == 1)
            return XIPC_OK;
        int e = SSL_get_error(t->ssl, r);
        if (!tls_wants(e))
            return tls_failure(t, e, 1);
        xipc_err rv = xipc_plat_sock_wait(t->base.fd, e == SSL_ERROR_WANT_WRITE,
                                          xipc__deadline_left_ms(d));
        if (rv != XIPC_OK)
            return rv;
    }
}

/* Hand wbuf[woff..wlen) to SSL by @p d (XIPC_ETIMEDOUT: keep it). */
xipc_err xipc__tls_flush(xipc_tls_conn *c, xipc_deadline *d)
{
    tls_conn *t = (tls_conn *)c;
    while (t->woff < t->wlen) {
        xipc_plat_mutex_lock(&t->base.lock);
        ERR_clear_error();
        t->io_err = XIPC_OK;
        size_t k = 0;
        int r = SSL_write_ex(t->ssl, t->wbuf + t->woff, t->wlen - t->woff, &k);
        int e = r ? SSL_ERROR_NONE : SSL_get_error(t->ssl, r);
        xipc_err rv = XIPC_OK;
        if (r)
            t->woff += k;
        else if (!tls_wants(e))
            rv = tls_failure(t, e, 0);
        xipc_plat_mutex_unlock(&t->base.lock);
        if (rv == XIPC_OK && !r)
            rv = xipc_plat_sock_wait(t->base.fd, e == SSL_ERROR_WANT_WRITE,
                                     xipc__deadline_left_ms(d));
        if (rv != XIPC_OK)
            return rv;
    }
    t->woff = t->wlen = 0;
    return XIPC_OK;
}

uint8_t *xipc__tls_chunk(xipc_tls_conn *c, size_t *cap)
{
    *cap = XIPC_TLS_CHUNK;
    return ((tls_conn *)c)->wbuf;
}

xipc_err xipc__tls_put(xipc_tls_conn *c, size_t len, xipc_deadline *d)
{
    tls_conn *t = (tls_conn *)c;
    t->woff = 0;
    t->wlen = len;
    return xipc__tls_flush(c, d);
}

xipc_err xipc__tls_recv(void *ctx, xipc_plat_sock fd, void *buf, size_t cap,
                        size_t *got, xipc_deadline *d)
{
    tls_conn *t = ctx;
    for (;;) {
        xipc_plat_mutex_lock(&t->base.lock);
        ERR_clear_error();
        t->io_err = XIPC_OK;
        size_t k = 0, more;
        int r = SSL_read_ex(t->ssl, buf, cap, &k);
        int e = r ? SSL_ERROR_NONE : SSL_get_error(t->ssl, r);
        /* take what is decrypted already: the socket will not say so */
        while (r && k < cap && SSL_pending(t->ssl) > 0 &&
               SSL_read_ex(t->ssl, (uint8_t *)buf + k, cap - k, &more))
            k += more;
        xipc_err rv = r || tls_wants(e) ? XIPC_OK : tls_failure(t, e, 0);
        ERR_clear_error();
        xipc_plat_mutex_unlock(&t->base.lock);
        if (r) {
            *got = k;
            return XIPC_OK;
        }
        if (rv != XIPC_OK)
            return rv;
        int left = xipc__deadline_left_ms(d);
        if (left == 0)
            return XIPC_ETIMEDOUT;
        /* in slices: a sender's SSL call could take our bytes off the
         * socket meanwhile (TLS 1.3 after the handshake does not, but
         * waiting forever on that belief is not worth the risk) */
        if (left < 0 || left > TLS_SLICE_MS)
            left = TLS_SLICE_MS;
        rv = xipc_plat_sock_wait(t->base.fd, e == SSL_ERROR_WANT_WRITE, left);
        if (rv != XIPC_OK && rv != XIPC_ETIMEDOUT)
            return rv;
    }
}

/* close_notify (without blocking), free, close the socket. */
void xipc__tls_finish(xipc_tls_conn *c)
{
    tls_conn *t = (tls_conn *)c;
    if (!t->base.fatal) {
        ERR_clear_error();
        SSL_shutdown(t->ssl);
        ERR_clear_error();
    }
    xipc_plat_sock_close(t->base.fd);
    xipc__tls_conn_free(&t->base);
}

/* ---- configuration ------------------------------------------------------------- */

static SSL_CTX *tls_ctx_new(int server)
{
    SSL_CTX *ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
    if (ctx == NULL) {
        ERR_clear_error();
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION);
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
                              SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    if (server) { /* no resumption: no session cache, no tickets */
        SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
        SSL_CTX_set_num_tickets(ctx, 0);
    }
    return ctx;
}

/* Our own certificate and key (tls_key NULL: the key is in tls_cert). */
static xipc_err tls_ctx_identity(SSL_CTX *ctx, const xipc_opts *o)
{
    const char *key = o->tls_key != NULL ? o->tls_key : o->tls_cert;
    if (SSL_CTX_use_certificate_chain_file(ctx, o->tls_cert) != 1)
        return tls_file_failure("tls_cert", o->tls_cert);
    if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1)
        return tls_file_failure("tls_key", key);
    if (SSL_CTX_check_private_key(ctx) != 1) {
        ERR_clear_error();
        xipc__set_detail("tls_key %s does not match tls_cert %s", key, o->tls_cert);
        return XIPC_EINVAL;
    }
    return XIPC_OK;
}

/* A listener with tls_ca and tls_verify: client certificates required. */
static xipc_err tls_ctx_clients(SSL_CTX *ctx, const char *ca)
{
    if (SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1)
        return tls_file_failure("tls_ca", ca);
    STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(ca);
    if (names != NULL)
        SSL_CTX_set_client_CA_list(ctx, names); /* named in the request */
    ERR_clear_error();
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    return XIPC_OK;
}

/* Called when a server asks for a certificate and we have none: note it
 * for the error detail, and go on without (the server decides). */
static int tls_no_client_cert(SSL *ssl, X509 **x509, EVP_PKEY **pkey)
{
    ((tls_conn *)SSL_get_app_data(ssl))->base.cert_asked = 1;
    return 0;
}

/* A dialler: optional client certificate, then whom to trust. */
static xipc_err tls_ctx_dialler(SSL_CTX *ctx, const xipc_opts *o)
{
    xipc_err rv = XIPC_OK;
    if (o->tls_cert != NULL) { /* tls_key without it: refused by ../tls.c */
        rv = tls_ctx_identity(ctx, o);
    } else {
        SSL_CTX_set_client_cert_cb(ctx, tls_no_client_cert);
    }
    if (rv != XIPC_OK || !o->tls_verify)
        return rv;
    if (o->tls_ca != NULL) {
        if (SSL_CTX_load_verify_locations(ctx, o->tls_ca, NULL) != 1)
            return tls_file_failure("tls_ca", o->tls_ca);
    } else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
        ERR_clear_error(); /* no system store: every check fails, clearly */
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    return XIPC_OK;
}

/*
 * The name the server must prove (and the SNI): an IP address is checked
 * against the certificate's IP entries and sent no SNI (RFC 6066), a host
 * name against its DNS entries.
 */
static xipc_err tls_expect(SSL *ssl, const char *name, int verify)
{
    char ip[64];
    size_t n = strcspn(name, "%"); /* an IPv6 zone is not in certificates */
    int is_ip = 0;
    if (n < sizeof(ip)) {
        memcpy(ip, name, n);
        ip[n] = '\0';
        ASN1_OCTET_STRING *a = a2i_IPADDRESS(ip);
        is_ip = a != NULL;
        ASN1_OCTET_STRING_free(a);
    }
    int ok = is_ip || SSL_set_tlsext_host_name(ssl, name) == 1;
    if (ok && verify) {
        X509_VERIFY_PARAM *p = SSL_get0_param(ssl);
        X509_VERIFY_PARAM_set_hostflags(p, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
        ok = is_ip ? X509_VERIFY_PARAM_set1_ip_asc(p, ip) == 1
                   : SSL_set1_host(ssl, name) == 1;
    }
    ERR_clear_error();
    if (!ok) {
        xipc__set_detail("cannot check the server name \"%s\"", name);
        return XIPC_EINVAL;
    }
    return XIPC_OK;
}

xipc_err xipc__tls_can_listen(void)
{
    return XIPC_OK;
}

xipc_err xipc__tls_cfg_new(xipc_tls_cfg **out, const xipc_opts *o, int server)
{
    xipc_tls_cfg *c = calloc(1, sizeof(*c));
    if (c == NULL || (c->ctx = tls_ctx_new(server)) == NULL) {
        free(c);
        return XIPC_ENOMEM;
    }
    xipc_err rv;
    if (server) {
        rv = tls_ctx_identity(c->ctx, o);
        if (rv == XIPC_OK && o->tls_ca != NULL && o->tls_verify)
            rv = tls_ctx_clients(c->ctx, o->tls_ca);
    } else {
        rv = tls_ctx_dialler(c->ctx, o);
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
    if (c == NULL)
        return;
    SSL_CTX_free(c->ctx);
    free(c);
}

xipc_err xipc__tls_connect(xipc_tls_conn **out, xipc_tls_cfg *c, xipc_plat_sock fd,
                           const char *name, int verify, xipc_deadline *d)
{
    tls_conn *t;
    xipc_err rv = tls_conn_new(&t, c->ctx, fd);
    if (rv != XIPC_OK)
        return rv;
    if (name != NULL) {
        SSL_set_connect_state(t->ssl);
        rv = tls_expect(t->ssl, name, verify);
    } else {
        SSL_set_accept_state(t->ssl);
    }
    if (rv == XIPC_OK)
        rv = tls_handshake(t, d);
    if (rv != XIPC_OK) {
        xipc__tls_conn_free(&t->base); /* no close_notify after a failure */
        return rv;
    }
    *out = &t->base;
    return XIPC_OK;
}
