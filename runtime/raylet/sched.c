/* The scheduler's front half: submissions, dependencies, class queues,
 * dispatch to workers, cancellation, blocked workers. */
#include "raylet/sched.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "raylet/actor.h"
#include "raylet/actor_remote.h"
#include "raylet/otable.h"
#include "raylet/sched_int.h"
#include "raylet/tev.h"
#include "raylet/sched_remote.h"
#include "raylet/wpool.h"

/* ---------------------------------------------------------------- task table */

static int task_eq(const htab_node *link, const void *id)
{
    return ids_task_eq(&htab_entry(link, sched_task, link)->id, id);
}

sched_task *sched_find(raylet *r, const ids_task *id)
{
    htab_node *link = htab_find(&r->sched->tasks, ids_hash(id->b, sizeof id->b), id, task_eq);
    return link ? htab_entry(link, sched_task, link) : NULL;
}

int sched__table_add(sched *s, sched_task *t)
{
    uint64_t h = ids_hash(t->id.b, sizeof t->id.b);
    if (htab_find(&s->tasks, h, &t->id, task_eq) != NULL)
        return -EEXIST;
    return htab_insert(&s->tasks, &t->link, h);
}

void sched__table_del(sched *s, sched_task *t)
{
    if (htab_find(&s->tasks, t->link.hash, &t->id, task_eq) == &t->link)
        htab_unlink(&s->tasks, &t->link);
}

sched_task **sched__task_list(sched *s, size_t *n)
{
    sched_task **list = calloc(s->tasks.n + 1, sizeof *list);
    size_t k = 0;
    htab_iter it;
    for (htab_node *e = htab_first(&s->tasks, &it); list != NULL && e != NULL; e = htab_next(&it))
        list[k++] = htab_entry(e, sched_task, link);
    *n = k;
    return list;
}

void sched_count_by_state(raylet *r, uint64_t n[4])
{
    htab_iter it;
    for (htab_node *e = r->sched ? htab_first(&r->sched->tasks, &it) : NULL; e != NULL;
         e = htab_next(&it)) {
        const sched_task *t = htab_entry(e, sched_task, link);
        if (t->state >= 0 && t->state < 4 && t->remote != SCHED_FORWARDED)
            n[t->state]++;
    }
}

size_t sched_count(raylet *r)
{
    return r->sched->tasks.n;
}

size_t sched_queued(raylet *r)
{
    size_t n = 0;
    for (sched_class *c = r->sched->classes; c != NULL; c = c->next)
        n += c->len;
    return n;
}

/* ---------------------------------------------------------------- classes */

static sched_class *class_for(raylet *r, struct wpool_job *job, const sched_res *req)
{
    sched *s = r->sched;
    for (sched_class *c = s->classes; c != NULL; c = c->next)
        if (c->job == job && sched_res_equal(&c->req, req))
            return c;
    sched_class *c = calloc(1, sizeof *c);
    if (c == NULL)
        return NULL;
    c->job = job;
    c->req = *req;
    c->next = s->classes;
    s->classes = c;
    return c;
}

int sched__enqueue(raylet *r, sched_task *t)
{
    tev_task(r, t, TEV_PENDING_NODE_ASSIGNMENT, 0, NULL);
    if (sched_remote_take(r, t))
        return 0; /* another node runs it (or it failed) */
    sched_class *c = class_for(r, t->job, &t->req);
    if (c == NULL)
        return -ENOMEM;
    t->cls = c;
    t->prev = c->tail;
    t->next = NULL;
    if (c->tail != NULL)
        c->tail->next = t;
    else
        c->head = t;
    c->tail = t;
    c->len++;
    t->state = SCHED_QUEUED;
    t->queued_ms = time_mono_ms();
    return 0;
}

void sched__dequeue(raylet *r, sched_task *t)
{
    sched_class *c = t->cls;
    (void)r;
    if (c == NULL)
        return;
    if (t->prev != NULL)
        t->prev->next = t->next;
    else
        c->head = t->next;
    if (t->next != NULL)
        t->next->prev = t->prev;
    else
        c->tail = t->prev;
    c->len--;
    t->prev = t->next = NULL;
    t->cls = NULL;
}

