/* Actors on other nodes: placement, call forwarding, restarts elsewhere. */
#include "raylet/actor_remote.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/htab.h"
#include "common/log.h"
#include "common/util.h"
#include "raylet/actor.h"
#include "raylet/cluster_view.h"
#include "raylet/peer.h"
#include "raylet/raylet_cluster.h"
#include "raylet/sched_int.h"
#include "raylet/sched_remote.h"
#include "raylet/tev.h"
#include "raylet/wpool.h"

enum ractor_state { RACTOR_CREATING, RACTOR_ALIVE, RACTOR_RESTARTING, RACTOR_LOCATING,
                    RACTOR_DEAD };

typedef struct ractor {
    ids_actor id;
    char hex[2 * IDS_ACTOR_LEN + 1];
    int state;
    int owner;                     /* created from here: restarts are ours */
    char node[64], ip[64];
    int port;
    struct wpool_job *job;         /* referenced */
    Rayc__TaskSpec *spec;          /* owner: the creation spec, for restarts */
    ids_task create_id;
    int restarts_left;             /* -1: unlimited */
    int max_task_retries;
    int num_restarts;
    int creation_sent;             /* owner: calls may follow the creation now */
    int tries;                     /* LOCATING: lookups so far */
    int64_t lookup_at_ms;          /* LOCATING: next lookup (0: one is in flight) */
    char *death_reason;
    int64_t dead_at_ms;            /* monotonic; DEAD records go RACTOR_KEEP_DEAD_MS later */
    size_t ntasks;                 /* tasks whose ractor is this record */
    sched_task *head, *tail;       /* calls not forwarded yet, in order */
    struct kill_op *kills;         /* LOCATING: kills sent once it is found */
    uint64_t next_seq;
    struct ractor *next;           /* every record */
    htab_node link;                /* in ractor_table.index, by id */
} ractor;

static void timer_cb(uv_timer_t *h);
static void kills_send(raylet *r, ractor *a);
static void kills_fail(ractor *a, const char *reason);

typedef struct ractor_table {
    ractor *all;
    htab index;                    /* calls look their actor up on every submission */
    uv_timer_t timer;              /* lookups of LOCATING records */
    int timer_on;
} ractor_table;

static ractor_table *table_of(raylet *r)
{
    raylet_cluster *c = raylet_cluster_of(r);
    if (c->ra == NULL && !r->closing && (c->ra = calloc(1, sizeof *c->ra)) != NULL) {
        uv_timer_init(r->loop, &c->ra->timer);
        c->ra->timer.data = r;
        c->ra->timer_on = 1;
        uv_timer_start(&c->ra->timer, timer_cb, RACTOR_LOOKUP_RETRY_MS / 4,
                       RACTOR_LOOKUP_RETRY_MS / 4);
    }
    return c->ra;
}

static int ractor_eq(const htab_node *link, const void *id)
{
    return memcmp(htab_entry(link, ractor, link)->id.b, id, IDS_ACTOR_LEN) == 0;
}

static ractor *find(raylet *r, const ids_actor *id)
{
    ractor_table *tb = table_of(r);
    htab_node *link = tb ? htab_find(&tb->index, ids_hash(id->b, IDS_ACTOR_LEN), id->b, ractor_eq)
                         : NULL;
    return link ? htab_entry(link, ractor, link) : NULL;
}

static ractor *ractor_new(raylet *r, const ids_actor *id, struct wpool_job *job)
{
    ractor_table *tb = table_of(r);
    ractor *a = tb ? calloc(1, sizeof *a) : NULL;
    if (a == NULL || htab_insert(&tb->index, &a->link, ids_hash(id->b, IDS_ACTOR_LEN)) != 0) {
        free(a);
        return NULL;
    }
    a->id = *id;
    ids_hex(id->b, IDS_ACTOR_LEN, a->hex);
    a->job = job;
    wpool_job_ref(job);
    a->next = tb->all;
    tb->all = a;
    return a;
}

static void set_node(ractor *a, const cview_node *n)
{
    str_copy(a->node, sizeof a->node, n->id);
    str_copy(a->ip, sizeof a->ip, n->ip);
    a->port = n->port;
}

