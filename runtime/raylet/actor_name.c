/* Named actors: names live in the GCS internal KV (namespace "actor_names",
 * key "<namespace>\0<name>", value a packed ActorName), so that a name is
 * unique in its namespace across the cluster and any process can look it
 * up.  The local table is asked first.  When the GCS cannot be reached, a
 * name is kept locally only (logged). */
#include "raylet/actor.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "raylet/actor_int.h"
#include "raylet/wpool.h"

#define NAMES_NS "actor_names"

typedef struct name_key {
    uint8_t buf[600];
    size_t len;
} name_key;

static void make_key(name_key *k, const char *ns, const char *name)
{
    int n = snprintf((char *)k->buf, sizeof k->buf, "%.250s", ns);
    k->buf[n] = '\0';
    int m = snprintf((char *)k->buf + n + 1, sizeof k->buf - (size_t)n - 1, "%.250s", name);
    k->len = (size_t)n + 1 + (size_t)m;
}

/* The pending operation of a GCS call: the actor is found again by id, as
 * it may be gone when the reply comes. */
typedef struct name_op {
    ids_actor id;
    raylet_client *cl;            /* GetActor: the asking client (referenced) */
    uint64_t req_id;
    char ns[256], name[256];
} name_op;

/* ---------------------------------------------------------------- register */

static void kv_put(raylet *r, actor *a, int overwrite, raylet_gcs_cb cb, name_op *op)
{
    name_key k;
    make_key(&k, a->ns, a->name);
    Rayc__ActorName rec = RAYC__ACTOR_NAME__INIT;
    rec.actor_id.data = a->id.b;
    rec.actor_id.len = IDS_ACTOR_LEN;
    rec.node_id = (char *)r->opts->node_id;
    rec.class_name = a->class_name;
    rec.detached = a->detached;
    uint8_t val[1024];
    size_t n = rayc__actor_name__get_packed_size(&rec);
    if (n > sizeof val) {
        cb(r, NULL, op);
        return;
    }
    rayc__actor_name__pack(&rec, val);
    Rayc__Envelope env = RAYC__ENVELOPE__INIT;
    Rayc__KvPut put = RAYC__KV_PUT__INIT;
    put.ns = NAMES_NS;
    put.key.data = k.buf;
    put.key.len = k.len;
    put.value.data = val;
    put.value.len = n;
    put.overwrite = overwrite;
    env.body_case = RAYC__ENVELOPE__BODY_KV_PUT;
    env.kv_put = &put;
    raylet_gcs_call(r, &env, cb, op);
}

static void kv_get(raylet *r, const char *ns, const char *name, raylet_gcs_cb cb, name_op *op)
{
    name_key k;
    make_key(&k, ns, name);
    Rayc__Envelope env = RAYC__ENVELOPE__INIT;
    Rayc__KvGet get = RAYC__KV_GET__INIT;
    get.ns = NAMES_NS;
    get.key.data = k.buf;
    get.key.len = k.len;
    env.body_case = RAYC__ENVELOPE__BODY_KV_GET;
    env.kv_get = &get;
    raylet_gcs_call(r, &env, cb, op);
}

/* Decodes a name record from a KvGetReply.  Returns it or NULL. */
static Rayc__ActorName *record_of(const Rayc__Envelope *reply)
{
    if (reply == NULL || reply->body_case != RAYC__ENVELOPE__BODY_KV_GET_REPLY ||
        !reply->kv_get_reply->found)
        return NULL;
    const ProtobufCBinaryData *v = &reply->kv_get_reply->value;
    return rayc__actor_name__unpack(NULL, v->len, v->data);
}

static void overwrite_cb(raylet *r, Rayc__Envelope *reply, void *data)
{
    name_op *op = data;
    actor *a = actor_find(r, &op->id);
    free(op);
    if (a == NULL)
        return;
    a->name_registered = reply != NULL && reply->body_case == RAYC__ENVELOPE__BODY_KV_PUT_REPLY;
    actor__named(r, a, 1, NULL, NULL);
}

/* The name exists at the GCS: stale (ours, dead), another node's, or taken. */
static void existing_cb(raylet *r, Rayc__Envelope *reply, void *data)
{
    name_op *op = data;
    actor *a = actor_find(r, &op->id);
    Rayc__ActorName *rec = record_of(reply);
    char msg[700];
    if (a == NULL || a->state != ACTOR_NAMING) {
        free(op);
    } else if (rec == NULL || (strcmp(rec->node_id, r->opts->node_id) == 0 &&
                               rec->actor_id.len == IDS_ACTOR_LEN &&
                               (actor__find_named(r, a->ns, a->name) == a))) {
        kv_put(r, a, 1, overwrite_cb, op); /* stale: its actor is gone */
        op = NULL;
    } else {
        free(op);
        const Rayc__ActorOptions *o = a->create ? a->create->spec->actor : NULL;
        ids_actor other;
        if (o != NULL && o->get_if_exists &&
            ids_from_bytes(other.b, IDS_ACTOR_LEN, rec->actor_id.data, rec->actor_id.len) == 0) {
            actor__named(r, a, 0, &other, "the name belongs to an actor of another node");
        } else {
            snprintf(msg, sizeof msg, "an actor named '%.200s' already exists in namespace "
                     "'%.200s'", a->name, a->ns);
            actor__named(r, a, 0, NULL, msg);
        }
    }
    if (rec != NULL)
        rayc__actor_name__free_unpacked(rec, NULL);
}

