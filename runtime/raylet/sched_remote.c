/* Scheduling across nodes: choosing a node, forwarding, remote results. */
#include "raylet/sched_remote.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/net.h"
#include "common/util.h"
#include "raylet/cluster_view.h"
#include "raylet/actor_remote.h"
#include "raylet/objmgr.h"
#include "raylet/otable.h"
#include "raylet/peer.h"
#include "raylet/pgroup.h"
#include "raylet/raylet_cluster.h"
#include "raylet/sched_int.h"
#include "raylet/wpool.h"

/* Most arguments of a forwarded task that are pulled by the receiver. */
#define SR_MAX_FETCH 4096

/* A task running on another node for us. */
typedef struct fwd {
    ids_task id;
    peer *p;
    char node[64];
    double cpu;
    int must;                      /* it could not run here (SCHED_MUST_FORWARD) */
    struct fwd *next;
} fwd;

typedef struct sched_remote {
    fwd *fwds;
} sched_remote;

static sched_remote *sr_of(raylet *r)
{
    return raylet_cluster_of(r)->sr;
}

/* ---------------------------------------------------------------- feasibility */

static double spec_cpu(const Rayc__TaskSpec *s)
{
    for (size_t i = 0; i < s->n_resources; i++)
        if (strcmp(s->resources[i]->name, "CPU") == 0)
            return s->resources[i]->qty;
    return 0;
}

/* True when N could ever run S (its totals cover the request). */
static int feasible(const cview_node *n, const Rayc__TaskSpec *s)
{
    if (!n->alive)
        return 0;
    for (size_t i = 0; i < s->n_resources; i++)
        if (!res_fits(cview_total(n, s->resources[i]->name), s->resources[i]->qty))
            return 0;
    return 1;
}

/* True when N has S's resources free now (as far as the view knows). */
static int has_room(const cview_node *n, const Rayc__TaskSpec *s)
{
    for (size_t i = 0; i < s->n_resources; i++)
        if (!res_fits(cview_avail(n, s->resources[i]->name), s->resources[i]->qty))
            return 0;
    return 1;
}

/* Share of N's CPUs in use. */
static double load_of(const cview_node *n)
{
    double tot = cview_total(n, "CPU");
    return tot > 0 ? 1.0 - cview_avail(n, "CPU") / tot : 1.0;
}

/* Share of this node's CPUs in use or asked for by queued tasks. */
static double local_load(raylet *r)
{
    double tot = 0, avail = 0, queued = 0;
    res_map_get(&r->total, "CPU", &tot);
    res_map_get(&r->available, "CPU", &avail);
    for (sched_class *c = r->sched->classes; c != NULL; c = c->next)
        queued += c->req.cpu * (double)c->len;
    return tot > 0 ? (tot - avail + queued) / tot : 1.0;
}

/* ---------------------------------------------------------------- placement groups
 *
 * A task of a placement group asks for the group's resources, which exist
 * only once its bundles are committed, and other raylets learn of them
 * only with the next view refresh.  Until some node shows the bundle's
 * marker resource, the task waits with the infeasible ones (sched_park.c,
 * quietly) rather than failing; the group's removal fails it. */

/* The bundle marker S asks for ("bundle_group_..."), or NULL. */
static const char *marker_of(const Rayc__TaskSpec *s)
{
    if (s->placement_group_id.len == 0)
        return NULL;
    for (size_t i = 0; i < s->n_resources; i++)
        if (strncmp(s->resources[i]->name, "bundle_group_", 13) == 0)
            return s->resources[i]->name;
    return NULL;
}

/* True when S is a placement group's task and no node (this one included)
 * shows its bundle yet. */
static int group_unseen(raylet *r, const Rayc__TaskSpec *s)
{
    const char *m = marker_of(s);
    double q = 0;
    if (m == NULL || res_map_get(&r->total, m, &q) == 0)
        return 0;
    cview *v = raylet_cluster_of(r)->view;
    for (size_t i = 0; v != NULL && i < v->n; i++)
        if (v->nodes[i].alive && cview_total(&v->nodes[i], m) > 0)
            return 0;
    return 1;
}


/* ---------------------------------------------------------------- choosing */

