/* TLS 1.3 for the TCP connections between rayc processes (OpenSSL). */
#include "common/tls.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

/* ---------------------------------------------------------------- configuration */

static struct {
    int done;
    int rc;           /* 0 off or loaded, negative: failed */
    tls_ctx *ctx;     /* NULL when off */
    char err[512];
} g_tls;

int tls_env_on(void)
{
    const char *v = getenv("RAY_USE_TLS");
    return v != NULL && (strcmp(v, "1") == 0 || strcasecmp(v, "true") == 0 ||
                         strcasecmp(v, "yes") == 0);
}

/* The last OpenSSL error as a phrase ("" when none); clears the queue. */
static const char *ssl_reason(char *buf, size_t len)
{
    unsigned long e = ERR_peek_last_error();
    const char *r = e != 0 ? ERR_reason_error_string(e) : NULL;
    snprintf(buf, len, "%s", r != NULL ? r : "");
    ERR_clear_error();
    return buf;
}

/* Checks that file PATH named by NAME (a variable or a role) can be read. */
static int readable(const char *name, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        int rc = -errno;
        snprintf(err, errlen, "%s=%s cannot be read: %s", name, path, strerror(errno));
        return rc;
    }
    fclose(f);
    return 0;
}

/* Fails with one line naming NAME and its file PATH. */
static int refused(const char *name, const char *path, const char *what, char *err,
                   size_t errlen)
{
    char why[200];
    ssl_reason(why, sizeof why);
    snprintf(err, errlen, "%s=%s: %s%s%s", name, path, what, why[0] ? ": " : "", why);
    return -EPROTO;
}

/* Builds a context from the files in PATH (certificate, key, CA), whose
 * names for messages are in NAME. */
