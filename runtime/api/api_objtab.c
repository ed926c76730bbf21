/* The objects this process holds references to (a hash table on object id),
 * their values as they arrive, and releasing them to the raylet. */
#include "api/api.h"

#include "common/shm_map.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- table */

static int obj_eq(const htab_node *link, const void *id)
{
    return ids_object_eq(&htab_entry(link, api_obj, link)->id, id);
}

api_obj *api_obj_find(const ids_object *id)
{
    htab_node *link = htab_find(&api_g.objs, ids_object_hash(id), id, obj_eq);
    return link ? htab_entry(link, api_obj, link) : NULL;
}

api_obj *api_obj_add(const ids_object *id, int owned)
{
    api_obj *o = calloc(1, sizeof *o);
    if (o == NULL || htab_insert(&api_g.objs, &o->link, ids_object_hash(id)) != 0) {
        free(o);
        return NULL;
    }
    o->id = *id;
    o->refs = 1;
    o->owned = (uint8_t)owned;
    o->sealed = 1;
    return o;
}

static void free_obj(api_obj *o)
{
    free(o->data);
    free(o->error);
    free(o);
}

const char *api_obj_hex(api_obj *o)
{
    if (o->hex[0] == '\0')
        ids_hex(o->id.b, IDS_OBJECT_LEN, o->hex);
    return o->hex;
}

/* ---------------------------------------------------------------- releasing */

void api_flush_releases(void)
{
    if (api_g.nreleases == 0 || api_g.broken || api_g.fd < 0) {
        api_g.nreleases = 0;
        return;
    }
    size_t n = api_g.nreleases;
    ProtobufCBinaryData *ids = malloc(n * sizeof *ids);
    if (ids != NULL) {
        for (size_t i = 0; i < n; i++) {
            ids[i].data = api_g.releases[i].b;
            ids[i].len = IDS_OBJECT_LEN;
        }
        Rayc__Envelope env = RAYC__ENVELOPE__INIT;
        Rayc__ReleaseObjects rel = RAYC__RELEASE_OBJECTS__INIT;
        rel.object_ids = ids;
        rel.n_object_ids = n;
        env.body_case = RAYC__ENVELOPE__BODY_RELEASE_OBJECTS;
        env.release_objects = &rel;
        api_send_mu(&env);
        free(ids);
    }
    api_g.nreleases = 0;
}

void api_release_id(const ids_object *id, int now)
{
    if (api_g.releases == NULL) {
        api_g.releases = malloc(API_RELEASE_BATCH * sizeof *api_g.releases);
        if (api_g.releases == NULL)
            return;
    }
    api_g.releases[api_g.nreleases++] = *id;
    if (now || api_g.nreleases == API_RELEASE_BATCH)
        api_flush_releases();
}

/* Forgets O (no references left): the raylet's record goes too. */
static void drop_obj(api_obj *o)
{
    if (o->wmap != NULL)
        api_store_seal(&o->id, o->wmap, o->size, RAY_BYTES, 1, 1, 1);
    else if (o->owned && o->known_to_raylet)
        api_release_id(&o->id, o->in_store);
    htab_unlink(&api_g.objs, &o->link);
    free_obj(o);
}

void api_obj_unref(api_obj *o)
{
    if (o == NULL || --o->refs > 0)
        return;
    /* A direct call's result that a task at the raylet waits for: its
     * value must still reach the raylet, or that task waits forever, so
     * the record stays until the value comes (api_obj_settle). */
    if (o->forward && o->state == API_PENDING)
        return;
    drop_obj(o);
}

void ray_ref_release(ray_ref *r)
{
    if (r == NULL)
        return;
    pthread_mutex_lock(&api_g.mu);
    if (api_g.initialized)
        api_obj_unref(r);
    pthread_mutex_unlock(&api_g.mu);
}

ray_ref *ray_ref_dup(ray_ref *r)
{
    if (r == NULL)
        return NULL;
    pthread_mutex_lock(&api_g.mu);
    r->refs++;
    pthread_mutex_unlock(&api_g.mu);
    return r;
}

const char *ray_ref_hex(const ray_ref *r)
{
    if (r == NULL)
        return "";
    pthread_mutex_lock(&api_g.mu);
    const char *hex = api_obj_hex((api_obj *)r);
    pthread_mutex_unlock(&api_g.mu);
    return hex;
}

