/* The raylet's scheduler: tasks from submission to result.
 *
 * A submitted task first waits for its object arguments (dependencies);
 * then a normal task waits in the queue of its scheduling class (job and
 * resource shape) until the node has its resources and the job has an idle
 * worker, and runs there; an actor task waits in its actor's queue (actor.h).
 * The worker's TaskDone records the return values in the object table and
 * the result is pushed to the owner at once.  A worker that dies mid-task
 * makes the task run again (max_retries) or fail with WORKER_CRASHED. */
#ifndef RAYC_RAYLET_SCHED_H
#define RAYC_RAYLET_SCHED_H

#include <stdint.h>

#include "common/htab.h"
#include "common/ids.h"
#include "raylet/raylet.h"

/* ---------------------------------------------------------------- resources (sched_res.c) */

#define SCHED_RES_MAX 16
#define SCHED_MAX_GPUS 64

/* A resource request: quantities of the node's resources by their index in
 * raylet.total (stable: the node's resources never change). */
typedef struct sched_res {
    uint8_t n;
    uint16_t idx[SCHED_RES_MAX];
    double qty[SCHED_RES_MAX];
    double cpu, gpu;               /* shortcuts */
} sched_res;

/* Parses the resources of SPEC into OUT.  Returns 0, or -ENOENT / -E2BIG
 * (a resource the node lacks or has too little of: infeasible here) with a
 * message in ERR. */
int sched_res_parse(raylet *r, const Rayc__Resource *const *res, size_t n, sched_res *out,
                    char *err, size_t errlen);

/* True when the node's available resources cover Q. */
int sched_res_fits(raylet *r, const sched_res *q);

/* Takes or gives back Q (available may go negative while a blocked worker
 * takes its CPU back). */
void sched_res_acquire(raylet *r, const sched_res *q);
void sched_res_release(raylet *r, const sched_res *q);

/* Whole GPUs (or a share of one) for Q: IDS gets the GPU indexes.
 * Returns how many ids were stored. */
int sched_gpu_take(raylet *r, const sched_res *q, int32_t *ids, int max);
void sched_gpu_give(raylet *r, const sched_res *q, const int32_t *ids, int n);

/* Equal shapes (same indexes and quantities). */
int sched_res_equal(const sched_res *a, const sched_res *b);

/* ---------------------------------------------------------------- tasks */

enum sched_state {
    SCHED_WAITING = 0,      /* for dependencies */
    SCHED_QUEUED,           /* in its class queue (or its actor's queue) */
    SCHED_RUNNING,          /* sent to a worker */
    SCHED_FINISHED,
};

struct wpool_worker;
struct wpool_job;
struct actor;
struct sched_class;

typedef struct sched_task {
    Rayc__TaskSpec *spec;          /* owned (taken from the SubmitTask message) */
    ids_task id;
    raylet_client *owner;          /* referenced */
    struct wpool_job *job;
    struct actor *actor;           /* actor creation and actor tasks */
    int state;
    uint32_t deps_left;            /* arguments still PENDING */
    struct otable_obj **deps;      /* every by-reference argument (used) */
    uint32_t ndeps;
    uint32_t npinned;              /* deps resolved for the last send (store ones pinned) */
    uint32_t nreturns_used;        /* return objects this task holds a use on */
    int spec_registered;           /* in the task table */
    int results_sent;              /* the owner has the outcome */
    int in_actor_list;             /* 1: its actor's queue, 2: sent to the actor */
    sched_res req;
    int retries_left;              /* -1: unlimited */
    int attempt;
    int cancel;                    /* 1: cancelled; the result is CANCELLED */
    int blocked;                   /* its worker gave the CPU back */
    struct wpool_worker *worker;
    int32_t gpu_ids[SCHED_MAX_GPUS];
    int ngpus;
    int64_t queued_ms;
    struct sched_class *cls;
    int remote;                    /* sched_remote.h: SCHED_LOCAL, _MUST_FORWARD, _FORWARDED */
    int parked;                    /* no node can run it yet (sched_park.c) */
    int park_warned;               /* its owner was warned about it once */
    struct ractor *ractor;         /* an actor of another node (actor_remote.h) */
    uint64_t ractor_seq;           /* its call's place in that actor's order */
    int in_ractor_queue;
    int pg_removed;                /* its placement group was removed: its worker was
                                    * killed and its resources taken back already */
    uint64_t tev_seq;              /* its buffered task-event record (tev.c), 0: none */
    struct sched_task *prev, *next;    /* class queue or actor queue */
    htab_node link;                    /* in sched.tasks, by id */
} sched_task;

