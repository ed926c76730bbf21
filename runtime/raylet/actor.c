/* Actors: the table, creation, starting in a worker, restarts and death. */
#include "raylet/actor.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "raylet/actor_int.h"
#include "raylet/tev.h"
#include "raylet/actor_remote.h"
#include "raylet/otable.h"
#include "raylet/pgroup.h"
#include "raylet/sched_int.h"
#include "raylet/wpool.h"

/* ---------------------------------------------------------------- table */

static int actor_eq(const htab_node *link, const void *id)
{
    return memcmp(htab_entry(link, actor, link)->id.b, id, IDS_ACTOR_LEN) == 0;
}

actor *actor_find(raylet *r, const ids_actor *id)
{
    htab_node *link = htab_find(&r->actors->index, ids_hash(id->b, IDS_ACTOR_LEN), id->b, actor_eq);
    return link ? htab_entry(link, actor, link) : NULL;
}

static int table_add(actor_table *t, actor *a)
{
    if (htab_insert(&t->index, &a->link, ids_hash(a->id.b, IDS_ACTOR_LEN)) != 0)
        return -ENOMEM;
    a->all_next = t->all;
    t->all = a;
    t->nlive++;
    return 0;
}

actor *actor__find_named(raylet *r, const char *ns, const char *name)
{
    for (actor *a = r->actors->all; a != NULL; a = a->all_next)
        if (a->state != ACTOR_DEAD && a->name[0] != '\0' && strcmp(a->name, name) == 0 &&
            strcmp(a->ns, ns) == 0)
            return a;
    return NULL;
}

size_t actor_count(raylet *r)
{
    return r->actors ? r->actors->nlive : 0;
}

void actor_count_states(const raylet *r, size_t counts[ACTOR_DEAD + 1])
{
    memset(counts, 0, (ACTOR_DEAD + 1) * sizeof counts[0]);
    for (actor *a = r->actors ? r->actors->all : NULL; a != NULL; a = a->all_next)
        if (a->state >= 0 && a->state <= ACTOR_DEAD)
            counts[a->state]++;
}

/* ---------------------------------------------------------------- pending list */

static void pending_add(actor_table *t, actor *a)
{
    if (t->npending == t->apending) {
        size_t n = t->apending ? 2 * t->apending : 16;
        actor **p = realloc(t->pending, n * sizeof *p);
        if (p == NULL)
            return; /* it starts on its next chance: dispatch rescans on restart */
        t->pending = p;
        t->apending = n;
    }
    t->pending[t->npending++] = a;
}

static void pending_del(actor_table *t, actor *a)
{
    for (size_t i = 0; i < t->npending; i++) {
        if (t->pending[i] == a) {
            memmove(&t->pending[i], &t->pending[i + 1], (t->npending - i - 1) * sizeof t->pending[0]);
            t->npending--;
            return;
        }
    }
}

void actor_dispatch(raylet *r)
{
    actor_table *t = r->actors;
    for (size_t i = 0; i < t->npending;) {
        actor *a = t->pending[i];
        if (actor__start(r, a))
            pending_del(t, a); /* the next one moved into slot I */
        else
            i++;
    }
}

/* ---------------------------------------------------------------- creation */

static int int_opt(int v, int dflt)
{
    return v < -1 ? dflt : v;
}