void api_objtab_clear(void)
{
    htab_iter it;
    for (htab_node *e = htab_first(&api_g.objs, &it); e != NULL; e = htab_next(&it)) {
        api_obj *o = htab_entry(e, api_obj, link);
        htab_unlink(&api_g.objs, e);
        if (o->wmap != NULL)
            shm_unmap(o->wmap, o->size);
        free_obj(o);
    }
    htab_free(&api_g.objs);
    free(api_g.releases);
    api_g.releases = NULL;
    api_g.nreleases = 0;
}

/* ---------------------------------------------------------------- values */

int api_obj_set_value(api_obj *o, const Rayc__Value *v)
{
    o->type = (uint8_t)v->type;
    o->in_store = v->in_store;
    o->size = v->size;
    o->known_to_raylet = 1;
    if (!v->in_store && v->data.len > 0) {
        o->data = malloc(v->data.len + 1);
        if (o->data == NULL) {
            api_obj_set_error(o, RAY_ERR_NOMEM, "out of memory receiving a value");
            return -ENOMEM;
        }
        memcpy(o->data, v->data.data, v->data.len);
        o->data[v->data.len] = '\0';
        o->len = v->data.len;
    }
    o->state = API_READY;
    return 0;
}

void api_obj_set_error(api_obj *o, int status, const char *msg)
{
    o->state = API_FAILED;
    o->status = status;
    o->known_to_raylet = 1;
    free(o->error);
    o->error = strdup(msg ? msg : "");
}

/* Sends O's value (or error) to the raylet, which waits for it (mu held). */
static void forward_value(api_obj *o)
{
    Rayc__Envelope env = RAYC__ENVELOPE__INIT;
    Rayc__ObjectValue ov = RAYC__OBJECT_VALUE__INIT;
    Rayc__Value v = RAYC__VALUE__INIT;
    ov.object_id.data = o->id.b;
    ov.object_id.len = IDS_OBJECT_LEN;
    if (o->state == API_FAILED) {
        ov.status = o->status;
        ov.error = o->error;
    } else {
        v.type = o->type;
        v.in_store = o->in_store;
        v.size = o->size;
        v.data.data = o->data;
        v.data.len = o->len;
        ov.value = &v;
    }
    env.body_case = RAYC__ENVELOPE__BODY_OBJECT_VALUE;
    env.object_value = &ov;
    api_send_mu(&env);
    o->forward = 0;
}

void api_obj_settle(api_obj *o)
{
    if (o->forward)
        forward_value(o);
    if (o->refs == 0)
        drop_obj(o);
}

void api_obj_announce(api_obj *o)
{
    if (!o->direct || o->forward || (o->state == API_READY && (o->in_store || o->known_to_raylet)))
        return;
    ProtobufCBinaryData id = {IDS_OBJECT_LEN, o->id.b};
    Rayc__Envelope env = RAYC__ENVELOPE__INIT;
    Rayc__ObjectPending p = RAYC__OBJECT_PENDING__INIT;
    p.object_ids = &id;
    p.n_object_ids = 1;
    env.body_case = RAYC__ENVELOPE__BODY_OBJECT_PENDING;
    env.object_pending = &p;
    api_send_mu(&env);
    o->forward = 1;
    o->known_to_raylet = 1; /* its record goes when we release it */
    if (o->state != API_PENDING)
        forward_value(o);
}

void api_obj_mark_direct(const ids_task *task, int n, int direct)
{
    for (int i = 0; i < n; i++) {
        ids_object id = ids_object_for(task, (uint32_t)(i + 1));
        api_obj *o = api_obj_find(&id);
        if (o != NULL && !o->forward) {
            o->direct = (uint8_t)direct;
            /* an adopted store object is known either way (it may be back already) */
            o->known_to_raylet = !direct || (o->state == API_READY && o->in_store);
        }
    }
}

void api_on_task_result(const Rayc__TaskResult *res)
{
    for (size_t i = 0; i < res->n_returns; i++) {
        const Rayc__ObjectResult *r = res->returns[i];
        ids_object id;
        if (ids_from_bytes(id.b, IDS_OBJECT_LEN, r->object_id.data, r->object_id.len) != 0)
            continue;
        api_obj *o = api_obj_find(&id);
        if (o == NULL || o->state != API_PENDING)
            continue;
        int direct = o->direct;
        if (res->status != RAY_OK || r->value == NULL)
            api_obj_set_error(o, res->status ? res->status : RAY_ERR_OBJECT_LOST, res->error);
        else
            api_obj_set_value(o, r->value);
        if (direct) /* set_value/set_error assume a raylet record: not for these */
            o->known_to_raylet = o->forward || (o->state == API_READY && o->in_store);
        api_obj_settle(o);
    }
}