/* Opens the scheduler.  Returns 0 or -ENOMEM. */
int sched_open(raylet *r);

/* Fails every task and frees the scheduler (teardown). */
void sched_close(raylet *r);

/* SubmitTask from CL (a driver or worker of a job); takes M's spec. */
void sched_on_submit(raylet_client *cl, Rayc__SubmitTask *m);

/* TaskDone from the worker of CL. */
void sched_on_done(raylet_client *cl, const Rayc__TaskDone *m);

/* CancelTask from CL. */
void sched_on_cancel(raylet_client *cl, const Rayc__CancelTask *m);

/* WorkerBlocked from the worker of CL. */
void sched_on_blocked(raylet_client *cl, const Rayc__WorkerBlocked *m);

/* Object O left PENDING: its waiting task T may be ready now. */
void sched_dep_done(raylet *r, sched_task *t, struct otable_obj *o);

/* Runs queued tasks that fit now.  Cheap when nothing changed; called after
 * every event that frees resources or workers. */
void sched_dispatch(raylet *r);

/* Worker W died while running T (a normal task): retry or fail. */
void sched_worker_died(raylet *r, sched_task *t, const char *why);

/* Ends T with STATUS and MSG: the returns fail, the owner is told, T is freed. */
void sched_fail(raylet *r, sched_task *t, int status, const char *msg);

/* Sends T to worker W (resources and GPUs already assigned); T is RUNNING.
 * Returns 0, or a ray_status when its arguments cannot be resolved (T has
 * been failed then). */
int sched_send(raylet *r, sched_task *t, struct wpool_worker *w);

/* Records T's returns (from a successful TaskDone DONE), pushes the result
 * to the owner and frees T. */
void sched_complete(raylet *r, sched_task *t, const Rayc__TaskDone *done);

/* Removes T from the task table and frees it (its deps are unused). */
void sched_task_free(raylet *r, sched_task *t);

/* Finds a live task by id. */
sched_task *sched_find(raylet *r, const ids_task *id);

/* Placement group G was removed (REASON says so, "its placement group ...
 * was removed"): its waiting and queued normal tasks here fail, running ones
 * have their worker killed and fail with WORKER_CRASHED (no retry); their
 * resources are back at once.  Forwarded tasks are left to their node. */
void sched_group_removed(raylet *r, const ids_pg *g, const char *reason);

/* Fails every waiting or queued task of JOB (its driver left). */
void sched_job_gone(raylet *r, struct wpool_job *job);

/* Fills DEMANDS with the shapes of queued tasks that do not fit now, for
 * the resource report.  Returns 0 or -ENOMEM; free with sched_demands_clear. */
int sched_demands(raylet *r, Rayc__ResourceDemand ***demands, size_t *n);
void sched_demands_clear(Rayc__ResourceDemand **demands, size_t n);

/* ---------------------------------------------------------------- infeasible tasks (sched_park.c) */

/* T (a normal task or an actor creation, dependencies registered) fits no
 * node of the cluster as far as this raylet knows (WHY says what it asks
 * for).  Like Ray, it is not failed: it waits, listed under the demands of
 * the resource report (`ray status`), and its owner is warned once.  It is
 * placed again whenever the cluster view changes (a node joins). */
void sched_park(raylet *r, sched_task *t, const char *why);

/* The cluster view changed: parked tasks that fit some node now move on. */
void sched_park_retry(raylet *r);

/* Takes T off the parked list (sched_task_free). */
void sched_park_unlink(raylet *r, sched_task *t);

/* Appends the resource shapes of parked tasks to the demand report D (N
 * entries, capacity CAP, allocated by the caller). */
size_t sched_park_demands(raylet *r, Rayc__ResourceDemand **d, size_t n, size_t cap);

/* Number of parked tasks. */
size_t sched_park_count(raylet *r);

/* Counts for logs and tests. */
size_t sched_count(raylet *r);

/* Adds the live tasks handled here (not forwarded) to N[state] for the
 * states WAITING, QUEUED, RUNNING and FINISHED (N has 4 entries). */
void sched_count_by_state(raylet *r, uint64_t n[4]);

/* Normal tasks queued for resources or workers (not waiting for
 * arguments): a worker is lent out only when none wait. */
size_t sched_queued(raylet *r);

#endif
