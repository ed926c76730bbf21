/* tls-*: TLS sessions on memory buffers (runtime/common/tls.c) and the
 * certificates ray up issues (runtime/common/tls_issue.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/tls.h"
#include "common/tls_issue.h"

#define NAMED_TEST(name, fn) {name, fn, NULL, NULL, NULL}

static struct {
    char dir[64];
    char *ca, *ca_key;
    char *good, *good_key;
    tls_ctx *node;       /* a cluster certificate */
    tls_ctx *foreign;    /* a certificate from another CA (trusting the cluster CA) */
    tls_ctx *expired;    /* a cluster certificate that expired yesterday */
} T;

static void write_file(const char *name, const char *text, char *path, size_t len)
{
    snprintf(path, len, "%s/%s", T.dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* Loads a context presenting CERT/KEY and trusting CA. */
static tls_ctx *ctx_of(const char *tag, const char *cert, const char *key, const char *ca)
{
    char pc[128], pk[128], pa[128], name[32], err[256] = "";
    snprintf(name, sizeof name, "%s.crt", tag);
    write_file(name, cert, pc, sizeof pc);
    snprintf(name, sizeof name, "%s.key", tag);
    write_file(name, key, pk, sizeof pk);
    snprintf(name, sizeof name, "%s.ca", tag);
    write_file(name, ca, pa, sizeof pa);
    tls_ctx *ctx = NULL;
    int rc = tls_ctx_load(pc, pk, pa, &ctx, err, sizeof err);
    if (rc != 0)
        fail_msg("tls_ctx_load %s: %s", tag, err);
    return ctx;
}

static int setup(void **state)
{
    (void)state;
    snprintf(T.dir, sizeof T.dir, "/tmp/rayc_tls_test.XXXXXX");
    assert_non_null(mkdtemp(T.dir));
    char err[256] = "";
    const char *ips[] = {"127.0.0.1", "10.0.0.2"};
    char *other_ca, *other_key, *c, *k;
    assert_int_equal(tls_make_ca("rayc test CA", 30, &T.ca, &T.ca_key, err, sizeof err), 0);
    assert_int_equal(tls_issue_cert(T.ca, T.ca_key, "node", ips, 2, -60, 86400, &T.good,
                                    &T.good_key, err, sizeof err), 0);
    T.node = ctx_of("node", T.good, T.good_key, T.ca);
    assert_int_equal(tls_make_ca("another CA", 30, &other_ca, &other_key, err, sizeof err), 0);
    assert_int_equal(tls_issue_cert(other_ca, other_key, "intruder", ips, 1, -60, 86400, &c, &k,
                                    err, sizeof err), 0);
    T.foreign = ctx_of("foreign", c, k, T.ca);
    free(c);
    free(k);
    assert_int_equal(tls_issue_cert(T.ca, T.ca_key, "old", ips, 1, -2 * 86400, -86400, &c, &k,
                                    err, sizeof err), 0);
    T.expired = ctx_of("expired", c, k, T.ca);
    free(c);
    free(k);
    free(other_ca);
    free(other_key);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tls_ctx_free(T.node);
    tls_ctx_free(T.foreign);
    tls_ctx_free(T.expired);
    free(T.ca);
    free(T.ca_key);
    free(T.good);
    free(T.good_key);
    const char *names[] = {"node", "foreign", "expired"};
    const char *ext[] = {"crt", "key", "ca"};
    char path[128];
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) {
            snprintf(path, sizeof path, "%s/%s.%s", T.dir, names[i], ext[j]);
            unlink(path);
        }
    rmdir(T.dir);
    return 0;
}

/* Moves FROM's ciphertext into TO; appends it to LOG (may be NULL). */
static void move(tls_sess *from, tls_sess *to, char *log, size_t *loglen, size_t logcap)
{
    uint8_t *out;
    ssize_t n = tls_sess_take_out(from, &out);
    assert_true(n >= 0);
    if (n == 0)
        return;
    if (log != NULL && *loglen + (size_t)n <= logcap) {
        memcpy(log + *loglen, out, (size_t)n);
        *loglen += (size_t)n;
    }
    assert_int_equal(tls_sess_feed(to, out, (size_t)n), 0);
    free(out);
}

/* Runs the handshake between C and S; returns the server's result (1 or
 * -EPROTO) once both are done or one failed. */
static int pump(tls_sess *c, tls_sess *s, int *client_rc)
{
    int rc_c = 0, rc_s = 0;
    for (int round = 0; round < 10; round++) {
        if (rc_c == 0)
            rc_c = tls_sess_handshake(c);
        move(c, s, NULL, NULL, 0);
        if (rc_s == 0)
            rc_s = tls_sess_handshake(s);
        move(s, c, NULL, NULL, 0);
        if ((rc_c != 0 && rc_s != 0) || rc_c < 0 || rc_s < 0)
            break;
    }
    /* The client finishes first in TLS 1.3; a server that refuses the
     * client's certificate says so when reading. */
    *client_rc = rc_c;
    return rc_s;
}

static void test_roundtrip(void **state)
{
    (void)state;
    tls_sess *c = tls_sess_new_ctx(T.node, 0), *s = tls_sess_new_ctx(T.node, 1);
    int crc;
    assert_int_equal(pump(c, s, &crc), 1);
    assert_int_equal(crc, 1);
    const char *secret = "hello-token-0123456789abcdef";
    assert_int_equal(tls_sess_write(c, (const uint8_t *)secret, strlen(secret)), 0);
    char wire[4096];
    size_t wlen = 0;
    move(c, s, wire, &wlen, sizeof wire);
    uint8_t got[128];
    ssize_t n = tls_sess_read(s, got, sizeof got);
    assert_int_equal(n, (ssize_t)strlen(secret));
    assert_memory_equal(got, secret, strlen(secret));
    assert_null(memmem(wire, wlen, "hello-token", 11));
    assert_int_equal(tls_sess_read(s, got, sizeof got), 0); /* nothing more yet */
    tls_sess_free(c);
    tls_sess_free(s);
}

/* The server's verdict on a client presenting CLIENT_CTX's certificate. */
static void refused_by_server(tls_ctx *client_ctx, const char *why)
{
    tls_sess *c = tls_sess_new_ctx(client_ctx, 0), *s = tls_sess_new_ctx(T.node, 1);
    int crc;
    int src = pump(c, s, &crc);
    if (src == 1) { /* the server reads the client's certificate with its Finished */
        uint8_t b[16];
        src = (int)tls_sess_read(s, b, sizeof b);
    }
    assert_int_equal(src, -EPROTO);
    if (strstr(tls_sess_error(s), why) == NULL)
        fail_msg("expected: ...%s...\ngot:      %s", why, tls_sess_error(s));
    tls_sess_free(c);
    tls_sess_free(s);
}

static void test_foreign_ca(void **state)
{
    (void)state;
    refused_by_server(T.foreign, "certificate verify failed: unable to get local issuer");
}

static void test_expired(void **state)
{
    (void)state;
    refused_by_server(T.expired, "certificate verify failed: certificate has expired");
}

static void test_plaintext_peer(void **state)
{
    (void)state;
    tls_sess *s = tls_sess_new_ctx(T.node, 1);
    const uint8_t frame[] = {0, 0, 0, 5, 'h', 'e', 'l', 'l', 'o'};
    assert_int_equal(tls_sess_feed(s, frame, sizeof frame), 0);
    assert_int_equal(tls_sess_handshake(s), -EPROTO);
    assert_true(tls_sess_error(s)[0] != '\0');
    tls_sess_free(s);
}

static void test_missing_file(void **state)
{
    (void)state;
    char err[256] = "";
    tls_ctx *ctx = NULL;
    char crt[128];
    snprintf(crt, sizeof crt, "%s/node.crt", T.dir);
    int rc = tls_ctx_load(crt, "/nonexistent/node.key", crt, &ctx, err, sizeof err);
    assert_int_equal(rc, -ENOENT);
    assert_string_equal(err, "key=/nonexistent/node.key cannot be read: No such file or directory");
    rc = tls_ctx_load(crt, crt, crt, &ctx, err, sizeof err);
    assert_int_equal(rc, -EPROTO);
    assert_non_null(strstr(err, "not a PEM private key"));
}

static void test_cert_good(void **state)
{
    (void)state;
    char err[256];
    char *other_ca, *other_key, *c, *k;
    const char *ip = "10.1.2.3";
    assert_int_equal(tls_cert_good(T.good, T.ca, 60), 1);
    assert_int_equal(tls_cert_good(T.good, T.ca, 2 * 86400), 0); /* expires within the margin */
    assert_int_equal(tls_make_ca("x", 1, &other_ca, &other_key, err, sizeof err), 0);
    assert_int_equal(tls_cert_good(T.good, other_ca, 60), 0);
    assert_int_equal(tls_cert_good("garbage", T.ca, 60), 0);
    const char *bad = "10.1.2";
    assert_int_equal(tls_issue_cert(T.ca, T.ca_key, "n", &bad, 1, 0, 60, &c, &k, err, sizeof err),
                     -EINVAL);
    assert_int_equal(tls_issue_cert(other_ca, T.ca_key, "n", &ip, 1, 0, 60, &c, &k, err, sizeof err),
                     -EINVAL);
    free(other_ca);
    free(other_key);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        NAMED_TEST("tls-1.1 two cluster certificates shake hands; bytes cross encrypted", test_roundtrip),
        NAMED_TEST("tls-1.2 a certificate from another CA is refused by the server", test_foreign_ca),
        NAMED_TEST("tls-1.3 an expired certificate is refused by the server", test_expired),
        NAMED_TEST("tls-1.4 a plain-text frame to a TLS server fails the handshake", test_plaintext_peer),
        NAMED_TEST("tls-1.5 a missing or wrong file is one line naming it", test_missing_file),
        NAMED_TEST("tls-1.6 tls_cert_good checks the signer and the expiry margin", test_cert_good),
    };
    return cmocka_run_group_tests_name("tls", tests, setup, teardown);
}
