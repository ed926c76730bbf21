/* Actor calls: the per-actor queue, sending in order, results, failures,
 * and ray_actor_kill. */
#include "raylet/actor.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "raylet/actor_int.h"
#include "raylet/actor_remote.h"
#include "raylet/sched_int.h"
#include "raylet/tev.h"
#include "raylet/wpool.h"

/* ---------------------------------------------------------------- lists */

static void list_push(sched_task **head, sched_task **tail, sched_task *t)
{
    t->prev = *tail;
    t->next = NULL;
    if (*tail != NULL)
        (*tail)->next = t;
    else
        *head = t;
    *tail = t;
}

static void list_del(sched_task **head, sched_task **tail, sched_task *t)
{
    if (t->prev != NULL)
        t->prev->next = t->next;
    else
        *head = t->next;
    if (t->next != NULL)
        t->next->prev = t->prev;
    else
        *tail = t->prev;
    t->prev = t->next = NULL;
}

void actor_unqueue(raylet *r, sched_task *t)
{
    actor *a = t->actor;
    (void)r;
    if (a == NULL || !t->in_actor_list)
        return;
    if (t->in_actor_list == 1) {
        list_del(&a->queue_head, &a->queue_tail, t);
        a->nqueued--;
    } else {
        list_del(&a->sent_head, &a->sent_tail, t);
        a->nsent--;
    }
    t->in_actor_list = 0;
}

/* ---------------------------------------------------------------- calls */

/* A call that went straight to A's worker and whose connection broke.
 * While that worker (incarnation) still looks alive here its death is on
 * the way: the call waits with the calls in flight, so the death decides
 * (retry or fail).  After the death it is decided here.  Returns 1 when T
 * was dealt with, 0 when it queues as a retry. */
static int lost_call(raylet *r, actor *a, sched_task *t)
{
    char msg[1200];
    if (t->spec->incarnation == a->num_restarts &&
        (a->state == ACTOR_ALIVE || a->state == ACTOR_CREATING)) {
        list_push(&a->sent_head, &a->sent_tail, t);
        t->in_actor_list = 2;
        a->nsent++;
        t->state = SCHED_RUNNING;
        t->worker = a->worker;
        return 1;
    }
    if (t->retries_left == 0) {
        snprintf(msg, sizeof msg, "actor %s (%s) died while running %s: its worker %s (the "
                 "actor restarts; max_task_retries is used up)", a->hex, a->class_name,
                 t->spec->function, a->last_crash ? a->last_crash : "died");
        sched_fail(r, t, RAY_ERR_ACTOR_DIED, msg);
        return 1;
    }
    if (t->retries_left > 0)
        t->retries_left--;
    t->attempt++;
    return 0;
}

void actor_on_call(raylet *r, sched_task *t)
{
    ids_actor id;
    memcpy(id.b, t->spec->actor_id.data, IDS_ACTOR_LEN);
    actor *a = actor_find(r, &id);
    char msg[600];
    if (a == NULL && actor_remote_call(r, t))
        return;
    if (a == NULL) {
        char hex[2 * IDS_ACTOR_LEN + 1];
        ids_hex(id.b, IDS_ACTOR_LEN, hex);
        snprintf(msg, sizeof msg, "no actor %s on this node (actors are called through the "
                 "raylet of their own node)", hex);
        sched_fail(r, t, RAY_ERR_NOT_FOUND, msg);
        return;
    }
    if (a->state == ACTOR_DEAD) {
        sched_fail(r, t, a->death_status ? a->death_status : RAY_ERR_ACTOR_DIED,
                   a->death_reason);
        return;
    }
    t->actor = a;
    t->retries_left = a->max_task_retries;
    if (t->spec->lost && lost_call(r, a, t))
        return;
    list_push(&a->queue_head, &a->queue_tail, t);
    t->in_actor_list = 1;
    a->nqueued++;
    if (t->deps_left == 0) {
        t->state = SCHED_QUEUED;
        actor__pump(r, a);
    }
}

void actor__pump(raylet *r, actor *a)
{
    while (a->state == ACTOR_ALIVE && a->worker != NULL && a->queue_head != NULL &&
           a->queue_head->state == SCHED_QUEUED) {
        sched_task *t = a->queue_head;
        list_del(&a->queue_head, &a->queue_tail, t);
        a->nqueued--;
        list_push(&a->sent_head, &a->sent_tail, t);
        t->in_actor_list = 2;
        a->nsent++;
        sched_send(r, t, a->worker); /* a failure ends T (removed from the list) */
    }
}

void actor__fail_calls(raylet *r, actor *a, int status, const char *msg)
{
    while (a->sent_head != NULL) {
        sched_task *t = a->sent_head;
        sched__unpin_args(r, t);
        sched_fail(r, t, status, msg);
    }
    while (a->queue_head != NULL)
        sched_fail(r, a->queue_head, status, msg);
}