/* The least-loaded other node that could run S (with room now when ROOM). */
static cview_node *least_loaded(raylet *r, const Rayc__TaskSpec *s, int room)
{
    cview *v = raylet_cluster_of(r)->view;
    cview_node *best = NULL;
    for (size_t i = 0; v != NULL && i < v->n; i++) {
        cview_node *n = &v->nodes[i];
        if (n->self || !feasible(n, s) || (room && !has_room(n, s)))
            continue;
        if (best == NULL || load_of(n) < load_of(best))
            best = n;
    }
    return best;
}

/* SPREAD: the next feasible alive node after the last one used (maybe us). */
static cview_node *next_spread(raylet *r, const Rayc__TaskSpec *s)
{
    cview *v = raylet_cluster_of(r)->view;
    for (size_t k = 0; v != NULL && k < v->n; k++) {
        cview_node *n = &v->nodes[v->rr++ % v->n];
        if (feasible(n, s))
            return n;
    }
    return NULL;
}

/* The placement rules tasks and actors share: node affinity, a task that
 * cannot run here, SPREAD.  Sets *DECIDED and returns the node (NULL: here)
 * when one applies. */
static cview_node *choose_common(raylet *r, sched_task *t, int *decided)
{
    const Rayc__TaskSpec *s = t->spec;
    cview *v = raylet_cluster_of(r)->view;
    *decided = 1;
    if (v == NULL || v->n < 2)
        return NULL;
    if (s->strategy == RAY_STRATEGY_NODE_AFFINITY && s->strategy_node != NULL) {
        cview_node *n = cview_find(r, s->strategy_node);
        if (n != NULL && n->alive && feasible(n, s))
            return n->self ? NULL : n;
    }
    if (t->remote == SCHED_MUST_FORWARD) {
        cview_node *n = least_loaded(r, s, 1);
        return n ? n : least_loaded(r, s, 0);
    }
    if (s->strategy == RAY_STRATEGY_SPREAD) {
        cview_node *n = next_spread(r, s);
        return n == NULL || n->self ? NULL : n;
    }
    *decided = 0;
    return NULL;
}

/* Where T should run: NULL for here. */
static cview_node *choose(raylet *r, sched_task *t)
{
    int decided;
    cview_node *n = choose_common(r, t, &decided);
    if (decided)
        return n;
    if (local_load(r) < SCHED_REMOTE_SPILL_LOAD)
        return NULL;
    n = least_loaded(r, t->spec, 1);
    return n != NULL && load_of(n) < local_load(r) ? n : NULL;
}

int sched_remote_place(raylet *r, sched_task *t, int *rc, char *msg, size_t msglen)
{
    const Rayc__TaskSpec *s = t->spec;
    char err[256];
    if (s->strategy == RAY_STRATEGY_NODE_AFFINITY && s->strategy_node != NULL &&
        strcmp(s->strategy_node, r->opts->node_id) != 0) {
        cview_node *n = cview_find(r, s->strategy_node);
        if (n != NULL && n->alive && feasible(n, s)) {
            t->remote = SCHED_MUST_FORWARD;
            *rc = RAY_OK;
            return 1;
        }
        if (s->strategy_soft)
            return 0;
        snprintf(msg, msglen, "%s cannot be scheduled: node affinity to node %.64s, which %s",
                 sched__fname(t), s->strategy_node,
                 n == NULL ? "is not in the cluster" : n->alive ? "lacks its resources"
                                                            : "is dead");
        *rc = RAY_ERR_UNSCHEDULABLE;
        return 1;
    }
    sched_res probe;
    if (sched_res_parse(r, (const Rayc__Resource *const *)s->resources, s->n_resources, &probe,
                        err, sizeof err) == 0)
        return 0;
    if (least_loaded(r, s, 0) == NULL && !group_unseen(r, s))
        return 0; /* infeasible everywhere: the local error stands */
    t->remote = SCHED_MUST_FORWARD;
    *rc = RAY_OK;
    return 1;
}

/* ---------------------------------------------------------------- forwarding */

static void result_cb(raylet *r, peer *p, Rayc__Envelope *msg);

