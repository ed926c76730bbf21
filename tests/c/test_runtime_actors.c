/* runtime-actors-*: actors through the C API against a real local head:
 * ordering, names and namespaces, kill and restarts, kill -9 during a call,
 * failing constructors, concurrency, handles passed to tasks, held
 * resources, 1,000 actors created and killed, detached actors outliving
 * their job.  The classes are the workers' builtins (__RayCounter). */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/syscall.h>

#include <cmocka.h>

#include "test_runtime_cluster.h"

static int group_setup(void **state)
{
    (void)state;
    ray_init_opts o = {.ns = "tests"};
    return rt_cluster_up("--num-cpus 2", &o);
}

static int group_teardown(void **state)
{
    (void)state;
    ray_shutdown();
    rt_cluster_stop();
    return 0;
}

static int call_i64(ray_actor *a, const char *method, ray_args args, int64_t *out)
{
    ray_ref *r = ray_actor_call(a, method, args, NULL);
    if (r == NULL)
        return RAY_ERR_CONNECTION;
    int rc = ray_get_i64(r, 60, out);
    ray_ref_release(r);
    return rc;
}

/* How many threads of process PID are in a sleep system call now: the
 * builtin "sleep" method loops on 10 ms sleeps, so this is how many of its
 * calls run at this moment.  -1 when PID is gone. */
static int threads_sleeping(pid_t pid)
{
    char dir[64];
    snprintf(dir, sizeof dir, "/proc/%d/task", (int)pid);
    DIR *d = opendir(dir);
    if (d == NULL)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        char path[400], line[64];
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "%s/%s/syscall", dir, e->d_name);
        FILE *f = fopen(path, "re");
        if (f == NULL)
            continue;
        long nr = fgets(line, sizeof line, f) != NULL ? strtol(line, NULL, 10) : -1;
        fclose(f);
        n += nr == SYS_nanosleep || nr == SYS_clock_nanosleep;
    }
    closedir(d);
    return n;
}

/* Waits until N calls of "sleep" run at once in actor process PID (the
 * call being killed is then really running).  Fails the test after 60 s. */
static void wait_sleeping(int64_t pid, int n)
{
    for (int i = 0; i < 6000; i++) {
        if (threads_sleeping((pid_t)pid) >= n)
            return;
        rt_sleep_ms(10);
    }
    fail_msg("actor process %lld never ran %d sleep calls at once", (long long)pid, n);
}

/* ---------------------------------------------------------------- basics */

static void calls_run_in_submission_order(void **state)
{
    (void)state;
    ray_actor *a = ray_actor_create("__RayCounter", RAY_ARGS(ray_i64(10)), NULL);
    assert_non_null(a);
    assert_int_equal(strlen(ray_actor_hex(a)), 32);
    enum { N = 200 };
    ray_ref *refs[N];
    for (int i = 0; i < N; i++)
        refs[i] = ray_actor_call(a, "incr", RAY_ARGS(), NULL);
    for (int i = 0; i < N; i++) {
        int64_t v;
        assert_int_equal(ray_get_i64(refs[i], 60, &v), RAY_OK);
        assert_int_equal(v, 11 + i);
        ray_ref_release(refs[i]);
    }
    int64_t v;
    assert_int_equal(call_i64(a, "incr", RAY_ARGS(ray_i64(100)), &v), RAY_OK);
    assert_int_equal(v, 10 + N + 100);
    ray_ref *two[2];
    ray_task_opts o2 = {.num_returns = 2};
    assert_int_equal(ray_actor_submit(a, "two", RAY_ARGS(), &o2, two, 2), RAY_OK);
    assert_int_equal(ray_get_i64(two[0], 60, &v), RAY_OK);
    assert_int_equal(v, 10 + N + 100);
    assert_int_equal(ray_get_i64(two[1], 60, &v), RAY_OK);
    assert_int_equal(v, 10 + N + 101);
    ray_ref_release(two[0]);
    ray_ref_release(two[1]);
    assert_int_equal(ray_actor_submit(a, "two", RAY_ARGS(), &o2, two, 1), RAY_ERR_INVALID);
    assert_int_equal(call_i64(a, "no_such_method", RAY_ARGS(), &v), RAY_ERR_NOT_FOUND);
    assert_non_null(strstr(ray_last_error(), "no_such_method"));
    assert_int_equal(ray_actor_kill(a, 1), RAY_OK);
    ray_actor_release(a);
}