/* A view entry for A's node (the view's own, or a stand-in). */
static cview_node *node_of(raylet *r, ractor *a, cview_node *tmp)
{
    cview_node *n = cview_find(r, a->node);
    if (n != NULL)
        return n;
    memset(tmp, 0, sizeof *tmp);
    str_copy(tmp->id, sizeof tmp->id, a->node);
    str_copy(tmp->ip, sizeof tmp->ip, a->ip);
    tmp->port = a->port;
    tmp->alive = 1;
    return tmp;
}

/* T refers to A (a call queued or in flight, or its creation). */
static void attach(sched_task *t, ractor *a)
{
    t->ractor = a;
    a->ntasks++;
}

static void detach(sched_task *t)
{
    if (t->ractor != NULL)
        t->ractor->ntasks--;
    t->ractor = NULL;
}

/* ---------------------------------------------------------------- queue */

static void queue_insert(ractor *a, sched_task *t)
{
    sched_task *after = a->tail;
    while (after != NULL && after->ractor_seq > t->ractor_seq)
        after = after->prev;
    t->prev = after;
    t->next = after ? after->next : a->head;
    if (t->next != NULL)
        t->next->prev = t;
    else
        a->tail = t;
    if (after != NULL)
        after->next = t;
    else
        a->head = t;
    t->in_ractor_queue = 1;
}

static void queue_del(ractor *a, sched_task *t)
{
    if (!t->in_ractor_queue)
        return;
    if (t->prev != NULL)
        t->prev->next = t->next;
    else
        a->head = t->next;
    if (t->next != NULL)
        t->next->prev = t->prev;
    else
        a->tail = t->prev;
    t->prev = t->next = NULL;
    t->in_ractor_queue = 0;
}

static void fail_call(raylet *r, sched_task *t, int status, const char *msg)
{
    ractor *a = t->ractor;
    if (a != NULL)
        queue_del(a, t);
    detach(t);
    sched_fail(r, t, status, msg);
}

static void kv_call(raylet *r, int body, const ids_actor *id, const char *node,
                    raylet_gcs_cb cb, void *data);
static void ignore_cb(raylet *r, Rayc__Envelope *reply, void *data);

/* Marks A dead (REASON) and fails its queued calls. */
static void ractor_die(raylet *r, ractor *a, const char *reason)
{
    if (a->state == RACTOR_DEAD)
        return;
    a->state = RACTOR_DEAD;
    a->dead_at_ms = time_mono_ms();
    free(a->death_reason);
    a->death_reason = strdup(reason);
    log_info("actor %s on node %s is dead: %s", a->hex, a->node, reason);
    if (a->owner) { /* its node may be gone without withdrawing it */
        kv_call(r, RAYC__ENVELOPE__BODY_KV_DEL, &a->id, NULL, ignore_cb, NULL);
        tev_actor_remote(r, a->id.b, a->spec, TEV_DEAD, a->num_restarts, reason);
    }
    while (a->head != NULL)
        fail_call(r, a->head, RAY_ERR_ACTOR_DIED, a->death_reason ? a->death_reason : reason);
    kills_fail(a, a->death_reason ? a->death_reason : reason);
}

/* Forwards A's queued calls whose arguments are ready, in order. */
static void pump(raylet *r, ractor *a)
{
    cview_node tmp;
    while (a->head != NULL && a->head->deps_left == 0 &&
           (a->owner ? a->creation_sent && a->state != RACTOR_DEAD
                     : a->state == RACTOR_ALIVE)) {
        sched_task *t = a->head;
        queue_del(a, t);
        if (sched_remote_forward(r, t, node_of(r, a, &tmp)) != 0) {
            char msg[600];
            snprintf(msg, sizeof msg, "actor %s: cannot reach its node %s at %s:%d", a->hex,
                     a->node, a->ip, a->port);
            detach(t);
            sched_fail(r, t, RAY_ERR_ACTOR_DIED, msg);
        }
    }
}

/* ---------------------------------------------------------------- creation */