/* Fills ARGS (N entries) with T's arguments for another node. */
static int forward_args(raylet *r, sched_task *t, Rayc__TaskArg *args, Rayc__TaskArg **ptrs,
                        Rayc__Value *vals, char *holder)
{
    const Rayc__TaskSpec *s = t->spec;
    uint32_t d = 0;
    for (size_t i = 0; i < s->n_args; i++) {
        args[i] = *s->args[i];
        ptrs[i] = &args[i];
        if (s->args[i]->object_id.len == 0 || d >= t->ndeps)
            continue;
        otable_obj *o = t->deps[d++];
        if (o->state != OTABLE_READY)
            return -EAGAIN;
        if (o->in_store) {
            args[i].holder = holder;
            continue;
        }
        rayc__value__init(&vals[i]);
        vals[i].type = o->type;
        vals[i].data.data = o->data;
        vals[i].data.len = o->len;
        args[i].value = &vals[i];
        args[i].object_id.len = 0;
        args[i].object_id.data = NULL;
    }
    return 0;
}

/* Sends S with the argument list ARGS to P, pinned to node NODE_ID: the
 * receiver runs it itself (were it to pass the task on, it could come back
 * here, where its id is taken by our record). */
static int submit_pinned(peer *p, const Rayc__TaskSpec *s, Rayc__TaskArg **args,
                         const char *node_id)
{
    Rayc__TaskSpec spec = *s;
    spec.args = args;
    spec.strategy = RAY_STRATEGY_NODE_AFFINITY;
    spec.strategy_node = (char *)node_id;
    spec.strategy_soft = 0;
    spec.want_lease = 0;
    Rayc__Envelope env = RAYC__ENVELOPE__INIT;
    Rayc__SubmitTask sub = RAYC__SUBMIT_TASK__INIT;
    sub.spec = &spec;
    env.body_case = RAYC__ENVELOPE__BODY_SUBMIT_TASK;
    env.submit_task = &sub;
    return peer_send(p, &env);
}

/* "ip:port" of this raylet, where other nodes pull our objects from. */
static void holder_of(raylet *r, char *out, size_t outlen)
{
    snprintf(out, outlen, "%s:%d", r->opts->node_ip, r->node_manager_port);
}

static int send_task(raylet *r, sched_task *t, peer *p, const char *node_id)
{
    const Rayc__TaskSpec *s = t->spec;
    char holder[96];
    holder_of(r, holder, sizeof holder);
    Rayc__TaskArg *args = calloc(s->n_args + 1, sizeof *args);
    Rayc__TaskArg **ptrs = calloc(s->n_args + 1, sizeof *ptrs);
    Rayc__Value *vals = calloc(s->n_args + 1, sizeof *vals);
    int rc = args && ptrs && vals ? forward_args(r, t, args, ptrs, vals, holder) : -ENOMEM;
    if (rc == 0)
        rc = submit_pinned(p, s, ptrs, node_id);
    free(args);
    free(ptrs);
    free(vals);
    return rc;
}

cview_node *sched_remote_pick(raylet *r, const Rayc__TaskSpec *s)
{
    cview_node *n = least_loaded(r, s, 1);
    return n ? n : least_loaded(r, s, 0);
}

cview_node *sched_remote_choose_actor(raylet *r, sched_task *t)
{
    int decided;
    cview_node *n = choose_common(r, t, &decided);
    if (decided)
        return n;
    /* DEFAULT: here while it fits here now, else a node with room. */
    if (sched_res_fits(r, &t->req))
        return NULL;
    return least_loaded(r, t->spec, 1);
}

int sched_remote_forward(raylet *r, sched_task *t, cview_node *n)
{
    fwd *f = calloc(1, sizeof *f);
    peer *p = f ? peer_get(r, n->ip, n->port, t->job) : NULL;
    if (p == NULL || send_task(r, t, p, n->id) != 0) {
        free(f);
        return -ECONNRESET;
    }
    p->on_push = result_cb;
    f->id = t->id;
    f->p = p;
    f->cpu = spec_cpu(t->spec);
    f->must = t->remote == SCHED_MUST_FORWARD;
    str_copy(f->node, sizeof f->node, n->id);
    f->next = sr_of(r)->fwds;
    sr_of(r)->fwds = f;
    cview_charge(n, f->cpu);
    t->remote = SCHED_FORWARDED;
    t->state = SCHED_QUEUED;
    t->cls = NULL;
    log_debug("task %s forwarded to node %s at %s:%d", sched__fname(t), n->id, n->ip, n->port);
    return 0;
}