static void named_actors_and_namespaces(void **state)
{
    (void)state;
    ray_actor_opts o = {.name = "counter-1"};
    ray_actor *a = ray_actor_create("__RayCounter", RAY_ARGS(), &o);
    assert_non_null(a);
    ray_actor *b = ray_get_actor("counter-1", NULL);
    assert_non_null(b);
    assert_string_equal(ray_actor_hex(a), ray_actor_hex(b));
    int64_t v;
    assert_int_equal(call_i64(b, "incr", RAY_ARGS(), &v), RAY_OK);
    assert_int_equal(v, 1);
    /* The name is taken; get_if_exists gives the same actor back. */
    assert_null(ray_actor_create("__RayCounter", RAY_ARGS(), &o));
    assert_non_null(strstr(ray_last_error(), "already exists"));
    ray_actor_opts g = {.name = "counter-1", .get_if_exists = 1};
    ray_actor *c = ray_actor_create("__RayCounter", RAY_ARGS(), &g);
    assert_non_null(c);
    assert_string_equal(ray_actor_hex(c), ray_actor_hex(a));
    /* Names live in namespaces. */
    ray_actor_opts other = {.name = "counter-1", .ns = "elsewhere"};
    ray_actor *d = ray_actor_create("__RayCounter", RAY_ARGS(ray_i64(50)), &other);
    assert_non_null(d);
    ray_actor *e = ray_get_actor("counter-1", "elsewhere");
    assert_non_null(e);
    assert_int_equal(call_i64(e, "incr", RAY_ARGS(), &v), RAY_OK);
    assert_int_equal(v, 51);
    assert_null(ray_get_actor("nobody-by-that-name", NULL));
    assert_non_null(strstr(ray_last_error(), "nobody-by-that-name"));
    /* A task finds the actor by name. */
    ray_ref *t = ray_call("__ray_incr_named", RAY_ARGS(ray_str("counter-1")), NULL);
    assert_int_equal(ray_get_i64(t, 60, &v), RAY_OK);
    assert_int_equal(v, 2);
    ray_ref_release(t);
    /* Once killed, the name is free again. */
    assert_int_equal(ray_actor_kill(a, 1), RAY_OK);
    assert_null(ray_get_actor("counter-1", NULL));
    ray_actor *f = ray_actor_create("__RayCounter", RAY_ARGS(), &o);
    assert_non_null(f);
    assert_int_equal(ray_actor_kill(f, 1), RAY_OK);
    assert_int_equal(ray_actor_kill(d, 1), RAY_OK);
    ray_actor *all[] = {a, b, c, d, e, f};
    for (int i = 0; i < 6; i++)
        ray_actor_release(all[i]);
}

/* ---------------------------------------------------------------- death */

static void kill_without_restart(void **state)
{
    (void)state;
    ray_actor *a = ray_actor_create("__RayCounter", RAY_ARGS(), NULL);
    int64_t v, pid;
    assert_int_equal(call_i64(a, "incr", RAY_ARGS(), &v), RAY_OK);
    assert_int_equal(call_i64(a, "pid", RAY_ARGS(), &pid), RAY_OK);
    ray_ref *slow = ray_actor_call(a, "sleep", RAY_ARGS(ray_f64(10)), NULL);
    ray_ref *queued = ray_actor_call(a, "incr", RAY_ARGS(), NULL);
    wait_sleeping(pid, 1);
    assert_int_equal(ray_actor_kill(a, 1), RAY_OK);
    double d;
    assert_int_equal(ray_get_f64(slow, 10, &d), RAY_ERR_ACTOR_DIED);
    assert_int_equal(ray_get_i64(queued, 10, &v), RAY_ERR_ACTOR_DIED);
    assert_int_equal(call_i64(a, "incr", RAY_ARGS(), &v), RAY_ERR_ACTOR_DIED);
    assert_non_null(strstr(ray_last_error(), "killed"));
    assert_int_equal(ray_actor_kill(a, 1), RAY_OK); /* again: nothing to do */
    ray_ref_release(slow);
    ray_ref_release(queued);
    ray_actor_release(a);
}

