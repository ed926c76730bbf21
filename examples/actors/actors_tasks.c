/* The actors example's task library: a Counter actor and a task that finds
 * a named Counter by itself. */
#include <stdlib.h>

#include <ray/ray.h>

typedef struct counter {
    int64_t value;
} counter;

/* Counter(start = 0) */
static void *counter_new(ray_ctx *c)
{
    counter *s = calloc(1, sizeof *s);
    if (s == NULL) {
        ray_error(c, "Counter: out of memory");
        return NULL;
    }
    if (ray_arg_count(c) > 0 && ray_arg_i64(c, 0, &s->value) != RAY_OK) {
        free(s);
        ray_error(c, "Counter: the start value must be an integer");
        return NULL;
    }
    return s;
}

static void counter_free(void *self)
{
    free(self);
}

/* incr(by = 1) -> the new value */
static int incr(ray_ctx *c, void *self)
{
    counter *s = self;
    int64_t by = 1;
    if (ray_arg_count(c) > 0 && ray_arg_i64(c, 0, &by) != RAY_OK)
        return ray_error(c, "incr: want an integer");
    s->value += by;
    return ray_return_i64(c, s->value);
}

/* value() -> the current value */
static int value(ray_ctx *c, void *self)
{
    return ray_return_i64(c, ((counter *)self)->value);
}

RAY_ACTOR(Counter, counter_new, counter_free);
RAY_METHOD(Counter, incr);
RAY_METHOD(Counter, value);

/* bump(name, n): finds the Counter named NAME and increments it N times,
 * returning the last value it saw. */
static int bump(ray_ctx *c)
{
    const char *name;
    int64_t n, last = 0;
    if (ray_arg_str(c, 0, &name, NULL) != RAY_OK || ray_arg_i64(c, 1, &n) != RAY_OK)
        return ray_error(c, "bump: want (name, count)");
    ray_actor *a = ray_get_actor(name, NULL);
    if (a == NULL)
        return ray_error(c, "bump: %s", ray_last_error());
    int rc = RAY_OK;
    for (int64_t i = 0; i < n && rc == RAY_OK; i++) {
        ray_ref *r = ray_actor_call(a, "incr", RAY_ARGS(), NULL);
        rc = r ? ray_get_i64(r, 60, &last) : RAY_ERR_CONNECTION;
        ray_ref_release(r);
    }
    ray_actor_release(a);
    return rc == RAY_OK ? ray_return_i64(c, last) : ray_error(c, "bump: %s", ray_last_error());
}
RAY_REMOTE(bump);