/* Frees the classes with nothing queued. */
static void prune_classes(sched *s)
{
    for (sched_class **p = &s->classes; *p != NULL;) {
        sched_class *c = *p;
        if (c->len == 0) {
            *p = c->next;
            free(c);
        } else {
            p = &c->next;
        }
    }
}

/* ---------------------------------------------------------------- dispatch */

/* How many tasks of class C the free resources could start now. */
static size_t fitting(raylet *r, const sched_class *c)
{
    size_t n = c->len;
    for (int i = 0; i < c->req.n; i++) {
        double avail = r->available.items[c->req.idx[i]].qty;
        size_t k = avail <= 0 ? 0 : (size_t)((avail + RES_EPS) / c->req.qty[i]);
        if (k < n)
            n = k;
    }
    return n;
}

static void run_class(raylet *r, sched_class *c)
{
    while (c->head != NULL) {
        sched_task *t = c->head;
        if (!sched_res_fits(r, &t->req))
            return;
        struct wpool_worker *w = wpool_take_idle(r, c->job);
        if (w == NULL) {
            wpool_want(r, c->job, fitting(r, c));
            return;
        }
        sched__dequeue(r, t);
        sched_res_acquire(r, &t->req);
        t->ngpus = sched_gpu_take(r, &t->req, t->gpu_ids, SCHED_MAX_GPUS);
        sched_send(r, t, w);
    }
}

void sched_dispatch(raylet *r)
{
    sched *s = r->sched;
    if (s->dispatching) {
        s->again = 1;
        return;
    }
    s->dispatching = 1;
    do {
        s->again = 0;
        for (sched_class *c = s->classes; c != NULL; c = c->next)
            run_class(r, c);
        actor_dispatch(r);
    } while (s->again);
    prune_classes(s);
    s->dispatching = 0;
}

/* ---------------------------------------------------------------- sending */

/* Fills V with object O's value for a task argument, pinning store objects.
 * Returns a ray_status with MSG set on failure. */
static int resolve(raylet *r, otable_obj *o, Rayc__Value *v, char *path, size_t pathlen,
                   char *msg, size_t msglen)
{
    if (o->state == OTABLE_FAILED) {
        snprintf(msg, msglen, "%s", o->error ? o->error : "an argument failed");
        return o->status;
    }
    v->type = o->type;
    if (!o->in_store) {
        v->data.data = o->data;
        v->data.len = o->len;
        return RAY_OK;
    }
    int rc = otable_pin_for_task(r, o, path, pathlen, msg, msglen);
    v->in_store = 1;
    v->size = o->size;
    v->path = path;
    return rc;
}

typedef struct send_buf {
    Rayc__TaskArg *args;
    Rayc__TaskArg **ptrs;
    Rayc__Value *vals;
    char (*paths)[4200];
} send_buf;

/* Builds the resolved argument list of T into B.  Returns a ray_status. */
static int resolve_args(raylet *r, sched_task *t, send_buf *b, char *msg, size_t msglen)
{
    const Rayc__TaskSpec *s = t->spec;
    size_t n = s->n_args, d = 0;
    b->args = calloc(n + 1, sizeof *b->args);
    b->ptrs = calloc(n + 1, sizeof *b->ptrs);
    b->vals = calloc(n + 1, sizeof *b->vals);
    b->paths = calloc(t->ndeps + 1, sizeof *b->paths);
    if (!b->args || !b->ptrs || !b->vals || !b->paths) {
        snprintf(msg, msglen, "the raylet is out of memory");
        return RAY_ERR_NOMEM;
    }
    int rc = RAY_OK;
    for (size_t i = 0; i < n; i++) {
        rayc__task_arg__init(&b->args[i]);
        b->ptrs[i] = &b->args[i];
        if (s->args[i]->object_id.len == 0) {
            b->args[i].value = s->args[i]->value;
            continue;
        }
        rayc__value__init(&b->vals[i]);
        b->args[i].value = &b->vals[i];
        /* The id lets the worker pin a store argument for itself (a view
         * that outlives the task: ray_arg_value). */
        b->args[i].object_id = s->args[i]->object_id;
        if (rc == RAY_OK) {
            rc = resolve(r, t->deps[d], &b->vals[i], b->paths[d], sizeof b->paths[d], msg,
                         msglen);
            if (rc == RAY_OK)
                d++;
        }
    }
    t->npinned = d;
    return rc;
}

