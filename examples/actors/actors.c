/* actors: a Counter actor holding state between calls, and a named
 * Counter that tasks find on their own with ray_get_actor.
 *
 *   RAY_ADDRESS=127.0.0.1:6379 ./actors
 *   ray job submit --working-dir examples/actors -- ./actors */
#include <stdio.h>
#include <stdlib.h>

#include <ray/ray.h>

#define TASKS 4
#define BUMPS 25

static int fail(const char *what)
{
    fprintf(stderr, "actors: %s: %s\n", what, ray_last_error());
    ray_shutdown();
    return 1;
}

/* A private Counter: ten calls, run in order. */
static int private_counter(void)
{
    ray_actor *c = ray_actor_create("Counter", RAY_ARGS(ray_i64(100)), NULL);
    if (c == NULL)
        return -1;
    ray_ref *refs[10];
    for (int i = 0; i < 10; i++)
        refs[i] = ray_actor_call(c, "incr", RAY_ARGS(ray_i64(i)), NULL);
    printf("Counter(100).incr(0..9):");
    int rc = RAY_OK;
    for (int i = 0; i < 10; i++) {
        int64_t v = 0;
        if (rc == RAY_OK && (rc = ray_get_i64(refs[i], 60, &v)) == RAY_OK)
            printf(" %lld", (long long)v);
        ray_ref_release(refs[i]);
    }
    printf("\n");
    ray_actor_kill(c, 1);
    ray_actor_release(c);
    return rc == RAY_OK ? 0 : -1;
}

/* A named Counter bumped by tasks that look it up themselves. */
static int shared_counter(void)
{
    ray_actor_opts o = {.name = "global_counter"};
    ray_actor *c = ray_actor_create("Counter", RAY_ARGS(), &o);
    if (c == NULL)
        return -1;
    ray_ref *tasks[TASKS];
    for (int i = 0; i < TASKS; i++)
        tasks[i] = ray_call("bump", RAY_ARGS(ray_str("global_counter"), ray_i64(BUMPS)), NULL);
    int rc = RAY_OK;
    for (int i = 0; i < TASKS; i++) {
        int64_t last;
        if (rc == RAY_OK)
            rc = ray_get_i64(tasks[i], 60, &last);
        ray_ref_release(tasks[i]);
    }
    int64_t v = 0;
    ray_ref *r = rc == RAY_OK ? ray_actor_call(c, "value", RAY_ARGS(), NULL) : NULL;
    if (r != NULL)
        rc = ray_get_i64(r, 60, &v);
    ray_ref_release(r);
    if (rc == RAY_OK)
        printf("%d tasks bumped global_counter %d times each: value %lld\n", TASKS, BUMPS,
               (long long)v);
    ray_actor_kill(c, 1);
    ray_actor_release(c);
    return rc == RAY_OK && v == TASKS * BUMPS ? 0 : -1;
}

int main(void)
{
    if (ray_init(NULL) != RAY_OK)
        return fail("ray_init");
    if (private_counter() != 0)
        return fail("the private counter");
    if (shared_counter() != 0)
        return fail("the named counter");
    ray_shutdown();
    return 0;
}
