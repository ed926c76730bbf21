/* The scheduler's back half: results, failures, retries, worker deaths,
 * job ends, and the demand report. */
#include "raylet/sched.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "raylet/actor.h"
#include "raylet/actor_remote.h"
#include "raylet/otable.h"
#include "raylet/pgroup.h"
#include "raylet/sched_int.h"
#include "raylet/sched_remote.h"
#include "raylet/tev.h"
#include "raylet/wpool.h"

const char *sched__fname(const sched_task *t)
{
    return t->spec->function;
}

/* ---------------------------------------------------------------- freeing */

void sched__unpin_args(raylet *r, sched_task *t)
{
    for (uint32_t i = 0; i < t->npinned; i++)
        if (t->deps[i]->in_store && t->deps[i]->state == OTABLE_READY)
            otable_unpin_for_task(r, &t->deps[i]->id);
    t->npinned = 0;
}

static void drop_returns(raylet *r, sched_task *t)
{
    for (uint32_t i = 0; i < t->nreturns_used; i++) {
        ids_object id = ids_object_for(&t->id, i + 1);
        otable_obj *o = otable_find(r, &id);
        if (o != NULL)
            otable_unuse(r, o);
    }
    t->nreturns_used = 0;
}

void sched_task_free(raylet *r, sched_task *t)
{
    if (t->spec_registered)
        sched__table_del(r->sched, t);
    t->state = SCHED_FINISHED;
    sched_park_unlink(r, t);
    actor_remote_unlink(r, t);
    if (t->actor != NULL && t->spec->kind == RAYC__TASK_SPEC__KIND__ACTOR_TASK)
        actor_unqueue(r, t);
    if (t->cls != NULL)
        sched__dequeue(r, t);
    for (uint32_t i = 0; i < t->ndeps; i++) {
        otable_unwait(t->deps[i], t);
        otable_unuse(r, t->deps[i]);
    }
    drop_returns(r, t);
    raylet_client_unref(t->owner);
    wpool_job_unref(t->job);
    free(t->deps);
    rayc__task_spec__free_unpacked(t->spec, NULL);
    free(t);
}

/* ---------------------------------------------------------------- results */

/* Records return I of T from V (a successful TaskDone). */
static int record_return(raylet *r, sched_task *t, uint32_t i, const Rayc__Value *v)
{
    ids_object id = ids_object_for(&t->id, i + 1);
    otable_obj *o = otable_find(r, &id);
    if (o == NULL)
        return 0; /* released and freed already: nobody wants it */
    if (v == NULL)
        return otable_set_inline(r, o, RAY_NIL, NULL, 0);
    if (!v->in_store)
        return otable_set_inline(r, o, v->type, v->data.data, v->data.len);
    if (!o->store_sealed) {
        otable_set_failed(r, o, RAY_ERR_OBJECT_LOST, "the task's return value was not sealed");
        return -EPROTO;
    }
    otable_set_store(r, o, v->type, o->size);
    return 0;
}

void sched__push_result(raylet *r, sched_task *t, int status, const char *msg,
                        const Rayc__TaskDone *done)
{
    if (t->remote == SCHED_FORWARDED)
        ;   /* counted by the node that ran it */
    else if (status == RAY_OK)
        r->sched->nfinished++;
    else
        r->sched->nfailed++;
    uint32_t n = (uint32_t)t->spec->num_returns;
    tev_task(r, t, status == RAY_OK ? TEV_FINISHED : TEV_FAILED, status, msg);
    Rayc__ObjectResult *rets = calloc(n + 1, sizeof *rets);
    Rayc__ObjectResult **ptrs = calloc(n + 1, sizeof *ptrs);
    ids_object *ids = calloc(n + 1, sizeof *ids);
    Rayc__Value nil = RAYC__VALUE__INIT;
    for (uint32_t i = 0; rets && ptrs && ids && i < n; i++) {
        rayc__object_result__init(&rets[i]);
        ids[i] = ids_object_for(&t->id, i + 1);
        rets[i].object_id.data = ids[i].b;
        rets[i].object_id.len = IDS_OBJECT_LEN;
        ptrs[i] = &rets[i];
        otable_obj *o = otable_find(r, &ids[i]);
        if (status != RAY_OK) {
            if (o != NULL)
                otable_set_failed(r, o, status, msg);
            continue;
        }
        const Rayc__Value *v = done && i < done->n_returns ? done->returns[i] : NULL;
        record_return(r, t, i, v);
        rets[i].value = v ? (Rayc__Value *)v : &nil;
    }
    Rayc__Envelope env = RAYC__ENVELOPE__INIT;
    Rayc__TaskResult res = RAYC__TASK_RESULT__INIT;
    res.task_id.data = t->id.b;
    res.task_id.len = IDS_TASK_LEN;
    res.returns = ptrs;
    res.n_returns = ptrs && rets && ids ? n : 0;
    res.status = status;
    res.error = (char *)(msg ? msg : "");
    env.body_case = RAYC__ENVELOPE__BODY_TASK_RESULT;
    env.task_result = &res;
    raylet_client_send(t->owner, &env);
    free(rets);
    free(ptrs);
    free(ids);
    t->results_sent = 1;
    drop_returns(r, t);
}