static void kill_with_restarts_reruns_the_constructor(void **state)
{
    (void)state;
    ray_actor_opts o = {.max_restarts = 1};
    ray_actor *a = ray_actor_create("__RayCounter", RAY_ARGS(ray_i64(100)), &o);
    int64_t v, pid1, pid2;
    assert_int_equal(call_i64(a, "incr", RAY_ARGS(), &v), RAY_OK);
    assert_int_equal(v, 101);
    assert_int_equal(call_i64(a, "pid", RAY_ARGS(), &pid1), RAY_OK);
    assert_int_equal(ray_actor_kill(a, 0), RAY_OK);
    assert_int_equal(call_i64(a, "incr", RAY_ARGS(), &v), RAY_OK);
    assert_int_equal(v, 101); /* a fresh constructor run */
    assert_int_equal(call_i64(a, "pid", RAY_ARGS(), &pid2), RAY_OK);
    assert_true(pid1 != pid2);
    assert_int_equal(ray_actor_kill(a, 0), RAY_OK); /* no restarts left */
    assert_int_equal(call_i64(a, "incr", RAY_ARGS(), &v), RAY_ERR_ACTOR_DIED);
    ray_actor_release(a);
}

static void kill9_during_a_call(void **state)
{
    (void)state;
    ray_actor_opts o = {.max_restarts = 1};
    ray_actor *a = ray_actor_create("__RayCounter", RAY_ARGS(), &o);
    int64_t pid, pid2, v;
    double d;
    assert_int_equal(call_i64(a, "pid", RAY_ARGS(), &pid), RAY_OK);
    ray_ref *r = ray_actor_call(a, "sleep", RAY_ARGS(ray_f64(5)), NULL);
    wait_sleeping(pid, 1);
    assert_int_equal(kill((pid_t)pid, SIGKILL), 0);
    /* The call in flight is lost (max_task_retries 0); the actor restarts. */
    assert_int_equal(ray_get_f64(r, 30, &d), RAY_ERR_ACTOR_DIED);
    assert_non_null(strstr(ray_last_error(), "signal 9"));
    ray_ref_release(r);
    assert_int_equal(call_i64(a, "pid", RAY_ARGS(), &pid2), RAY_OK);
    assert_true(pid2 != pid);
    /* Out of restarts: the next death is final, and says so. */
    r = ray_actor_call(a, "sleep", RAY_ARGS(ray_f64(5)), NULL);
    wait_sleeping(pid2, 1);
    assert_int_equal(kill((pid_t)pid2, SIGKILL), 0);
    assert_int_equal(ray_get_f64(r, 30, &d), RAY_ERR_ACTOR_DIED);
    assert_non_null(strstr(ray_last_error(), "no restarts left"));
    ray_ref_release(r);
    assert_int_equal(call_i64(a, "incr", RAY_ARGS(), &v), RAY_ERR_ACTOR_DIED);
    ray_actor_release(a);
}

