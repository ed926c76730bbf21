/* Actors on this node: each lives in a worker of its own, holds its
 * resources for life, runs its calls in arrival order (a thread pool when
 * max_concurrency > 1), restarts after a worker death while it has restarts
 * left, and can be named in a namespace (names are kept in the GCS KV, so
 * they are unique across the cluster). */
#ifndef RAYC_RAYLET_ACTOR_H
#define RAYC_RAYLET_ACTOR_H

#include <stdint.h>

#include "common/htab.h"
#include "common/ids.h"
#include "raylet/raylet.h"
#include "raylet/sched.h"

enum actor_state {
    ACTOR_NAMING = 0,      /* waiting for the GCS to register its name */
    ACTOR_PENDING,         /* waiting for arguments, resources or a worker */
    ACTOR_CREATING,        /* the constructor runs */
    ACTOR_ALIVE,
    ACTOR_RESTARTING,      /* the worker died; a new one is coming */
    ACTOR_DEAD,
};

struct wpool_worker;
struct wpool_job;

typedef struct actor {
    ids_actor id;
    char hex[2 * IDS_ACTOR_LEN + 1];
    struct wpool_job *job;
    char *class_name;
    char *name;                    /* "" when unnamed */
    char *ns;
    int state;
    int detached;
    int restarts_left;             /* -1: unlimited */
    int max_task_retries;          /* -1: unlimited */
    int num_restarts;
    sched_task *create;            /* the creation task, kept for restarts */
    sched_res req;                 /* held while alive */
    int holds_res;
    int32_t gpu_ids[SCHED_MAX_GPUS];
    int ngpus;
    struct wpool_worker *worker;
    sched_task *queue_head, *queue_tail;    /* calls not sent yet */
    sched_task *sent_head, *sent_tail;      /* calls sent, not done */
    size_t nqueued, nsent;
    int death_status;
    char *death_reason;
    char *last_crash;              /* why the last worker died (for restarts) */
    int name_registered;           /* the GCS holds our name */
    htab_node link;                /* in the actor table, by id */
    struct actor *all_next;
} actor;

/* Opens the actor table.  Returns 0 or -ENOMEM. */
int actor_open(raylet *r);
void actor_close(raylet *r);

actor *actor_find(raylet *r, const ids_actor *id);

/* A creation task T (SCHED_WAITING, deps registered by sched): makes the
 * actor, registers its name, and starts it when T's deps are ready. */
void actor_on_create(raylet *r, sched_task *t);

/* An actor task T arrived (deps registered): queued in order. */
void actor_on_call(raylet *r, sched_task *t);

/* T (creation or call) has its dependencies now. */
void actor_task_ready(raylet *r, sched_task *t);

/* The worker W of actor A registered (a new worker for A). */
void actor_worker_ready(raylet *r, actor *a, struct wpool_worker *w);

/* TaskDone for creation or call T of A. */
void actor_task_done(raylet *r, sched_task *t, const Rayc__TaskDone *m);

/* The worker of A died (WHY says how). */
void actor_worker_died(raylet *r, actor *a, const char *why);

/* Removes T from its actor's queue (cancelled while queued). */
void actor_unqueue(raylet *r, sched_task *t);

/* Retries starting actors that wait for resources. */
void actor_dispatch(raylet *r);

/* Placement group G was removed: its actors here die with REASON. */
void actor_group_removed(raylet *r, const ids_pg *g, const char *reason);

/* JOB ended: its non-detached actors die. */
void actor_job_gone(raylet *r, struct wpool_job *job);

/* Client requests. */
void actor_on_get(raylet_client *cl, uint64_t req_id, const Rayc__GetActor *m);
void actor_on_kill(raylet_client *cl, uint64_t req_id, const Rayc__KillActor *m);

/* Live actors (not DEAD). */
size_t actor_count(raylet *r);

/* COUNTS[state] = the node's actors in each actor_state (DEAD: those that
 * died since the raylet started; their records stay). */
void actor_count_states(const raylet *r, size_t counts[ACTOR_DEAD + 1]);

#endif
