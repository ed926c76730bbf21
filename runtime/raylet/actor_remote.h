/* actor_remote: actors that live on another node, as this raylet sees them.
 *
 * An actor creation that should not run here (SPREAD, node affinity, or it
 * does not fit here while another node has room) is forwarded to the
 * chosen node like a task (sched_remote.h); this raylet keeps a record of
 * the actor (owner side: with a copy of its creation spec).  Calls to an
 * actor that is not in the local table go to the node that holds it:
 * known from the record, or looked up in the GCS KV, where every raylet
 * announces the actors it runs (namespace RACTOR_LOC_NS, key the actor id,
 * value the node id).  Calls are forwarded in submission order on one
 * connection, after the creation, so the other raylet queues them on the
 * actor as its own.
 *
 * When the actor's node dies (the connection breaks), the owner side
 * restarts the actor on another node while it has max_restarts left; calls
 * in flight re-run there while they have max_task_retries left, and fail
 * with RAY_ERR_ACTOR_DIED otherwise.  Other nodes' records look the actor
 * up again.  An actor whose constructor took arguments by reference
 * restarts only while those objects still exist here. */
#ifndef RAYC_RAYLET_ACTOR_REMOTE_H
#define RAYC_RAYLET_ACTOR_REMOTE_H

#include "common/ids.h"
#include "raylet/raylet.h"
#include "raylet/sched.h"

#define RACTOR_LOC_NS "actor_locations"
/* How often and how many times a record looks its actor up again. */
#define RACTOR_LOOKUP_RETRY_MS 1000
#define RACTOR_LOOKUP_TRIES 30
/* How long the record of a dead actor answers calls with its death reason. */
#define RACTOR_KEEP_DEAD_MS 60000

struct peer;
struct actor;

/* Actor creation T (dependencies registered) is about to be created here.
 * Returns 1 when it goes to another node instead (T is taken), 0 when it
 * stays here. */
int actor_remote_create(raylet *r, sched_task *t);

/* Actor call T names an actor that is not in the local table.  Returns 1
 * when T was taken (queued for the actor's node, or failed). */
int actor_remote_call(raylet *r, sched_task *t);

/* T (creation or call, T->ractor set) has its arguments now. */
void actor_remote_ready(raylet *r, sched_task *t);

/* The forwarded creation of T's actor finished with STATUS (MSG). */
void actor_remote_created(raylet *r, sched_task *t, int status, const char *msg);

/* T (forwarded to NODE) was lost with its connection (REASON). */
void actor_remote_lost(raylet *r, sched_task *t, const char *node, const char *reason);

/* Connection P closed: actors on its node restart elsewhere or die. */
void actor_remote_peer_closed(raylet *r, struct peer *p, const char *reason);

/* A TaskResult for task ID that no task-table record waits for: the
 * creation of a restarted actor.  Returns 1 when it was one. */
int actor_remote_on_result(raylet *r, const ids_task *id, const Rayc__TaskResult *res);

/* T is being freed: off its actor's queue. */
void actor_remote_unlink(raylet *r, sched_task *t);

/* KillActor for an actor that is not local.  Returns 1 when it was
 * forwarded to the actor's node (the reply is relayed to CL), or will be
 * once the GCS says where it runs (an actor this raylet never called, or
 * last called for a job that has ended); 0 when it is unknown or dead
 * here (CL is answered by the caller). */
int actor_remote_kill(raylet_client *cl, uint64_t req_id, const Rayc__KillActor *m);

/* This node's actor A became alive / died for good: its location in the
 * GCS KV is written / removed. */
void actor_remote_announce(raylet *r, const struct actor *a);
void actor_remote_withdraw(raylet *r, const struct actor *a);

/* The records of JOB go (the job ended here). */
void actor_remote_job_gone(raylet *r, struct wpool_job *job);

/* Stops the lookup timer (teardown); actor_remote_free frees every record
 * after the loop. */
void actor_remote_close(raylet *r);
void actor_remote_free(raylet *r);

#endif
