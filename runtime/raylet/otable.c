/* The object table: records, their states, waiters, uses and freeing.
 * (Client requests and the store are in otable_store.c.) */
#include "raylet/otable.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "raylet/objstore.h"
#include "raylet/otable_int.h"
#include "raylet/sched.h"

/* ---------------------------------------------------------------- table */

static size_t slot_of(const otable *t, const ids_object *id)
{
    return (size_t)(ids_object_hash(id) & (t->nslots - 1));
}

static int grow(otable *t)
{
    size_t n = t->nslots ? t->nslots * 2 : 4096;
    otable_obj **slots = calloc(n, sizeof *slots);
    if (slots == NULL)
        return -ENOMEM;
    size_t old = t->nslots;
    otable_obj **olds = t->slots;
    t->slots = slots;
    t->nslots = n;
    for (size_t i = 0; i < old; i++) {
        otable_obj *o = olds[i], *next;
        for (; o != NULL; o = next) {
            next = o->next;
            size_t s = slot_of(t, &o->id);
            o->next = slots[s];
            slots[s] = o;
        }
    }
    free(olds);
    return 0;
}

otable_obj *otable_find(raylet *r, const ids_object *id)
{
    otable *t = r->otable;
    if (t->nslots == 0)
        return NULL;
    for (otable_obj *o = t->slots[slot_of(t, id)]; o != NULL; o = o->next)
        if (ids_object_eq(&o->id, id))
            return o;
    return NULL;
}

otable_obj *otable_add(raylet *r, const ids_object *id, raylet_client *owner)
{
    otable *t = r->otable;
    otable_obj *o = otable_find(r, id);
    if (o != NULL)
        return o;
    if (t->n >= t->nslots && grow(t) != 0)
        return NULL;
    o = calloc(1, sizeof *o);
    if (o == NULL)
        return NULL;
    o->id = *id;
    o->owner = owner;
    if (owner != NULL)
        raylet_client_ref(owner);
    size_t s = slot_of(t, id);
    o->next = t->slots[s];
    t->slots[s] = o;
    t->n++;
    return o;
}

size_t otable_count(raylet *r)
{
    return r->otable->n;
}

void otable_foreach(raylet *r, void (*fn)(otable_obj *o, void *arg), void *arg)
{
    otable *t = r->otable;
    for (size_t i = 0; t != NULL && i < t->nslots; i++)
        for (otable_obj *o = t->slots[i]; o != NULL; o = o->next)
            fn(o, arg);
}

/* ---------------------------------------------------------------- freeing */

static void unlink_obj(otable *t, otable_obj *o)
{
    for (otable_obj **p = &t->slots[slot_of(t, &o->id)]; *p != NULL; p = &(*p)->next) {
        if (*p == o) {
            *p = o->next;
            t->n--;
            return;
        }
    }
}

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
    unlink_obj(r->otable, o);
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
    otable *t = r->otable;
    for (size_t i = 0; i < t->nslots; i++) {
        while (t->slots[i] != NULL) {
            otable_obj *o = t->slots[i];
            o->released = 1;
            o->uses = 0;
            o->nwaiters = 0;
            free_obj(r, o);
        }
    }
}

/* Releases every object owned by CL (mu: the loop). */
void otable__release_owned(raylet *r, raylet_client *cl)
{
    otable *t = r->otable;
    for (size_t i = 0; i < t->nslots; i++) {
        otable_obj *o = t->slots[i], *next;
        for (; o != NULL; o = next) {
            next = o->next;
            if (o->owner == cl && !o->released)
                otable_release(r, o); /* may free O, never NEXT */
        }
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