static actor *actor_new(raylet *r, sched_task *t)
{
    const Rayc__TaskSpec *s = t->spec;
    const Rayc__ActorOptions *o = s->actor;
    actor *a = calloc(1, sizeof *a);
    if (a == NULL)
        return NULL;
    memcpy(a->id.b, s->actor_id.data, IDS_ACTOR_LEN);
    ids_hex(a->id.b, IDS_ACTOR_LEN, a->hex);
    a->job = t->job;
    wpool_job_ref(a->job);
    a->class_name = strdup(s->function);
    a->name = strdup(o && o->name ? o->name : "");
    a->ns = strdup(o && o->namespace_ && o->namespace_[0] ? o->namespace_
                                                          : (t->job ? t->job->ns : ""));
    a->detached = o ? o->detached : 0;
    a->restarts_left = o ? int_opt(o->max_restarts, 0) : 0;
    a->max_task_retries = o ? int_opt(o->max_task_retries, 0) : 0;
    a->create = t;
    a->req = t->req;
    t->actor = a;
    if (a->class_name == NULL || a->name == NULL || a->ns == NULL || table_add(r->actors, a) != 0) {
        t->actor = NULL;
        wpool_job_unref(a->job);
        free(a->class_name);
        free(a->name);
        free(a->ns);
        free(a);
        return NULL;
    }
    return a;
}

/* Ends creation task T (not kept by an actor) with actor ID as its value. */
static void complete_with_id(raylet *r, sched_task *t, const ids_actor *id)
{
    Rayc__Value v = RAYC__VALUE__INIT;
    v.type = RAY_ACTOR;
    v.data.data = (uint8_t *)id->b;
    v.data.len = IDS_ACTOR_LEN;
    Rayc__Value *vp = &v;
    Rayc__TaskDone done = RAYC__TASK_DONE__INIT;
    done.returns = &vp;
    done.n_returns = 1;
    sched_complete(r, t, &done);
}

void actor__push_created(raylet *r, actor *a, const ids_actor *id, int status, const char *msg)
{
    sched_task *t = a->create;
    if (t == NULL || t->results_sent)
        return;
    Rayc__Value v = RAYC__VALUE__INIT;
    v.type = RAY_ACTOR;
    v.data.data = (uint8_t *)id->b;
    v.data.len = IDS_ACTOR_LEN;
    Rayc__Value *vp = &v;
    Rayc__TaskDone done = RAYC__TASK_DONE__INIT;
    done.returns = &vp;
    done.n_returns = 1;
    sched__push_result(r, t, status, msg, status == RAY_OK ? &done : NULL);
}

void actor_on_create(raylet *r, sched_task *t)
{
    ids_actor id;
    memcpy(id.b, t->spec->actor_id.data, IDS_ACTOR_LEN);
    if (actor_find(r, &id) != NULL) {
        sched_fail(r, t, RAY_ERR_INVALID, "an actor with this id exists");
        return;
    }
    const Rayc__ActorOptions *o = t->spec->actor;
    const char *ns = o && o->namespace_ && o->namespace_[0] ? o->namespace_ : t->job->ns;
    actor *named = o && o->name && o->name[0] ? actor__find_named(r, ns, o->name) : NULL;
    if (named != NULL) {
        char msg[600];
        if (o->get_if_exists) {
            complete_with_id(r, t, &named->id);
            return;
        }
        snprintf(msg, sizeof msg, "an actor named '%.200s' already exists in namespace "
                 "'%.200s'", o->name, ns);
        sched_fail(r, t, RAY_ERR_INVALID, msg);
        return;
    }
    actor *a = actor_new(r, t);
    if (a == NULL) {
        sched_fail(r, t, RAY_ERR_NOMEM, "the raylet is out of memory");
        return;
    }
    actor_remote_announce(r, a);
    if (a->name[0] != '\0') {
        tev_actor(r, a, TEV_DEPENDENCIES_UNREADY, NULL);
        a->state = ACTOR_NAMING;
        actor__name_register(r, a);
        return;
    }
    a->state = ACTOR_PENDING;
    if (t->deps_left != 0)
        tev_actor(r, a, TEV_DEPENDENCIES_UNREADY, NULL);
    if (t->deps_left == 0)
        actor_task_ready(r, t);
}

