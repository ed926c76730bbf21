/* The object store seen from the raylet's clients: CreateObject, SealObject,
 * GetObject (pin) and ReleaseObjects, plus opening the store.
 *
 * A create that finds the store full even after spilling is parked and
 * retried whenever memory is freed, until a grace period
 * (RAY_object_store_full_timeout_ms, default 3000) ends it with
 * RAY_ERR_STORE_FULL. */
#include "raylet/otable.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/node_files.h"
#include "common/util.h"
#include "objstore/objstore.h"
#include "raylet/otable_int.h"

#define OTABLE_RETRY_MS 50

/* ---------------------------------------------------------------- replies */

static void reply_create(raylet_client *cl, uint64_t req_id, int status, const char *error,
                         const char *path)
{
    Rayc__Envelope env = RAYC__ENVELOPE__INIT;
    Rayc__CreateObjectReply rep = RAYC__CREATE_OBJECT_REPLY__INIT;
    rep.status = status;
    rep.error = (char *)(error ? error : "");
    rep.path = (char *)(path ? path : "");
    env.request_id = req_id;
    env.body_case = RAYC__ENVELOPE__BODY_CREATE_OBJECT_REPLY;
    env.create_object_reply = &rep;
    raylet_client_send(cl, &env);
}

static void reply_get(raylet_client *cl, uint64_t req_id, int status, const char *error,
                      const otable_obj *o, const char *path, uint64_t size)
{
    Rayc__Envelope env = RAYC__ENVELOPE__INIT;
    Rayc__GetObjectReply rep = RAYC__GET_OBJECT_REPLY__INIT;
    Rayc__Value v = RAYC__VALUE__INIT;
    rep.status = status;
    rep.error = (char *)(error ? error : "");
    if (o != NULL) {
        v.type = o->type;
        v.in_store = 1;
        v.size = size;
        v.path = (char *)path;
    }
    rep.value = &v;
    env.request_id = req_id;
    env.body_case = RAYC__ENVELOPE__BODY_GET_OBJECT_REPLY;
    env.get_object_reply = &rep;
    raylet_client_send(cl, &env);
}

/* ---------------------------------------------------------------- create */

static int id_of(const ProtobufCBinaryData *b, ids_object *id)
{
    return ids_from_bytes(id->b, IDS_OBJECT_LEN, b->data, b->len);
}

/* Tries the create once.  Returns 0 (replied), -ENOSPC (still full) or
 * another error (replied). */
static int try_create(raylet *r, raylet_client *cl, uint64_t req_id, const ids_object *id,
                      uint64_t size)
{
    char hex[2 * IDS_OBJECT_LEN + 1], job[2 * IDS_JOB_LEN + 1], path[PATH_MAX], msg[256];
    ids_hex(id->b, IDS_OBJECT_LEN, hex);
    ids_job j = ids_object_job(id);
    ids_hex(j.b, IDS_JOB_LEN, job);
    otable_obj *o = otable_find(r, id);
    if (o != NULL && o->store_created && o->state != OTABLE_READY)
        otable_drop_store(r, o); /* left by an attempt that died */
    int rc = objstore_create(r->store, hex, job, size, path, sizeof path);
    if (rc == -ENOSPC)
        return rc;
    if (rc != 0) {
        snprintf(msg, sizeof msg, "cannot create object %s of %llu bytes: %s", hex,
                 (unsigned long long)size,
                 rc == -EFBIG ? "larger than the object store" : strerror(-rc));
        reply_create(cl, req_id, rc == -EFBIG ? RAY_ERR_STORE_FULL : RAY_ERR_INVALID, msg, NULL);
        return rc;
    }
    if (o == NULL)
        o = otable_add(r, id, cl); /* a put: the creator owns it */
    if (o == NULL) {
        objstore_abort(r->store, hex);
        reply_create(cl, req_id, RAY_ERR_NOMEM, "the raylet is out of memory", NULL);
        return -ENOMEM;
    }
    o->store_created = 1;
    o->store_sealed = 0;
    o->size = size;
    reply_create(cl, req_id, RAY_OK, NULL, path);
    return 0;
}

