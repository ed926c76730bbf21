/* objmgr: the object manager, moving store objects between nodes.
 *
 * A raylet that needs an object held by another node pulls it: PullObject
 * requests of OBJMGR_CHUNK bytes (5 MiB) over a connection to the holder's
 * node-manager port, at most OBJMGR_WINDOW chunks per object and
 * OBJMGR_MAX_INFLIGHT bytes over all pulls in flight.  Each chunk carries a
 * checksum of its bytes (objmgr_checksum) and must land exactly at the
 * offset asked for; the object's size comes with the first chunk.  The
 * bytes go straight into a new object of the local store, sealed once
 * complete, and the local object-table record (if any is still PENDING)
 * becomes READY.  Concurrent pulls of one object share one transfer.
 *
 * Chunks travel inside PullObjectReply frames (a copy more than sendfile,
 * but one framing for everything; the frame cap is 16 MiB). */
#ifndef RAYC_RAYLET_OBJMGR_H
#define RAYC_RAYLET_OBJMGR_H

#include <stddef.h>
#include <stdint.h>

#include "common/ids.h"
#include "raylet/raylet.h"

#define OBJMGR_CHUNK (5u * 1024u * 1024u)
/* The largest chunk a peer may ask for. */
#define OBJMGR_MAX_CHUNK (8u * 1024u * 1024u)
#define OBJMGR_WINDOW 4
#define OBJMGR_MAX_INFLIGHT (64u * 1024u * 1024u)

/* STATUS is RAY_OK when the object is now READY in the local table (or in
 * the local store when nobody here tracks it), else a ray_status with MSG. */
typedef void (*objmgr_cb)(raylet *r, const ids_object *id, int status, const char *msg,
                          void *data);

/* Opens / frees the object manager.  objmgr_close fails every pull
 * (teardown; callbacks are not called). */
int objmgr_open(raylet *r);
void objmgr_free(raylet *r);

/* Pulls object ID from the raylet at IP:PORT into the local store; CB runs
 * once at the end (from inside this call when the holder cannot be asked).
 * Returns 0, or -ENOMEM (CB not called). */
int objmgr_pull(raylet *r, const ids_object *id, const char *ip, int port, objmgr_cb cb,
                void *data);

/* Number of pulls in progress (tests, logs). */
size_t objmgr_pulls(raylet *r);

/* Serves a PullObject from the authenticated connection CL. */
void objmgr_on_pull(raylet_client *cl, uint64_t req_id, const Rayc__PullObject *m);

/* A 64-bit checksum of LEN bytes at P (not cryptographic; catches
 * truncation, misplacement and corruption). */
uint64_t objmgr_checksum(const void *p, size_t len);

#endif
