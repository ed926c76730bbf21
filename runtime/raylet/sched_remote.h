/* sched_remote: scheduling across nodes.
 *
 * Where a ready normal task runs is decided when it joins the queue
 * (sched__enqueue asks sched_remote_take): DEFAULT keeps it here while this
 * node's CPU use (running plus queued) stays under half, else it goes to
 * the least-loaded feasible node with room (Ray's hybrid policy); SPREAD
 * goes round-robin over every feasible alive node; node affinity goes to
 * its node (hard: that node or an UNSCHEDULABLE error; soft: falls back).
 * A task this node cannot run at all goes to a feasible node.
 *
 * A forwarded task stays in this raylet's task table (QUEUED, in no class
 * queue) while the other raylet runs it for us: we are that raylet's
 * driver of the job (peer.h).  Its arguments travel inline when small, by
 * object id plus our address otherwise (the other raylet pulls them, see
 * objmgr.h).  Its result comes back as TaskResult; return values in the
 * other node's store are pulled here before the owner is told, so every
 * ray_get of a result is local.  When the other raylet goes away, the
 * task is retried (max_retries) or fails with NODE_DIED. */
#ifndef RAYC_RAYLET_SCHED_REMOTE_H
#define RAYC_RAYLET_SCHED_REMOTE_H

#include "raylet/sched.h"

/* Values of sched_task.remote. */
enum { SCHED_LOCAL = 0, SCHED_MUST_FORWARD = 1, SCHED_FORWARDED = 2 };

/* DEFAULT spills past this share of the node's CPUs in use. */
#define SCHED_REMOTE_SPILL_LOAD 0.5

/* Placement of T before its resources are parsed here.  Returns 1 when it
 * decided (*RC: RAY_OK, T marked SCHED_MUST_FORWARD; or an error with MSG),
 * 0 when the local checks apply. */
int sched_remote_place(raylet *r, sched_task *t, int *rc, char *msg, size_t msglen);

/* T (a normal task, dependencies ready) is about to join a class queue.
 * Returns 1 when it was forwarded to another node instead. */
int sched_remote_take(raylet *r, sched_task *t);

struct cview_node;
struct wpool_job;

/* Where actor creation T (dependencies ready, resources parsed) should
 * run: NULL for this node.  SPREAD and node affinity as for tasks;
 * DEFAULT stays here while the actor fits here now. */
struct cview_node *sched_remote_choose_actor(raylet *r, sched_task *t);

/* The least-loaded other alive node that could run S (one with room now
 * first), or NULL. */
struct cview_node *sched_remote_pick(raylet *r, const Rayc__TaskSpec *s);

/* Forwards T (creation or call of an actor, or a normal task) to node N
 * and tracks it like sched_remote_take does.  Returns 0, or -ECONNRESET /
 * -ENOMEM when it could not be sent (T is untouched then). */
int sched_remote_forward(raylet *r, sched_task *t, struct cview_node *n);

/* Sends SPEC (borrowed; arguments by reference are pulled from this node)
 * to node N for JOB, pinned there, without a task-table record: its
 * TaskResult arrives at actor_remote_on_result.  Returns 0 or an error. */
int sched_remote_send_spec(raylet *r, const Rayc__TaskSpec *spec, struct cview_node *n,
                           struct wpool_job *job);


/* SubmitTask from CL: arguments held by other nodes (TaskArg.holder, set
 * on forwarded tasks) get PENDING table records and pulls first, then the
 * task goes to sched_on_submit; the records are released again so that
 * they live exactly as long as the task uses them. */
void sched_remote_on_submit(raylet_client *cl, Rayc__SubmitTask *m);

/* Opens / frees the forwarding state. */
int sched_remote_open(raylet *r);
void sched_remote_free(raylet *r);

#endif
