/* Internals shared by the sched_*.c files. */
#ifndef RAYC_RAYLET_SCHED_INT_H
#define RAYC_RAYLET_SCHED_INT_H

#include "raylet/sched.h"

/* Queued normal tasks of one job with one resource shape, in order. */
typedef struct sched_class {
    struct wpool_job *job;
    sched_res req;
    sched_task *head, *tail;
    size_t len;
    struct sched_class *next;
} sched_class;

typedef struct sched {
    htab tasks;                    /* live tasks by id (sched_task.link) */
    sched_class *classes;
    sched_task *parked;            /* sched_park.c: fits no node yet */
    size_t nparked;
    int ngpus_total;               /* -1 until first use */
    double gpu_free[SCHED_MAX_GPUS];
    int dispatching, again;
    uint64_t nfinished, nfailed;   /* outcomes of tasks this node ran (not forwarded
                                    * ones), since start (node_stats.c) */
} sched;

/* Adds T to the task table.  Returns 0, -EEXIST or -ENOMEM. */
int sched__table_add(sched *s, sched_task *t);
void sched__table_del(sched *s, sched_task *t);

/* Every live task, in a new array of *N entries (the caller frees it; the
 * tasks stay in the table).  NULL when out of memory. */
sched_task **sched__task_list(sched *s, size_t *n);

/* Appends T (deps ready) to its class queue. */
int sched__enqueue(raylet *r, sched_task *t);

/* Removes T from its class queue. */
void sched__dequeue(raylet *r, sched_task *t);

/* Releases what a RUNNING normal task holds: resources, GPUs, pins. */
void sched__release_running(raylet *r, sched_task *t);

/* Unpins T's store arguments (after it ran). */
void sched__unpin_args(raylet *r, sched_task *t);

/* Records T's outcome in the object table and pushes TaskResult to its
 * owner: the returns of DONE when STATUS is RAY_OK, else STATUS and MSG.
 * T's returns are not used by T afterwards. */
void sched__push_result(raylet *r, sched_task *t, int status, const char *msg,
                        const Rayc__TaskDone *done);

/* Makes T run again (another attempt) after a failure. */
void sched__retry(raylet *r, sched_task *t, const char *why);

/* Checks where T may run.  Returns RAY_OK, SCHED__PARK (no node can run T
 * now: MSG says what it asks for) or a ray_status error with MSG. */
#define SCHED__PARK 1000
int sched__placement(raylet *r, sched_task *t, char *msg, size_t msglen);

/* T (placed, dependencies registered) goes on: an actor creation to the
 * actor table, a normal task to its queue once its arguments are ready. */
void sched__proceed(raylet *r, sched_task *t);

/* The function name for messages. */
const char *sched__fname(const sched_task *t);

#endif