static void max_task_retries_reruns_the_lost_call(void **state)
{
    (void)state;
    ray_actor_opts o = {.max_restarts = 1, .max_task_retries = 1};
    ray_actor *a = ray_actor_create("__RayCounter", RAY_ARGS(), &o);
    int64_t pid;
    double d;
    assert_int_equal(call_i64(a, "pid", RAY_ARGS(), &pid), RAY_OK);
    ray_ref *r = ray_actor_call(a, "sleep", RAY_ARGS(ray_f64(0.5)), NULL);
    wait_sleeping(pid, 1);
    assert_int_equal(kill((pid_t)pid, SIGKILL), 0);
    assert_int_equal(ray_get_f64(r, 30, &d), RAY_OK);
    ray_ref_release(r);
    assert_int_equal(ray_actor_kill(a, 1), RAY_OK);
    ray_actor_release(a);
}

static void failing_constructor_and_unknown_class(void **state)
{
    (void)state;
    int64_t v;
    ray_actor *a = ray_actor_create("__RayBroken", RAY_ARGS(), NULL);
    assert_non_null(a); /* creation is asynchronous */
    assert_int_equal(call_i64(a, "incr", RAY_ARGS(), &v), RAY_ERR_ACTOR_DIED);
    assert_non_null(strstr(ray_last_error(), "always fails"));
    ray_actor_release(a);
    a = ray_actor_create("NoSuchClass", RAY_ARGS(), NULL);
    assert_int_equal(call_i64(a, "incr", RAY_ARGS(), &v), RAY_ERR_ACTOR_DIED);
    assert_non_null(strstr(ray_last_error(), "NoSuchClass"));
    ray_actor_release(a);
    /* A named creation waits for the answer, so it fails at once. */
    ray_actor_opts o = {.name = "broken"};
    assert_null(ray_actor_create("__RayBroken", RAY_ARGS(), &o));
    assert_non_null(strstr(ray_last_error(), "always fails"));
    assert_null(ray_actor_create(NULL, RAY_ARGS(), NULL));
    ray_actor_opts bad = {.get_if_exists = 1};
    assert_null(ray_actor_create("__RayCounter", RAY_ARGS(), &bad));
}

/* ---------------------------------------------------------------- concurrency, handles */

/* The most "sleep" calls that ran at once in an actor with CONCURRENCY, of
 * four 1 s calls sent together (sampled until the last one is done). */
static int four_sleeps(int concurrency)
{
    ray_actor_opts o = {.max_concurrency = concurrency};
    ray_actor *a = ray_actor_create("__RayCounter", RAY_ARGS(), &o);
    int64_t pid;
    double d;
    assert_int_equal(call_i64(a, "pid", RAY_ARGS(), &pid), RAY_OK); /* started */
    assert_int_equal(threads_sleeping((pid_t)pid), 0);                /* idle */
    ray_ref *r[4];
    for (int i = 0; i < 4; i++)
        r[i] = ray_actor_call(a, "sleep", RAY_ARGS(ray_f64(1.0)), NULL);
    int most = 0;
    /* A get with a short timeout is the pause: it also moves the calls on. */
    while (most < 4 && ray_get_f64(r[3], 0.005, &d) == RAY_ERR_TIMEOUT) {
        int n = threads_sleeping((pid_t)pid);
        most = n > most ? n : most;
    }
    for (int i = 0; i < 4; i++) {
        assert_int_equal(ray_get_f64(r[i], 30, &d), RAY_OK);
        ray_ref_release(r[i]);
    }
    ray_actor_kill(a, 1);
    ray_actor_release(a);
    return most;
}

static void max_concurrency_runs_calls_in_parallel(void **state)
{
    (void)state;
    assert_int_equal(four_sleeps(4), 4);
    assert_int_equal(four_sleeps(1), 1);
}

static void handles_can_be_passed_to_tasks(void **state)
{
    (void)state;
    ray_actor *a = ray_actor_create("__RayCounter", RAY_ARGS(), NULL);
    ray_ref *r = ray_call("__ray_call_actor", RAY_ARGS(ray_actor_arg(a), ray_i64(5)), NULL);
    int64_t v;
    assert_int_equal(ray_get_i64(r, 60, &v), RAY_OK);
    assert_int_equal(v, 5);
    ray_ref_release(r);
    ray_actor *dup = ray_actor_dup(a);
    assert_int_equal(call_i64(dup, "incr", RAY_ARGS(), &v), RAY_OK);
    assert_int_equal(v, 6);
    ray_actor_kill(a, 1);
    ray_actor_release(dup);
    ray_actor_release(a);
}