static Rayc__TaskSpec *spec_copy(const Rayc__TaskSpec *s)
{
    size_t n = rayc__task_spec__get_packed_size(s);
    uint8_t *buf = malloc(n ? n : 1);
    Rayc__TaskSpec *c = NULL;
    if (buf != NULL) {
        rayc__task_spec__pack(s, buf);
        c = rayc__task_spec__unpack(NULL, n, buf);
    }
    free(buf);
    return c;
}

static int int_opt(int v, int dflt)
{
    return v < -1 ? dflt : v;
}

int actor_remote_create(raylet *r, sched_task *t)
{
    cview_node *n = sched_remote_choose_actor(r, t);
    if (n == NULL && t->remote == SCHED_MUST_FORWARD) {
        /* It cannot run here and no node shows room for it right now (a
         * placement group's bundle not seen yet, say): it waits. */
        t->remote = SCHED_LOCAL;
        sched_park(r, t, "no node shows its resources right now");
        return 1;
    }
    if (n == NULL)
        return 0;
    ids_actor id;
    memcpy(id.b, t->spec->actor_id.data, IDS_ACTOR_LEN);
    ractor *a = find(r, &id) == NULL ? ractor_new(r, &id, t->job) : NULL;
    Rayc__TaskSpec *copy = a ? spec_copy(t->spec) : NULL;
    if (copy == NULL) {
        sched_fail(r, t, RAY_ERR_NOMEM, "the raylet is out of memory (or the actor id is taken)");
        return 1;
    }
    const Rayc__ActorOptions *o = t->spec->actor;
    a->owner = 1;
    a->spec = copy;
    a->create_id = t->id;
    a->restarts_left = o ? int_opt(o->max_restarts, 0) : 0;
    a->max_task_retries = o ? int_opt(o->max_task_retries, 0) : 0;
    a->state = RACTOR_CREATING;
    set_node(a, n);
    attach(t, a);
    log_info("actor %s (%s) goes to node %s at %s:%d", a->hex, t->spec->function, n->id, n->ip,
             n->port);
    if (t->deps_left == 0)
        actor_remote_ready(r, t);
    return 1;
}

/* Restarts A (owner side) on another node after its node died. */
static void restart(raylet *r, ractor *a, const char *why)
{
    char msg[800];
    cview_node *n = a->restarts_left != 0 ? sched_remote_pick(r, a->spec) : NULL;
    if (n == NULL) {
        snprintf(msg, sizeof msg, "actor %s (%s) died: its node %s %s; %s", a->hex,
                 a->spec ? a->spec->function : "?", a->node, why,
                 a->restarts_left == 0 ? "max_restarts is used up"
                                       : "no other node can run it");
        ractor_die(r, a, msg);
        return;
    }
    if (a->restarts_left > 0)
        a->restarts_left--;
    a->num_restarts++;
    log_warn("actor %s (%s): its node %s %s; restarting it on node %s at %s:%d (restart %d)",
             a->hex, a->spec->function, a->node, why, n->id, n->ip, n->port, a->num_restarts);
    set_node(a, n);
    a->state = RACTOR_RESTARTING;
    tev_actor_remote(r, a->id.b, a->spec, TEV_RESTARTING, a->num_restarts, NULL);
    a->creation_sent = 1;
    a->spec->attempt = a->num_restarts;
    if (sched_remote_send_spec(r, a->spec, n, a->job) != 0) {
        snprintf(msg, sizeof msg, "actor %s: cannot reach node %s to restart it", a->hex, n->id);
        ractor_die(r, a, msg);
        return;
    }
    pump(r, a);
}

void actor_remote_ready(raylet *r, sched_task *t)
{
    ractor *a = t->ractor;
    if (t->spec->kind != RAYC__TASK_SPEC__KIND__ACTOR_CREATE) {
        pump(r, a);
        return;
    }
    cview_node tmp, *n = node_of(r, a, &tmp);
    if (!n->alive || sched_remote_forward(r, t, n) != 0) {
        cview_node *other = sched_remote_pick(r, t->spec);
        if (other == NULL || sched_remote_forward(r, t, other) != 0) {
            char msg[600];
            snprintf(msg, sizeof msg, "actor %s (%s) could not be created: no alive node can "
                     "run it", a->hex, t->spec->function);
            detach(t);
            ractor_die(r, a, msg);
            sched_fail(r, t, RAY_ERR_ACTOR_DIED, msg);
            return;
        }
        set_node(a, other);
    }
    a->creation_sent = 1;
    pump(r, a);
}

