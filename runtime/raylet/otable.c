/* The object table: records, their states, waiters, uses and freeing.
 * (Client requests and the store are in otable_store.c.) */
#include "raylet/otable.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "objstore/objstore.h"
#include "raylet/otable_int.h"
#include "raylet/sched.h"

/* ---------------------------------------------------------------- table */

static int obj_eq(const htab_node *link, const void *id)
{
    return ids_object_eq(&htab_entry(link, otable_obj, link)->id, id);
}

otable_obj *otable_find(raylet *r, const ids_object *id)
{
    htab_node *link = htab_find(&r->otable->objs, ids_object_hash(id), id, obj_eq);
    return link ? htab_entry(link, otable_obj, link) : NULL;
}

otable_obj *otable_add(raylet *r, const ids_object *id, raylet_client *owner)
{
    otable_obj *o = otable_find(r, id);
    if (o != NULL)
        return o;
    o = calloc(1, sizeof *o);
    if (o == NULL || htab_insert(&r->otable->objs, &o->link, ids_object_hash(id)) != 0) {
        free(o);
        return NULL;
    }
    o->id = *id;
    o->owner = owner;
    if (owner != NULL)
        raylet_client_ref(owner);
    return o;
}

size_t otable_count(raylet *r)
{
    return r->otable->objs.n;
}

void otable_foreach(raylet *r, void (*fn)(otable_obj *o, void *arg), void *arg)
{
    otable *t = r->otable;
    htab_iter it;
    if (t == NULL)
        return;
    for (htab_node *n = htab_first(&t->objs, &it); n != NULL; n = htab_next(&it))
        fn(htab_entry(n, otable_obj, link), arg);
}

/* ---------------------------------------------------------------- freeing */

void otable_drop_store(raylet *r, otable_obj *o)
{
    if (!o->store_created)
        return;
    char hex[2 * IDS_OBJECT_LEN + 1];
    ids_hex(o->id.b, IDS_OBJECT_LEN, hex);
    if (o->store_sealed)
        objstore_delete(r->store, hex);
    else
        objstore_abort(r->store, hex);
    o->store_created = o->store_sealed = 0;
    otable__store_changed(r);
}

static void free_obj(raylet *r, otable_obj *o)
{
    htab_unlink(&r->otable->objs, &o->link);
    otable_drop_store(r, o);
    raylet_client_unref(o->owner);
    free(o->data);
    free(o->error);
    free(o->waiters);
    free(o);
}

/* Frees O when nobody needs it any more. */
static void maybe_free(raylet *r, otable_obj *o)
{
    if (o->released && o->uses == 0 && o->nwaiters == 0)
        free_obj(r, o);
}

void otable_use(otable_obj *o)
{
    o->uses++;
}

void otable_unuse(raylet *r, otable_obj *o)
{
    if (o->uses > 0)
        o->uses--;
    maybe_free(r, o);
}

void otable_release(raylet *r, otable_obj *o)
{
    o->released = 1;
    maybe_free(r, o);
}

void otable__free_all(raylet *r)
{
    htab_iter it;
    for (htab_node *e = htab_first(&r->otable->objs, &it); e != NULL; e = htab_next(&it)) {
        otable_obj *o = htab_entry(e, otable_obj, link);
        o->released = 1;
        o->uses = 0;
        o->nwaiters = 0;
        free_obj(r, o);
    }
}

/* Releases every object owned by CL (mu: the loop). */
void otable__release_owned(raylet *r, raylet_client *cl)
{
    htab_iter it;
    for (htab_node *e = htab_first(&r->otable->objs, &it); e != NULL; e = htab_next(&it)) {
        otable_obj *o = htab_entry(e, otable_obj, link);
        if (o->owner == cl && !o->released)
            otable_release(r, o); /* may free O, never another object */
    }
}

/* ---------------------------------------------------------------- waiters */

int otable_wait(otable_obj *o, sched_task *task)
{
    if (o->nwaiters == o->awaiters) {
        uint32_t n = o->awaiters ? 2 * o->awaiters : 4;
        sched_task **w = realloc(o->waiters, n * sizeof *w);
        if (w == NULL)
            return -ENOMEM;
        o->waiters = w;
        o->awaiters = n;
    }
    o->waiters[o->nwaiters++] = task;
    return 0;
}

void otable_unwait(otable_obj *o, sched_task *task)
{
    for (uint32_t i = 0; i < o->nwaiters; i++) {
        if (o->waiters[i] == task) {
            o->waiters[i] = o->waiters[--o->nwaiters];
            return;
        }
    }
}

/* Hands O's waiters to the scheduler (O left PENDING). */
static void wake(raylet *r, otable_obj *o)
{
    uint32_t n = o->nwaiters;
    sched_task **w = o->waiters;
    o->waiters = NULL;
    o->nwaiters = o->awaiters = 0;
    o->uses++; /* keep O while its waiters run */
    for (uint32_t i = 0; i < n; i++)
        sched_dep_done(r, w[i], o);
    free(w);
    otable_unuse(r, o);
}

/* ---------------------------------------------------------------- states */

int otable_set_inline(raylet *r, otable_obj *o, int type, const void *data, size_t len)
{
    free(o->data);
    o->data = malloc(len ? len : 1);
    if (o->data == NULL) {
        otable_set_failed(r, o, RAY_ERR_NOMEM, "the raylet is out of memory");
        return -ENOMEM;
    }
    if (len > 0)
        memcpy(o->data, data, len);
    o->len = len;
    o->type = (uint8_t)type;
    o->in_store = 0;
    o->state = OTABLE_READY;
    wake(r, o);
    return 0;
}

void otable_set_store(raylet *r, otable_obj *o, int type, uint64_t size)
{
    o->type = (uint8_t)type;
    o->in_store = 1;
    o->size = size;
    o->state = OTABLE_READY;
    wake(r, o);
}

void otable_set_failed(raylet *r, otable_obj *o, int status, const char *msg)
{
    free(o->error);
    o->error = strdup(msg ? msg : "");
    o->status = status;
    o->state = OTABLE_FAILED;
    otable_drop_store(r, o);
    wake(r, o);
}
