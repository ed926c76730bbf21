/* Reading values: ray_get and its typed forms, ray_wait, ray_value_release. */
#include "api/api.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* What a ray_value keeps alive: a copy, or a pinned view of a store object. */
typedef struct api_held {
    void *copy;
    ids_object id;
    const void *addr;
    size_t size;
} api_held;

static int obj_done(void *arg)
{
    return ((api_obj *)arg)->state != API_PENDING;
}

/* Waits for R (mu held), telling the raylet when a task thread blocks. */
static int wait_obj(api_obj *r, int64_t deadline)
{
    if (obj_done(r))
        return 0;
    int blocked = api_g.is_worker && api_current_ctx() != NULL;
    if (blocked)
        api_worker_blocked(1);
    int rc = api_wait(obj_done, r, deadline);
    if (blocked)
        api_worker_blocked(0);
    return rc;
}

/* Fills OUT from R's inline value (mu held). */
static int inline_value(api_obj *r, ray_value *out)
{
    out->type = r->type;
    switch (r->type) {
    case RAY_I64:
        if (r->len != 8)
            return api_fail(RAY_ERR_TYPE, "object %s: malformed i64", api_obj_hex(r));
        memcpy(&out->i64, r->data, 8);
        return RAY_OK;
    case RAY_F64:
        if (r->len != 8)
            return api_fail(RAY_ERR_TYPE, "object %s: malformed f64", api_obj_hex(r));
        memcpy(&out->f64, r->data, 8);
        return RAY_OK;
    case RAY_ACTOR: {
        ids_actor id;
        if (ids_from_bytes(id.b, IDS_ACTOR_LEN, r->data, r->len) != 0)
            return api_fail(RAY_ERR_TYPE, "object %s: malformed actor handle", api_obj_hex(r));
        out->actor = api_actor_handle(&id);
        return out->actor ? RAY_OK : api_fail(RAY_ERR_NOMEM, "out of memory");
    }
    case RAY_NIL:
        return RAY_OK;
    default:
        break;
    }
    api_held *h = calloc(1, sizeof *h);
    void *copy = malloc(r->len + 1);
    if (h == NULL || copy == NULL) {
        free(h);
        free(copy);
        return api_fail(RAY_ERR_NOMEM, "out of memory copying a value");
    }
    if (r->len > 0)
        memcpy(copy, r->data, r->len);
    ((char *)copy)[r->len] = '\0';
    h->copy = copy;
    out->priv = h;
    out->data = copy;
    out->len = r->type == RAY_STR && r->len > 0 ? r->len - 1 : r->len;
    return RAY_OK;
}

int api_value_adopt(ray_value *out, int type, void *copy, size_t len)
{
    api_held *h = calloc(1, sizeof *h);
    if (h == NULL) {
        free(copy);
        return api_fail(RAY_ERR_NOMEM, "out of memory");
    }
    h->copy = copy;
    memset(out, 0, sizeof *out);
    out->type = type;
    out->priv = h;
    out->data = copy;
    out->len = len;
    return RAY_OK;
}

/* Maps store object ID read-only (mu not held). */
int api_store_value(const ids_object *id, int type, ray_value *out)
{
    api_held *h = calloc(1, sizeof *h);
    if (h == NULL)
        return api_fail(RAY_ERR_NOMEM, "out of memory");
    int rc = api_store_pin(id, &h->addr, &h->size);
    if (rc != RAY_OK) {
        free(h);
        return rc;
    }
    h->id = *id;
    out->type = type;
    out->priv = h;
    out->data = h->addr;
    out->len = type == RAY_STR && h->size > 0 ? h->size - 1 : h->size;
    return RAY_OK;
}

int ray_get(ray_ref *r, double timeout_s, ray_value *out)
{
    memset(out, 0, sizeof *out);
    int rc = api_check_init("ray_get");
    if (rc != RAY_OK || r == NULL)
        return rc != RAY_OK ? rc : api_fail(RAY_ERR_INVALID, "ray_get: NULL ref");
    pthread_mutex_lock(&api_g.mu);
    int wrc = wait_obj(r, api_deadline(timeout_s));
    if (wrc != 0) {
        pthread_mutex_unlock(&api_g.mu);
        if (wrc == -ETIMEDOUT)
            return api_fail(RAY_ERR_TIMEOUT, "ray_get: object %s was not ready within %.3g s",
                            ray_ref_hex(r), timeout_s);
        return api_conn_fail(wrc, "ray_get");
    }
    if (r->state == API_FAILED) {
        rc = api_fail_msg(r->status, r->error);
    } else if (!r->in_store) {
        rc = inline_value(r, out);
    } else {
        ids_object id = r->id;
        int type = r->type;
        pthread_mutex_unlock(&api_g.mu);
        return api_store_value(&id, type, out);
    }
    pthread_mutex_unlock(&api_g.mu);
    if (rc != RAY_OK)
        memset(out, 0, sizeof *out);
    return rc;
}