void actor_remote_created(raylet *r, sched_task *t, int status, const char *msg)
{
    ractor *a = t->ractor;
    detach(t);
    if (a == NULL)
        return;
    if (status != RAY_OK) {
        ractor_die(r, a, msg ? msg : "its creation failed");
        return;
    }
    if (a->state == RACTOR_CREATING)
        a->state = RACTOR_ALIVE;
    pump(r, a);
}

int actor_remote_on_result(raylet *r, const ids_task *id, const Rayc__TaskResult *res)
{
    if (sched_find(r, id) != NULL)
        return 0;
    ractor_table *tb = table_of(r);
    for (ractor *a = tb ? tb->all : NULL; a != NULL; a = a->next) {
        if (!a->owner || a->state != RACTOR_RESTARTING || !ids_task_eq(&a->create_id, id))
            continue;
        if (res->status != RAY_OK) {
            char msg[1200];
            snprintf(msg, sizeof msg, "actor %s could not restart on node %s: %s", a->hex,
                     a->node, res->error ? res->error : "its constructor failed");
            ractor_die(r, a, msg);
        } else {
            a->state = RACTOR_ALIVE;
            log_info("actor %s restarted on node %s", a->hex, a->node);
            pump(r, a);
        }
        return 1;
    }
    return 0;
}

/* ---------------------------------------------------------------- calls */

static void lookup_start(raylet *r, ractor *a);

/* The record of actor ID for a call or kill of JOB: a record that died
 * with the job that made it (a detached actor outlives that job) or none
 * at all is looked up again in the GCS.  NULL when out of memory. */
static ractor *locate(raylet *r, const ids_actor *id, struct wpool_job *job)
{
    ractor *a = find(r, id);
    if (a != NULL && a->state == RACTOR_DEAD && a->job == NULL) {
        a->job = job;
        wpool_job_ref(a->job);
        a->owner = 0;
        a->tries = 0;
        a->state = RACTOR_LOCATING;
        lookup_start(r, a);
    }
    if (a == NULL) {
        if ((a = ractor_new(r, id, job)) == NULL)
            return NULL;
        a->state = RACTOR_LOCATING;
        lookup_start(r, a);
    }
    return a;
}

int actor_remote_call(raylet *r, sched_task *t)
{
    ids_actor id;
    memcpy(id.b, t->spec->actor_id.data, IDS_ACTOR_LEN);
    ractor *a = locate(r, &id, t->job);
    if (a == NULL)
        return 0;
    if (a->state == RACTOR_DEAD) {
        sched_fail(r, t, RAY_ERR_ACTOR_DIED, a->death_reason ? a->death_reason
                                                            : "the actor is dead");
        return 1;
    }
    attach(t, a);
    t->retries_left = a->max_task_retries;
    t->ractor_seq = ++a->next_seq;
    t->state = t->deps_left == 0 ? SCHED_QUEUED : SCHED_WAITING;
    queue_insert(a, t);
    pump(r, a);
    return 1;
}

void actor_remote_lost(raylet *r, sched_task *t, const char *node, const char *reason)
{
    ractor *a = t->ractor;
    char msg[900];
    t->remote = SCHED_LOCAL;
    if (t->spec->kind == RAYC__TASK_SPEC__KIND__ACTOR_CREATE) {
        /* The creation itself was lost: place it again. */
        if (a->restarts_left != 0) {
            cview_node *n = sched_remote_pick(r, t->spec);
            if (n != NULL && sched_remote_forward(r, t, n) == 0) {
                log_warn("actor %s: node %s went away during its creation (%s); creating it on "
                         "node %s", a->hex, node, reason, n->id);
                set_node(a, n);
                if (a->restarts_left > 0)
                    a->restarts_left--;
                a->num_restarts++;
                pump(r, a);
                return;
            }
        }
        snprintf(msg, sizeof msg, "actor %s (%s) could not be created: node %s went away (%s)",
                 a->hex, t->spec->function, node, reason);
        detach(t);
        ractor_die(r, a, msg);
        sched_fail(r, t, RAY_ERR_ACTOR_DIED, msg);
        return;
    }
    int restarts = a->owner ? a->restarts_left != 0 : 1;
    if (restarts && t->retries_left != 0 && a->state != RACTOR_DEAD) {
        if (t->retries_left > 0)
            t->retries_left--;
        t->attempt++;
        t->state = SCHED_QUEUED;
        queue_insert(a, t);
        return;
    }
    snprintf(msg, sizeof msg, "actor %s died while running %s: its node %s went away (%s)%s",
             a->hex, t->spec->function, node, reason,
             restarts ? "; max_task_retries is used up" : "");
    fail_call(r, t, RAY_ERR_ACTOR_DIED, msg);
}

