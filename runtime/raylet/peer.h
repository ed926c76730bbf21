/* peer: outgoing connections from this raylet to another raylet's
 * node-manager TCP port.
 *
 * A connection opens with Hello{token, "raylet", our node id}; a peer made
 * for a job then registers as that job's driver (RegisterDriver with the
 * job's working_dir, code search path, env and namespace), so the other
 * raylet runs forwarded tasks exactly as its own drivers' and pushes their
 * TaskResult back here.  Messages sent before the handshake ends are
 * queued (at most PEER_MAX_QUEUED).  Requests get their reply through a
 * callback; unsolicited pushes go to raylet_cluster's push handler. */
#ifndef RAYC_RAYLET_PEER_H
#define RAYC_RAYLET_PEER_H

#include <stdint.h>

#include "common/ids.h"
#include "raylet/raylet.h"

#define PEER_MAX_QUEUED 100000

struct wpool_job;
typedef struct peer peer;

/* REPLY is NULL when the connection closed first; it is freed after the
 * call. */
typedef void (*peer_reply_cb)(raylet *r, peer *p, Rayc__Envelope *reply, void *data);
/* An unsolicited message (request id 0) from the other raylet. */
typedef void (*peer_push_cb)(raylet *r, peer *p, Rayc__Envelope *msg);

enum peer_state { PEER_CONNECTING, PEER_HELLO, PEER_REGISTERING, PEER_READY, PEER_CLOSED };

struct peer_call;
struct peer_msg;

struct peer {
    raylet *r;
    char ip[64];
    int port;
    int has_job;
    ids_job job;
    int state;
    int closed_here;               /* peer_close: this raylet ended it */
    int closed_in_hello;           /* it answered TCP but closed before HelloReply */
    rpc_conn *conn;
    uint64_t next_id, hello_id, register_id;
    struct peer_call *calls;
    struct peer_msg *queue, *queue_tail;
    size_t nqueued;
    peer_push_cb on_push;
    void *data;                    /* the owner module's */
    struct peer *next;
};

/* The connection to IP:PORT (for JOB's tasks when JOB is not NULL),
 * opened now when there is none.  Returns NULL when out of memory or the
 * connection could not even start (logged). */
peer *peer_get(raylet *r, const char *ip, int port, struct wpool_job *job);

/* Closes the connections made for JOB's tasks (the job ended here, so the
 * other raylets end it too). */
void peer_close_job(raylet *r, const ids_job *job, const char *why);

/* Sends ENV (borrowed) now or after the handshake.  Returns 0 or a
 * negative error (closed, queue full, too big). */
int peer_send(peer *p, Rayc__Envelope *env);

/* Sends request ENV and calls CB with its reply.  On failure CB is called
 * from here with NULL. */
void peer_call(peer *p, Rayc__Envelope *env, peer_reply_cb cb, void *data);

/* Closes P (its calls get NULL); raylet_cluster_peer_closed follows. */
void peer_close(peer *p, const char *why);

/* Closes every peer (teardown). */
void peer_close_all(raylet *r);

#endif