int sched_send(raylet *r, sched_task *t, struct wpool_worker *w)
{
    send_buf b = {0};
    char msg[1024];
    int rc = resolve_args(r, t, &b, msg, sizeof msg);
    if (rc == RAY_OK) {
        Rayc__TaskSpec spec = *t->spec;
        spec.args = b.ptrs;
        spec.attempt = t->attempt;
        spec.gpu_ids = t->gpu_ids;
        spec.n_gpu_ids = (size_t)t->ngpus;
        Rayc__Envelope env = RAYC__ENVELOPE__INIT;
        Rayc__ExecuteTask ex = RAYC__EXECUTE_TASK__INIT;
        ex.spec = &spec;
        env.body_case = RAYC__ENVELOPE__BODY_EXECUTE_TASK;
        env.execute_task = &ex;
        t->worker = w;
        t->state = SCHED_RUNNING;
        /* The worker starts a task as soon as it reads it (an actor's calls
         * sent ahead wait behind the ones before them). */
        tev_task(r, t, TEV_SUBMITTED_TO_WORKER, 0, NULL);
        tev_task(r, t, TEV_RUNNING, 0, NULL);
        if (t->actor == NULL) {
            w->task = t;
            w->state = WPOOL_BUSY;
        }
        /* A failed send closes the worker's connection: its death handling
         * retries or fails T. */
        raylet_client_send(w->client, &env);
    }
    free(b.args);
    free(b.ptrs);
    free(b.vals);
    free(b.paths);
    if (rc != RAY_OK) {
        if (t->actor == NULL) {
            sched_res_release(r, &t->req);
            sched_gpu_give(r, &t->req, t->gpu_ids, t->ngpus);
            t->ngpus = 0;
            wpool_worker_idle(r, w);
        }
        sched__unpin_args(r, t);
        sched_fail(r, t, rc, msg);
    }
    return rc;
}

/* ---------------------------------------------------------------- submitting */

static sched_task *task_new(raylet_client *cl, Rayc__TaskSpec *spec)
{
    sched_task *t = calloc(1, sizeof *t);
    if (t == NULL)
        return NULL;
    t->spec = spec;
    memcpy(t->id.b, spec->task_id.data, IDS_TASK_LEN);
    t->owner = cl;
    raylet_client_ref(cl);
    t->job = cl->job;
    wpool_job_ref(t->job);
    t->retries_left = spec->max_retries;
    return t;
}

/* Registers T's return objects, owned by T's owner and used by T. */
static int add_returns(raylet *r, sched_task *t)
{
    for (int i = 0; i < t->spec->num_returns; i++) {
        ids_object id = ids_object_for(&t->id, (uint32_t)(i + 1));
        otable_obj *o = otable_add(r, &id, t->owner);
        if (o == NULL)
            return -ENOMEM;
        otable_use(o);
        t->nreturns_used = (uint32_t)(i + 1);
    }
    return 0;
}

