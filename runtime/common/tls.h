/* TLS 1.3 for the TCP connections between rayc processes (OpenSSL).
 *
 * One process-wide configuration, read from Ray's variables: RAY_USE_TLS=1
 * turns it on, RAY_TLS_SERVER_CERT / RAY_TLS_SERVER_KEY name this process's
 * certificate and key, RAY_TLS_CA_CERT the cluster CA.  Both ends present a
 * certificate and both check that the cluster CA signed it; host names are
 * not checked (every holder of a cluster certificate is a cluster member).
 * A tls_sess runs the protocol on memory buffers, so the same code serves
 * libuv streams (rpc.c) and blocking sockets (rpc_client.c): ciphertext from
 * the socket goes in with tls_sess_feed, ciphertext to send comes out of
 * tls_sess_take_out.  Unix sockets stay plain; callers decide. */
#ifndef RAYC_COMMON_TLS_H
#define RAYC_COMMON_TLS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Reads Ray's variables once per process and, when RAY_USE_TLS is on, loads
 * the certificate, key and CA.  Later calls return the first result.
 * Returns 0 (TLS off, or on and loaded) or a negative code (-EINVAL: a
 * variable is missing, -ENOENT/-EACCES: a file cannot be read, -EPROTO:
 * OpenSSL refused a file); ERR (may be NULL) then gets one line naming the
 * variable and the file. */
int tls_init_from_env(char *err, size_t errlen);

/* 1 when TLS is on and loaded, 0 when off, a negative code from
 * tls_init_from_env when it is on but could not be loaded (callers must
 * then refuse to connect rather than fall back to plain text).  Initialises
 * on first use. */
int tls_state(void);

/* The one-line reason tls_init_from_env failed ("" when it did not). */
const char *tls_init_error(void);

/* True when RAY_USE_TLS asks for TLS ("1", "true", "yes"; any case). */
int tls_env_on(void);

typedef struct tls_ctx tls_ctx;
typedef struct tls_sess tls_sess;

/* Loads a context from the PEM files CERT, KEY and CA with the same rules
 * as the process configuration (for tests and tools that hold several).
 * Returns 0 with *OUT set (free with tls_ctx_free) or tls_init_from_env's
 * codes with one line in ERR. */
int tls_ctx_load(const char *cert, const char *key, const char *ca, tls_ctx **out, char *err,
                 size_t errlen);
void tls_ctx_free(tls_ctx *ctx);

/* A new session for one connection under the process configuration:
 * IS_SERVER for the accepting side.  Returns NULL when TLS is not loaded
 * or memory runs out. */
tls_sess *tls_sess_new(int is_server);

/* The same under CTX (NULL: the process configuration). */
tls_sess *tls_sess_new_ctx(tls_ctx *ctx, int is_server);

/* Frees S (NULL is fine). */
void tls_sess_free(tls_sess *s);

/* Hands LEN bytes read from the socket to S.  Returns 0 or -ENOMEM. */
int tls_sess_feed(tls_sess *s, const uint8_t *buf, size_t len);

/* Advances the handshake.  Returns 1 once it is complete, 0 when it needs
 * more bytes from the peer, or -EPROTO on failure (tls_sess_error says why,
 * e.g. "certificate verify failed: certificate has expired").  Whatever it
 * returns, send what tls_sess_take_out gives (an alert tells the peer). */
int tls_sess_handshake(tls_sess *s);

/* Decrypts up to LEN bytes into BUF.  Returns the count, 0 when more
 * ciphertext is needed, -ECONNRESET when the peer ended the session, or
 * -EPROTO (tls_sess_error says why). */
ssize_t tls_sess_read(tls_sess *s, uint8_t *buf, size_t len);

/* Encrypts all LEN bytes of BUF (the handshake must be complete); the
 * ciphertext waits in S for tls_sess_take_out.  Returns 0 or -EPROTO. */
int tls_sess_write(tls_sess *s, const uint8_t *buf, size_t len);

/* Moves the ciphertext waiting to be sent into a new buffer (*OUT, caller
 * frees).  Returns its length, 0 when there is none (*OUT is NULL), or
 * -ENOMEM. */
ssize_t tls_sess_take_out(tls_sess *s, uint8_t **out);

/* The reason of the last failure of S, valid until the next call on S. */
const char *tls_sess_error(const tls_sess *s);

#endif
