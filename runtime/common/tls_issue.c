/* Making a cluster CA and issuing node certificates (OpenSSL), as PEM text. */
#include "common/tls_issue.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

/* Sets ERR to WHAT plus OpenSSL's last reason; returns -EPROTO. */
static int fail(char *err, size_t errlen, const char *what)
{
    unsigned long e = ERR_peek_last_error();
    const char *r = e != 0 ? ERR_reason_error_string(e) : NULL;
    if (err != NULL)
        snprintf(err, errlen, "%s%s%s", what, r ? ": " : "", r ? r : "");
    ERR_clear_error();
    return -EPROTO;
}

/* The PEM text of a certificate (IS_KEY 0) or private key, or NULL. */
static char *to_pem(X509 *x, EVP_PKEY *k)
{
    BIO *b = BIO_new(BIO_s_mem());
    if (b == NULL)
        return NULL;
    int ok = x != NULL ? PEM_write_bio_X509(b, x)
                       : PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL);
    char *data;
    long n = BIO_get_mem_data(b, &data);
    char *out = ok && n > 0 ? malloc((size_t)n + 1) : NULL;
    if (out != NULL) {
        memcpy(out, data, (size_t)n);
        out[n] = '\0';
    }
    BIO_free(b);
    return out;
}

static X509 *read_cert(const char *pem)
{
    BIO *b = BIO_new_mem_buf(pem, -1);
    X509 *x = b != NULL ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
    BIO_free(b);
    return x;
}

static EVP_PKEY *read_key(const char *pem)
{
    BIO *b = BIO_new_mem_buf(pem, -1);
    EVP_PKEY *k = b != NULL ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;
    BIO_free(b);
    return k;
}

/* Adds extension NID with VALUE (OpenSSL's config syntax) to X. */
static int add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
    X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    int ok = e != NULL && X509_add_ext(x, e, -1) == 1;
    X509_EXTENSION_free(e);
    return ok;
}

/* A new certificate for KEY named CN, valid between the two offsets. */
static X509 *new_cert(EVP_PKEY *key, const char *cn, long not_before_s, long not_after_s)
{
    X509 *x = X509_new();
    unsigned char serial[16];
    BIGNUM *bn = NULL;
    if (x == NULL || RAND_bytes(serial, sizeof serial) != 1)
        goto bad;
    serial[0] &= 0x7f; /* positive */
    bn = BN_bin2bn(serial, sizeof serial, NULL);
    if (bn == NULL || BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) == NULL ||
        X509_set_version(x, 2) != 1 ||
        X509_gmtime_adj(X509_getm_notBefore(x), not_before_s) == NULL ||
        X509_gmtime_adj(X509_getm_notAfter(x), not_after_s) == NULL ||
        X509_set_pubkey(x, key) != 1 ||
        X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_UTF8,
                                   (const unsigned char *)cn, -1, -1, 0) != 1)
        goto bad;
    BN_free(bn);
    return x;
bad:
    BN_free(bn);
    X509_free(x);
    return NULL;
}

int tls_make_ca(const char *cn, int days, char **cert, char **key, char *err, size_t errlen)
{
    EVP_PKEY *k = EVP_EC_gen("P-256");
    X509 *x = k != NULL ? new_cert(k, cn, -300, (long)days * 86400) : NULL;
    int rc = 0;
    if (x == NULL || X509_set_issuer_name(x, X509_get_subject_name(x)) != 1 ||
        !add_ext(x, x, NID_basic_constraints, "critical,CA:TRUE") ||
        !add_ext(x, x, NID_key_usage, "critical,keyCertSign,cRLSign") ||
        !add_ext(x, x, NID_subject_key_identifier, "hash") ||
        X509_sign(x, k, EVP_sha256()) == 0)
        rc = fail(err, errlen, "cannot make the cluster CA");
    *cert = rc == 0 ? to_pem(x, NULL) : NULL;
    *key = rc == 0 ? to_pem(NULL, k) : NULL;
    if (rc == 0 && (*cert == NULL || *key == NULL)) {
        free(*cert);
        free(*key);
        *cert = *key = NULL;
        rc = fail(err, errlen, "out of memory writing the cluster CA");
    }
    X509_free(x);
    EVP_PKEY_free(k);
    return rc;
}