static void park(raylet *r, raylet_client *cl, uint64_t req_id, const ids_object *id,
                 uint64_t size)
{
    otable *t = r->otable;
    otable_parked *p = calloc(1, sizeof *p);
    if (p == NULL) {
        reply_create(cl, req_id, RAY_ERR_NOMEM, "the raylet is out of memory", NULL);
        return;
    }
    raylet_client_ref(cl);
    p->cl = cl;
    p->req_id = req_id;
    p->id = *id;
    p->size = size;
    p->deadline_ms = time_mono_ms() + t->full_grace_ms;
    p->next = t->parked;
    t->parked = p;
    otable__store_changed(r);
}

void otable_on_create(raylet_client *cl, uint64_t req_id, const Rayc__CreateObject *m)
{
    ids_object id;
    if (id_of(&m->object_id, &id) != 0) {
        reply_create(cl, req_id, RAY_ERR_INVALID, "malformed object id", NULL);
        return;
    }
    if (try_create(cl->r, cl, req_id, &id, m->size) == -ENOSPC)
        park(cl->r, cl, req_id, &id, m->size);
}

/* Retries every parked create; ends those past their deadline. */
static void retry_parked(raylet *r)
{
    otable *t = r->otable;
    int64_t now = time_mono_ms();
    otable_parked **pp = &t->parked;
    while (*pp != NULL) {
        otable_parked *p = *pp;
        int rc = raylet_client_alive(p->cl) ? try_create(r, p->cl, p->req_id, &p->id, p->size)
                                            : -EPIPE;
        if (rc == -ENOSPC && now < p->deadline_ms) {
            pp = &p->next;
            continue;
        }
        if (rc == -ENOSPC) {
            char msg[256];
            snprintf(msg, sizeof msg, "the object store is full: no room for %llu bytes after "
                     "spilling everything that can be spilled (waited %lld ms)",
                     (unsigned long long)p->size, (long long)t->full_grace_ms);
            reply_create(p->cl, p->req_id, RAY_ERR_STORE_FULL, msg, NULL);
        }
        *pp = p->next;
        raylet_client_unref(p->cl);
        free(p);
    }
}

static void retry_cb(uv_timer_t *h)
{
    raylet *r = h->data;
    retry_parked(r);
    if (r->otable->parked == NULL)
        uv_timer_stop(h);
}

void otable__store_changed(raylet *r)
{
    otable *t = r->otable;
    if (t->parked != NULL && !uv_is_active((uv_handle_t *)&t->retry_timer) && !r->closing)
        uv_timer_start(&t->retry_timer, retry_cb, 0, OTABLE_RETRY_MS);
}

void otable_tick(raylet *r)
{
    if (r->otable->parked != NULL)
        retry_parked(r);
}

/* ---------------------------------------------------------------- seal */

/* Seals or aborts O for its creator CL.  Returns a ray_status. */
static int seal(raylet *r, raylet_client *cl, otable_obj *o, const Rayc__SealObject *m)
{
    char hex[2 * IDS_OBJECT_LEN + 1];
    if (o == NULL || !o->store_created || o->store_sealed)
        return RAY_ERR_INVALID;
    ids_hex(o->id.b, IDS_OBJECT_LEN, hex);
    if (m->abort) {
        otable_drop_store(r, o);
        if (m->is_put && o->owner == cl)
            otable_release(r, o);
        return RAY_OK;
    }
    if (objstore_seal(r->store, hex) != 0) {
        o->store_created = 0;
        return RAY_ERR_OBJECT_LOST;
    }
    o->store_sealed = 1;
    if (m->is_put && o->state == OTABLE_PENDING)
        otable_set_store(r, o, m->type, o->size);
    return RAY_OK;
}

void otable_on_seal(raylet_client *cl, uint64_t req_id, const Rayc__SealObject *m)
{
    raylet *r = cl->r;
    ids_object id;
    otable_obj *o = id_of(&m->object_id, &id) == 0 ? otable_find(r, &id) : NULL;
    int rc = seal(r, cl, o, m);
    if (!m->want_reply)
        return;
    Rayc__Envelope env = RAYC__ENVELOPE__INIT;
    Rayc__SealObjectReply rep = RAYC__SEAL_OBJECT_REPLY__INIT;
    rep.status = rc;
    env.request_id = req_id;
    env.body_case = RAYC__ENVELOPE__BODY_SEAL_OBJECT_REPLY;
    env.seal_object_reply = &rep;
    raylet_client_send(cl, &env);
}