void sched_complete(raylet *r, sched_task *t, const Rayc__TaskDone *done)
{
    sched__push_result(r, t, RAY_OK, NULL, done);
    sched_task_free(r, t);
}

void sched_fail(raylet *r, sched_task *t, int status, const char *msg)
{
    if (t->state == SCHED_QUEUED && t->actor == NULL && t->cls != NULL)
        sched__dequeue(r, t);
    /* Store objects a failed attempt created for the returns go. */
    for (uint32_t i = 0; i < t->nreturns_used; i++) {
        ids_object id = ids_object_for(&t->id, i + 1);
        otable_obj *o = otable_find(r, &id);
        if (o != NULL && o->state == OTABLE_PENDING)
            otable_drop_store(r, o);
    }
    if (t->actor != NULL && t->spec->kind == RAYC__TASK_SPEC__KIND__ACTOR_CREATE &&
        t->actor->create == t) {
        sched__push_result(r, t, status, msg, NULL); /* the actor keeps T */
        return;
    }
    sched__push_result(r, t, status, msg, NULL);
    sched_task_free(r, t);
}

/* ---------------------------------------------------------------- retries */

void sched__retry(raylet *r, sched_task *t, const char *why)
{
    if (t->retries_left > 0)
        t->retries_left--;
    tev_task(r, t, TEV_FAILED, RAY_ERR_WORKER_CRASHED, why);
    t->attempt++;
    t->worker = NULL;
    for (uint32_t i = 0; i < t->nreturns_used; i++) {
        ids_object id = ids_object_for(&t->id, i + 1);
        otable_obj *o = otable_find(r, &id);
        if (o != NULL)
            otable_drop_store(r, o);
    }
    log_info("retrying task %s (attempt %d, %d retries left): %s", sched__fname(t), t->attempt,
             t->retries_left, why);
    if (sched__enqueue(r, t) != 0)
        sched_fail(r, t, RAY_ERR_NOMEM, "the raylet is out of memory");
    else
        sched_dispatch(r);
}

void sched_worker_died(raylet *r, sched_task *t, const char *why)
{
    char msg[1024];
    struct wpool_worker *w = t->worker;
    sched__release_running(r, t);
    if (w != NULL)
        w->task = NULL;
    t->worker = NULL;
    if (t->cancel) {
        sched_fail(r, t, RAY_ERR_CANCELLED, "the task was cancelled (its worker was killed)");
        return;
    }
    if (t->pg_removed) {
        char hex[2 * IDS_PG_LEN + 1] = "?";
        ids_pg g;
        if (pgroup_of_spec(t->spec, &g))
            ids_hex(g.b, IDS_PG_LEN, hex);
        snprintf(msg, sizeof msg, "task %s failed: its placement group %s was removed (its "
                 "worker, pid %d on node %s, was killed)", sched__fname(t), hex, w ? w->pid : 0,
                 r->opts->node_ip);
        sched_fail(r, t, RAY_ERR_WORKER_CRASHED, msg);
        sched_dispatch(r);
        return;
    }
    if (t->retries_left != 0 && wpool_job_active(t->job) &&
        raylet_client_alive(t->owner)) {
        sched__retry(r, t, why);
        return;
    }
    snprintf(msg, sizeof msg, "task %s failed: its worker (pid %d on node %s) died: %s%s",
             sched__fname(t), w ? w->pid : 0, r->opts->node_ip, why,
             t->spec->max_retries != 0 ? "; no retries left" : "");
    sched_fail(r, t, RAY_ERR_WORKER_CRASHED, msg);
    sched_dispatch(r);
}

/* ---------------------------------------------------------------- TaskDone */

static void normal_done(raylet *r, sched_task *t, const Rayc__TaskDone *m)
{
    struct wpool_worker *w = t->worker;
    /* A lease keeps the task's resources: only its pins go. */
    int lent = m->status == RAY_OK && wpool_lease_grant(r, t, w);
    if (lent)
        sched__unpin_args(r, t);
    else
        sched__release_running(r, t);
    t->worker = NULL;
    w->task = NULL;
    if (lent) {
        sched_complete(r, t, m);
        return;
    }
    if (t->cancel) {
        sched_fail(r, t, RAY_ERR_CANCELLED, "the task was cancelled while it ran");
    } else if (m->status == RAY_OK) {
        sched_complete(r, t, m);
    } else if (m->status == RAY_ERR_TASK && t->spec->retry_exceptions && t->retries_left != 0 &&
               raylet_client_alive(t->owner)) {
        wpool_worker_idle(r, w);
        sched__retry(r, t, m->error ? m->error : "the task failed");
        return;
    } else {
        sched_fail(r, t, m->status, m->error);
    }
    wpool_worker_idle(r, w);
}

