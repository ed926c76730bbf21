/* Objects in the node's shared-memory store, seen from a client: creating
 * (map writable, fill, seal), pinning (map read-only) and ray_put.
 *
 * The raylet owns the store; a client asks it for an object's file and maps
 * that file itself, so large values never pass through a socket. */
#include "api/api.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/shm_map.h"

/* Maps SIZE bytes at store location PATH (shm_map.h keeps the arena mapped,
 * so this costs no page-table work after the first use).  Returns RAY_OK
 * or an error status. */
static int map_file(const char *path, size_t size, int writable, void **addr)
{
    const void *ro = NULL;
    int rc = writable ? shm_map_write(path, size, addr) : shm_map_read(path, size, &ro);
    if (!writable && rc == 0)
        *addr = (void *)ro;
    if (rc == 0)
        return RAY_OK;
    if (rc == -ENOSPC)
        return api_fail(RAY_ERR_STORE_FULL, "no shared memory left for object pages at %s",
                        path);
    return api_fail(rc == -ENOMEM ? RAY_ERR_NOMEM : RAY_ERR_OBJECT_LOST,
                    "cannot map object %s (%zu bytes): %s", path, size, strerror(-rc));
}

static void unmap(const void *addr, size_t size)
{
    shm_unmap(addr, size);
}

/* ---------------------------------------------------------------- create / seal */

int api_store_create(const ids_object *id, size_t size, void **addr)
{
    Rayc__Envelope env = RAYC__ENVELOPE__INIT, *reply = NULL;
    Rayc__CreateObject c = RAYC__CREATE_OBJECT__INIT;
    c.object_id.data = (uint8_t *)id->b;
    c.object_id.len = IDS_OBJECT_LEN;
    c.size = size;
    env.body_case = RAYC__ENVELOPE__BODY_CREATE_OBJECT;
    env.create_object = &c;
    int rc = api_request(&env, -1, &reply);
    if (rc != 0)
        return api_conn_fail(rc, "creating an object");
    const Rayc__CreateObjectReply *r = reply->create_object_reply;
    if (reply->body_case != RAYC__ENVELOPE__BODY_CREATE_OBJECT_REPLY)
        rc = api_fail(RAY_ERR_CONNECTION, "creating an object: unexpected reply");
    else if (r->status != RAY_OK)
        rc = api_fail_msg(r->status, r->error);
    else
        rc = map_file(r->path, size, 1, addr);
    rayc__envelope__free_unpacked(reply, NULL);
    return rc;
}

int api_store_seal(const ids_object *id, void *addr, size_t size, int type, int abort,
                   int is_put, int locked)
{
    unmap(addr, size);
    Rayc__Envelope env = RAYC__ENVELOPE__INIT;
    Rayc__SealObject s = RAYC__SEAL_OBJECT__INIT;
    s.object_id.data = (uint8_t *)id->b;
    s.object_id.len = IDS_OBJECT_LEN;
    s.type = type;
    s.abort = abort != 0;
    s.is_put = is_put != 0;
    env.body_case = RAYC__ENVELOPE__BODY_SEAL_OBJECT;
    env.seal_object = &s;
    int rc = locked ? api_send_mu(&env) : api_send(&env);
    return rc == 0 ? RAY_OK : RAY_ERR_CONNECTION;
}

int api_store_seal_sync(const ids_object *id, void *addr, size_t size, int type)
{
    unmap(addr, size);
    Rayc__Envelope env = RAYC__ENVELOPE__INIT, *reply = NULL;
    Rayc__SealObject s = RAYC__SEAL_OBJECT__INIT;
    s.object_id.data = (uint8_t *)id->b;
    s.object_id.len = IDS_OBJECT_LEN;
    s.type = type;
    s.is_put = 1;
    s.want_reply = 1;
    env.body_case = RAYC__ENVELOPE__BODY_SEAL_OBJECT;
    env.seal_object = &s;
    int rc = api_request(&env, -1, &reply);
    if (rc != 0)
        return api_conn_fail(rc, "sealing an object");
    rc = reply->body_case == RAYC__ENVELOPE__BODY_SEAL_OBJECT_REPLY
             ? reply->seal_object_reply->status
             : RAY_ERR_CONNECTION;
    rayc__envelope__free_unpacked(reply, NULL);
    return rc == RAY_OK ? RAY_OK : api_fail(rc, "sealing an object failed");
}

int api_store_put(const ids_object *id, int type, const void *data, size_t len)
{
    void *addr;
    int rc = api_store_create(id, len, &addr);
    if (rc != RAY_OK)
        return rc;
    if (len > 0)
        memcpy(addr, data, len);
    rc = api_store_seal(id, addr, len, type, 0, 1, 0);
    return rc == RAY_OK ? RAY_OK : api_conn_fail(-ECONNRESET, "sealing an object");
}

/* ---------------------------------------------------------------- pin / unpin */

int api_store_pin(const ids_object *id, const void **addr, size_t *size)
{
    Rayc__Envelope env = RAYC__ENVELOPE__INIT, *reply = NULL;
    Rayc__GetObject g = RAYC__GET_OBJECT__INIT;
    g.object_id.data = (uint8_t *)id->b;
    g.object_id.len = IDS_OBJECT_LEN;
    env.body_case = RAYC__ENVELOPE__BODY_GET_OBJECT;
    env.get_object = &g;
    int rc = api_request(&env, -1, &reply);
    if (rc != 0)
        return api_conn_fail(rc, "reading an object");
    const Rayc__GetObjectReply *r = reply->get_object_reply;
    if (reply->body_case != RAYC__ENVELOPE__BODY_GET_OBJECT_REPLY || r->value == NULL) {
        rc = api_fail(RAY_ERR_CONNECTION, "reading an object: unexpected reply");
    } else if (r->status != RAY_OK) {
        rc = api_fail_msg(r->status, r->error);
    } else {
        void *p;
        rc = map_file(r->value->path, r->value->size, 0, &p);
        *addr = p;
        *size = r->value->size;
        if (rc != RAY_OK) /* give the pin back */
            api_store_unpin(id, NULL, 0);
    }
    rayc__envelope__free_unpacked(reply, NULL);
    return rc;
}

