/* A blocking framed-protobuf client for command-line tools and benchmarks.
 *
 * Daemons use rpc.h on their libuv loop instead; this one uses plain sockets
 * with poll() timeouts so that no call can hang. */
#ifndef RAYC_COMMON_RPC_CLIENT_H
#define RAYC_COMMON_RPC_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "ray.pb-c.h"

typedef struct rpc_client rpc_client;

/* Connects to HOST:PORT within TIMEOUT_MS, sends Hello {TOKEN, KIND} and waits
 * for HelloReply.  On success stores the client in *OUT and returns 0.
 * With TLS on (tls.h) the TLS handshake runs first; it fails with -EPROTO
 * (ERR says "TLS handshake failed: ..."), or -EINVAL when the TLS files could
 * not be loaded.
 * Errors: -ECONNREFUSED / -ETIMEDOUT / -EHOSTUNREACH (nothing there),
 * -EACCES (token refused), -EPROTO; ERR (may be NULL) gets one line. */
int rpc_client_connect(const char *host, int port, const char *token, const char *kind,
                       int timeout_ms, rpc_client **out, char *err, size_t errlen);

/* Sends REQ (its request_id is assigned here) and waits up to TIMEOUT_MS for
 * the reply with the same id, skipping unsolicited pushes.  On success *REPLY
 * is the reply (free with rayc__envelope__free_unpacked) and 0 is returned.
 * An Error reply returns -EREMOTEIO with its message in ERR. */
int rpc_client_call(rpc_client *c, Rayc__Envelope *req, int timeout_ms,
                    Rayc__Envelope **reply, char *err, size_t errlen);

/* Sends ENV without waiting.  Returns 0 or -errno. */
int rpc_client_send(rpc_client *c, const Rayc__Envelope *env);

/* Waits up to TIMEOUT_MS for the next message of any kind.
 * Returns 0 with *MSG set, -ETIMEDOUT, or -errno when the connection failed. */
int rpc_client_recv(rpc_client *c, int timeout_ms, Rayc__Envelope **msg);

/* The session name the GCS sent in HelloReply ("" for other servers). */
const char *rpc_client_session(const rpc_client *c);

/* The socket, for address lookups.  With TLS on, bytes may wait decrypted
 * inside C, so polling it does not say whether a message is ready. */
int rpc_client_fd(const rpc_client *c);

/* Closes the connection and frees C (NULL is fine). */
void rpc_client_close(rpc_client *c);

#endif