int sched_remote_send_spec(raylet *r, const Rayc__TaskSpec *s, cview_node *n,
                           struct wpool_job *job)
{
    char holder[96];
    holder_of(r, holder, sizeof holder);
    peer *p = peer_get(r, n->ip, n->port, job);
    Rayc__TaskArg *args = calloc(s->n_args + 1, sizeof *args);
    Rayc__TaskArg **ptrs = calloc(s->n_args + 1, sizeof *ptrs);
    int rc = p != NULL && args != NULL && ptrs != NULL ? 0 : -ENOMEM;
    for (size_t i = 0; rc == 0 && i < s->n_args; i++) {
        args[i] = *s->args[i];
        ptrs[i] = &args[i];
        if (args[i].object_id.len != 0 && (args[i].holder == NULL || args[i].holder[0] == '\0'))
            args[i].holder = holder;
    }
    if (rc == 0) {
        p->on_push = result_cb;
        rc = submit_pinned(p, s, ptrs, n->id);
    }
    free(args);
    free(ptrs);
    return rc;
}

int sched_remote_take(raylet *r, sched_task *t)
{
    if (t->actor != NULL || t->spec->kind != RAYC__TASK_SPEC__KIND__NORMAL)
        return 0;
    cview_node *n = choose(r, t);
    if (n == NULL) {
        if (t->remote != SCHED_MUST_FORWARD)
            return 0;
        if (group_unseen(r, t->spec)) {
            /* Its bundle is committed, but no view shows it yet: it waits
             * with the infeasible tasks and is placed on the next refresh;
             * a group removed meanwhile fails it. */
            sched_park(r, t, "no node shows its placement group bundle yet");
            ids_pg g;
            if (pgroup_of_spec(t->spec, &g))
                pgroup_check_exists(r, &g);
            return 1;
        }
        sched_fail(r, t, RAY_ERR_UNSCHEDULABLE, "no alive node can run the task any more");
        return 1;
    }
    if (sched_remote_forward(r, t, n) != 0)
        sched_fail(r, t, RAY_ERR_NODE_DIED, "cannot forward the task to its node");
    return 1;
}

/* ---------------------------------------------------------------- results */

/* Takes the record of forwarded task ID off the list (caller frees). */
static fwd *take_fwd(raylet *r, const ids_task *id)
{
    for (fwd **pp = &sr_of(r)->fwds; *pp != NULL; pp = &(*pp)->next) {
        if (ids_task_eq(&(*pp)->id, id)) {
            fwd *f = *pp;
            *pp = f->next;
            return f;
        }
    }
    return NULL;
}

/* A result whose store returns are being pulled here. */
typedef struct collect {
    ids_task id;
    Rayc__TaskResult *res;         /* owned copy */
    int left;
    int status;
    int lost;                      /* a return could not be copied here */
    int must;                      /* the task could not run on this node */
    char msg[512];
    char ip[64];
    int port;
    ids_job job;
} collect;

static void release_remote(raylet *r, collect *c)
{
    wpool_job *job = wpool_job_find(r, &c->job);
    peer *p = job ? peer_get(r, c->ip, c->port, job) : NULL;
    ProtobufCBinaryData *ids = calloc(c->res->n_returns + 1, sizeof *ids);
    if (p == NULL || ids == NULL) {
        free(ids);
        return;
    }
    size_t n = 0;
    for (size_t i = 0; i < c->res->n_returns; i++)
        if (c->res->returns[i]->value && c->res->returns[i]->value->in_store)
            ids[n++] = c->res->returns[i]->object_id;
    Rayc__Envelope env = RAYC__ENVELOPE__INIT;
    Rayc__ReleaseObjects rel = RAYC__RELEASE_OBJECTS__INIT;
    rel.object_ids = ids;
    rel.n_object_ids = n;
    env.body_case = RAYC__ENVELOPE__BODY_RELEASE_OBJECTS;
    env.release_objects = &rel;
    peer_send(p, &env);
    free(ids);
}