void otable_on_pending(raylet_client *cl, const Rayc__ObjectPending *m)
{
    for (size_t i = 0; i < m->n_object_ids && i < 100000; i++) {
        ids_object id;
        if (id_of(&m->object_ids[i], &id) == 0)
            otable_add(cl->r, &id, cl); /* PENDING, owned by CL; an existing one stays */
    }
}

void otable_on_value(raylet_client *cl, const Rayc__ObjectValue *m)
{
    raylet *r = cl->r;
    ids_object id;
    otable_obj *o = id_of(&m->object_id, &id) == 0 ? otable_find(r, &id) : NULL;
    if (o == NULL || o->state != OTABLE_PENDING || o->owner != cl)
        return;
    if (m->status != RAY_OK || m->value == NULL)
        otable_set_failed(r, o, m->status ? m->status : RAY_ERR_OBJECT_LOST, m->error);
    else if (!m->value->in_store)
        otable_set_inline(r, o, m->value->type, m->value->data.data, m->value->data.len);
}

void otable_on_adopt(raylet_client *cl, const Rayc__AdoptObjects *m)
{
    raylet *r = cl->r;
    for (size_t i = 0; i < m->n_object_ids; i++) {
        ids_object id;
        otable_obj *o = id_of(&m->object_ids[i], &id) == 0 ? otable_find(r, &id) : NULL;
        if (o == NULL || o->owner == cl)
            continue;
        raylet_client_ref(cl);
        raylet_client_unref(o->owner);
        o->owner = cl;
        o->released = 0;
    }
}

/* ---------------------------------------------------------------- pins */

static int add_pin(raylet_client *cl, const ids_object *id)
{
    otable_pin *p = malloc(sizeof *p);
    if (p == NULL)
        return -ENOMEM;
    p->id = *id;
    p->next = cl->pins;
    cl->pins = p;
    return 0;
}

/* Removes one pin of ID from CL.  Returns 1 when there was one. */
static int take_pin(raylet_client *cl, const ids_object *id)
{
    for (otable_pin **pp = &cl->pins; *pp != NULL; pp = &(*pp)->next) {
        if (ids_object_eq(&(*pp)->id, id)) {
            otable_pin *p = *pp;
            *pp = p->next;
            free(p);
            return 1;
        }
    }
    return 0;
}

static void store_release(raylet *r, const ids_object *id)
{
    char hex[2 * IDS_OBJECT_LEN + 1];
    ids_hex(id->b, IDS_OBJECT_LEN, hex);
    objstore_release(r->store, hex);
    otable__store_changed(r);
}

int otable_pin_for_task(raylet *r, otable_obj *o, char *path, size_t pathlen, char *msg,
                        size_t msglen)
{
    char hex[2 * IDS_OBJECT_LEN + 1];
    uint64_t size;
    ids_hex(o->id.b, IDS_OBJECT_LEN, hex);
    int rc = objstore_get(r->store, hex, path, pathlen, &size);
    if (rc == 0)
        return RAY_OK;
    snprintf(msg, msglen, "object %s cannot be read from the store: %s", hex,
             rc == -ENOSPC ? "no room to restore it from the spill dir" : strerror(-rc));
    return rc == -ENOSPC ? RAY_ERR_STORE_FULL : RAY_ERR_OBJECT_LOST;
}

void otable_unpin_for_task(raylet *r, const ids_object *id)
{
    store_release(r, id);
}

void otable_on_get(raylet_client *cl, uint64_t req_id, const Rayc__GetObject *m)
{
    raylet *r = cl->r;
    ids_object id;
    char hex[2 * IDS_OBJECT_LEN + 1], path[PATH_MAX], msg[512];
    otable_obj *o = id_of(&m->object_id, &id) == 0 ? otable_find(r, &id) : NULL;
    ids_hex(id.b, IDS_OBJECT_LEN, hex);
    if (o == NULL || (o->state == OTABLE_READY && !o->in_store)) {
        snprintf(msg, sizeof msg, "object %s is not in this node's store (freed or never "
                 "created here)", hex);
        reply_get(cl, req_id, RAY_ERR_OBJECT_LOST, msg, NULL, NULL, 0);
        return;
    }
    if (o->state == OTABLE_FAILED) {
        reply_get(cl, req_id, o->status, o->error, NULL, NULL, 0);
        return;
    }
    if (o->state != OTABLE_READY) {
        snprintf(msg, sizeof msg, "object %s is not ready yet", hex);
        reply_get(cl, req_id, RAY_ERR_INVALID, msg, NULL, NULL, 0);
        return;
    }
    int rc = otable_pin_for_task(r, o, path, sizeof path, msg, sizeof msg);
    if (rc == RAY_OK && add_pin(cl, &id) != 0) {
        store_release(r, &id);
        rc = RAY_ERR_NOMEM;
        snprintf(msg, sizeof msg, "the raylet is out of memory");
    }
    reply_get(cl, req_id, rc, rc == RAY_OK ? NULL : msg, o, path, o->size);
}