void actor_remote_peer_closed(raylet *r, struct peer *p, const char *reason)
{
    ractor_table *tb = table_of(r);
    for (ractor *a = tb ? tb->all : NULL; a != NULL; a = a->next) {
        if (a->state == RACTOR_DEAD || a->state == RACTOR_LOCATING || a->port != p->port ||
            strcmp(a->ip, p->ip) != 0 || !p->has_job || a->job == NULL ||
            memcmp(p->job.b, a->job->id.b, IDS_JOB_LEN) != 0)
            continue;
        if (p->closed_here) {
            ractor_die(r, a, "its job ended");
            continue;
        }
        if (a->owner && a->state != RACTOR_CREATING) {
            char why[400];
            snprintf(why, sizeof why, "went away (%s)", reason);
            restart(r, a, why);
        } else if (!a->owner) {
            a->state = RACTOR_LOCATING; /* its owner restarts it somewhere */
            a->tries = 0;
            a->lookup_at_ms = time_mono_ms() + RACTOR_LOOKUP_RETRY_MS;
        }
    }
}

void actor_remote_unlink(raylet *r, sched_task *t)
{
    (void)r;
    if (t->ractor != NULL)
        queue_del(t->ractor, t);
    detach(t);
}

/* ---------------------------------------------------------------- locations */

static void kv_call(raylet *r, int body, const ids_actor *id, const char *node,
                    raylet_gcs_cb cb, void *data)
{
    Rayc__Envelope env = RAYC__ENVELOPE__INIT;
    Rayc__KvPut put = RAYC__KV_PUT__INIT;
    Rayc__KvGet get = RAYC__KV_GET__INIT;
    Rayc__KvDel del = RAYC__KV_DEL__INIT;
    ProtobufCBinaryData key = {IDS_ACTOR_LEN, (uint8_t *)id->b};
    env.body_case = body;
    if (body == RAYC__ENVELOPE__BODY_KV_PUT) {
        put.ns = RACTOR_LOC_NS;
        put.key = key;
        put.value.data = (uint8_t *)node;
        put.value.len = strlen(node);
        put.overwrite = 1;
        env.kv_put = &put;
    } else if (body == RAYC__ENVELOPE__BODY_KV_GET) {
        get.ns = RACTOR_LOC_NS;
        get.key = key;
        env.kv_get = &get;
    } else {
        del.ns = RACTOR_LOC_NS;
        del.key = key;
        env.kv_del = &del;
    }
    raylet_gcs_call(r, &env, cb, data);
}

static void ignore_cb(raylet *r, Rayc__Envelope *reply, void *data)
{
    (void)r, (void)reply, (void)data;
}

void actor_remote_announce(raylet *r, const struct actor *a)
{
    if (r->gcs.state == RAYLET_GCS_REGISTERED)
        kv_call(r, RAYC__ENVELOPE__BODY_KV_PUT, &a->id, r->opts->node_id, ignore_cb, NULL);
}

void actor_remote_withdraw(raylet *r, const struct actor *a)
{
    if (r->gcs.state == RAYLET_GCS_REGISTERED && !r->stopping)
        kv_call(r, RAYC__ENVELOPE__BODY_KV_DEL, &a->id, NULL, ignore_cb, NULL);
}