static void register_cb(raylet *r, Rayc__Envelope *reply, void *data)
{
    name_op *op = data;
    actor *a = actor_find(r, &op->id);
    if (a == NULL || a->state != ACTOR_NAMING) {
        free(op);
        return;
    }
    if (reply == NULL || reply->body_case != RAYC__ENVELOPE__BODY_KV_PUT_REPLY) {
        free(op);
        log_warn("actor %s: the GCS did not register the name '%s' (%s); it is known on this "
                 "node only", a->hex, a->name, reply ? "error reply" : "no GCS");
        actor__named(r, a, 1, NULL, NULL);
        return;
    }
    if (reply->kv_put_reply->added) {
        free(op);
        a->name_registered = 1;
        actor__named(r, a, 1, NULL, NULL);
        return;
    }
    kv_get(r, a->ns, a->name, existing_cb, op);
}

void actor__name_register(raylet *r, actor *a)
{
    name_op *op = calloc(1, sizeof *op);
    if (op == NULL) {
        actor__named(r, a, 0, NULL, "the raylet is out of memory");
        return;
    }
    op->id = a->id;
    kv_put(r, a, 0, register_cb, op);
}

static void ignore_cb(raylet *r, Rayc__Envelope *reply, void *data)
{
    (void)r;
    (void)reply;
    (void)data;
}

void actor__name_remove(raylet *r, actor *a)
{
    name_key k;
    make_key(&k, a->ns, a->name);
    Rayc__Envelope env = RAYC__ENVELOPE__INIT;
    Rayc__KvDel del = RAYC__KV_DEL__INIT;
    del.ns = NAMES_NS;
    del.key.data = k.buf;
    del.key.len = k.len;
    env.body_case = RAYC__ENVELOPE__BODY_KV_DEL;
    env.kv_del = &del;
    a->name_registered = 0;
    raylet_gcs_call(r, &env, ignore_cb, NULL);
}

/* ---------------------------------------------------------------- GetActor */

static void reply_get(raylet_client *cl, uint64_t req_id, int status, const char *error,
                      const ids_actor *id, const char *class_name)
{
    Rayc__Envelope env = RAYC__ENVELOPE__INIT;
    Rayc__GetActorReply rep = RAYC__GET_ACTOR_REPLY__INIT;
    rep.status = status;
    rep.error = (char *)(error ? error : "");
    if (id != NULL) {
        rep.actor_id.data = (uint8_t *)id->b;
        rep.actor_id.len = IDS_ACTOR_LEN;
    }
    rep.class_name = (char *)(class_name ? class_name : "");
    env.request_id = req_id;
    env.body_case = RAYC__ENVELOPE__BODY_GET_ACTOR_REPLY;
    env.get_actor_reply = &rep;
    raylet_client_send(cl, &env);
}

static void not_found(raylet_client *cl, uint64_t req_id, const char *ns, const char *name)
{
    char msg[700];
    snprintf(msg, sizeof msg, "no live actor named '%.250s' in namespace '%.250s'", name, ns);
    reply_get(cl, req_id, RAY_ERR_NOT_FOUND, msg, NULL, NULL);
}

static void lookup_cb(raylet *r, Rayc__Envelope *reply, void *data)
{
    name_op *op = data;
    Rayc__ActorName *rec = record_of(reply);
    ids_actor id;
    if (raylet_client_alive(op->cl)) {
        if (rec == NULL || ids_from_bytes(id.b, IDS_ACTOR_LEN, rec->actor_id.data,
                                          rec->actor_id.len) != 0)
            not_found(op->cl, op->req_id, op->ns, op->name);
        else if (strcmp(rec->node_id, r->opts->node_id) == 0)
            not_found(op->cl, op->req_id, op->ns, op->name); /* ours, and not alive: stale */
        else
            reply_get(op->cl, op->req_id, RAY_OK, NULL, &id, rec->class_name);
    }
    if (rec != NULL)
        rayc__actor_name__free_unpacked(rec, NULL);
    raylet_client_unref(op->cl);
    free(op);
}

void actor_on_get(raylet_client *cl, uint64_t req_id, const Rayc__GetActor *m)
{
    raylet *r = cl->r;
    const char *ns = m->namespace_ && m->namespace_[0] ? m->namespace_
                                                        : (cl->job ? cl->job->ns : "");
    if (m->name == NULL || m->name[0] == '\0' || strlen(m->name) > 250 || strlen(ns) > 250) {
        reply_get(cl, req_id, RAY_ERR_INVALID, "a bad actor name or namespace", NULL, NULL);
        return;
    }
    actor *a = actor__find_named(r, ns, m->name);
    if (a != NULL && a->state != ACTOR_NAMING) {
        reply_get(cl, req_id, RAY_OK, NULL, &a->id, a->class_name);
        return;
    }
    name_op *op = calloc(1, sizeof *op);
    if (op == NULL) {
        reply_get(cl, req_id, RAY_ERR_NOMEM, "the raylet is out of memory", NULL, NULL);
        return;
    }
    op->cl = cl;
    raylet_client_ref(cl);
    op->req_id = req_id;
    snprintf(op->ns, sizeof op->ns, "%s", ns);
    snprintf(op->name, sizeof op->name, "%s", m->name);
    kv_get(r, ns, m->name, lookup_cb, op);
}