/* "IP:a,IP:b" for the subjectAltName of IPS; -EINVAL on a bad address. */
static int san_text(const char *const *ips, size_t nips, char *out, size_t outlen)
{
    size_t used = 0;
    int n0 = snprintf(out, outlen, "DNS:localhost");
    if (n0 < 0 || (size_t)n0 >= outlen)
        return -EINVAL;
    used = (size_t)n0;
    for (size_t i = 0; i < nips; i++) {
        unsigned char bin[4];
        ASN1_OCTET_STRING *a = a2i_IPADDRESS(ips[i]);
        int ok = a != NULL && ASN1_STRING_length(a) == (int)sizeof bin;
        ASN1_OCTET_STRING_free(a);
        int n = ok ? snprintf(out + used, outlen - used, ",IP:%s", ips[i]) : -1;
        if (n < 0 || (size_t)n >= outlen - used)
            return -EINVAL;
        used += (size_t)n;
    }
    return 0;
}

int tls_issue_cert(const char *ca_cert, const char *ca_key, const char *cn,
                   const char *const *ips, size_t nips, long not_before_s, long not_after_s,
                   char **cert, char **key, char *err, size_t errlen)
{
    *cert = *key = NULL;
    char san[1024];
    if (san_text(ips, nips, san, sizeof san) != 0) {
        if (err != NULL)
            snprintf(err, errlen, "a certificate address is not an IPv4 address");
        return -EINVAL;
    }
    X509 *ca = read_cert(ca_cert);
    EVP_PKEY *cak = read_key(ca_key);
    if (ca == NULL || cak == NULL || X509_check_private_key(ca, cak) != 1) {
        X509_free(ca);
        EVP_PKEY_free(cak);
        fail(err, errlen, "the cluster CA certificate or key is unreadable");
        return -EINVAL;
    }
    EVP_PKEY *k = EVP_EC_gen("P-256");
    X509 *x = k != NULL ? new_cert(k, cn, not_before_s, not_after_s) : NULL;
    int rc = 0;
    if (x == NULL || X509_set_issuer_name(x, X509_get_subject_name(ca)) != 1 ||
        !add_ext(x, ca, NID_basic_constraints, "critical,CA:FALSE") ||
        !add_ext(x, ca, NID_key_usage, "critical,digitalSignature,keyEncipherment") ||
        !add_ext(x, ca, NID_ext_key_usage, "serverAuth,clientAuth") ||
        !add_ext(x, ca, NID_subject_alt_name, san) ||
        X509_sign(x, cak, EVP_sha256()) == 0)
        rc = fail(err, errlen, "cannot issue the node certificate");
    if (rc == 0 && ((*cert = to_pem(x, NULL)) == NULL || (*key = to_pem(NULL, k)) == NULL)) {
        free(*cert);
        *cert = NULL;
        rc = fail(err, errlen, "out of memory writing the node certificate");
    }
    X509_free(x);
    EVP_PKEY_free(k);
    X509_free(ca);
    EVP_PKEY_free(cak);
    return rc;
}

int tls_cert_good(const char *cert, const char *ca_cert, long margin_s)
{
    X509 *x = read_cert(cert);
    X509 *ca = read_cert(ca_cert);
    EVP_PKEY *pub = ca != NULL ? X509_get0_pubkey(ca) : NULL;
    int ok = x != NULL && pub != NULL && X509_verify(x, pub) == 1 &&
             X509_cmp_time(X509_get0_notBefore(x), NULL) < 0;
    if (ok) {
        time_t later = time(NULL) + margin_s;
        ok = X509_cmp_time(X509_get0_notAfter(x), &later) > 0;
    }
    ERR_clear_error();
    X509_free(x);
    X509_free(ca);
    return ok;
}