static void lookup_cb(raylet *r, Rayc__Envelope *reply, void *data)
{
    ids_actor *id = data;
    ractor *a = find(r, id);
    free(id);
    if (a == NULL || a->state != RACTOR_LOCATING)
        return;
    char node[64] = "";
    int found = reply != NULL && reply->body_case == RAYC__ENVELOPE__BODY_KV_GET_REPLY &&
                reply->kv_get_reply->found && reply->kv_get_reply->value.len < sizeof node;
    if (found)
        memcpy(node, reply->kv_get_reply->value.data, reply->kv_get_reply->value.len);
    cview_node *n = found ? cview_find(r, node) : NULL;
    if (n != NULL && n->alive && !n->self) {
        set_node(a, n);
        a->state = RACTOR_ALIVE;
        pump(r, a);
        kills_send(r, a);
        return;
    }
    if (++a->tries >= (found ? RACTOR_LOOKUP_TRIES : 3)) {
        char msg[600];
        snprintf(msg, sizeof msg, "actor %s %s", a->hex,
                 !found ? "does not exist (no node runs it)"
                        : "is on a node that is not alive, and it did not come back");
        ractor_die(r, a, msg);
        return;
    }
    a->lookup_at_ms = time_mono_ms() + RACTOR_LOOKUP_RETRY_MS;
}

static void lookup_start(raylet *r, ractor *a)
{
    ids_actor *id = malloc(sizeof *id);
    if (id == NULL)
        return;
    *id = a->id;
    a->lookup_at_ms = 0;
    kv_call(r, RAYC__ENVELOPE__BODY_KV_GET, &a->id, NULL, lookup_cb, id);
}

static void ractor_free(ractor *a);

/* Looks up LOCATING records that are due, and frees DEAD ones that no task
 * refers to any more and whose death is old enough: until then a call to
 * them fails at once with the reason. */
static void timer_cb(uv_timer_t *h)
{
    raylet *r = h->data;
    ractor_table *tb = raylet_cluster_of(r)->ra;
    int64_t now = time_mono_ms();
    for (ractor **pp = tb ? &tb->all : NULL; pp != NULL && *pp != NULL;) {
        ractor *a = *pp;
        if (a->state == RACTOR_LOCATING && a->lookup_at_ms != 0 && a->lookup_at_ms <= now)
            lookup_start(r, a);
        if (a->state == RACTOR_DEAD && a->ntasks == 0 && now - a->dead_at_ms > RACTOR_KEEP_DEAD_MS) {
            *pp = a->next;
            htab_unlink(&tb->index, &a->link);
            ractor_free(a);
            continue;
        }
        pp = &a->next;
    }
}

/* ---------------------------------------------------------------- kill */

typedef struct kill_op {
    raylet_client *cl;
    uint64_t req_id;
    int no_restart;
    struct kill_op *next;          /* in the ractor's kills */
} kill_op;

static void kill_reply(kill_op *op, int status, const char *error)
{
    Rayc__Envelope env = RAYC__ENVELOPE__INIT;
    Rayc__KillActorReply rep = RAYC__KILL_ACTOR_REPLY__INIT;
    rep.status = status;
    rep.error = (char *)(error != NULL ? error : "");
    env.request_id = op->req_id;
    env.body_case = RAYC__ENVELOPE__BODY_KILL_ACTOR_REPLY;
    env.kill_actor_reply = &rep;
    raylet_client_send(op->cl, &env);
    raylet_client_unref(op->cl);
    free(op);
}

static void kill_cb(raylet *r, peer *p, Rayc__Envelope *reply, void *data)
{
    (void)r, (void)p;
    if (reply != NULL && reply->body_case == RAYC__ENVELOPE__BODY_KILL_ACTOR_REPLY)
        kill_reply(data, reply->kill_actor_reply->status, reply->kill_actor_reply->error);
    else
        kill_reply(data, RAY_ERR_NOT_FOUND, "the actor's node did not answer");
}

/* Sends OP's kill to the node that runs A, over the connection that
 * belongs to no job: a kill needs none, and the killer's job may have
 * ended there already (a detached actor's job ends with its driver, and
 * the actor lives on: that node refuses a connection for the job). */