static void actor_resources_are_held_for_life(void **state)
{
    (void)state;
    ray_actor_opts o = {.num_cpus = 2};
    ray_actor *a = ray_actor_create("__RayCounter", RAY_ARGS(), &o);
    int64_t v;
    assert_int_equal(call_i64(a, "incr", RAY_ARGS(), &v), RAY_OK);
    ray_ref *t = ray_call("__ray_echo", RAY_ARGS(ray_i64(3)), NULL);
    assert_int_equal(ray_get_i64(t, 0.5, &v), RAY_ERR_TIMEOUT); /* no CPU left */
    assert_int_equal(ray_actor_kill(a, 1), RAY_OK);
    assert_int_equal(ray_get_i64(t, 30, &v), RAY_OK);
    assert_int_equal(v, 3);
    ray_ref_release(t);
    ray_actor_release(a);
}

/* ---------------------------------------------------------------- direct calls */

/* A started actor whose calls go straight to its worker: the first calls
 * may go through the raylet while its socket is not there yet. */
static ray_actor *direct_actor(const ray_actor_opts *o)
{
    ray_actor *a = ray_actor_create("__RayCounter", RAY_ARGS(), o);
    int64_t v;
    call_i64(a, "value", RAY_ARGS(), &v);
    rt_sleep_ms(300); /* past the reconnect delay */
    call_i64(a, "value", RAY_ARGS(), &v);
    return a;
}

static void direct_calls_keep_order_with_raylet_calls(void **state)
{
    (void)state;
    ray_actor *a = direct_actor(NULL);
    enum { N = 300 };
    ray_ref *refs[N];
    ray_ref *slow = ray_call("__ray_sleep", RAY_ARGS(ray_f64(0.2)), NULL);
    for (int i = 0; i < N; i++) {
        /* Every 50th call waits for a pending ref, so it goes through the
         * raylet; the others go direct.  The order must hold anyway. */
        if (i % 50 == 25)
            refs[i] = ray_actor_call(a, "incr", RAY_ARGS(ray_ref_arg(slow)), NULL);
        else
            refs[i] = ray_actor_call(a, "incr", RAY_ARGS(), NULL);
        assert_non_null(refs[i]);
    }
    /* (incr ignores an argument that is not an integer: every call adds 1) */
    for (int i = 0; i < N; i++) {
        int64_t v;
        assert_int_equal(ray_get_i64(refs[i], 60, &v), RAY_OK);
        assert_int_equal(v, i + 1);
        ray_ref_release(refs[i]);
    }
    ray_ref_release(slow);
    ray_actor_kill(a, 1);
    ray_actor_release(a);
}

static void direct_call_results_as_task_arguments(void **state)
{
    (void)state;
    ray_actor *a = direct_actor(NULL);
    ray_ref *slow = ray_actor_call(a, "sleep", RAY_ARGS(ray_f64(0.2)), NULL);
    ray_ref *t = ray_call("__ray_echo", RAY_ARGS(ray_ref_arg(slow)), NULL);
    double d;
    assert_int_equal(ray_get_f64(t, 30, &d), RAY_OK);
    assert_true(d >= 0.19);
    ray_ref_release(t);
    ray_ref_release(slow);
    ray_actor_kill(a, 1);
    ray_actor_release(a);
}