/* ---------------------------------------------------------------- release */

void otable_on_release(raylet_client *cl, const Rayc__ReleaseObjects *m)
{
    raylet *r = cl->r;
    for (size_t i = 0; i < m->n_object_ids; i++) {
        ids_object id;
        if (id_of(&m->object_ids[i], &id) != 0)
            continue;
        if (m->unpin) {
            if (take_pin(cl, &id))
                store_release(r, &id);
            continue;
        }
        otable_obj *o = otable_find(r, &id);
        if (o != NULL && o->owner == cl && !o->released)
            otable_release(r, o);
    }
}

void otable_client_gone(raylet *r, raylet_client *cl)
{
    while (cl->pins != NULL) {
        otable_pin *p = cl->pins;
        cl->pins = p->next;
        store_release(r, &p->id);
        free(p);
    }
    otable__release_owned(r, cl);
}

void otable_report_usage(raylet *r)
{
    objstore_stats st;
    double total;
    if (r->store == NULL || res_map_get(&r->total, "object_store_memory", &total) != 0)
        return;
    objstore_get_stats(r->store, &st);
    double free_bytes = total - (double)st.used;
    res_map_set(&r->available, "object_store_memory", free_bytes > 0 ? free_bytes : 0);
}

/* ---------------------------------------------------------------- open / close */

static int64_t grace_ms(void)
{
    const char *v = getenv("RAY_object_store_full_timeout_ms");
    long ms;
    if (v != NULL && parse_long(v, 0, 3600L * 1000, &ms) == 0)
        return ms;
    return 3000;
}

static uint64_t capacity(raylet *r)
{
    double q = 0;
    if (res_map_get(&r->total, "object_store_memory", &q) != 0 || q < 1024 * 1024)
        q = 64.0 * 1024 * 1024;
    return (uint64_t)q;
}

int otable_open(raylet *r, char *err, size_t errlen)
{
    otable *t = calloc(1, sizeof *t);
    if (t == NULL)
        return -ENOMEM;
    r->otable = t;
    t->full_grace_ms = grace_ms();
    uv_timer_init(r->loop, &t->retry_timer);
    t->retry_timer.data = r;
    char spill[PATH_MAX];
    if (r->opts->spill_dir != NULL)
        str_copy(spill, sizeof spill, r->opts->spill_dir);
    else
        snprintf(spill, sizeof spill, "%s/spill", r->opts->node_dir);
    node_shm_prefix(r->opts->node_id, r->store_prefix, sizeof r->store_prefix);
    objstore_config cfg = {
        .capacity = capacity(r),
        .shm_dir = r->opts->plasma_dir != NULL ? r->opts->plasma_dir : node_shm_dir(),
        .prefix = r->store_prefix,
        .spill_dir = spill,
    };
    int rc = objstore_open(&cfg, &r->store);
    if (rc != 0)
        snprintf(err, errlen, "cannot open the object store (%llu bytes in %s): %s",
                 (unsigned long long)cfg.capacity, cfg.shm_dir, strerror(-rc));
    else
        log_info("object store: %llu bytes in %s, spilling to %s",
                 (unsigned long long)cfg.capacity, cfg.shm_dir, spill);
    return rc;
}

void otable_close(raylet *r)
{
    otable *t = r->otable;
    if (t == NULL)
        return;
    raylet_close_handle((uv_handle_t *)&t->retry_timer);
}

void otable_free(raylet *r)
{
    otable *t = r->otable;
    if (t == NULL)
        return;
    while (t->parked != NULL) {
        otable_parked *p = t->parked;
        t->parked = p->next;
        free(p);
    }
    otable__free_all(r);
    htab_free(&t->objs);
    objstore_close(r->store);
    r->store = NULL;
    free(t);
    r->otable = NULL;
}
