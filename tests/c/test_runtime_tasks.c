/* runtime-tasks-*: normal tasks through the C API against a real local head
 * (bin/ray start --head, 2 CPUs and 2 fake GPUs): values, returns, errors,
 * timeouts, ray_wait, refs as arguments, nested tasks, cancel, retries
 * after worker crashes and kill -9, scheduling errors, 10,000 tasks.
 * The functions are the workers' builtins (runtime/api/api_builtin.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "test_runtime_cluster.h"

static int group_setup(void **state)
{
    (void)state;
    static const char *const env[] = {"RAYC_TEST_VAR=hello from the job", NULL};
    ray_init_opts o = {.env_vars = env};
    return rt_cluster_up("--num-cpus 2 --num-gpus 2", &o);
}

static int group_teardown(void **state)
{
    (void)state;
    ray_shutdown();
    rt_cluster_stop();
    return 0;
}

/* Runs FN on ARG and returns the value (any type); the caller releases it. */
static int call_value(const char *fn, ray_args args, const ray_task_opts *o, ray_value *v)
{
    ray_ref *r = ray_call(fn, args, o);
    if (r == NULL)
        return RAY_ERR_CONNECTION;
    int rc = ray_get(r, 60, v);
    ray_ref_release(r);
    return rc;
}

/* ---------------------------------------------------------------- values */

static void values_round_trip(void **state)
{
    (void)state;
    ray_value v;
    assert_int_equal(call_value("__ray_echo", RAY_ARGS(ray_i64(-42)), NULL, &v), RAY_OK);
    assert_int_equal(v.type, RAY_I64);
    assert_int_equal(v.i64, -42);
    ray_value_release(&v);
    assert_int_equal(call_value("__ray_echo", RAY_ARGS(ray_f64(2.5)), NULL, &v), RAY_OK);
    assert_int_equal(v.type, RAY_F64);
    assert_true(v.f64 == 2.5);
    ray_value_release(&v);
    assert_int_equal(call_value("__ray_echo", RAY_ARGS(ray_str("héllo")), NULL, &v), RAY_OK);
    assert_int_equal(v.type, RAY_STR);
    assert_string_equal(v.data, "héllo");
    assert_int_equal(v.len, strlen("héllo"));
    ray_value_release(&v);
    const char raw[] = {1, 0, 2, 0, 3};
    assert_int_equal(call_value("__ray_echo", RAY_ARGS(ray_bytes(raw, sizeof raw)), NULL, &v),
                     RAY_OK);
    assert_int_equal(v.type, RAY_BYTES);
    assert_int_equal(v.len, sizeof raw);
    assert_memory_equal(v.data, raw, sizeof raw);
    ray_value_release(&v);
    ray_value_release(&v); /* twice is fine */
    /* A task that returns nothing gives RAY_NIL. */
    assert_int_equal(call_value("__ray_noop", RAY_ARGS(), NULL, &v), RAY_OK);
    assert_int_equal(v.type, RAY_NIL);
}

static void several_returns(void **state)
{
    (void)state;
    ray_ref *refs[3];
    ray_task_opts o = {.num_returns = 3};
    assert_int_equal(ray_submit("__ray_multi", RAY_ARGS(ray_i64(7), ray_i64(8), ray_i64(9)), &o,
                                refs, 3), RAY_OK);
    for (int i = 0; i < 3; i++) {
        int64_t v;
        assert_int_equal(ray_get_i64(refs[i], 30, &v), RAY_OK);
        assert_int_equal(v, 7 + i);
        ray_ref_release(refs[i]);
    }
    /* Mismatched counts are refused before anything is sent. */
    assert_int_equal(ray_submit("__ray_multi", RAY_ARGS(), &o, refs, 2), RAY_ERR_INVALID);
}

/* ---------------------------------------------------------------- errors */

