/* Making a cluster CA and issuing node certificates (OpenSSL), as PEM text.
 *
 * `ray up` keeps the CA in the launcher's state and issues each node a
 * certificate for its addresses; tests use the same calls to make expired
 * or foreign certificates.  Keys are ECDSA P-256, signatures SHA-256.  All
 * PEM strings returned are NUL-terminated and the caller frees them. */
#ifndef RAYC_COMMON_TLS_ISSUE_H
#define RAYC_COMMON_TLS_ISSUE_H

#include <stddef.h>

/* Makes a self-signed CA named CN valid for DAYS from now.  On success
 * stores new PEM strings in *CERT and *KEY and returns 0; otherwise returns
 * -ENOMEM or -EPROTO with one line in ERR (may be NULL). */
int tls_make_ca(const char *cn, int days, char **cert, char **key, char *err, size_t errlen);

/* Issues a certificate named CN for the IPv4 addresses in IPS (NIPS of them)
 * and the name localhost (all in subjectAltName), signed by the CA in CA_CERT/CA_KEY, valid from
 * NOT_BEFORE_S to NOT_AFTER_S seconds relative to now (negative: the past).
 * Usable by both ends of a connection (serverAuth and clientAuth).  Returns
 * 0 with new PEM strings in *CERT and *KEY, -EINVAL for a bad CA or address,
 * or -ENOMEM / -EPROTO; ERR (may be NULL) gets one line. */
int tls_issue_cert(const char *ca_cert, const char *ca_key, const char *cn,
                   const char *const *ips, size_t nips, long not_before_s, long not_after_s,
                   char **cert, char **key, char *err, size_t errlen);

/* True when the PEM certificate CERT was signed by the PEM CA CA_CERT and
 * is still valid MARGIN_S seconds from now (a certificate that is not is
 * issued again).  0 for anything unreadable. */
int tls_cert_good(const char *cert, const char *ca_cert, long margin_s);

#endif