static void direct_calls_with_large_values(void **state)
{
    (void)state;
    ray_actor *a = direct_actor(NULL);
    /* A large return value: created by the actor's worker, adopted by us. */
    ray_ref *r = ray_actor_call(a, "fill", RAY_ARGS(ray_i64(3 << 20), ray_i64(9)), NULL);
    ray_value v;
    assert_int_equal(ray_get(r, 60, &v), RAY_OK);
    assert_int_equal(v.len, 3 << 20);
    assert_true(((const uint8_t *)v.data)[0] == 9 && ((const uint8_t *)v.data)[(3 << 20) - 1] == 9);
    ray_value_release(&v);
    /* ...which outlives the actor, since we own it now. */
    int64_t pid;
    assert_int_equal(call_i64(a, "pid", RAY_ARGS(), &pid), RAY_OK);
    assert_int_equal(ray_actor_kill(a, 1), RAY_OK);
    for (int i = 0; i < 6000 && rt_pid_alive((int)pid); i++)
        rt_sleep_ms(10);
    assert_false(rt_pid_alive((int)pid));
    assert_int_equal(ray_get(r, 60, &v), RAY_OK);
    assert_int_equal(v.len, 3 << 20);
    ray_value_release(&v);
    /* A large argument goes through the raylet (pinned there). */
    ray_actor *b = direct_actor(NULL);
    ray_ref *s = ray_actor_call(b, "sum", RAY_ARGS(ray_ref_arg(r)), NULL);
    int64_t sum;
    assert_int_equal(ray_get_i64(s, 60, &sum), RAY_OK);
    ray_ref_release(s);
    ray_ref_release(r);
    ray_actor_kill(b, 1);
    ray_actor_release(a);
    ray_actor_release(b);
}

static void cancel_a_direct_call(void **state)
{
    (void)state;
    ray_actor *a = direct_actor(NULL);
    int64_t pid;
    double d;
    assert_int_equal(call_i64(a, "pid", RAY_ARGS(), &pid), RAY_OK);
    ray_ref *r = ray_actor_call(a, "sleep", RAY_ARGS(ray_f64(30)), NULL);
    wait_sleeping(pid, 1);
    assert_int_equal(ray_cancel(r, 1), RAY_OK); /* force is ignored for actor calls */
    /* Within the 30 s the call would sleep: CANCELLED, not a timeout. */
    assert_int_equal(ray_get_f64(r, 25, &d), RAY_ERR_CANCELLED);
    int64_t v;
    assert_int_equal(call_i64(a, "incr", RAY_ARGS(), &v), RAY_OK); /* the actor lives on */
    ray_ref_release(r);
    ray_actor_kill(a, 1);
    ray_actor_release(a);
}

static void kill9_during_a_direct_call(void **state)
{
    (void)state;
    ray_actor_opts o = {.max_restarts = 1, .max_task_retries = 1};
    ray_actor *a = direct_actor(&o);
    int64_t pid, pid2, v;
    double d;
    assert_int_equal(call_i64(a, "pid", RAY_ARGS(), &pid), RAY_OK);
    ray_ref *r = ray_actor_call(a, "sleep", RAY_ARGS(ray_f64(0.5)), NULL);
    ray_ref *after = ray_actor_call(a, "incr", RAY_ARGS(), NULL);
    wait_sleeping(pid, 1);
    assert_int_equal(kill((pid_t)pid, SIGKILL), 0);
    /* Both calls in flight run again on the restarted actor, in order. */
    assert_int_equal(ray_get_f64(r, 30, &d), RAY_OK);
    assert_int_equal(ray_get_i64(after, 30, &v), RAY_OK);
    assert_int_equal(v, 1);
    assert_int_equal(call_i64(a, "pid", RAY_ARGS(), &pid2), RAY_OK);
    assert_true(pid2 != pid);
    ray_ref_release(r);
    ray_ref_release(after);
    /* No restarts left: the next death is final. */
    rt_sleep_ms(300);
    assert_int_equal(call_i64(a, "pid", RAY_ARGS(), &pid2), RAY_OK);
    r = ray_actor_call(a, "sleep", RAY_ARGS(ray_f64(5)), NULL);
    wait_sleeping(pid2, 1);
    assert_int_equal(kill((pid_t)pid2, SIGKILL), 0);
    assert_int_equal(ray_get_f64(r, 30, &d), RAY_ERR_ACTOR_DIED);
    assert_non_null(strstr(ray_last_error(), "signal 9"));
    ray_ref_release(r);
    ray_actor_release(a);
}

