/* Internals shared by the wpool_*.c files. */
#ifndef RAYC_RAYLET_WPOOL_INT_H
#define RAYC_RAYLET_WPOOL_INT_H

#include <limits.h>

#include "raylet/wpool.h"

#define WPOOL_TICK_MS 100
/* Worker processes started per tick at most: each uv_spawn waits for the
 * child's exec, so a burst of them (400 small Python tasks) held the loop
 * for seconds, and connections it had just opened missed their peers'
 * Hello deadline.  The tick starts the rest. */
#define WPOOL_SPAWNS_PER_TICK 4

typedef struct wpool {
    char worker_bin[PATH_MAX];
    wpool_job *jobs;
    wpool_worker *workers;         /* every record, alive or being reaped */
    size_t nstarting;              /* STARTING workers on the node */
    size_t nalive;
    uv_timer_t tick;
    unsigned spawned_this_tick;    /* by wpool_want, reset by the tick */
    int want_deferred;             /* wpool_want hit the cap: dispatch again */
    double ncpus;
    uint64_t next_worker;
} wpool;

/* Spawns a worker process for JOB (wpool_spawn.c).  Returns the record
 * (STARTING) or NULL with ERR set. */
wpool_worker *wpool__spawn(raylet *r, wpool_job *job, char *err, size_t errlen);

/* The worker is gone (its process exited): handles its task or actor. */
void wpool__worker_lost(raylet *r, wpool_worker *w, const char *why);

/* Frees W when both its process handle and its connection are closed. */
void wpool__maybe_free(raylet *r, wpool_worker *w);

/* Removes W from its job's idle list. */
void wpool__unidle(wpool_worker *w);

/* Ends JOB when its last driver left (wpool_job.c). */
void wpool__job_end(raylet *r, wpool_job *job);

/* Frees jobs that ended and have no workers left. */
void wpool__reap_jobs(raylet *r);

/* Frees a job record. */
void wpool__job_free(wpool_job *job);

/* Answers a driver's or worker's registration request REQ_ID on CL with
 * STATUS (RAY_OK or an error) and ERROR (NULL when none), plus this node's
 * identity and, once registered, the job id and namespace. */
void wpool__reply_register(raylet_client *cl, uint64_t req_id, int status, const char *error);

/* Prestarts the job's workers. */
void wpool__prestart(raylet *r, wpool_job *job);

#endif