/* Registers T's by-reference arguments.  Returns a ray_status (MSG set). */
static int add_deps(raylet *r, sched_task *t, char *msg, size_t msglen)
{
    const Rayc__TaskSpec *s = t->spec;
    size_t n = 0;
    for (size_t i = 0; i < s->n_args; i++)
        n += s->args[i]->object_id.len != 0;
    if (n == 0)
        return RAY_OK;
    t->deps = calloc(n, sizeof *t->deps);
    if (t->deps == NULL)
        return RAY_ERR_NOMEM;
    for (size_t i = 0; i < s->n_args; i++) {
        const ProtobufCBinaryData *b = &s->args[i]->object_id;
        ids_object id;
        if (b->len == 0)
            continue;
        otable_obj *o = ids_from_bytes(id.b, IDS_OBJECT_LEN, b->data, b->len) == 0
                            ? otable_find(r, &id) : NULL;
        if (o == NULL) {
            char hex[2 * IDS_OBJECT_LEN + 1];
            ids_hex(id.b, IDS_OBJECT_LEN, hex);
            snprintf(msg, msglen, "argument %zu (object %s) does not exist on this node: it was "
                     "freed, or its owner exited", i, hex);
            return RAY_ERR_OBJECT_LOST;
        }
        if (o->state == OTABLE_FAILED) {
            snprintf(msg, msglen, "%s", o->error ? o->error : "an argument failed");
            return o->status;
        }
        otable_use(o);
        t->deps[t->ndeps++] = o;
        if (o->state == OTABLE_PENDING) {
            if (otable_wait(o, t) != 0)
                return RAY_ERR_NOMEM;
            t->deps_left++;
        }
    }
    return RAY_OK;
}

int sched__placement(raylet *r, sched_task *t, char *msg, size_t msglen)
{
    const Rayc__TaskSpec *s = t->spec;
    char err[512];
    int rc;
    if (sched_remote_place(r, t, &rc, msg, msglen))
        return rc;
    if (s->strategy == RAY_STRATEGY_NODE_AFFINITY && !s->strategy_soft &&
        strcmp(s->strategy_node, r->opts->node_id) != 0) {
        snprintf(msg, msglen, "%s cannot be scheduled: node affinity to node %.64s, which is not "
                 "this node (tasks run on their submitter's node)", sched__fname(t),
                 s->strategy_node);
        return RAY_ERR_UNSCHEDULABLE;
    }
    rc = sched_res_parse(r, (const Rayc__Resource *const *)s->resources, s->n_resources, &t->req,
                         err, sizeof err);
    if (rc == -EINVAL) {
        snprintf(msg, msglen, "%s cannot be scheduled: %s", sched__fname(t), err);
        return RAY_ERR_INVALID;
    }
    if (rc != 0) {
        snprintf(msg, msglen, "%s", err);
        return SCHED__PARK;
    }
    return RAY_OK;
}

/* Answers a submission that could not even be registered: fails its
 * return ids at the submitter. */
static void refuse(raylet_client *cl, const Rayc__TaskSpec *spec, int status, const char *msg)
{
    int n = spec->num_returns > 0 && spec->num_returns <= 1024 ? spec->num_returns : 0;
    ids_task task;
    Rayc__ObjectResult rets[1024], *ptrs[1024];
    ids_object ids[1024];
    ids_from_bytes(task.b, IDS_TASK_LEN, spec->task_id.data, spec->task_id.len);
    for (int i = 0; i < n; i++) {
        rayc__object_result__init(&rets[i]);
        ids[i] = ids_object_for(&task, (uint32_t)(i + 1));
        rets[i].object_id.data = ids[i].b;
        rets[i].object_id.len = IDS_OBJECT_LEN;
        ptrs[i] = &rets[i];
    }
    Rayc__Envelope env = RAYC__ENVELOPE__INIT;
    Rayc__TaskResult res = RAYC__TASK_RESULT__INIT;
    res.task_id = spec->task_id;
    res.returns = ptrs;
    res.n_returns = (size_t)n;
    res.status = status;
    res.error = (char *)msg;
    env.body_case = RAYC__ENVELOPE__BODY_TASK_RESULT;
    env.task_result = &res;
    raylet_client_send(cl, &env);
}

static int spec_ok(raylet_client *cl, const Rayc__TaskSpec *s, char *msg, size_t msglen)
{
    if (cl->job == NULL) {
        snprintf(msg, msglen, "this connection has not registered as a driver or worker");
        return RAY_ERR_INVALID;
    }
    if (s->task_id.len != IDS_TASK_LEN || s->function == NULL || s->function[0] == '\0' ||
        strlen(s->function) > 512 || (s->name != NULL && strlen(s->name) > 512) ||
        s->num_returns < 0 || s->num_returns > 1024 || s->n_args > 100000 ||
        (s->kind != RAYC__TASK_SPEC__KIND__NORMAL && s->actor_id.len != IDS_ACTOR_LEN)) {
        snprintf(msg, msglen, "a malformed task");
        return RAY_ERR_INVALID;
    }
    return RAY_OK;
}

