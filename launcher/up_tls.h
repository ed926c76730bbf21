/* The cluster CA and the node certificates `ray up` installs (TLS on by
 * default; `tls: false` in the YAML turns it off).
 *
 * The CA is made on the first `ray up` of a cluster and kept, mode 0600, in
 * ~/.ray/launcher/NAME/tls/ (ca.crt, ca.key); each node's certificate and
 * key are kept there too (IP.crt, IP.key) and issued again when missing,
 * not signed by the CA, or expiring within UP_TLS_RENEW_DAYS.  On the node
 * they go to provider.tls_dir (default ~/.ray/tls: node.key, node.crt,
 * ca.crt), mode 0600, named by Ray's RAY_TLS_* variables in every command
 * the launcher runs there (lctx_command). */
#ifndef RAYC_LAUNCHER_UP_TLS_H
#define RAYC_LAUNCHER_UP_TLS_H

#include <stddef.h>

#define UP_TLS_CA_DAYS 3650
#define UP_TLS_CERT_DAYS 825
#define UP_TLS_RENEW_DAYS 30

typedef struct up_tls {
    char dir[4096];     /* ~/.ray/launcher/NAME/tls */
    char *ca_cert;      /* PEM */
    char *ca_key;       /* PEM */
} up_tls;

/* Loads the CA of cluster NAME, making it on first use.  Returns 0, or a
 * negative code with one line in ERR; T is then empty. */
int up_tls_prepare(up_tls *t, const char *name, char *err, size_t errlen);

/* The certificate and key (new PEM strings, caller frees) for the node at
 * IP, reused or issued as the header says.  Safe to call from several
 * threads for different IPs.  Returns 0 or a negative code with ERR set. */
int up_tls_node(const up_tls *t, const char *ip, char **cert, char **key, char *err,
                size_t errlen);

/* Frees what up_tls_prepare loaded (an empty T is fine). */
void up_tls_free(up_tls *t);

/* The local path of the cluster CA certificate of cluster NAME (it may
 * not exist).  Returns 0 or -ENAMETOOLONG. */
int up_tls_ca_path(const char *name, char *out, size_t outlen);

#endif