static void task_ids_name_their_objects(void **state)
{
    (void)state;
    ray_ref *r = ray_call("__ray_task_hex", RAY_ARGS(), NULL);
    void *hex;
    assert_int_equal(ray_get_bytes(r, 30, &hex, NULL), RAY_OK);
    assert_int_equal(strlen(hex), 48);
    assert_memory_equal(hex, ray_ref_hex(r), 48); /* ObjectID = TaskID + index */
    free(hex);
    ray_ref_release(r);
}

static void unknown_function_names_it(void **state)
{
    (void)state;
    ray_value v;
    assert_int_equal(call_value("no_such_function", RAY_ARGS(), NULL, &v), RAY_ERR_NOT_FOUND);
    assert_non_null(strstr(ray_last_error(), "no_such_function"));
}

static void task_error_says_where(void **state)
{
    (void)state;
    ray_value v;
    assert_int_equal(call_value("__ray_fail", RAY_ARGS(ray_str("boom 17")), NULL, &v),
                     RAY_ERR_TASK);
    const char *e = ray_last_error();
    assert_non_null(strstr(e, "boom 17"));
    assert_non_null(strstr(e, "__ray_fail"));
    assert_non_null(strstr(e, "127.0.0.1"));
    assert_non_null(strstr(e, "pid "));
    /* The task's own argument errors are application errors too. */
    assert_int_equal(call_value("__ray_sleep", RAY_ARGS(ray_str("x")), NULL, &v), RAY_ERR_TASK);
    assert_non_null(strstr(ray_last_error(), "want seconds"));
}

static void type_mismatch(void **state)
{
    (void)state;
    ray_ref *r = ray_call("__ray_echo", RAY_ARGS(ray_i64(1)), NULL);
    double d;
    void *p;
    assert_int_equal(ray_get_f64(r, 30, &d), RAY_ERR_TYPE);
    assert_int_equal(ray_get_bytes(r, 30, &p, NULL), RAY_ERR_TYPE);
    int64_t i;
    assert_int_equal(ray_get_i64(r, 30, &i), RAY_OK); /* still usable */
    ray_ref_release(r);
}

static void bad_arguments_are_refused(void **state)
{
    (void)state;
    ray_value v;
    assert_null(ray_call(NULL, RAY_ARGS(), NULL));
    assert_int_equal(ray_get(NULL, 1, &v), RAY_ERR_INVALID);
    assert_null(ray_call("__ray_echo", RAY_ARGS(ray_ref_arg(NULL)), NULL));
    assert_int_equal(ray_wait(NULL, 0, 1, 0, NULL, NULL), RAY_ERR_INVALID);
    ray_task_opts o = {.strategy = RAY_STRATEGY_NODE_AFFINITY};
    assert_null(ray_call("__ray_noop", RAY_ARGS(), &o));
    assert_int_equal(ray_init(NULL), RAY_ERR_INVALID); /* twice */
    assert_string_equal(ray_status_name(RAY_ERR_TIMEOUT), "RAY_ERR_TIMEOUT");
    assert_int_equal(strlen(ray_job_id()), 8);
}

/* ---------------------------------------------------------------- time */

static void get_timeout_returns_in_time(void **state)
{
    (void)state;
    ray_ref *r = ray_call("__ray_sleep", RAY_ARGS(ray_f64(1.0)), NULL);
    double d;
    assert_int_equal(ray_get_f64(r, 0.1, &d), RAY_ERR_TIMEOUT);
    /* Still not done: that get gave up before the 1 s task ended. */
    assert_int_equal(ray_get_f64(r, 0, &d), RAY_ERR_TIMEOUT);
    assert_int_equal(ray_get_f64(r, 30, &d), RAY_OK);
    assert_true(d >= 0.99);
    ray_ref_release(r);
}