/* A task sent straight to a leased worker whose connection broke (the
 * worker died, as far as its owner can tell): it runs again while it has
 * retries.  Returns 1 when T was failed. */
static int lost_task(raylet *r, sched_task *t)
{
    char msg[512];
    if (t->spec->max_retries == 0) {
        snprintf(msg, sizeof msg, "task %s failed: the worker it was sent to directly (a lease) "
                 "died while running it; no retries left", sched__fname(t));
        sched_fail(r, t, RAY_ERR_WORKER_CRASHED, msg);
        return 1;
    }
    if (t->retries_left > 0)
        t->retries_left--;
    t->attempt = t->spec->attempt + 1;
    return 0;
}

void sched_on_submit(raylet_client *cl, Rayc__SubmitTask *m)
{
    raylet *r = cl->r;
    char msg[1024];
    if (m->spec == NULL)
        return;
    int rc = spec_ok(cl, m->spec, msg, sizeof msg);
    sched_task *t = rc == RAY_OK ? task_new(cl, m->spec) : NULL;
    if (t == NULL) {
        refuse(cl, m->spec, rc != RAY_OK ? rc : RAY_ERR_NOMEM,
               rc != RAY_OK ? msg : "the raylet is out of memory");
        return;
    }
    m->spec = NULL; /* T owns it now */
    rc = sched__table_add(r->sched, t);
    if (rc != 0) {
        refuse(cl, t->spec, RAY_ERR_INVALID, rc == -EEXIST ? "a task with this id exists"
                                                           : "the raylet is out of memory");
        t->spec_registered = 0;
        sched_task_free(r, t);
        return;
    }
    t->spec_registered = 1;
    tev_task(r, t, TEV_PENDING_ARGS_AVAIL, 0, NULL);
    if (add_returns(r, t) != 0) {
        sched_fail(r, t, RAY_ERR_NOMEM, "the raylet is out of memory");
        return;
    }
    if (t->spec->lost && t->spec->kind == RAYC__TASK_SPEC__KIND__NORMAL && lost_task(r, t))
        return;
    rc = t->spec->kind == RAYC__TASK_SPEC__KIND__ACTOR_TASK
             ? RAY_OK : sched__placement(r, t, msg, sizeof msg);
    int park = rc == SCHED__PARK;
    if (park)
        rc = add_deps(r, t, msg + strlen(msg), sizeof msg - strlen(msg));
    else if (rc == RAY_OK)
        rc = add_deps(r, t, msg, sizeof msg);
    if (rc != RAY_OK) {
        sched_fail(r, t, rc, park ? msg + strlen(msg) : msg);
        return;
    }
    if (park) {
        sched_park(r, t, msg);
        return;
    }
    if (t->spec->kind == RAYC__TASK_SPEC__KIND__ACTOR_TASK)
        actor_on_call(r, t);
    else
        sched__proceed(r, t);
}

void sched__proceed(raylet *r, sched_task *t)
{
    if (t->spec->kind == RAYC__TASK_SPEC__KIND__ACTOR_CREATE) {
        if (!actor_remote_create(r, t))
            actor_on_create(r, t);
    } else if (t->deps_left == 0) {
        if (sched__enqueue(r, t) != 0)
            sched_fail(r, t, RAY_ERR_NOMEM, "the raylet is out of memory");
        else
            sched_dispatch(r);
    }
}

void sched_dep_done(raylet *r, sched_task *t, struct otable_obj *o)
{
    if (t->state != SCHED_WAITING)
        return;
    if (o->state == OTABLE_FAILED) {
        sched_fail(r, t, o->status, o->error);
        return;
    }
    if (t->deps_left > 0 && --t->deps_left > 0)
        return;
    if (t->parked)
        return; /* sched_park_retry moves it on */
    if (t->ractor != NULL) {
        actor_remote_ready(r, t);
    } else if (t->actor != NULL) {
        actor_task_ready(r, t);
    } else if (sched__enqueue(r, t) != 0) {
        sched_fail(r, t, RAY_ERR_NOMEM, "the raylet is out of memory");
    } else {
        sched_dispatch(r);
    }
}

