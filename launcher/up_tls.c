/* The cluster CA and the node certificates `ray up` installs. */
#include "launcher/up_tls.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/net.h"
#include "common/tls_issue.h"
#include "common/util.h"
#include "launcher/lstate.h"

#define PEM_MAX (64 * 1024)

static int tls_dir(const char *name, char *out, size_t outlen)
{
    char dir[4096];
    int rc = lstate_dir(dir, sizeof dir);
    if (rc != 0)
        return rc;
    int n = snprintf(out, outlen, "%s/launcher/%s/tls", dir, name);
    return n > 0 && (size_t)n < outlen ? 0 : -ENAMETOOLONG;
}

int up_tls_ca_path(const char *name, char *out, size_t outlen)
{
    char dir[4096];
    int rc = tls_dir(name, dir, sizeof dir);
    if (rc != 0)
        return rc;
    int n = snprintf(out, outlen, "%s/ca.crt", dir);
    return n > 0 && (size_t)n < outlen ? 0 : -ENAMETOOLONG;
}

/* Reads DIR/BASE.crt and DIR/BASE.key; -ENOENT when either is missing. */
static int read_pair(const char *dir, const char *base, char **cert, char **key)
{
    char path[4200];
    *cert = *key = NULL;
    int rc = fs_path_join_ext(path, sizeof path, dir, base, ".crt");
    if (rc == 0)
        rc = fs_read_file(path, PEM_MAX, cert, NULL);
    if (rc == 0 && (rc = fs_path_join_ext(path, sizeof path, dir, base, ".key")) == 0)
        rc = fs_read_file(path, PEM_MAX, key, NULL);
    if (rc != 0) {
        free(*cert);
        *cert = NULL;
    }
    return rc;
}

/* Writes DIR/BASE.key then DIR/BASE.crt, mode 0600. */
static int write_pair(const char *dir, const char *base, const char *cert, const char *key,
                      char *err, size_t errlen)
{
    char path[4200];
    int rc = fs_path_join_ext(path, sizeof path, dir, base, ".key");
    if (rc == 0)
        rc = fs_write_file(path, key, strlen(key), 0600);
    if (rc == 0 && (rc = fs_path_join_ext(path, sizeof path, dir, base, ".crt")) == 0) {
        rc = fs_write_file(path, cert, strlen(cert), 0600);
    }
    if (rc != 0)
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(-rc));
    return rc;
}

int up_tls_prepare(up_tls *t, const char *name, char *err, size_t errlen)
{
    memset(t, 0, sizeof *t);
    int rc = tls_dir(name, t->dir, sizeof t->dir);
    if (rc == 0 && (rc = fs_private_dir(t->dir)) != 0)
        snprintf(err, errlen, "cannot create %s: %s", t->dir, strerror(-rc));
    if (rc != 0)
        return rc;
    rc = read_pair(t->dir, "ca", &t->ca_cert, &t->ca_key);
    if (rc == -ENOENT) {
        char cn[256];
        snprintf(cn, sizeof cn, "rayc cluster %.200s CA", name);
        rc = tls_make_ca(cn, UP_TLS_CA_DAYS, &t->ca_cert, &t->ca_key, err, errlen);
        if (rc == 0)
            rc = write_pair(t->dir, "ca", t->ca_cert, t->ca_key, err, errlen);
    } else if (rc != 0) {
        snprintf(err, errlen, "cannot read the cluster CA in %s: %s", t->dir, strerror(-rc));
    }
    if (rc != 0)
        up_tls_free(t);
    return rc;
}

int up_tls_node(const up_tls *t, const char *ip, char **cert, char **key, char *err,
                size_t errlen)
{
    if (read_pair(t->dir, ip, cert, key) == 0 &&
        tls_cert_good(*cert, t->ca_cert, (long)UP_TLS_RENEW_DAYS * 86400))
        return 0;
    free(*cert);
    free(*key);
    *cert = *key = NULL;
    /* The node's address, and loopback for clients on the node itself and
     * through `ray dashboard`'s tunnel (the HTTPS clients check names). */
    char addr[64];
    const char *ips[2] = {"127.0.0.1", addr};
    size_t nips = net_resolve_ipv4(ip, addr, sizeof addr) == 0 && strcmp(addr, "127.0.0.1") != 0 ? 2 : 1;
    int rc = tls_issue_cert(t->ca_cert, t->ca_key, ip, ips, nips, -300,
                            (long)UP_TLS_CERT_DAYS * 86400, cert, key, err, errlen);
    if (rc == 0)
        rc = write_pair(t->dir, ip, *cert, *key, err, errlen);
    if (rc != 0) {
        free(*cert);
        free(*key);
        *cert = *key = NULL;
    }
    return rc;
}

void up_tls_free(up_tls *t)
{
    free(t->ca_cert);
    free(t->ca_key);
    t->ca_cert = t->ca_key = NULL;
}