static void wait_counts_ready_refs(void **state)
{
    (void)state;
    ray_ref *refs[3] = {
        ray_call("__ray_sleep", RAY_ARGS(ray_f64(0)), NULL),
        ray_call("__ray_fail", RAY_ARGS(), NULL), /* errors are ready too */
        ray_call("__ray_sleep", RAY_ARGS(ray_f64(2.0)), NULL),
    };
    int ready[3];
    size_t n = 0;
    assert_int_equal(ray_wait(refs, 3, 2, 10, ready, &n), RAY_OK);
    assert_int_equal(n, 2);
    assert_true(ready[0] && ready[1]);
    assert_int_equal(ready[2], 0); /* it returned before the 2 s task ended */
    assert_int_equal(ray_wait(refs, 3, 3, 0.05, ready, &n), RAY_OK); /* timeout is no error */
    assert_int_equal(n, 2);
    assert_int_equal(ready[2], 0);
    assert_int_equal(ray_wait(refs, 3, 4, 0, NULL, NULL), RAY_ERR_INVALID);
    for (int i = 0; i < 3; i++)
        ray_ref_release(refs[i]);
}

/* ---------------------------------------------------------------- refs */

static void refs_as_arguments(void **state)
{
    (void)state;
    ray_ref *a = ray_call("__ray_sleep", RAY_ARGS(ray_f64(0.2)), NULL);
    ray_ref *b = ray_call("__ray_echo", RAY_ARGS(ray_ref_arg(a)), NULL);
    double d;
    assert_int_equal(ray_get_f64(b, 30, &d), RAY_OK);
    assert_true(d >= 0.19);
    /* An argument that failed fails the task that needs it, with its error. */
    ray_ref *bad = ray_call("__ray_fail", RAY_ARGS(ray_str("upstream broke")), NULL);
    ray_ref *c = ray_call("__ray_echo", RAY_ARGS(ray_ref_arg(bad)), NULL);
    int64_t i;
    assert_int_equal(ray_get_i64(c, 30, &i), RAY_ERR_TASK);
    assert_non_null(strstr(ray_last_error(), "upstream broke"));
    /* A small put travels inline. */
    ray_ref *p = ray_put(ray_i64(99));
    ray_ref *e = ray_call("__ray_echo", RAY_ARGS(ray_ref_arg(p)), NULL);
    assert_int_equal(ray_get_i64(e, 30, &i), RAY_OK);
    assert_int_equal(i, 99);
    ray_ref *dup = ray_ref_dup(p);
    ray_ref_release(p);
    assert_int_equal(ray_get_i64(dup, 0, &i), RAY_OK);
    assert_int_equal(strlen(ray_ref_hex(dup)), 56);
    ray_ref *refs[] = {a, b, bad, c, e, dup};
    for (size_t k = 0; k < sizeof refs / sizeof refs[0]; k++)
        ray_ref_release(refs[k]);
}

/* Sync calls leave the driver holding a leased worker: later tasks go to
 * it directly, and the raylet learns their results only when a task it
 * runs needs them. */
static void direct_results_as_arguments(void **state)
{
    (void)state;
    int64_t v;
    for (int i = 0; i < 5; i++) { /* take a lease */
        ray_ref *w = ray_call("__ray_echo", RAY_ARGS(ray_i64(i)), NULL);
        assert_int_equal(ray_get_i64(w, 30, &v), RAY_OK);
        ray_ref_release(w);
    }
    ray_ref *a = ray_call("__ray_sleep", RAY_ARGS(ray_f64(0.2)), NULL);
    ray_ref *b = ray_call("__ray_echo", RAY_ARGS(ray_ref_arg(a)), NULL);
    double d;
    assert_int_equal(ray_get_f64(b, 30, &d), RAY_OK);
    assert_true(d >= 0.19);
    ray_ref *bad = ray_call("__ray_fail", RAY_ARGS(ray_str("direct upstream")), NULL);
    ray_ref *c = ray_call("__ray_echo", RAY_ARGS(ray_ref_arg(bad)), NULL);
    assert_int_equal(ray_get_i64(c, 30, &v), RAY_ERR_TASK);
    assert_non_null(strstr(ray_last_error(), "direct upstream"));
    /* Once ready, a direct result is inlined like any small value. */
    ray_ref *e = ray_call("__ray_echo", RAY_ARGS(ray_ref_arg(a)), NULL);
    assert_int_equal(ray_get_f64(e, 30, &d), RAY_OK);
    ray_ref *refs[] = {a, b, bad, c, e};
    for (int i = 0; i < 5; i++)
        ray_ref_release(refs[i]);
}