/* ---------------------------------------------------------------- cancel, block */

static void forward_cancel(sched_task *t)
{
    Rayc__Envelope env = RAYC__ENVELOPE__INIT;
    Rayc__CancelTask c = RAYC__CANCEL_TASK__INIT;
    c.task_id.data = t->id.b;
    c.task_id.len = IDS_TASK_LEN;
    env.body_case = RAYC__ENVELOPE__BODY_CANCEL_TASK;
    env.cancel_task = &c;
    if (t->worker != NULL)
        raylet_client_send(t->worker->client, &env);
}

void sched_on_cancel(raylet_client *cl, const Rayc__CancelTask *m)
{
    raylet *r = cl->r;
    ids_task id;
    sched_task *t = ids_from_bytes(id.b, IDS_TASK_LEN, m->task_id.data, m->task_id.len) == 0
                        ? sched_find(r, &id) : NULL;
    if (t == NULL) {
        wpool_lease_cancel(cl, m); /* a task sent straight to a leased worker */
        return;
    }
    if (t->cancel || t->spec->kind == RAYC__TASK_SPEC__KIND__ACTOR_CREATE ||
        t->state == SCHED_FINISHED)
        return;
    t->cancel = 1;
    if (t->state == SCHED_WAITING || t->state == SCHED_QUEUED) {
        if (t->state == SCHED_QUEUED && t->actor == NULL)
            sched__dequeue(r, t);
        sched_fail(r, t, RAY_ERR_CANCELLED, "the task was cancelled before it ran");
        return;
    }
    if (m->force && t->actor == NULL) {
        log_info("cancelling task %s (%s): killing its worker (pid %d)", t->spec->function,
                 t->worker->hex, t->worker->pid);
        wpool_worker_kill(r, t->worker, 1, "its task was cancelled with force");
    } else {
        forward_cancel(t);
    }
}

/* The CPU part of Q: plain CPUs, or a placement group bundle's CPUs
 * ("CPU_group_..."), which a blocked task of the group gives back too. */
static sched_res cpu_part(const sched_res *q, raylet *r)
{
    sched_res c;
    memset(&c, 0, sizeof c);
    for (int i = 0; i < q->n; i++) {
        const char *name = r->total.items[q->idx[i]].name;
        if (strcmp(name, "CPU") == 0 || (strncmp(name, "CPU_group_", 10) == 0 && c.n == 0)) {
            c.idx[0] = q->idx[i];
            c.qty[0] = q->qty[i];
            c.cpu = q->qty[i];
            c.n = 1;
        }
    }
    return c;
}

void sched_on_blocked(raylet_client *cl, const Rayc__WorkerBlocked *m)
{
    raylet *r = cl->r;
    struct wpool_worker *w = cl->worker;
    if (wpool_lease_blocked(r, w, m->blocked))
        return;
    sched_task *t = w ? w->task : NULL;
    if (t == NULL || t->state != SCHED_RUNNING || (m->blocked != 0) == (t->blocked != 0))
        return;
    sched_res cpu = cpu_part(&t->req, r);
    t->blocked = m->blocked != 0;
    if (t->blocked) {
        sched_res_release(r, &cpu);
        sched_dispatch(r);
    } else {
        sched_res_acquire(r, &cpu);
    }
}

void sched__release_running(raylet *r, sched_task *t)
{
    if (t->blocked) {
        sched_res cpu = cpu_part(&t->req, r);
        sched_res_acquire(r, &cpu);
        t->blocked = 0;
    }
    sched_res_release(r, &t->req);
    sched_gpu_give(r, &t->req, t->gpu_ids, t->ngpus);
    t->ngpus = 0;
    sched__unpin_args(r, t);
}