void actor__named(raylet *r, actor *a, int ok, const ids_actor *existing, const char *error)
{
    if (a->state != ACTOR_NAMING)
        return;
    if (!ok) {
        sched_task *t = a->create;
        a->state = ACTOR_DEAD;
        r->actors->nlive--;
        tev_actor(r, a, TEV_DEAD, error ? error : "its name was taken");
        a->create = NULL;
        t->actor = NULL;
        if (existing != NULL)
            complete_with_id(r, t, existing);
        else
            sched_fail(r, t, RAY_ERR_INVALID, error);
        free(a->death_reason);
        a->death_reason = strdup(error ? error : "its name was taken");
        actor_remote_withdraw(r, a);
        wpool_job_unref(a->job);
        a->job = NULL;
        return;
    }
    a->state = ACTOR_PENDING;
    if (a->create->deps_left == 0)
        actor_task_ready(r, a->create);
}

/* ---------------------------------------------------------------- starting */

int actor__start(raylet *r, actor *a)
{
    char err[512];
    if (a->state != ACTOR_PENDING && a->state != ACTOR_RESTARTING)
        return 1;
    if (!a->holds_res) {
        if (!sched_res_fits(r, &a->req))
            return 0;
        sched_res_acquire(r, &a->req);
        a->ngpus = sched_gpu_take(r, &a->req, a->gpu_ids, SCHED_MAX_GPUS);
        a->holds_res = 1;
    }
    struct wpool_worker *w = wpool_worker_for_actor(r, a->job, a, err, sizeof err);
    if (w == NULL) {
        char msg[700];
        snprintf(msg, sizeof msg, "actor %s (%s) could not start: %s", a->hex, a->class_name, err);
        actor__die(r, a, RAY_ERR_ACTOR_DIED, msg);
        return 1;
    }
    a->worker = w;
    if (w->state != WPOOL_STARTING)
        actor_worker_ready(r, a, w);
    return 1;
}

void actor_task_ready(raylet *r, sched_task *t)
{
    actor *a = t->actor;
    if (a->create != t) {
        if (t->state == SCHED_WAITING)
            t->state = SCHED_QUEUED;
        actor__pump(r, a);
        return;
    }
    if (a->state != ACTOR_PENDING)
        return; /* NAMING: actor__named continues */
    t->state = SCHED_QUEUED;
    tev_actor(r, a, TEV_PENDING_CREATION, NULL);
    if (!actor__start(r, a))
        pending_add(r->actors, a);
}

void actor_worker_ready(raylet *r, actor *a, struct wpool_worker *w)
{
    if (a->state == ACTOR_DEAD) {
        w->actor = NULL;
        wpool_worker_kill(r, w, 0, "its actor died before it started");
        return;
    }
    a->worker = w;
    a->state = ACTOR_CREATING;
    sched_task *t = a->create;
    memcpy(t->gpu_ids, a->gpu_ids, sizeof t->gpu_ids);
    t->ngpus = a->ngpus;
    t->attempt = a->num_restarts;
    sched_send(r, t, w);
}

/* ---------------------------------------------------------------- deaths */

static void release_res(raylet *r, actor *a)
{
    if (!a->holds_res)
        return;
    sched_res_release(r, &a->req);
    sched_gpu_give(r, &a->req, a->gpu_ids, a->ngpus);
    a->ngpus = 0;
    a->holds_res = 0;
}

/* Removes the socket A's callers connect to (its worker may have died
 * without removing it). */
static void unlink_socket(raylet *r, const actor *a)
{
    char path[4300];
    const char *slash = strrchr(r->socket_path, '/');
    snprintf(path, sizeof path, "%.*s/actor-%s", slash ? (int)(slash - r->socket_path) : 0,
             r->socket_path, a->hex);
    unlink(path);
}