static void nested_tasks_do_not_deadlock(void **state)
{
    (void)state;
    /* Four tasks that each wait for 20 tasks of their own, on 2 CPUs: the
     * waiting ones give their CPU back. */
    ray_ref *refs[4];
    for (int i = 0; i < 4; i++)
        refs[i] = ray_call("__ray_spawn", RAY_ARGS(ray_i64(20)), NULL);
    for (int i = 0; i < 4; i++) {
        int64_t v;
        assert_int_equal(ray_get_i64(refs[i], 60, &v), RAY_OK);
        assert_int_equal(v, 20);
        ray_ref_release(refs[i]);
    }
}

/* ---------------------------------------------------------------- cancel */

static void cancel_pending_task(void **state)
{
    (void)state;
    ray_ref *busy[2];
    for (int i = 0; i < 2; i++)
        busy[i] = ray_call("__ray_sleep", RAY_ARGS(ray_f64(3)), NULL);
    ray_ref *r = ray_call("__ray_sleep", RAY_ARGS(ray_f64(5)), NULL);
    rt_sleep_ms(200);
    double d;
    assert_int_equal(ray_cancel(r, 0), RAY_OK);
    assert_int_equal(ray_get_f64(r, 30, &d), RAY_ERR_CANCELLED);
    /* Both CPUs still busy: the task was cancelled while it waited. */
    for (int i = 0; i < 2; i++)
        assert_int_equal(ray_get_f64(busy[i], 0, &d), RAY_ERR_TIMEOUT);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(ray_get_f64(busy[i], 30, &d), RAY_OK);
        ray_ref_release(busy[i]);
    }
    ray_ref_release(r);
    ray_ref *p = ray_put(ray_i64(1));
    assert_int_equal(ray_cancel(p, 1), RAY_ERR_INVALID);
    ray_ref_release(p);
}

static void cancel_running_task(void **state)
{
    (void)state;
    double d;
    /* With force: the worker is killed and the task is not retried. */
    ray_ref *r = ray_call("__ray_sleep", RAY_ARGS(ray_f64(30)), NULL);
    rt_sleep_ms(300);
    assert_int_equal(ray_cancel(r, 1), RAY_OK);
    /* Within the 30 s the task would sleep: CANCELLED, not a timeout. */
    assert_int_equal(ray_get_f64(r, 25, &d), RAY_ERR_CANCELLED);
    ray_ref_release(r);
    /* Without force: the task sees ray_cancelled() and stops. */
    r = ray_call("__ray_sleep", RAY_ARGS(ray_f64(30)), NULL);
    rt_sleep_ms(300);
    assert_int_equal(ray_cancel(r, 0), RAY_OK);
    assert_int_equal(ray_get_f64(r, 25, &d), RAY_ERR_CANCELLED);
    ray_ref_release(r);
    /* A finished task is not affected. */
    r = ray_call("__ray_echo", RAY_ARGS(ray_i64(5)), NULL);
    int64_t i;
    assert_int_equal(ray_get_i64(r, 30, &i), RAY_OK);
    assert_int_equal(ray_cancel(r, 1), RAY_OK);
    assert_int_equal(ray_get_i64(r, 30, &i), RAY_OK);
    ray_ref_release(r);
}

/* ---------------------------------------------------------------- crashes */