static int ctx_load(const char *const name[3], const char *const path[3], tls_ctx **out,
                    char *err, size_t errlen)
{
    int rc = 0;
    for (int i = 0; i < 3 && rc == 0; i++)
        rc = readable(name[i], path[i], err, errlen);
    if (rc != 0)
        return rc;
    SSL_CTX *ctx = SSL_CTX_new(TLS_method());
    if (ctx == NULL) {
        snprintf(err, errlen, "TLS: cannot create an OpenSSL context");
        return -ENOMEM;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
    if (SSL_CTX_use_certificate_chain_file(ctx, path[0]) != 1)
        rc = refused(name[0], path[0], "not a PEM certificate", err, errlen);
    else if (SSL_CTX_use_PrivateKey_file(ctx, path[1], SSL_FILETYPE_PEM) != 1)
        rc = refused(name[1], path[1], "not a PEM private key", err, errlen);
    else if (SSL_CTX_check_private_key(ctx) != 1)
        rc = refused(name[1], path[1], "does not match the certificate", err, errlen);
    else if (SSL_CTX_load_verify_locations(ctx, path[2], NULL) != 1)
        rc = refused(name[2], path[2], "not a PEM CA certificate", err, errlen);
    if (rc != 0) {
        SSL_CTX_free(ctx);
        return rc;
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    /* Connections are long-lived and never resumed: no tickets, no cache. */
    SSL_CTX_set_num_tickets(ctx, 0);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    *out = (tls_ctx *)ctx;
    return 0;
}

int tls_ctx_load(const char *cert, const char *key, const char *ca, tls_ctx **out, char *err,
                 size_t errlen)
{
    const char *const name[3] = {"certificate", "key", "CA"};
    const char *const path[3] = {cert, key, ca};
    return ctx_load(name, path, out, err, errlen);
}

void tls_ctx_free(tls_ctx *ctx) { SSL_CTX_free((SSL_CTX *)ctx); }

static int load_env(void)
{
    const char *const name[3] = {"RAY_TLS_SERVER_CERT", "RAY_TLS_SERVER_KEY", "RAY_TLS_CA_CERT"};
    const char *path[3];
    for (int i = 0; i < 3; i++) {
        path[i] = getenv(name[i]);
        if (path[i] == NULL || path[i][0] == '\0') {
            snprintf(g_tls.err, sizeof g_tls.err, "RAY_USE_TLS is set but %s is not", name[i]);
            return -EINVAL;
        }
    }
    return ctx_load(name, path, &g_tls.ctx, g_tls.err, sizeof g_tls.err);
}

int tls_init_from_env(char *err, size_t errlen)
{
    if (!g_tls.done) {
        g_tls.done = 1;
        g_tls.rc = tls_env_on() ? load_env() : 0;
    }
    if (g_tls.rc != 0 && err != NULL)
        snprintf(err, errlen, "%s", g_tls.err);
    return g_tls.rc;
}

int tls_state(void)
{
    int rc = tls_init_from_env(NULL, 0);
    return rc != 0 ? rc : g_tls.ctx != NULL;
}

const char *tls_init_error(void) { return g_tls.rc != 0 ? g_tls.err : ""; }

/* ---------------------------------------------------------------- sessions */

struct tls_sess {
    SSL *ssl;
    BIO *in;    /* ciphertext from the peer (owned by ssl) */
    BIO *out;   /* ciphertext for the peer (owned by ssl) */
    char err[256];
};

tls_sess *tls_sess_new(int is_server) { return tls_sess_new_ctx(NULL, is_server); }

tls_sess *tls_sess_new_ctx(tls_ctx *ctx, int is_server)
{
    if (ctx == NULL && tls_state() != 1)
        return NULL;
    tls_sess *s = calloc(1, sizeof *s);
    if (s == NULL)
        return NULL;
    s->ssl = SSL_new((SSL_CTX *)(ctx != NULL ? ctx : g_tls.ctx));
    s->in = BIO_new(BIO_s_mem());
    s->out = BIO_new(BIO_s_mem());
    if (s->ssl == NULL || s->in == NULL || s->out == NULL) {
        BIO_free(s->in);
        BIO_free(s->out);
        SSL_free(s->ssl);
        free(s);
        return NULL;
    }
    SSL_set_bio(s->ssl, s->in, s->out);
    if (is_server)
        SSL_set_accept_state(s->ssl);
    else
        SSL_set_connect_state(s->ssl);
    return s;
}

void tls_sess_free(tls_sess *s)
{
    if (s == NULL)
        return;
    SSL_free(s->ssl);
    free(s);
}

int tls_sess_feed(tls_sess *s, const uint8_t *buf, size_t len)
{
    return len == 0 || BIO_write(s->in, buf, (int)len) == (int)len ? 0 : -ENOMEM;
}

/* Records why the session failed: the certificate check's verdict when it
 * failed, else OpenSSL's reason (a plain-text peer reads "wrong version
 * number" or "packet length too long"; an alert names the peer's verdict). */
static void note_failure(tls_sess *s, int ret)
{
    long v = SSL_get_verify_result(s->ssl);
    char why[200];
    ssl_reason(why, sizeof why);
    if (v != X509_V_OK)
        snprintf(s->err, sizeof s->err, "certificate verify failed: %s",
                 X509_verify_cert_error_string(v));
    else if (why[0] != '\0')
        snprintf(s->err, sizeof s->err, "%s", why);
    else
        snprintf(s->err, sizeof s->err, "TLS error %d", SSL_get_error(s->ssl, ret));
}

int tls_sess_handshake(tls_sess *s)
{
    if (SSL_is_init_finished(s->ssl))
        return 1;
    int ret = SSL_do_handshake(s->ssl);
    if (ret == 1)
        return 1;
    int e = SSL_get_error(s->ssl, ret);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
        return 0;
    note_failure(s, ret);
    return -EPROTO;
}

ssize_t tls_sess_read(tls_sess *s, uint8_t *buf, size_t len)
{
    int n = SSL_read(s->ssl, buf, len > 1 << 30 ? 1 << 30 : (int)len);
    if (n > 0)
        return n;
    int e = SSL_get_error(s->ssl, n);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
        return 0;
    if (e == SSL_ERROR_ZERO_RETURN) {
        snprintf(s->err, sizeof s->err, "peer closed");
        return -ECONNRESET;
    }
    note_failure(s, n);
    return -EPROTO;
}

int tls_sess_write(tls_sess *s, const uint8_t *buf, size_t len)
{
    while (len > 0) {
        int chunk = len > 1 << 30 ? 1 << 30 : (int)len;
        int n = SSL_write(s->ssl, buf, chunk);
        if (n <= 0) {
            note_failure(s, n);
            return -EPROTO;
        }
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

ssize_t tls_sess_take_out(tls_sess *s, uint8_t **out)
{
    *out = NULL;
    size_t n = BIO_ctrl_pending(s->out);
    if (n == 0)
        return 0;
    uint8_t *buf = malloc(n);
    if (buf == NULL)
        return -ENOMEM;
    if (BIO_read(s->out, buf, (int)n) != (int)n) {
        free(buf);
        return -ENOMEM;
    }
    *out = buf;
    return (ssize_t)n;
}

const char *tls_sess_error(const tls_sess *s) { return s->err; }