void api_store_unpin(const ids_object *id, const void *addr, size_t size)
{
    unmap(addr, size);
    ProtobufCBinaryData one = {IDS_OBJECT_LEN, (uint8_t *)id->b};
    Rayc__Envelope env = RAYC__ENVELOPE__INIT;
    Rayc__ReleaseObjects rel = RAYC__RELEASE_OBJECTS__INIT;
    rel.object_ids = &one;
    rel.n_object_ids = 1;
    rel.unpin = 1;
    env.body_case = RAYC__ENVELOPE__BODY_RELEASE_OBJECTS;
    env.release_objects = &rel;
    if (api_g.initialized)
        api_send(&env);
}

/* ---------------------------------------------------------------- ray_put */

/* Adds a ready object owned by us (mu taken here).  Returns it or NULL. */
static api_obj *add_put(const ids_object *id, int type)
{
    pthread_mutex_lock(&api_g.mu);
    api_obj *o = api_obj_add(id, 1);
    if (o != NULL) {
        o->type = (uint8_t)type;
        o->state = API_READY;
    }
    pthread_mutex_unlock(&api_g.mu);
    if (o == NULL)
        api_fail(RAY_ERR_NOMEM, "out of memory");
    return o;
}

static ray_ref *put_inline(const Rayc__Value *v)
{
    uint8_t *copy = malloc(v->data.len + 1);
    if (copy == NULL) {
        api_fail(RAY_ERR_NOMEM, "ray_put: out of memory");
        return NULL;
    }
    if (v->data.len > 0)
        memcpy(copy, v->data.data, v->data.len);
    copy[v->data.len] = '\0';
    ids_object id = api_new_put_id();
    api_obj *o = add_put(&id, v->type);
    if (o == NULL) {
        free(copy);
        return NULL;
    }
    o->data = copy; /* nobody else sees O yet */
    o->len = v->data.len;
    return o;
}

static ray_ref *put_store(const Rayc__Value *v)
{
    ids_object id = api_new_put_id();
    if (api_store_put(&id, v->type, v->data.data, v->data.len) != RAY_OK)
        return NULL;
    api_obj *o = add_put(&id, v->type);
    if (o == NULL) {
        pthread_mutex_lock(&api_g.mu);
        api_release_id(&id, 1);
        pthread_mutex_unlock(&api_g.mu);
        return NULL;
    }
    o->in_store = 1;
    o->size = v->data.len;
    o->known_to_raylet = 1;
    return o;
}

ray_ref *ray_put(ray_arg value)
{
    if (api_check_init("ray_put") != RAY_OK)
        return NULL;
    if (value.kind == RAY_ARG_REF) {
        api_fail(RAY_ERR_INVALID, "ray_put: a ref cannot be put (use ray_ref_dup)");
        return NULL;
    }
    Rayc__Value v = RAYC__VALUE__INIT;
    uint8_t scratch[8];
    if (api_value_from_arg(&value, &v, scratch) != RAY_OK)
        return NULL;
    return v.data.len <= API_INLINE_MAX ? put_inline(&v) : put_store(&v);
}

int ray_put_alloc(size_t size, void **data, ray_ref **out)
{
    int rc = api_check_init("ray_put_alloc");
    if (rc != RAY_OK)
        return rc;
    ids_object id = api_new_put_id();
    void *addr;
    rc = api_store_create(&id, size, &addr);
    if (rc != RAY_OK)
        return rc;
    api_obj *o = add_put(&id, RAY_BYTES);
    if (o == NULL) {
        api_store_seal(&id, addr, size, RAY_BYTES, 1, 1, 0);
        return RAY_ERR_NOMEM;
    }
    pthread_mutex_lock(&api_g.mu);
    o->in_store = 1;
    o->size = size;
    o->sealed = 0;
    o->state = API_PENDING;
    o->wmap = addr;
    o->known_to_raylet = 1;
    pthread_mutex_unlock(&api_g.mu);
    *data = addr;
    *out = o;
    return RAY_OK;
}

int ray_put_seal(ray_ref *r)
{
    int rc = api_check_init("ray_put_seal");
    if (rc != RAY_OK || r == NULL)
        return rc != RAY_OK ? rc : api_fail(RAY_ERR_INVALID, "ray_put_seal: NULL ref");
    pthread_mutex_lock(&api_g.mu);
    if (r->sealed || r->wmap == NULL) {
        rc = api_fail(RAY_ERR_INVALID, "ray_put_seal: %s is not an unsealed ray_put_alloc",
                      api_obj_hex(r));
        pthread_mutex_unlock(&api_g.mu);
        return rc;
    }
    void *addr = r->wmap;
    r->wmap = NULL;
    rc = api_store_seal(&r->id, addr, r->size, RAY_BYTES, 0, 1, 1);
    r->sealed = 1;
    r->state = API_READY;
    api_notify();
    pthread_mutex_unlock(&api_g.mu);
    return rc == RAY_OK ? RAY_OK : api_conn_fail(-ECONNRESET, "ray_put_seal");
}