static void crashing_task_is_retried_then_fails(void **state)
{
    (void)state;
    ray_task_opts o = {.max_retries = 2};
    int64_t v;
    ray_ref *r = ray_call("__ray_exit", RAY_ARGS(ray_i64(3)), &o);
    assert_int_equal(ray_get_i64(r, 60, &v), RAY_ERR_WORKER_CRASHED);
    const char *e = ray_last_error();
    assert_non_null(strstr(e, "__ray_exit"));
    assert_non_null(strstr(e, "exited with status 3"));
    assert_non_null(strstr(e, "pid "));
    ray_ref_release(r);
    o.max_retries = RAY_ZERO;
    r = ray_call("__ray_exit", RAY_ARGS(ray_i64(1)), &o);
    assert_int_equal(ray_get_i64(r, 60, &v), RAY_ERR_WORKER_CRASHED);
    ray_ref_release(r);
}

static int read_pid(const char *path)
{
    char *text = NULL;
    int pid = 0;
    if (fs_read_file(path, 64, &text, NULL) == 0)
        pid = (int)strtol(text, NULL, 10);
    free(text);
    return pid;
}

static void kill9_during_task_retries_with_right_answer(void **state)
{
    (void)state;
    char path[400];
    snprintf(path, sizeof path, "%s/pid.txt", rt_c.root);
    unlink(path);
    ray_ref *r = ray_call("__ray_pidfile", RAY_ARGS(ray_str(path), ray_f64(1.0), ray_i64(4242)),
                          NULL);
    int pid = 0;
    for (int i = 0; i < 200 && (pid = read_pid(path)) == 0; i++)
        rt_sleep_ms(25);
    assert_true(pid > 0);
    unlink(path);
    assert_int_equal(kill(pid, SIGKILL), 0);
    int64_t v;
    assert_int_equal(ray_get_i64(r, 60, &v), RAY_OK);
    assert_int_equal(v, 4242);
    int again = read_pid(path);
    assert_true(again > 0 && again != pid); /* it ran again, elsewhere */
    ray_ref_release(r);
}

/* The same through a leased worker: the connection breaks, the task goes
 * back to the raylet and runs again (or fails when it has no retries). */
static void kill9_of_a_leased_worker(void **state)
{
    (void)state;
    char path[400];
    int64_t v;
    snprintf(path, sizeof path, "%s/pid2.txt", rt_c.root);
    for (int attempt = 0; attempt < 2; attempt++) {
        for (int i = 0; i < 5; i++) { /* take a lease */
            ray_ref *w = ray_call("__ray_echo", RAY_ARGS(ray_i64(i)), NULL);
            assert_int_equal(ray_get_i64(w, 30, &v), RAY_OK);
            ray_ref_release(w);
        }
        unlink(path);
        ray_task_opts o = {.max_retries = attempt == 0 ? 0 : RAY_ZERO};
        ray_ref *r = ray_call("__ray_pidfile",
                              RAY_ARGS(ray_str(path), ray_f64(1.0), ray_i64(77)), &o);
        int pid = 0;
        for (int i = 0; i < 200 && (pid = read_pid(path)) == 0; i++)
            rt_sleep_ms(25);
        assert_true(pid > 0);
        unlink(path);
        assert_int_equal(kill(pid, SIGKILL), 0);
        if (attempt == 0) {
            assert_int_equal(ray_get_i64(r, 60, &v), RAY_OK);
            assert_int_equal(v, 77);
        } else {
            assert_int_equal(ray_get_i64(r, 60, &v), RAY_ERR_WORKER_CRASHED);
        }
        ray_ref_release(r);
    }
}

static void retry_exceptions(void **state)
{
    (void)state;
    int64_t v;
    ray_task_opts o = {.retry_exceptions = 1, .max_retries = 3};
    ray_ref *r = ray_call("__ray_flaky", RAY_ARGS(ray_i64(2)), &o);
    assert_int_equal(ray_get_i64(r, 60, &v), RAY_OK);
    assert_int_equal(v, 2); /* the third attempt */
    ray_ref_release(r);
    r = ray_call("__ray_flaky", RAY_ARGS(ray_i64(2)), NULL); /* no retry on errors by default */
    assert_int_equal(ray_get_i64(r, 60, &v), RAY_ERR_TASK);
    ray_ref_release(r);
}