void sched_on_done(raylet_client *cl, const Rayc__TaskDone *m)
{
    raylet *r = cl->r;
    struct wpool_worker *w = cl->worker;
    ids_task id;
    sched_task *t = w != NULL && ids_from_bytes(id.b, IDS_TASK_LEN, m->task_id.data,
                                                m->task_id.len) == 0
                        ? sched_find(r, &id) : NULL;
    if (t == NULL || t->worker != w || t->state != SCHED_RUNNING) {
        log_warn("worker %s reported a task it was not running", w ? w->hex : "?");
        return;
    }
    if (t->actor != NULL)
        actor_task_done(r, t, m);
    else
        normal_done(r, t, m);
}

/* ---------------------------------------------------------------- job end */

void sched_job_gone(raylet *r, struct wpool_job *job)
{
    size_t n = 0, k = 0;
    sched_task **list = sched__task_list(r->sched, &n);
    if (list == NULL)
        return;
    for (size_t i = 0; i < n; i++) {
        sched_task *t = list[i];
        if (t->job == job && (t->state == SCHED_WAITING || t->state == SCHED_QUEUED) &&
            !(t->actor && t->actor->create == t))
            list[k++] = t;
    }
    for (size_t i = 0; i < k; i++)
        sched_fail(r, list[i], RAY_ERR_OWNER_DIED, "the job's driver exited");
    free(list);
}

/* ---------------------------------------------------------------- demands */

int sched_demands(raylet *r, Rayc__ResourceDemand ***demands, size_t *n)
{
    sched *s = r->sched;
    size_t k = 0;
    *demands = NULL;
    *n = 0;
    for (sched_class *c = s->classes; c != NULL; c = c->next)
        k += c->len > 0 && !sched_res_fits(r, &c->req);
    size_t parked = s->nparked < 64 ? s->nparked : 64;
    if (k + parked == 0)
        return 0;
    Rayc__ResourceDemand **d = calloc(k + parked, sizeof *d);
    if (d == NULL)
        return -ENOMEM;
    size_t i = 0;
    for (sched_class *c = s->classes; c != NULL && i < k; c = c->next) {
        if (c->len == 0 || sched_res_fits(r, &c->req))
            continue;
        Rayc__ResourceDemand *x = calloc(1, sizeof *x);
        Rayc__ResourceDemand__ShapeEntry **e = calloc(c->req.n + 1, sizeof *e);
        Rayc__ResourceDemand__ShapeEntry *es = calloc(c->req.n + 1, sizeof *es);
        if (x == NULL || e == NULL || es == NULL) {
            free(x), free(e), free(es);
            break;
        }
        rayc__resource_demand__init(x);
        for (int j = 0; j < c->req.n; j++) {
            rayc__resource_demand__shape_entry__init(&es[j]);
            es[j].key = r->total.items[c->req.idx[j]].name;
            es[j].value = c->req.qty[j];
            e[j] = &es[j];
        }
        x->shape = e;
        x->n_shape = c->req.n;
        x->count = (int32_t)c->len;
        d[i++] = x;
    }
    i = sched_park_demands(r, d, i, k + parked);
    *demands = d;
    *n = i;
    return 0;
}

void sched_demands_clear(Rayc__ResourceDemand **demands, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (demands[i]->n_shape > 0)
            free(demands[i]->shape[0]);
        free(demands[i]->shape);
        free(demands[i]);
    }
    free(demands);
}

/* ---------------------------------------------------------------- open / close */

int sched_open(raylet *r)
{
    sched *s = calloc(1, sizeof *s);
    if (s == NULL)
        return -ENOMEM;
    s->ngpus_total = -1;
    r->sched = s;
    return 0;
}

void sched_close(raylet *r)
{
    sched *s = r->sched;
    if (s == NULL)
        return;
    htab_iter it;
    for (htab_node *e = htab_first(&s->tasks, &it); e != NULL; e = htab_next(&it)) {
        sched_task *t = htab_entry(e, sched_task, link);
        htab_unlink(&s->tasks, e);
        t->spec_registered = 0;
        t->ndeps = 0; /* the object table is freed whole */
        t->nreturns_used = 0;
        t->cls = NULL;
        t->actor = NULL;
        raylet_client_unref(t->owner);
        free(t->deps);
        rayc__task_spec__free_unpacked(t->spec, NULL);
        free(t);
    }
    while (s->classes != NULL) {
        sched_class *c = s->classes;
        s->classes = c->next;
        free(c);
    }
    htab_free(&s->tasks);
    free(s);
    r->sched = NULL;
}