static void finish_collect(raylet *r, collect *c)
{
    sched_task *t = sched_find(r, &c->id);
    if (t != NULL && t->ractor != NULL && t->spec->kind == RAYC__TASK_SPEC__KIND__ACTOR_CREATE)
        actor_remote_created(r, t, c->status, c->msg);
    if (t != NULL && t->remote == SCHED_FORWARDED && c->lost && t->retries_left != 0 &&
        t->ractor == NULL && raylet_client_alive(t->owner)) {
        /* Lineage: the only copy of a return value was on the node that ran
         * the task and went away before it was copied here; run it again. */
        log_warn("task %s: %s; re-running it to rebuild its return values", sched__fname(t),
                 c->msg);
        t->remote = c->must ? SCHED_MUST_FORWARD : SCHED_LOCAL;
        sched__retry(r, t, "its return value was lost with the node that made it");
    } else if (t != NULL && t->remote == SCHED_FORWARDED && c->status != RAY_OK) {
        sched_fail(r, t, c->status, c->msg);
    } else if (t != NULL && t->remote == SCHED_FORWARDED) {
        Rayc__TaskDone done = RAYC__TASK_DONE__INIT;
        Rayc__Value **vals = calloc(c->res->n_returns + 1, sizeof *vals);
        for (size_t i = 0; vals != NULL && i < c->res->n_returns; i++)
            vals[i] = c->res->returns[i]->value;
        done.returns = vals;
        done.n_returns = vals ? c->res->n_returns : 0;
        sched_complete(r, t, &done);
        free(vals);
    }
    release_remote(r, c);
    rayc__task_result__free_unpacked(c->res, NULL);
    free(c);
}

static void pulled_cb(raylet *r, const ids_object *id, int status, const char *msg, void *data)
{
    collect *c = data;
    (void)id;
    if (status != RAY_OK && c->status == RAY_OK) {
        c->status = status;
        c->lost = 1;
        snprintf(c->msg, sizeof c->msg, "%s", msg ? msg : "a return value was lost");
    }
    if (--c->left == 0)
        finish_collect(r, c);
}

static collect *collect_new(peer *p, const Rayc__TaskResult *res)
{
    collect *c = calloc(1, sizeof *c);
    size_t n = rayc__task_result__get_packed_size(res);
    uint8_t *buf = malloc(n ? n : 1);
    if (c != NULL && buf != NULL) {
        rayc__task_result__pack(res, buf);
        c->res = rayc__task_result__unpack(NULL, n, buf);
    }
    free(buf);
    if (c == NULL || c->res == NULL) {
        free(c);
        return NULL;
    }
    memcpy(c->id.b, res->task_id.data, IDS_TASK_LEN);
    str_copy(c->ip, sizeof c->ip, p->ip);
    c->port = p->port;
    c->job = p->job;
    c->status = RAY_OK;
    return c;
}

/* Pulls the store returns of C from its node; finishes C at the end. */
static void collect_start(raylet *r, collect *c)
{
    c->left = 1;
    for (size_t i = 0; i < c->res->n_returns; i++) {
        Rayc__Value *v = c->res->returns[i]->value;
        ids_object oid;
        if (v == NULL || !v->in_store ||
            ids_from_bytes(oid.b, IDS_OBJECT_LEN, c->res->returns[i]->object_id.data,
                           c->res->returns[i]->object_id.len) != 0)
            continue;
        if (v->path != NULL && v->path != protobuf_c_empty_string) {
            free(v->path); /* a location on the other node */
            v->path = (char *)protobuf_c_empty_string;
        }
        c->left++;
        if (objmgr_pull(r, &oid, c->ip, c->port, pulled_cb, c) != 0)
            pulled_cb(r, &oid, RAY_ERR_NOMEM, "the raylet is out of memory", c);
    }
    pulled_cb(r, NULL, RAY_OK, NULL, c);
}

static void result_cb(raylet *r, peer *p, Rayc__Envelope *msg)
{
    if (msg->body_case != RAYC__ENVELOPE__BODY_TASK_RESULT)
        return;
    const Rayc__TaskResult *res = msg->task_result;
    ids_task id;
    if (ids_from_bytes(id.b, IDS_TASK_LEN, res->task_id.data, res->task_id.len) != 0)
        return;
    if (actor_remote_on_result(r, &id, res))
        return; /* an actor restarted on another node */
    fwd *f = take_fwd(r, &id);
    int must = f != NULL && f->must;
    free(f);
    collect *c = collect_new(p, res);
    if (c == NULL)
        return;
    c->must = must;
    if (res->status != RAY_OK) {
        c->status = res->status;
        snprintf(c->msg, sizeof c->msg, "%s", res->error ? res->error : "the task failed");
        finish_collect(r, c);
        return;
    }
    collect_start(r, c);
}