/* ---------------------------------------------------------------- scheduling */

/* Ray keeps a task no node can run pending (it shows under Demands and runs
 * once a node that fits joins); cancelling it ends it. */
static void infeasible_tasks_stay_pending(void **state)
{
    (void)state;
    ray_value v;
    ray_task_opts o = {.num_gpus = 4};
    ray_resource res[] = {{"unicorn", 1}};
    ray_task_opts o2 = {.resources = res, .n_resources = 1};
    ray_ref *gpu = ray_call("__ray_noop", RAY_ARGS(), &o);
    ray_ref *uni = ray_call("__ray_noop", RAY_ARGS(), &o2);
    assert_non_null(gpu);
    assert_non_null(uni);
    assert_int_equal(ray_get(gpu, 1, &v), RAY_ERR_TIMEOUT);
    assert_int_equal(ray_get(uni, 0.2, &v), RAY_ERR_TIMEOUT);
    assert_int_equal(ray_cancel(gpu, 0), RAY_OK);
    assert_int_equal(ray_cancel(uni, 0), RAY_OK);
    assert_int_equal(ray_get(gpu, 30, &v), RAY_ERR_CANCELLED);
    assert_int_equal(ray_get(uni, 30, &v), RAY_ERR_CANCELLED);
    ray_ref_release(gpu);
    ray_ref_release(uni);
    /* Malformed requests and hard affinity to an unknown node fail at once. */
    ray_resource bad[] = {{"unicorn", -1}};
    ray_task_opts o4 = {.resources = bad, .n_resources = 1};
    assert_null(ray_call("__ray_noop", RAY_ARGS(), &o4));
    assert_non_null(strstr(ray_last_error(), "negative"));
    ray_task_opts o3 = {.strategy = RAY_STRATEGY_NODE_AFFINITY, .node_id = "ffff"};
    assert_int_equal(call_value("__ray_noop", RAY_ARGS(), &o3, &v), RAY_ERR_UNSCHEDULABLE);
    o3.soft = 1;
    assert_int_equal(call_value("__ray_noop", RAY_ARGS(), &o3, &v), RAY_OK);
}

static void gpu_tasks_see_their_devices(void **state)
{
    (void)state;
    ray_task_opts o = {.num_gpus = 1};
    ray_ref *a = ray_call("__ray_pidfile", RAY_ARGS(ray_str("/dev/null"), ray_f64(0.3), ray_i64(0)),
                          &o);
    ray_ref *g1 = ray_call("__ray_getenv", RAY_ARGS(ray_str("CUDA_VISIBLE_DEVICES")), &o);
    ray_ref *g2 = ray_call("__ray_getenv", RAY_ARGS(ray_str("CUDA_VISIBLE_DEVICES")), &o);
    void *s1, *s2;
    assert_int_equal(ray_get_bytes(g1, 30, &s1, NULL), RAY_OK);
    assert_int_equal(ray_get_bytes(g2, 30, &s2, NULL), RAY_OK);
    assert_true(strcmp(s1, "0") == 0 || strcmp(s1, "1") == 0);
    assert_true(strcmp(s2, "0") == 0 || strcmp(s2, "1") == 0);
    free(s1);
    free(s2);
    ray_ref *n = ray_call("__ray_getenv", RAY_ARGS(ray_str("CUDA_VISIBLE_DEVICES")), NULL);
    assert_int_equal(ray_get_bytes(n, 30, &s1, NULL), RAY_OK);
    assert_string_equal(s1, "");
    free(s1);
    int64_t v;
    assert_int_equal(ray_get_i64(a, 30, &v), RAY_OK);
    ray_ref *refs[] = {a, g1, g2, n};
    for (int i = 0; i < 4; i++)
        ray_ref_release(refs[i]);
    /* An actor keeps its GPU in every call. */
    ray_actor_opts ao = {.num_gpus = 1};
    ray_actor *act = ray_actor_create("__RayCounter", RAY_ARGS(), &ao);
    for (int i = 0; i < 3; i++) {
        ray_ref *e = ray_actor_call(act, "getenv", RAY_ARGS(ray_str("CUDA_VISIBLE_DEVICES")),
                                    NULL);
        assert_int_equal(ray_get_bytes(e, 30, &s1, NULL), RAY_OK);
        assert_true(strcmp(s1, "0") == 0 || strcmp(s1, "1") == 0);
        free(s1);
        ray_ref_release(e);
    }
    ray_actor_kill(act, 1);
    ray_actor_release(act);
}

