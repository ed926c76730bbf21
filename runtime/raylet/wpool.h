/* Jobs and their worker processes.
 *
 * A job registers when its driver connects (RegisterDriver: working_dir,
 * code search path, env vars); the pool then prestarts one worker per CPU.
 * Workers run with the job's working_dir as cwd and its env vars, connect
 * back and register (RegisterWorker); idle ones are reused for the job's
 * tasks and stopped after an idle timeout (down to the prestarted number).
 * A worker may become an actor's for good.  When the driver leaves, the
 * job ends: its queued tasks fail, its workers and non-detached actors are
 * stopped, its objects freed.  A worker's death is noticed from its process
 * exit and from its socket, whichever comes first. */
#ifndef RAYC_RAYLET_WPOOL_H
#define RAYC_RAYLET_WPOOL_H

#include <stdint.h>
#include <uv.h>

#include "common/ids.h"
#include "raylet/raylet.h"

/* Seconds an idle worker above the prestarted number lives. */
#define WPOOL_IDLE_TIMEOUT_MS 10000
/* A worker that has not registered by then is killed. */
#define WPOOL_REGISTER_TIMEOUT_MS 30000
/* After asking a worker to exit, how long before SIGKILL. */
#define WPOOL_EXIT_GRACE_MS 1000
/* Most workers starting at once on a node. */
#define WPOOL_MAX_STARTING 64
/* Most workers of one job that run normal tasks. */
#define WPOOL_MAX_TASK_WORKERS 256

enum wpool_state {
    WPOOL_STARTING = 0,    /* spawned, not registered yet */
    WPOOL_IDLE,            /* registered, no task */
    WPOOL_BUSY,            /* running a normal task */
    WPOOL_ACTOR,           /* dedicated to an actor */
    WPOOL_LEASED,          /* lent to an owner, which sends it tasks directly */
    WPOOL_DEAD,            /* exited or being killed */
};

struct sched_task;
struct actor;

typedef struct wpool_job {
    ids_job id;
    char hex[2 * IDS_JOB_LEN + 1];
    raylet_client *driver;         /* NULL once the driver left */
    char *cwd;                     /* the driver's working_dir (maybe not on this node) */
    int cwd_elsewhere;             /* cwd is not here: workers start in the node dir */
    char *code_path;               /* ':'-joined code search path */
    char *python;                  /* a Python job's interpreter: its workers run
                                    * `python -m ray._private.worker`; NULL: ray_worker */
    char **env;                    /* "KEY=VALUE" for workers */
    size_t nenv;
    char *ns;
    int owns_job;                  /* mark it finished at the GCS when it ends */
    int ended;
    size_t nworkers;               /* alive workers (not DEAD) */
    size_t nstarting;              /* STARTING ones not reserved for an actor */
    size_t ntask_workers;          /* alive workers not dedicated to actors */
    size_t nprestart;
    size_t nstopping;              /* task workers being stopped */
    size_t ndrivers;               /* connected drivers of the job (processes) */
    size_t npeers;                 /* other raylets connected as its drivers */
    int had_driver;                /* a driver process connected here */
    unsigned refs;                 /* clients, tasks, workers, actors pointing here */
    size_t nactor_workers;         /* alive workers running actors */
    struct wpool_worker *idle;     /* IDLE workers, most recent first */
    struct wpool_job *next;
} wpool_job;

typedef struct wpool_worker {
    raylet *r;
    ids_worker id;
    char hex[2 * IDS_WORKER_LEN + 1];
    wpool_job *job;
    uv_process_t proc;
    int pid;
    int proc_running;              /* the exit callback has not run */
    int proc_closed;               /* the process handle is closed */
    raylet_client *client;         /* after RegisterWorker; referenced */
    int state;                     /* wpool_state */
    struct sched_task *task;       /* BUSY */
    struct actor *actor;           /* ACTOR, or STARTING for an actor */
    int64_t started_ms, idle_since_ms;
    int64_t kill_at_ms;            /* SIGKILL when still alive then (0: none) */
    char death[256];               /* why it died, for errors */
    int orphan;                    /* spawn failed: only the handle is left */
    int lost;                      /* its death has been handled */
    int task_worker;               /* counted in job->ntask_workers */
    raylet_client *lease_owner;    /* LEASED: referenced */
    struct sched_res *lease_req;   /* LEASED: the resources it holds (owned) */
    int lease_blocked;             /* LEASED: its task gave the CPU back */
    int stopping;                  /* wpool_worker_kill was called */
    int64_t log_sent;              /* bytes of its log sent to a remote driver (wlog.c) */
    struct wpool_worker *prev, *next;       /* all workers */
    struct wpool_worker *idle_next;
} wpool_worker;