/* ---------------------------------------------------------------- peer loss */

void sched_remote_peer_closed(raylet *r, peer *p, const char *reason);

void sched_remote_peer_closed(raylet *r, peer *p, const char *reason)
{
    char msg[512];
    for (fwd **pp = &sr_of(r)->fwds; *pp != NULL;) {
        fwd *f = *pp;
        if (f->p != p) {
            pp = &f->next;
            continue;
        }
        *pp = f->next;
        sched_task *t = sched_find(r, &f->id);
        if (t != NULL && t->remote == SCHED_FORWARDED && t->ractor != NULL) {
            actor_remote_lost(r, t, f->node, reason);
        } else if (t != NULL && t->remote == SCHED_FORWARDED) {
            t->remote = f->must ? SCHED_MUST_FORWARD : SCHED_LOCAL;
            if (t->retries_left != 0 && raylet_client_alive(t->owner)) {
                sched__retry(r, t, "the node running it went away");
            } else {
                snprintf(msg, sizeof msg, "task %s failed: node %s running it went away (%s)",
                         sched__fname(t), f->node, reason);
                sched_fail(r, t, RAY_ERR_NODE_DIED, msg);
            }
        }
        free(f);
    }
    actor_remote_peer_closed(r, p, reason);
}

/* ---------------------------------------------------------------- arguments */

static int parse_holder(const char *s, char *ip, size_t iplen, int *port)
{
    return net_parse_hostport(s, -1, ip, iplen, port);
}

static void arg_pulled_cb(raylet *r, const ids_object *id, int status, const char *msg,
                          void *data)
{
    (void)data;
    if (status == RAY_OK || id == NULL)
        return;
    otable_obj *o = otable_find(r, id);
    if (o != NULL && o->state == OTABLE_PENDING)
        otable_set_failed(r, o, status, msg);
}

void sched_remote_on_submit(raylet_client *cl, Rayc__SubmitTask *m)
{
    raylet *r = cl->r;
    otable_obj **made = NULL;
    size_t n = 0;
    const Rayc__TaskSpec *s = m->spec;
    for (size_t i = 0; s != NULL && i < s->n_args && i < SR_MAX_FETCH; i++) {
        const Rayc__TaskArg *a = s->args[i];
        char ip[64];
        int port;
        ids_object id;
        if (a->holder == NULL || a->holder[0] == '\0' ||
            ids_from_bytes(id.b, IDS_OBJECT_LEN, a->object_id.data, a->object_id.len) != 0 ||
            otable_find(r, &id) != NULL || parse_holder(a->holder, ip, sizeof ip, &port) != 0)
            continue;
        if (made == NULL && (made = calloc(s->n_args, sizeof *made)) == NULL)
            break;
        otable_obj *o = otable_add(r, &id, cl);
        if (o == NULL)
            break;
        made[n++] = o;
        otable_use(o); /* kept until the task took its own use */
        if (objmgr_pull(r, &id, ip, port, arg_pulled_cb, NULL) != 0)
            otable_set_failed(r, o, RAY_ERR_NOMEM, "the raylet is out of memory");
    }
    sched_on_submit(cl, m);
    for (size_t i = 0; i < n; i++) {
        otable_release(r, made[i]);
        otable_unuse(r, made[i]);
    }
    free(made);
}

/* ---------------------------------------------------------------- open / free */

int sched_remote_open(raylet *r)
{
    sched_remote *sr = calloc(1, sizeof *sr);
    if (sr == NULL)
        return -ENOMEM;
    raylet_cluster_of(r)->sr = sr;
    return 0;
}

void sched_remote_free(raylet *r)
{
    sched_remote *sr = sr_of(r);
    if (sr == NULL)
        return;
    while (sr->fwds != NULL) {
        fwd *f = sr->fwds;
        sr->fwds = f->next;
        free(f);
    }
    free(sr);
    raylet_cluster_of(r)->sr = NULL;
}
