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
    sched_task **slots;            /* live tasks by id */
    size_t nslots, ntasks;
    sched_class *classes;
    int ngpus_total;               /* -1 until first use */
    double gpu_free[SCHED_MAX_GPUS];
    int dispatching, again;
} sched;

/* Adds T to the task table.  Returns 0, -EEXIST or -ENOMEM. */
int sched__table_add(sched *s, sched_task *t);
void sched__table_del(sched *s, sched_task *t);

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

/* The function name for messages. */
const char *sched__fname(const sched_task *t);

#endif