/* Opens the pool: finds bin/ray_worker next to the raylet.  Returns 0 or a
 * negative error with ERR set. */
int wpool_open(raylet *r, char *err, size_t errlen);

/* Calls FN for every worker record (alive, starting or being reaped); FN
 * must not add or free any. */
void wpool_foreach_worker(raylet *r, void (*fn)(wpool_worker *w, void *arg), void *arg);

/* Kills every worker and closes the pool's handles (teardown). */
void wpool_close(raylet *r);
void wpool_free(raylet *r);

/* Client requests. */
void wpool_on_register_driver(raylet_client *cl, uint64_t req_id, const Rayc__RegisterDriver *m);
void wpool_on_register_worker(raylet_client *cl, uint64_t req_id, const Rayc__RegisterWorker *m);

/* The client of a driver or worker closed. */
void wpool_driver_gone(raylet *r, raylet_client *cl);
void wpool_worker_conn_gone(raylet *r, wpool_worker *w);

/* An idle worker of JOB for a normal task, or NULL (then more may have been
 * started: WANT is how many tasks are waiting). */
wpool_worker *wpool_take_idle(raylet *r, wpool_job *job);
void wpool_want(raylet *r, wpool_job *job, size_t want);

/* A worker for actor A: an idle one of its job, else a new one that calls
 * actor_worker_ready when it registers.  Returns the worker (maybe still
 * STARTING) or NULL on a spawn failure with ERR set. */
wpool_worker *wpool_worker_for_actor(raylet *r, wpool_job *job, struct actor *a, char *err,
                                     size_t errlen);

/* W finished its normal task: idle again (or handed the next task). */
void wpool_worker_idle(raylet *r, wpool_worker *w);

/* Stops W: closes its connection, SIGKILL at once (FORCE) or after the
 * grace period.  Its death is handled as usual. */
void wpool_worker_kill(raylet *r, wpool_worker *w, int force, const char *why);

/* ---------------------------------------------------------------- leases (wpool_lease.c)
 *
 * A task submitted with want_lease leaves its worker lent to its owner
 * once it succeeds: the worker keeps the task's resources and takes the
 * owner's next tasks of that shape straight from it (two hops instead of
 * four), until it has been idle for a moment and says LeaseEnded. */

struct sched_task;

/* Lends W (which just ran T successfully) to T's owner when T asked and
 * the owner may have one more lease.  Returns 1 when lent (T's resources
 * now belong to the lease), 0 otherwise. */
int wpool_lease_grant(raylet *r, struct sched_task *t, wpool_worker *w);

/* LeaseEnded from the worker of CL. */
void wpool_lease_on_ended(raylet_client *cl, const Rayc__LeaseEnded *m);

/* Removes the socket W's lease owners connect to (W is gone). */
void wpool_lease_unlink(raylet *r, const wpool_worker *w);

/* W (LEASED) died or is being stopped: its resources come back. */
void wpool_lease_release(raylet *r, wpool_worker *w);

/* WorkerBlocked from a LEASED worker.  Returns 1 when W is leased. */
int wpool_lease_blocked(raylet *r, wpool_worker *w, int blocked);

/* CancelTask with force for a task on a worker leased to CL: kills it.
 * Returns 1 when M named such a worker. */
int wpool_lease_cancel(raylet_client *cl, const Rayc__CancelTask *m);

/* Finds a job by id. */
wpool_job *wpool_job_find(raylet *r, const ids_job *id);

/* True while JOB may run tasks: its driver is connected, or (after it
 * left) detached actors of the job live on and submit work. */
int wpool_job_active(const wpool_job *job);

/* References to a job record: an ended job is freed at the last unref
 * (from the pool's tick).  NULL is fine. */
void wpool_job_ref(wpool_job *job);
void wpool_job_unref(wpool_job *job);

/* Counts for logs, reports and tests. */
size_t wpool_count(raylet *r);

#endif