static void workers_get_the_jobs_env_and_cwd(void **state)
{
    (void)state;
    ray_value v;
    assert_int_equal(call_value("__ray_getenv", RAY_ARGS(ray_str("RAYC_TEST_VAR")), NULL, &v),
                     RAY_OK);
    assert_string_equal(v.data, "hello from the job");
    ray_value_release(&v);
    char cwd[4096];
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(call_value("__ray_cwd", RAY_ARGS(), NULL, &v), RAY_OK);
    assert_string_equal(v.data, cwd);
    ray_value_release(&v);
    assert_int_equal(call_value("__ray_getenv", RAY_ARGS(ray_str("RAY_JOB_ID")), NULL, &v),
                     RAY_OK);
    assert_string_equal(v.data, ray_job_id());
    ray_value_release(&v);
}

/* ---------------------------------------------------------------- volume */

static void ten_thousand_tasks_in_one_job(void **state)
{
    (void)state;
    enum { N = 10000 };
    ray_ref **refs = calloc(N, sizeof *refs);
    assert_non_null(refs);
    for (int i = 0; i < N; i++) {
        refs[i] = ray_call("__ray_echo", RAY_ARGS(ray_i64(i)), NULL);
        assert_non_null(refs[i]);
    }
    int64_t sum = 0;
    for (int i = 0; i < N; i++) {
        int64_t v;
        assert_int_equal(ray_get_i64(refs[i], 120, &v), RAY_OK);
        sum += v;
        ray_ref_release(refs[i]);
    }
    assert_int_equal(sum, (int64_t)N * (N - 1) / 2);
    free(refs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(values_round_trip),
        cmocka_unit_test(several_returns),
        cmocka_unit_test(task_ids_name_their_objects),
        cmocka_unit_test(unknown_function_names_it),
        cmocka_unit_test(task_error_says_where),
        cmocka_unit_test(type_mismatch),
        cmocka_unit_test(bad_arguments_are_refused),
        cmocka_unit_test(get_timeout_returns_in_time),
        cmocka_unit_test(wait_counts_ready_refs),
        cmocka_unit_test(refs_as_arguments),
        cmocka_unit_test(direct_results_as_arguments),
        cmocka_unit_test(nested_tasks_do_not_deadlock),
        cmocka_unit_test(cancel_pending_task),
        cmocka_unit_test(cancel_running_task),
        cmocka_unit_test(crashing_task_is_retried_then_fails),
        cmocka_unit_test(kill9_during_task_retries_with_right_answer),
        cmocka_unit_test(kill9_of_a_leased_worker),
        cmocka_unit_test(retry_exceptions),
        cmocka_unit_test(infeasible_tasks_stay_pending),
        cmocka_unit_test(gpu_tasks_see_their_devices),
        cmocka_unit_test(workers_get_the_jobs_env_and_cwd),
        cmocka_unit_test(ten_thousand_tasks_in_one_job),
    };
    return cmocka_run_group_tests_name("runtime-tasks", tests, group_setup, group_teardown);
}
