/* Task and actor events of this node: state changes with Ray's state names
 * and a wall-clock time, kept in a bounded buffer that counts what it drops
 * and sent to the GCS in batches once a second (AddTaskEvents).
 *
 * Environment (Ray's system-config names, so `ray start --system-config`
 * sets them): RAY_task_events_report_interval_ms (1000; 0 turns recording
 * off), RAY_task_events_max_buffer_size (100000 events). */
#ifndef RAYC_RAYLET_TEV_H
#define RAYC_RAYLET_TEV_H

#include "raylet/raylet.h"

struct sched_task;
struct actor;

/* Task states (Ray's TaskStatus names, in the order a task goes through). */
enum tev_task_state {
    TEV_PENDING_ARGS_AVAIL = 1,
    TEV_PENDING_NODE_ASSIGNMENT,
    TEV_SUBMITTED_TO_WORKER,
    TEV_RUNNING,
    TEV_FINISHED,
    TEV_FAILED,
};

/* Actor states (Ray's ActorState names). */
enum tev_actor_state {
    TEV_DEPENDENCIES_UNREADY = 1,
    TEV_PENDING_CREATION,
    TEV_ALIVE,
    TEV_RESTARTING,
    TEV_DEAD,
};

/* Starts the buffer and its 1 s flush timer.  Returns 0 or -ENOMEM. */
int tev_open(raylet *r);

/* Sends what is buffered (when the GCS is there) and closes the timer. */
void tev_close(raylet *r);

/* Frees the buffer (after the loop ended). */
void tev_free(raylet *r);

/* Records that T's current attempt entered STATE (tev_task_state).  For
 * FAILED, STATUS (ray_status) and ERROR say why.  States without text join
 * the attempt's record while it is still buffered (T remembers it in
 * tev_seq).  Never fails: a full buffer or no memory drops the event and
 * counts it. */
void tev_task(raylet *r, struct sched_task *t, int state, int status, const char *error);

/* Records that actor A entered STATE (tev_actor_state); CAUSE is the death
 * cause for DEAD (NULL otherwise).  Never fails, like tev_task. */
void tev_actor(raylet *r, const struct actor *a, int state, const char *cause);

/* Records a state change of an actor of another node that this raylet
 * owns (it restarts the actor elsewhere when that node dies): ACTOR_ID,
 * its creation SPEC (may be NULL), STATE, NUM_RESTARTS and CAUSE (DEAD).
 * The event carries no node (the actor's node is known from its own
 * events).  Never fails, like tev_task. */
void tev_actor_remote(raylet *r, const uint8_t *actor_id, const Rayc__TaskSpec *spec, int state,
                      int num_restarts, const char *cause);

/* Takes the events of tasks a worker ran straight from their owners (the
 * raylet never saw them) from worker client CL: they are buffered with this
 * node and that worker.  Anything but a registered worker is ignored. */
void tev_from_worker(raylet_client *cl, const Rayc__AddTaskEvents *m);

/* Ray's error type for a ray_status ("TASK_EXECUTION_EXCEPTION", ...). */
const char *tev_error_type(int status);

#endif