void actor__die(raylet *r, actor *a, int status, const char *reason)
{
    if (a->state == ACTOR_DEAD)
        return;
    int was = a->state;
    a->state = ACTOR_DEAD;
    r->actors->nlive--;
    a->death_status = status;
    free(a->death_reason);
    a->death_reason = strdup(reason ? reason : "the actor died");
    log_info("actor %s (%s) is dead: %s", a->hex, a->class_name, a->death_reason);
    tev_actor(r, a, TEV_DEAD, a->death_reason);
    pending_del(r->actors, a);
    actor__fail_calls(r, a, RAY_ERR_ACTOR_DIED, a->death_reason);
    release_res(r, a);
    if (a->name_registered)
        actor__name_remove(r, a);
    actor_remote_withdraw(r, a);
    unlink_socket(r, a);
    if (a->worker != NULL) {
        struct wpool_worker *w = a->worker;
        a->worker = NULL;
        w->actor = NULL;
        wpool_worker_kill(r, w, 1, "its actor is dead");
    }
    sched_task *t = a->create;
    a->create = NULL;
    if (t != NULL) {
        t->actor = NULL;
        sched__unpin_args(r, t);
        if (!t->results_sent)
            sched__push_result(r, t, RAY_ERR_ACTOR_DIED, a->death_reason, NULL);
        sched_task_free(r, t);
    }
    (void)was;
    wpool_job_unref(a->job);
    a->job = NULL;
    sched_dispatch(r);
}

void actor_worker_died(raylet *r, actor *a, const char *why)
{
    char msg[1024];
    int pid = a->worker ? a->worker->pid : 0;
    a->worker = NULL;
    if (a->state == ACTOR_DEAD)
        return;
    free(a->last_crash);
    a->last_crash = strdup(why);
    if (a->create != NULL) {
        sched__unpin_args(r, a->create);
        a->create->worker = NULL;
    }
    int job_over = a->job != NULL && a->job->ended && !a->detached;
    if (a->restarts_left != 0 && !job_over) {
        if (a->restarts_left > 0)
            a->restarts_left--;
        a->num_restarts++;
        a->state = ACTOR_RESTARTING;
        tev_actor(r, a, TEV_RESTARTING, NULL);
        log_info("actor %s (%s): worker pid %d died (%s); restarting (restart %d)", a->hex,
                 a->class_name, pid, why, a->num_restarts);
        actor__requeue_sent(r, a, why);
        if (!actor__start(r, a))
            pending_add(r->actors, a);
        return;
    }
    snprintf(msg, sizeof msg, "actor %s (%s) died: its worker (pid %d on node %s) %s%s",
             a->hex, a->class_name, pid, r->opts->node_ip, why,
             a->num_restarts > 0 || a->restarts_left == 0 ? "; no restarts left" : "");
    actor__die(r, a, RAY_ERR_ACTOR_DIED, msg);
}

void actor_job_gone(raylet *r, struct wpool_job *job)
{
    for (actor *a = r->actors->all; a != NULL; a = a->all_next)
        if (a->job == job && !a->detached && a->state != ACTOR_DEAD)
            actor__die(r, a, RAY_ERR_ACTOR_DIED, "the actor's job ended");
}

void actor_group_removed(raylet *r, const ids_pg *g, const char *reason)
{
    char msg[1024];
    for (actor *a = r->actors->all; a != NULL; a = a->all_next) {
        if (a->state == ACTOR_DEAD || a->create == NULL ||
            !pgroup_id_eq(&a->create->spec->placement_group_id, g))
            continue;
        snprintf(msg, sizeof msg, "actor %s (%s) died: %s", a->hex, a->class_name, reason);
        actor__die(r, a, RAY_ERR_ACTOR_DIED, msg);
    }
}

/* ---------------------------------------------------------------- open / close */

int actor_open(raylet *r)
{
    r->actors = calloc(1, sizeof *r->actors);
    return r->actors ? 0 : -ENOMEM;
}

void actor_close(raylet *r)
{
    actor_table *t = r->actors;
    if (t == NULL)
        return;
    while (t->all != NULL) {
        actor *a = t->all;
        t->all = a->all_next;
        free(a->class_name);
        free(a->name);
        free(a->ns);
        free(a->death_reason);
        free(a->last_crash);
        free(a);
    }
    htab_free(&t->index);
    free(t->pending);
    free(t);
    r->actors = NULL;
}