void ray_value_release(ray_value *v)
{
    if (v == NULL)
        return;
    api_held *h = v->priv;
    if (h != NULL) {
        if (h->addr != NULL)
            api_store_unpin(&h->id, h->addr, h->size);
        free(h->copy);
        free(h);
    }
    ray_actor_release(v->actor);
    memset(v, 0, sizeof *v);
}

/* ---------------------------------------------------------------- typed */

static int get_typed(ray_ref *r, double timeout_s, ray_type want, ray_value *v)
{
    int rc = ray_get(r, timeout_s, v);
    if (rc == RAY_OK && v->type != want) {
        int got = v->type;
        ray_value_release(v);
        return api_fail(RAY_ERR_TYPE, "object %s holds a value of type %d, not %d",
                        ray_ref_hex(r), got, want);
    }
    return rc;
}

int ray_get_i64(ray_ref *r, double timeout_s, int64_t *out)
{
    ray_value v;
    int rc = get_typed(r, timeout_s, RAY_I64, &v);
    if (rc == RAY_OK)
        *out = v.i64;
    return rc;
}

int ray_get_f64(ray_ref *r, double timeout_s, double *out)
{
    ray_value v;
    int rc = get_typed(r, timeout_s, RAY_F64, &v);
    if (rc == RAY_OK)
        *out = v.f64;
    return rc;
}

int ray_get_bytes(ray_ref *r, double timeout_s, void **out, size_t *len)
{
    ray_value v;
    int rc = ray_get(r, timeout_s, &v);
    if (rc != RAY_OK)
        return rc;
    if (v.type != RAY_BYTES && v.type != RAY_STR) {
        int got = v.type;
        ray_value_release(&v);
        return api_fail(RAY_ERR_TYPE, "object %s holds a value of type %d, not bytes",
                        ray_ref_hex(r), got);
    }
    char *copy = malloc(v.len + 1);
    if (copy != NULL) {
        if (v.len > 0)
            memcpy(copy, v.data, v.len);
        copy[v.len] = '\0';
        *out = copy;
        if (len != NULL)
            *len = v.len;
    }
    ray_value_release(&v);
    return copy ? RAY_OK : api_fail(RAY_ERR_NOMEM, "out of memory copying a value");
}

/* ---------------------------------------------------------------- ray_wait */

typedef struct wait_set {
    ray_ref *const *refs;
    size_t n, want;
} wait_set;

static int enough_done(void *arg)
{
    wait_set *w = arg;
    size_t done = 0;
    for (size_t i = 0; i < w->n && done < w->want; i++)
        done += w->refs[i]->state != API_PENDING;
    return done >= w->want;
}

int ray_wait(ray_ref *const *refs, size_t n, size_t num_returns, double timeout_s,
             int *ready, size_t *n_ready)
{
    int rc = api_check_init("ray_wait");
    if (rc != RAY_OK)
        return rc;
    if (num_returns > n || (n > 0 && refs == NULL))
        return api_fail(RAY_ERR_INVALID, "ray_wait: num_returns %zu > %zu refs", num_returns, n);
    for (size_t i = 0; i < n; i++)
        if (refs[i] == NULL)
            return api_fail(RAY_ERR_INVALID, "ray_wait: ref %zu is NULL", i);
    wait_set w = {refs, n, num_returns};
    pthread_mutex_lock(&api_g.mu);
    int blocked = !enough_done(&w) && api_g.is_worker && api_current_ctx() != NULL;
    if (blocked)
        api_worker_blocked(1);
    int wrc = api_wait(enough_done, &w, api_deadline(timeout_s));
    if (blocked)
        api_worker_blocked(0);
    size_t count = 0;
    for (size_t i = 0; i < n; i++) {
        int done = refs[i]->state != API_PENDING;
        count += (size_t)done;
        if (ready != NULL)
            ready[i] = done;
    }
    pthread_mutex_unlock(&api_g.mu);
    if (n_ready != NULL)
        *n_ready = count;
    if (wrc != 0 && wrc != -ETIMEDOUT)
        return api_conn_fail(wrc, "ray_wait");
    return RAY_OK;
}