/* ---------------------------------------------------------------- volume */

static void thousand_actors_created_and_killed(void **state)
{
    (void)state;
    enum { TOTAL = 1000, BATCH = 50 };
    for (int done = 0; done < TOTAL; done += BATCH) {
        ray_actor *a[BATCH];
        ray_ref *r[BATCH];
        for (int i = 0; i < BATCH; i++) {
            a[i] = ray_actor_create("__RayCounter", RAY_ARGS(ray_i64(done + i)), NULL);
            assert_non_null(a[i]);
            r[i] = ray_actor_call(a[i], "incr", RAY_ARGS(), NULL);
        }
        for (int i = 0; i < BATCH; i++) {
            int64_t v;
            assert_int_equal(ray_get_i64(r[i], 120, &v), RAY_OK);
            assert_int_equal(v, done + i + 1);
            ray_ref_release(r[i]);
            assert_int_equal(ray_actor_kill(a[i], 1), RAY_OK);
            ray_actor_release(a[i]);
        }
    }
}

/* ---------------------------------------------------------------- jobs */

static void detached_actor_outlives_its_job(void **state)
{
    (void)state;
    ray_actor_opts det = {.name = "keeper", .detached = 1};
    ray_actor_opts att = {.name = "goner"};
    ray_actor *a = ray_actor_create("__RayCounter", RAY_ARGS(ray_i64(41)), &det);
    ray_actor *b = ray_actor_create("__RayCounter", RAY_ARGS(), &att);
    assert_non_null(a);
    assert_non_null(b);
    char job1[16];
    snprintf(job1, sizeof job1, "%s", ray_job_id());
    ray_actor_release(a);
    ray_actor_release(b);
    ray_shutdown(); /* the job ends */
    ray_init_opts o = {.ns = "tests"};
    assert_int_equal(ray_init(&o), RAY_OK);
    assert_string_not_equal(job1, ray_job_id());
    ray_actor *k = ray_get_actor("keeper", NULL);
    assert_non_null(k);
    int64_t v;
    assert_int_equal(call_i64(k, "incr", RAY_ARGS(), &v), RAY_OK);
    assert_int_equal(v, 42);
    /* It still runs tasks of its own, although its job has ended. */
    assert_int_equal(call_i64(k, "spawn", RAY_ARGS(ray_i64(5)), &v), RAY_OK);
    assert_int_equal(v, 5);
    assert_null(ray_get_actor("goner", NULL));
    assert_int_equal(ray_actor_kill(k, 1), RAY_OK);
    ray_actor_release(k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(calls_run_in_submission_order),
        cmocka_unit_test(named_actors_and_namespaces),
        cmocka_unit_test(kill_without_restart),
        cmocka_unit_test(kill_with_restarts_reruns_the_constructor),
        cmocka_unit_test(kill9_during_a_call),
        cmocka_unit_test(max_task_retries_reruns_the_lost_call),
        cmocka_unit_test(failing_constructor_and_unknown_class),
        cmocka_unit_test(max_concurrency_runs_calls_in_parallel),
        cmocka_unit_test(handles_can_be_passed_to_tasks),
        cmocka_unit_test(actor_resources_are_held_for_life),
        cmocka_unit_test(direct_calls_keep_order_with_raylet_calls),
        cmocka_unit_test(direct_call_results_as_task_arguments),
        cmocka_unit_test(direct_calls_with_large_values),
        cmocka_unit_test(cancel_a_direct_call),
        cmocka_unit_test(kill9_during_a_direct_call),
        cmocka_unit_test(thousand_actors_created_and_killed),
        cmocka_unit_test(detached_actor_outlives_its_job),
    };
    return cmocka_run_group_tests_name("runtime-actors", tests, group_setup, group_teardown);
}
