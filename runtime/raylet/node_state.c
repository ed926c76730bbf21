/* What this node holds, for Ray's state API: the objects of the object
 * table and the whole worker pool (idle, busy, leased, actors' workers and
 * the connected drivers), answered to GetNodeState from the job server. */
#include "raylet/node_state.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/util.h"
#include "raylet/node_owners.h"
#include "raylet/otable.h"
#include "raylet/sched.h"
#include "raylet/wpool.h"

#define NSTATE_MAX_OBJECTS 10000       /* Ray's RAY_MAX_LIMIT_FROM_API_SERVER */

static const char *const worker_states[] = {"STARTING", "IDLE", "BUSY", "ACTOR", "LEASED", "DEAD"};

typedef struct collect {
    raylet *r;
    Rayc__ObjectStateInfo *objs, **objp;
    size_t nobjs, max;
    int64_t total;
    Rayc__WorkerStateInfo *wk, **wkp;
    size_t nwk, maxwk;
} collect;

/* ---------------------------------------------------------------- objects */

/* Ray's TaskStatus of the task that makes O. */
static const char *task_status(raylet *r, const otable_obj *o)
{
    if (o->state == OTABLE_READY)
        return "FINISHED";
    if (o->state == OTABLE_FAILED)
        return "FAILED";
    ids_task tid = ids_object_task(&o->id);
    const sched_task *t = sched_find(r, &tid);
    if (t == NULL)
        return "NIL";
    return t->worker != NULL ? "RUNNING" : "PENDING_NODE_ASSIGNMENT";
}

static void owner_of(const otable_obj *o, Rayc__ObjectStateInfo *m)
{
    raylet_client *cl = o->owner;
    m->owner_type = "WORKER";
    if (cl == NULL || !raylet_client_alive(cl))
        return;
    if (cl->kind == RAYLET_CLIENT_DRIVER) {
        m->owner_type = "DRIVER";
        m->pid = cl->pid;
    } else if (cl->worker != NULL) {
        m->pid = cl->worker->pid;
    }
    if (cl->job != NULL) {
        m->job_id.data = cl->job->id.b;
        m->job_id.len = IDS_JOB_LEN;
    }
}

static void add_object(otable_obj *o, void *arg)
{
    collect *c = arg;
    c->total++;
    if (c->nobjs == c->max)
        return;
    Rayc__ObjectStateInfo *m = &c->objs[c->nobjs];
    rayc__object_state_info__init(m);
    m->object_id.data = o->id.b;
    m->object_id.len = IDS_OBJECT_LEN;
    if (o->state == OTABLE_PENDING)
        m->object_size = -1;
    else
        m->object_size = o->in_store ? (int64_t)o->size : (int64_t)o->len;
    m->task_status = (char *)task_status(c->r, o);
    m->reference_type = o->uses > 0 ? "USED_BY_PENDING_TASK" : "LOCAL_REFERENCE";
    owner_of(o, m);
    c->objp[c->nobjs++] = m;
}

/* ---------------------------------------------------------------- workers */

static int64_t wall_ms_of(int64_t mono_ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    return now - (time_mono_ms() - mono_ms);
}

static Rayc__WorkerStateInfo *next_worker(collect *c)
{
    if (c->nwk == c->maxwk) {
        size_t n = c->maxwk ? c->maxwk * 2 : 64;
        Rayc__WorkerStateInfo *wk = realloc(c->wk, n * sizeof *wk);
        if (wk == NULL)
            return NULL;
        c->wk = wk;
        c->maxwk = n;
    }
    Rayc__WorkerStateInfo *m = &c->wk[c->nwk++];
    rayc__worker_state_info__init(m);
    return m;
}

static void add_worker(wpool_worker *w, void *arg)
{
    collect *c = arg;
    if (w->orphan)
        return;
    Rayc__WorkerStateInfo *m = next_worker(c);
    if (m == NULL)
        return;
    m->worker_id.data = w->id.b;
    m->worker_id.len = IDS_WORKER_LEN;
    m->is_alive = w->state != WPOOL_DEAD;
    m->worker_type = "WORKER";
    m->state = (char *)worker_states[w->state >= 0 && w->state <= WPOOL_DEAD ? w->state : 0];
    m->pid = w->pid;
    if (w->job != NULL) {
        m->job_id.data = w->job->id.b;
        m->job_id.len = IDS_JOB_LEN;
    }
    m->start_time_ms = wall_ms_of(w->started_ms);
    if (!m->is_alive) {
        m->exit_type = w->stopping ? "INTENDED_SYSTEM_EXIT" : "SYSTEM_ERROR";
        m->exit_detail = w->death;
    }
}