static void kill_send(raylet *r, ractor *a, kill_op *op)
{
    peer *p = peer_get(r, a->ip, a->port, NULL);
    if (p == NULL) {
        kill_reply(op, RAY_ERR_NOT_FOUND, "the actor's node cannot be reached");
        return;
    }
    Rayc__KillActor m = RAYC__KILL_ACTOR__INIT;
    m.actor_id.data = a->id.b;
    m.actor_id.len = IDS_ACTOR_LEN;
    m.no_restart = op->no_restart;
    Rayc__Envelope env = RAYC__ENVELOPE__INIT;
    env.body_case = RAYC__ENVELOPE__BODY_KILL_ACTOR;
    env.kill_actor = &m;
    peer_call(p, &env, kill_cb, op);
}

static void kills_send(raylet *r, ractor *a)
{
    while (a->kills != NULL) {
        kill_op *op = a->kills;
        a->kills = op->next;
        kill_send(r, a, op);
    }
}

static void kills_fail(ractor *a, const char *reason)
{
    while (a->kills != NULL) {
        kill_op *op = a->kills;
        a->kills = op->next;
        kill_reply(op, RAY_ERR_NOT_FOUND, reason);
    }
}

int actor_remote_kill(raylet_client *cl, uint64_t req_id, const Rayc__KillActor *m)
{
    raylet *r = cl->r;
    ids_actor id;
    if (ids_from_bytes(id.b, IDS_ACTOR_LEN, m->actor_id.data, m->actor_id.len) != 0)
        return 0;
    /* An actor this raylet never called (its handle came from the GCS, or
     * from a process on another node), or one last called by a job that
     * has ended, is looked up first, as for a call. */
    ractor *a = cl->job != NULL ? locate(r, &id, cl->job) : find(r, &id);
    if (a == NULL || a->state == RACTOR_DEAD || a->job == NULL)
        return 0;
    kill_op *op = calloc(1, sizeof *op);
    if (op == NULL)
        return 0;
    if (m->no_restart)
        a->restarts_left = 0;
    op->cl = cl;
    raylet_client_ref(cl);
    op->req_id = req_id;
    op->no_restart = m->no_restart;
    if (a->state == RACTOR_LOCATING) {
        op->next = a->kills;
        a->kills = op;
        return 1;
    }
    kill_send(r, a, op);
    return 1;
}

/* ---------------------------------------------------------------- lifetime */

static void ractor_free(ractor *a)
{
    kills_fail(a, "the actor's job ended");
    if (a->job != NULL)
        wpool_job_unref(a->job);
    if (a->spec != NULL)
        rayc__task_spec__free_unpacked(a->spec, NULL);
    free(a->death_reason);
    free(a);
}

void actor_remote_job_gone(raylet *r, struct wpool_job *job)
{
    ractor_table *tb = raylet_cluster_of(r)->ra;
    for (ractor **pp = tb ? &tb->all : NULL; pp != NULL && *pp != NULL;) {
        ractor *a = *pp;
        if (a->job != job || a->job == NULL) {
            pp = &a->next;
            continue;
        }
        /* Calls forwarded before may still point here: the record stays
         * (dead, without its job) until teardown.  A detached actor
         * outlives its job: only this record ends (a later call or kill
         * looks the actor up again), so its location stays in the GCS and
         * no death is reported. */
        if (a->spec != NULL && a->spec->actor != NULL && a->spec->actor->detached)
            a->owner = 0;
        ractor_die(r, a, "its job ended");
        wpool_job_unref(a->job);
        a->job = NULL;
        pp = &a->next;
    }
}

void actor_remote_close(raylet *r)
{
    ractor_table *tb = raylet_cluster_of(r)->ra;
    if (tb != NULL && tb->timer_on)
        raylet_close_handle((uv_handle_t *)&tb->timer);
}

void actor_remote_free(raylet *r)
{
    ractor_table *tb = raylet_cluster_of(r)->ra;
    if (tb == NULL)
        return;
    while (tb->all != NULL) {
        ractor *a = tb->all;
        tb->all = a->next;
        ractor_free(a);
    }
    htab_free(&tb->index);
    free(tb);
    raylet_cluster_of(r)->ra = NULL;
}
