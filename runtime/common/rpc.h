/* Framed protobuf connections on libuv streams (TCP or Unix sockets).
 *
 * An rpc_conn owns its stream handle.  Incoming frames are unpacked into
 * Rayc__Envelope messages and handed to the message callback; a malformed or
 * oversized frame closes the connection (the close callback says why).
 * Teardown is deferred: rpc_conn_close() stops everything at once, and the
 * memory is freed from the loop after libuv's close callback. */
#ifndef RAYC_COMMON_RPC_H
#define RAYC_COMMON_RPC_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "ray.pb-c.h"

typedef struct rpc_conn rpc_conn;

/* MSG is freed after the callback returns; copy what must outlive it. */
typedef void (*rpc_message_cb)(rpc_conn *c, Rayc__Envelope *msg);
/* Called exactly once when the connection closes; REASON is a short text
 * ("peer closed", "oversized frame", ...) valid during the call. */
typedef void (*rpc_close_cb)(rpc_conn *c, const char *reason);

/* Creates a connection over a new TCP handle (for accept or connect); it
 * speaks TLS when the process's TLS configuration is on (tls.h), or fails at
 * rpc_conn_start when that configuration could not be loaded.
 * Returns NULL on allocation failure. */
rpc_conn *rpc_conn_new_tcp(uv_loop_t *loop, size_t max_frame,
                           rpc_message_cb on_message, rpc_close_cb on_close);

/* Same over a Unix-domain socket handle. */
rpc_conn *rpc_conn_new_pipe(uv_loop_t *loop, size_t max_frame,
                            rpc_message_cb on_message, rpc_close_cb on_close);

/* The stream to pass to uv_accept / uv_tcp_connect / uv_pipe_connect. */
uv_stream_t *rpc_conn_stream(rpc_conn *c);

/* Starts delivering messages on an accepted connection (a pipe, or a TCP
 * connection of either side when TLS is off).  With TLS on (tls.h), a TCP
 * connection first runs the handshake as the server; frames sent meanwhile
 * wait for it, and a failed handshake closes C with a reason that starts
 * "TLS handshake failed: ".  Returns 0 or a negative libuv error. */
int rpc_conn_start(rpc_conn *c);

/* The same for the side that connected: with TLS on, it sends the first
 * handshake message now. */
int rpc_conn_start_connected(rpc_conn *c);

/* Queues ENV for sending.  Returns 0, or a negative error when the connection
 * is closing or the message is over the frame cap (nothing is sent). */
int rpc_conn_send(rpc_conn *c, const Rayc__Envelope *env);

/* Closes the connection (idempotent).  The close callback runs once, from
 * here or from the loop; C is freed later by the loop, never by the caller. */
void rpc_conn_close(rpc_conn *c, const char *reason);

/* True once rpc_conn_close has been called or the peer went away. */
int rpc_conn_closing(const rpc_conn *c);

/* Lowers the cap on frames read from C to MAX_FRAME (a server does this
 * until the peer authenticates); 0 restores the cap C was created with.
 * Takes effect from the next frame header, even within one read.  Frames
 * sent keep the creation cap. */
void rpc_conn_set_read_limit(rpc_conn *c, size_t max_frame);

/* Decodes C's messages (BODY_FIELD 0), or only those whose envelope body
 * is field BODY_FIELD (a RAYC__ENVELOPE__BODY_* value), into an arena reset
 * after each callback: far fewer mallocs.  Only for handlers that keep
 * nothing of such a message (no field taken over by setting it to NULL):
 * everything is freed at once. */
void rpc_conn_use_arena(rpc_conn *c, int body_field);

/* Caller-owned data pointer. */
void rpc_conn_set_data(rpc_conn *c, void *data);
void *rpc_conn_data(const rpc_conn *c);

/* True when bytes wait unread in C's socket (a server whose loop was busy
 * has not read a Hello that arrived in time).  False on any error. */
int rpc_conn_has_input(rpc_conn *c);

/* Peer address as "ip:port" ("unix" for pipes), valid for C's lifetime. */
const char *rpc_conn_peer(rpc_conn *c);

/* Sends an Error envelope with CODE and MESSAGE as a reply to REQUEST_ID. */
int rpc_conn_send_error(rpc_conn *c, uint64_t request_id, int code, const char *message);

/* Packs ENV with its frame header into a new buffer (*OUT, caller frees).
 * Returns 0, -EMSGSIZE over MAX_FRAME, or -ENOMEM. */
int rpc_pack(const Rayc__Envelope *env, size_t max_frame, uint8_t **out, size_t *out_len);

/* Error codes carried in Rayc__Error.code. */
enum {
    RPC_E_UNAUTHENTICATED = 16,
    RPC_E_INVALID = 3,
    RPC_E_NOT_FOUND = 5,
    RPC_E_ALREADY_EXISTS = 6,
    RPC_E_INTERNAL = 13,
    RPC_E_UNAVAILABLE = 14,
};

#endif
