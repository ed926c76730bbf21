/* Values on the wire: turning ray_arg lists into TaskArg messages.
 *
 * Numbers travel as 8 little-endian bytes (this code assumes a
 * little-endian host, as every platform rayc builds on is), strings with
 * their NUL so receivers can hand out views, actor handles as their id. */
#include "api/api.h"

#include <stdlib.h>
#include <string.h>

ray_arg ray_str(const char *s)
{
    ray_arg a = {RAY_STR, 0, 0, s, s ? strlen(s) : 0, 0, 0};
    return a;
}

int api_value_from_arg(const ray_arg *a, Rayc__Value *v, uint8_t scratch[8])
{
    v->type = a->kind;
    switch (a->kind) {
    case RAY_I64:
        memcpy(scratch, &a->i64, 8);
        v->data.data = scratch;
        v->data.len = 8;
        return RAY_OK;
    case RAY_F64:
        memcpy(scratch, &a->f64, 8);
        v->data.data = scratch;
        v->data.len = 8;
        return RAY_OK;
    case RAY_STR:
        if (a->data == NULL)
            return api_fail(RAY_ERR_INVALID, "a string argument is NULL");
        if (memchr(a->data, '\0', a->len) != NULL)
            return api_fail(RAY_ERR_INVALID, "a string argument has a NUL inside");
        v->data.data = (uint8_t *)a->data;
        v->data.len = a->len + 1;
        return RAY_OK;
    case RAY_BYTES:
        if (a->data == NULL && a->len > 0)
            return api_fail(RAY_ERR_INVALID, "a bytes argument is NULL");
        v->data.data = (uint8_t *)a->data;
        v->data.len = a->len;
        return RAY_OK;
    case RAY_ACTOR:
        if (a->actor == NULL)
            return api_fail(RAY_ERR_INVALID, "an actor argument is NULL");
        v->data.data = a->actor->id.b;
        v->data.len = IDS_ACTOR_LEN;
        return RAY_OK;
    case RAY_NIL:
        v->data.len = 0;
        return RAY_OK;
    default:
        return api_fail(RAY_ERR_INVALID, "unknown argument kind %d", a->kind);
    }
}

/* ---------------------------------------------------------------- args */

typedef struct arg_slot {
    Rayc__TaskArg arg;
    Rayc__Value value;
    uint8_t scratch[8];
} arg_slot;

/* A by-reference argument: inline when we hold the value (a small put or
 * a small result we received), else its id for the raylet to resolve. */
static int ref_arg(arg_slot *s, ray_ref *r)
{
    if (r == NULL)
        return api_fail(RAY_ERR_INVALID, "a ref argument is NULL");
    pthread_mutex_lock(&api_g.mu);
    int rc = RAY_OK;
    if (!r->sealed) {
        rc = api_fail(RAY_ERR_INVALID, "ref %s was not sealed (ray_put_seal)", api_obj_hex(r));
    } else if (r->state == API_READY && !r->in_store) {
        s->value.type = r->type;
        s->value.data.data = r->data;
        s->value.data.len = r->len;
        s->arg.value = &s->value;
    } else {
        api_obj_announce(r); /* a direct call's result: the raylet must learn it */
        s->arg.object_id.data = r->id.b;
        s->arg.object_id.len = IDS_OBJECT_LEN;
    }
    pthread_mutex_unlock(&api_g.mu);
    return rc;
}

/* A large by-value argument goes to the store first. */
static int big_arg(api_argbuf *b, arg_slot *s)
{
    ids_object id = api_new_put_id();
    int rc = api_store_put(&id, s->value.type, s->value.data.data, s->value.data.len);
    if (rc != RAY_OK)
        return rc;
    b->temps[b->ntemps++] = id;
    s->arg.value = NULL;
    s->arg.object_id.data = b->temps[b->ntemps - 1].b;
    s->arg.object_id.len = IDS_OBJECT_LEN;
    return RAY_OK;
}

static int one_arg(api_argbuf *b, arg_slot *s, const ray_arg *a)
{
    rayc__task_arg__init(&s->arg);
    rayc__value__init(&s->value);
    if (a->kind == RAY_ARG_REF)
        return ref_arg(s, a->ref);
    int rc = api_value_from_arg(a, &s->value, s->scratch);
    if (rc != RAY_OK)
        return rc;
    s->arg.value = &s->value;
    return s->value.data.len > API_INLINE_MAX ? big_arg(b, s) : RAY_OK;
}

int api_args_build(ray_args args, api_argbuf *b)
{
    memset(b, 0, sizeof b[0]);
    if (args.n > API_MAX_ARGS)
        return api_fail(RAY_ERR_INVALID, "%zu arguments (at most %d)", args.n, API_MAX_ARGS);
    if (args.n == 0)
        return RAY_OK;
    size_t n = args.n;
    b->block = malloc(n * (sizeof(arg_slot) + sizeof(Rayc__TaskArg *) + sizeof(ids_object)));
    if (b->block == NULL)
        return api_fail(RAY_ERR_NOMEM, "out of memory building arguments");
    arg_slot *slots = b->block;
    b->v = (Rayc__TaskArg **)(slots + n);
    b->temps = (ids_object *)(b->v + n);
    for (size_t i = 0; i < n; i++) {
        int rc = one_arg(b, &slots[i], &args.v[i]);
        if (rc != RAY_OK) {
            api_args_done(b);
            return rc;
        }
        b->v[i] = &slots[i].arg;
    }
    b->n = n;
    return RAY_OK;
}

void api_args_done(api_argbuf *b)
{
    if (b->ntemps > 0) {
        pthread_mutex_lock(&api_g.mu);
        for (size_t i = 0; i < b->ntemps; i++)
            api_release_id(&b->temps[i], 1);
        pthread_mutex_unlock(&api_g.mu);
    }
    free(b->block);
    memset(b, 0, sizeof b[0]);
}