static void add_drivers(collect *c)
{
    for (raylet_client *cl = c->r->clients; cl != NULL; cl = cl->next) {
        if (cl->kind != RAYLET_CLIENT_DRIVER || cl->is_peer)
            continue;
        Rayc__WorkerStateInfo *m = next_worker(c);
        if (m == NULL)
            return;
        m->is_alive = 1;
        m->worker_type = "DRIVER";
        m->state = "BUSY";
        m->pid = cl->pid;
        if (cl->job != NULL) {
            m->job_id.data = cl->job->id.b;
            m->job_id.len = IDS_JOB_LEN;
        }
    }
}

/* ---------------------------------------------------------------- request */

/* Appends the owners' objects to C's, within C's limit. */
static void add_owned(collect *c, Rayc__OwnedObjectsReply **replies, size_t nreplies)
{
    for (size_t i = 0; i < nreplies; i++) {
        c->total += replies[i]->total;
        for (size_t k = 0; k < replies[i]->n_objects && c->nobjs < c->max; k++)
            c->objp[c->nobjs++] = replies[i]->objects[k];
    }
}

/* The answer, once the owners answered or timed out (node_owners.c). */
static void answer(raylet_client *cl, uint64_t req_id, int32_t limit,
                   Rayc__OwnedObjectsReply **replies, size_t nreplies, char **warnings,
                   size_t nwarnings)
{
    raylet *r = cl->r;
    if (!raylet_client_alive(cl))
        return;
    collect c = {.r = r};
    c.max = limit > 0 && limit < NSTATE_MAX_OBJECTS ? (size_t)limit : NSTATE_MAX_OBJECTS;
    size_t owned = 0;
    for (size_t i = 0; i < nreplies; i++)
        owned += replies[i]->n_objects;
    size_t n = otable_count(r) + owned < c.max ? otable_count(r) + owned : c.max;
    c.objs = calloc(n + 1, sizeof *c.objs);
    c.objp = calloc(n + 1, sizeof *c.objp);
    if (c.objs == NULL || c.objp == NULL) {
        rpc_conn_send_error(cl->conn, req_id, RPC_E_INVALID, "the raylet is out of memory");
        goto out;
    }
    c.max = n;
    otable_foreach(r, add_object, &c);
    add_owned(&c, replies, nreplies);
    wpool_foreach_worker(r, add_worker, &c);
    add_drivers(&c);
    c.wkp = calloc(c.nwk + 1, sizeof *c.wkp);
    for (size_t i = 0; c.wkp != NULL && i < c.nwk; i++)
        c.wkp[i] = &c.wk[i];
    Rayc__NodeStateReply rep = RAYC__NODE_STATE_REPLY__INIT;
    rep.objects = c.objp;
    rep.n_objects = c.nobjs;
    rep.workers = c.wkp;
    rep.n_workers = c.wkp ? c.nwk : 0;
    rep.total_objects = c.total;
    rep.warnings = warnings;
    rep.n_warnings = nwarnings;
    Rayc__Envelope env = RAYC__ENVELOPE__INIT;
    env.request_id = req_id;
    env.body_case = RAYC__ENVELOPE__BODY_NODE_STATE_REPLY;
    env.node_state_reply = &rep;
    rpc_conn_send(cl->conn, &env);
out:
    free(c.objs);
    free(c.objp);
    free(c.wk);
    free(c.wkp);
}

void nstate_on_get(raylet_client *cl, uint64_t req_id, const Rayc__GetNodeState *req)
{
    if (req->no_owned_objects)
        answer(cl, req_id, req->limit, NULL, 0, NULL, 0);
    else if (nowners_ask(cl, req_id, req->limit, answer) != 0)
        rpc_conn_send_error(cl->conn, req_id, RPC_E_INVALID, "the raylet is out of memory");
}