void actor__requeue_sent(raylet *r, actor *a, const char *why)
{
    char msg[1024];
    /* Walk backwards so that retried calls keep their order at the front. */
    while (a->sent_tail != NULL) {
        sched_task *t = a->sent_tail;
        sched__unpin_args(r, t);
        t->worker = NULL;
        if (t->retries_left == 0 || t->cancel) {
            snprintf(msg, sizeof msg, "actor %s (%s) died while running %s: %s (the actor "
                     "restarts; max_task_retries is used up)", a->hex, a->class_name,
                     t->spec->function, why);
            sched_fail(r, t, t->cancel ? RAY_ERR_CANCELLED : RAY_ERR_ACTOR_DIED, msg);
            continue;
        }
        if (t->retries_left > 0)
            t->retries_left--;
        t->attempt++;
        list_del(&a->sent_head, &a->sent_tail, t);
        a->nsent--;
        t->prev = NULL;
        t->next = a->queue_head;
        if (a->queue_head != NULL)
            a->queue_head->prev = t;
        else
            a->queue_tail = t;
        a->queue_head = t;
        t->in_actor_list = 1;
        a->nqueued++;
        t->state = SCHED_QUEUED;
    }
}

/* ---------------------------------------------------------------- results */

static void creation_done(raylet *r, actor *a, sched_task *t, const Rayc__TaskDone *m)
{
    char msg[4600];
    sched__unpin_args(r, t);
    t->state = SCHED_QUEUED;
    t->worker = NULL;
    if (m->status != RAY_OK) {
        snprintf(msg, sizeof msg, "the creation of actor %s (%s) failed: %s", a->hex,
                 a->class_name, m->error ? m->error : "");
        actor__die(r, a, RAY_ERR_ACTOR_DIED, msg);
        return;
    }
    a->state = ACTOR_ALIVE;
    tev_actor(r, a, TEV_ALIVE, NULL);
    /* A restart's constructor ends here (its first run's result was pushed). */
    if (a->create != NULL)
        tev_task(r, a->create, TEV_FINISHED, 0, NULL);
    if (a->num_restarts == 0)
        log_debug("actor %s (%s) is alive in worker pid %d", a->hex, a->class_name,
                  a->worker ? a->worker->pid : 0);
    else
        log_info("actor %s (%s) restarted in worker pid %d", a->hex, a->class_name,
                 a->worker ? a->worker->pid : 0);
    actor__push_created(r, a, &a->id, RAY_OK, NULL);
    actor__pump(r, a);
}

void actor_task_done(raylet *r, sched_task *t, const Rayc__TaskDone *m)
{
    actor *a = t->actor;
    if (t == a->create) {
        creation_done(r, a, t, m);
        return;
    }
    sched__unpin_args(r, t);
    if (t->cancel)
        sched_fail(r, t, RAY_ERR_CANCELLED, "the call was cancelled while it ran");
    else if (m->status == RAY_OK)
        sched_complete(r, t, m);
    else
        sched_fail(r, t, m->status, m->error);
    actor__pump(r, a);
}

/* ---------------------------------------------------------------- kill */

static void reply_kill(raylet_client *cl, uint64_t req_id, int status, const char *error)
{
    Rayc__Envelope env = RAYC__ENVELOPE__INIT;
    Rayc__KillActorReply rep = RAYC__KILL_ACTOR_REPLY__INIT;
    rep.status = status;
    rep.error = (char *)(error ? error : "");
    env.request_id = req_id;
    env.body_case = RAYC__ENVELOPE__BODY_KILL_ACTOR_REPLY;
    env.kill_actor_reply = &rep;
    raylet_client_send(cl, &env);
}

void actor_on_kill(raylet_client *cl, uint64_t req_id, const Rayc__KillActor *m)
{
    raylet *r = cl->r;
    ids_actor id;
    if (ids_from_bytes(id.b, IDS_ACTOR_LEN, m->actor_id.data, m->actor_id.len) != 0) {
        reply_kill(cl, req_id, RAY_ERR_INVALID, "malformed actor id");
        return;
    }
    actor *a = actor_find(r, &id);
    if (a == NULL && actor_remote_kill(cl, req_id, m))
        return;
    if (a == NULL) {
        reply_kill(cl, req_id, RAY_ERR_NOT_FOUND, "no such actor");
        return;
    }
    reply_kill(cl, req_id, RAY_OK, NULL);
    if (a->state == ACTOR_DEAD)
        return;
    if (m->no_restart || a->worker == NULL || a->restarts_left == 0) {
        char msg[256];
        snprintf(msg, sizeof msg, "actor %s (%s) was killed by ray_actor_kill", a->hex,
                 a->class_name);
        actor__die(r, a, RAY_ERR_ACTOR_DIED, msg);
        return;
    }
    /* Restart now: calls that follow the kill go to the new worker. */
    struct wpool_worker *w = a->worker;
    w->actor = NULL;
    wpool_worker_kill(r, w, 1, "the actor was killed by ray_actor_kill");
    actor_worker_died(r, a, "was killed by ray_actor_kill");
}
