/* Functions and actors every worker has, whatever the job's libraries:
 * the microbenchmark's payloads and small tools the tests use.  Their names
 * start with "__ray_" / "__Ray" so they cannot clash with a user's. */
#include "api/api.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---------------------------------------------------------------- tasks */

static int b_noop(ray_ctx *c)
{
    (void)c;
    return RAY_OK;
}

/* Returns argument 0 unchanged (any type). */
static int b_echo(ray_ctx *c)
{
    const void *p;
    size_t n;
    int64_t i;
    double f;
    switch (ray_arg_type(c, 0)) {
    case RAY_I64: ray_arg_i64(c, 0, &i); return ray_return_i64(c, i);
    case RAY_F64: ray_arg_f64(c, 0, &f); return ray_return_f64(c, f);
    case RAY_STR: ray_arg_str(c, 0, (const char **)&p, NULL); return ray_return_str(c, p);
    case RAY_BYTES: ray_arg_bytes(c, 0, &p, &n); return ray_return_bytes(c, p, n);
    default: return RAY_OK;
    }
}

static void sleep_s(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

/* Sleeps S seconds in 10 ms steps, stopping early when the task is
 * cancelled; returns the seconds slept. */
static double sleep_unless_cancelled(ray_ctx *c, double s)
{
    double done = 0;
    while (done < s && !ray_cancelled(c)) {
        sleep_s(0.01);
        done += 0.01;
    }
    return done;
}

/* Sleeps argument 0 seconds (f64), stopping early when cancelled; returns
 * the seconds slept. */
static int b_sleep(ray_ctx *c)
{
    double s = 0;
    if (ray_arg_f64(c, 0, &s) != RAY_OK)
        return ray_error(c, "__ray_sleep: want seconds (f64)");
    return ray_return_f64(c, sleep_unless_cancelled(c, s));
}

static int b_pid(ray_ctx *c)
{
    return ray_return_i64(c, (int64_t)getpid());
}

/* Exits the worker process at once with status argument 0 (a crash). */
static int b_exit(ray_ctx *c)
{
    int64_t code = 1;
    ray_arg_i64(c, 0, &code);
    _exit((int)code);
}

/* Fails with argument 0 as its message. */
static int b_fail(ray_ctx *c)
{
    const char *msg = "failed on purpose";
    ray_arg_str(c, 0, &msg, NULL);
    return ray_error(c, "%s", msg);
}

/* Returns the sum of the bytes of argument 0 (any size), for checksums. */
static int b_sum(ray_ctx *c)
{
    const void *p;
    size_t n;
    if (ray_arg_bytes(c, 0, &p, &n) != RAY_OK)
        return ray_error(c, "__ray_sum: want bytes");
    uint64_t sum = 0;
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        sum = sum * 31 + b[i];
    return ray_return_i64(c, (int64_t)sum);
}

/* Returns argument 0 (i64) bytes filled with the byte argument 1. */
static int b_fill(ray_ctx *c)
{
    int64_t n = 0, v = 0;
    void *p;
    if (ray_arg_i64(c, 0, &n) != RAY_OK || n < 0 || ray_arg_i64(c, 1, &v) != RAY_OK)
        return ray_error(c, "__ray_fill: want size and byte");
    int rc = ray_return_alloc(c, 0, (size_t)n, &p);
    if (rc != RAY_OK)
        return rc;
    memset(p, (int)v, (size_t)n);
    return RAY_OK;
}

/* Returns the value of environment variable argument 0 ("" when unset). */
static int b_getenv(ray_ctx *c)
{
    const char *name;
    if (ray_arg_str(c, 0, &name, NULL) != RAY_OK)
        return ray_error(c, "__ray_getenv: want a name");
    const char *v = getenv(name);
    return ray_return_str(c, v ? v : "");
}

/* Submits argument 0 no-op tasks from inside a task and waits for them. */
static int b_spawn(ray_ctx *c)
{
    int64_t n = 0;
    ray_arg_i64(c, 0, &n);
    if (n < 0 || n > 1000000)
        return ray_error(c, "__ray_spawn: bad count");
    ray_ref **refs = calloc((size_t)n + 1, sizeof *refs);
    if (refs == NULL)
        return ray_error(c, "out of memory");
    int rc = RAY_OK;
    for (int64_t i = 0; i < n && rc == RAY_OK; i++)
        rc = (refs[i] = ray_call("__ray_noop", RAY_ARGS(), NULL)) ? RAY_OK : RAY_ERR_CONNECTION;
    ray_value v;
    for (int64_t i = 0; i < n; i++) {
        if (rc == RAY_OK && refs[i] != NULL && (rc = ray_get(refs[i], -1, &v)) == RAY_OK)
            ray_value_release(&v);
        ray_ref_release(refs[i]);
    }
    free(refs);
    return rc == RAY_OK ? ray_return_i64(c, n) : ray_error(c, "%s", ray_last_error());
}

/* Return value I is argument I (as many as num_returns). */
static int b_multi(ray_ctx *c)
{
    int64_t v;
    for (size_t i = 0; i < ray_arg_count(c); i++) {
        if (ray_arg_i64(c, i, &v) != RAY_OK)
            return ray_error(c, "__ray_multi: want integers");
        int rc = ray_return_at(c, i, ray_i64(v));
        if (rc != RAY_OK)
            return rc;
    }
    return RAY_OK;
}

/* Writes this worker's pid to file argument 0, sleeps argument 1 seconds
 * (less when cancelled), returns argument 2 (tests kill or cancel the
 * worker meanwhile, once the file shows the task is running). */
static int b_pidfile(ray_ctx *c)
{
    const char *path;
    double s = 0;
    int64_t v = 0;
    if (ray_arg_str(c, 0, &path, NULL) != RAY_OK || ray_arg_f64(c, 1, &s) != RAY_OK ||
        ray_arg_i64(c, 2, &v) != RAY_OK)
        return ray_error(c, "__ray_pidfile: want path, seconds, value");
    FILE *f = fopen(path, "w");
    if (f == NULL)
        return ray_error(c, "__ray_pidfile: cannot write %s", path);
    fprintf(f, "%d\n", (int)getpid());
    fclose(f);
    sleep_unless_cancelled(c, s);
    return ray_return_i64(c, v);
}

/* Fails while the attempt number is below argument 0, then returns the
 * attempt (retry_exceptions tests). */
static int b_flaky(ray_ctx *c)
{
    int64_t n = 0;
    ray_arg_i64(c, 0, &n);
    if (ray_task_attempt(c) < n)
        return ray_error(c, "__ray_flaky: attempt %d fails", ray_task_attempt(c));
    return ray_return_i64(c, ray_task_attempt(c));
}

/* Returns the running task's id as hex. */
static int b_task_hex(ray_ctx *c)
{
    return ray_return_str(c, ray_task_hex(c));
}

static int b_cwd(ray_ctx *c)
{
    char buf[4096];
    if (getcwd(buf, sizeof buf) == NULL)
        return ray_error(c, "getcwd failed");
    return ray_return_str(c, buf);
}

/* ---------------------------------------------------------------- actors */

typedef struct b_counter {
    int64_t value;
} b_counter;

static void *b_counter_new(ray_ctx *c)
{
    b_counter *s = calloc(1, sizeof *s);
    if (s != NULL && ray_arg_count(c) > 0)
        ray_arg_i64(c, 0, &s->value);
    return s;
}

static void b_counter_free(void *self)
{
    free(self);
}

static int b_incr(ray_ctx *c, void *self)
{
    b_counter *s = self;
    int64_t by = 1;
    if (ray_arg_count(c) > 0)
        ray_arg_i64(c, 0, &by);
    s->value += by;
    return ray_return_i64(c, s->value);
}

static int b_m_noop(ray_ctx *c, void *self)
{
    (void)self;
    return b_noop(c);
}

static int b_m_pid(ray_ctx *c, void *self)
{
    (void)self;
    return b_pid(c);
}

static int b_m_sleep(ray_ctx *c, void *self)
{
    (void)self;
    return b_sleep(c);
}

static int b_m_exit(ray_ctx *c, void *self)
{
    (void)self;
    return b_exit(c);
}

/* Calls method "noop" of the actor in argument 0, argument 1 times, and
 * waits for all (the microbenchmark's n:n clients). */
static int b_m_call_actor(ray_ctx *c, void *self)
{
    (void)self;
    ray_actor *a;
    int64_t n = 0;
    if (ray_arg_actor(c, 0, &a) != RAY_OK || ray_arg_i64(c, 1, &n) != RAY_OK || n < 0)
        return ray_error(c, "call_actor: want an actor and a count");
    ray_ref **refs = calloc((size_t)n + 1, sizeof *refs);
    if (refs == NULL)
        return ray_error(c, "out of memory");
    int rc = RAY_OK;
    for (int64_t i = 0; i < n && rc == RAY_OK; i++)
        rc = (refs[i] = ray_actor_call(a, "noop", RAY_ARGS(), NULL)) ? RAY_OK : RAY_ERR_CONNECTION;
    ray_value v;
    for (int64_t i = 0; i < n; i++) {
        if (rc == RAY_OK && refs[i] != NULL && (rc = ray_get(refs[i], -1, &v)) == RAY_OK)
            ray_value_release(&v);
        ray_ref_release(refs[i]);
    }
    free(refs);
    return rc == RAY_OK ? ray_return_i64(c, n) : ray_error(c, "%s", ray_last_error());
}

/* A task that calls method "incr" of the actor in argument 0, argument 1
 * times, and returns the last value (actor handles passed to tasks). */
static int b_call_actor(ray_ctx *c)
{
    ray_actor *a;
    int64_t n = 0, v = 0;
    if (ray_arg_actor(c, 0, &a) != RAY_OK || ray_arg_i64(c, 1, &n) != RAY_OK)
        return ray_error(c, "__ray_call_actor: want an actor and a count");
    for (int64_t i = 0; i < n; i++) {
        ray_ref *r = ray_actor_call(a, "incr", RAY_ARGS(), NULL);
        int rc = r ? ray_get_i64(r, -1, &v) : RAY_ERR_CONNECTION;
        ray_ref_release(r);
        if (rc != RAY_OK)
            return ray_error(c, "%s", ray_last_error());
    }
    return ray_return_i64(c, v);
}

/* Finds the actor named argument 0 and returns its "incr" result. */
static int b_incr_named(ray_ctx *c)
{
    const char *name;
    int64_t v = 0;
    if (ray_arg_str(c, 0, &name, NULL) != RAY_OK)
        return ray_error(c, "__ray_incr_named: want a name");
    ray_actor *a = ray_get_actor(name, NULL);
    if (a == NULL)
        return ray_error(c, "%s", ray_last_error());
    ray_ref *r = ray_actor_call(a, "incr", RAY_ARGS(), NULL);
    int rc = r ? ray_get_i64(r, -1, &v) : RAY_ERR_CONNECTION;
    ray_ref_release(r);
    ray_actor_release(a);
    return rc == RAY_OK ? ray_return_i64(c, v) : ray_error(c, "%s", ray_last_error());
}

/* __ray_barrier(name, n): increments the counter actor NAME, then waits
 * (in ray_get, polling every 10 ms) until it reaches N: returns when N
 * such tasks have all started, so they must run at the same time. */
static int b_barrier(ray_ctx *c)
{
    const char *name;
    int64_t n = 0, v = 0;
    if (ray_arg_str(c, 0, &name, NULL) != RAY_OK || ray_arg_i64(c, 1, &n) != RAY_OK)
        return ray_error(c, "__ray_barrier: want a name and a count");
    ray_actor *a = ray_get_actor(name, NULL);
    if (a == NULL)
        return ray_error(c, "%s", ray_last_error());
    const char *method = "incr";
    int rc = RAY_OK;
    for (;;) {
        ray_ref *r = ray_actor_call(a, method, RAY_ARGS(), NULL);
        rc = r ? ray_get_i64(r, -1, &v) : RAY_ERR_CONNECTION;
        ray_ref_release(r);
        if (rc != RAY_OK || v >= n)
            break;
        method = "value";
        usleep(10000);
    }
    ray_actor_release(a);
    return rc == RAY_OK ? ray_return_i64(c, v) : ray_error(c, "%s", ray_last_error());
}

/* Submits all calls of CALLS to N actors (arguments FIRST.. of C), round
 * robin, and waits for every one: the microbenchmark's 1:n and n:n. */
static int call_actors(ray_ctx *c, size_t first, int64_t calls)
{
    size_t na = ray_arg_count(c) > first ? ray_arg_count(c) - first : 0;
    if (na == 0 || calls < 0 || calls > 10000000)
        return ray_error(c, "want a call count and actor handles");
    ray_ref **refs = calloc((size_t)calls + 1, sizeof *refs);
    if (refs == NULL)
        return ray_error(c, "out of memory");
    int rc = RAY_OK;
    for (int64_t i = 0; i < calls && rc == RAY_OK; i++) {
        ray_actor *a;
        rc = ray_arg_actor(c, first + (size_t)i % na, &a);
        if (rc == RAY_OK && (refs[i] = ray_actor_call(a, "noop", RAY_ARGS(), NULL)) == NULL)
            rc = RAY_ERR_CONNECTION;
    }
    ray_value v;
    for (int64_t i = 0; i < calls; i++) {
        if (rc == RAY_OK && refs[i] != NULL && (rc = ray_get(refs[i], -1, &v)) == RAY_OK)
            ray_value_release(&v);
        ray_ref_release(refs[i]);
    }
    free(refs);
    return rc == RAY_OK ? ray_return_i64(c, calls) : ray_error(c, "%s", ray_last_error());
}

/* __ray_bench_work(n, actor...): n calls spread over the actors. */
static int b_bench_work(ray_ctx *c)
{
    int64_t n = 0;
    if (ray_arg_i64(c, 0, &n) != RAY_OK)
        return ray_error(c, "__ray_bench_work: want a count");
    return call_actors(c, 1, n);
}

/* Method batch(n, actor...): n calls to each actor. */
static int b_m_batch(ray_ctx *c, void *self)
{
    int64_t n = 0;
    (void)self;
    if (ray_arg_i64(c, 0, &n) != RAY_OK)
        return ray_error(c, "batch: want a count");
    return call_actors(c, 1, n * (int64_t)(ray_arg_count(c) - 1));
}

/* An actor whose constructor always fails. */
static void *b_broken_new(ray_ctx *c)
{
    ray_error(c, "this constructor always fails");
    return NULL;
}

static int b_m_spawn(ray_ctx *c, void *self)
{
    (void)self;
    return b_spawn(c);
}

static int b_m_fill(ray_ctx *c, void *self)
{
    (void)self;
    return b_fill(c);
}

static int b_m_sum(ray_ctx *c, void *self)
{
    (void)self;
    return b_sum(c);
}

/* Method two(): the value and the value + 1, as two return values. */
static int b_m_two(ray_ctx *c, void *self)
{
    int64_t v = ((b_counter *)self)->value;
    int rc = ray_return_at(c, 0, ray_i64(v));
    return rc == RAY_OK ? ray_return_at(c, 1, ray_i64(v + 1)) : rc;
}

static int b_m_getenv(ray_ctx *c, void *self)
{
    (void)self;
    return b_getenv(c);
}

static int b_m_value(ray_ctx *c, void *self)
{
    return ray_return_i64(c, ((b_counter *)self)->value);
}

void api_builtin_register(void)
{
    ray_register_function("__ray_noop", b_noop);
    ray_register_function("__ray_echo", b_echo);
    ray_register_function("__ray_sleep", b_sleep);
    ray_register_function("__ray_pid", b_pid);
    ray_register_function("__ray_exit", b_exit);
    ray_register_function("__ray_fail", b_fail);
    ray_register_function("__ray_sum", b_sum);
    ray_register_function("__ray_fill", b_fill);
    ray_register_function("__ray_getenv", b_getenv);
    ray_register_function("__ray_spawn", b_spawn);
    ray_register_function("__ray_multi", b_multi);
    ray_register_function("__ray_pidfile", b_pidfile);
    ray_register_function("__ray_flaky", b_flaky);
    ray_register_function("__ray_cwd", b_cwd);
    ray_register_function("__ray_task_hex", b_task_hex);
    ray_register_function("__ray_call_actor", b_call_actor);
    ray_register_function("__ray_bench_work", b_bench_work);
    ray_register_function("__ray_incr_named", b_incr_named);
    ray_register_function("__ray_barrier", b_barrier);
    ray_register_actor("__RayBroken", b_broken_new, NULL);
    ray_register_actor("__RayCounter", b_counter_new, b_counter_free);
    ray_register_method("__RayCounter", "incr", b_incr);
    ray_register_method("__RayCounter", "value", b_m_value);
    ray_register_method("__RayCounter", "noop", b_m_noop);
    ray_register_method("__RayCounter", "pid", b_m_pid);
    ray_register_method("__RayCounter", "sleep", b_m_sleep);
    ray_register_method("__RayCounter", "exit", b_m_exit);
    ray_register_method("__RayCounter", "call_actor", b_m_call_actor);
    ray_register_method("__RayCounter", "spawn", b_m_spawn);
    ray_register_method("__RayCounter", "batch", b_m_batch);
    ray_register_method("__RayCounter", "fill", b_m_fill);
    ray_register_method("__RayCounter", "sum", b_m_sum);
    ray_register_method("__RayCounter", "two", b_m_two);
    ray_register_method("__RayCounter", "getenv", b_m_getenv);
}
