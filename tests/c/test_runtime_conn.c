/* runtime-conn-*: connecting and losing the connection: no cluster, a wrong
 * token, and a raylet killed with -9 while gets are waiting (they end with
 * RAY_ERR_CONNECTION, and the workers die with it). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "test_runtime_cluster.h"

static int read_int_file(const char *path)
{
    char *text = NULL;
    int v = 0;
    if (fs_read_file(path, 64, &text, NULL) == 0)
        v = (int)strtol(text, NULL, 10);
    free(text);
    return v;
}

static void no_cluster_is_a_connection_error(void **state)
{
    (void)state;
    char addr[64];
    snprintf(addr, sizeof addr, "127.0.0.1:%d", net_pick_free_port("127.0.0.1"));
    ray_init_opts o = {.address = addr, .token = "whatever-token-0123456789", .timeout_s = 2};
    /* A hang instead would meet the runner's time limit (tests/run.tcl). */
    assert_int_equal(ray_init(&o), RAY_ERR_CONNECTION);
    assert_non_null(strstr(ray_last_error(), "cannot reach the GCS"));
    assert_false(ray_is_initialized());
    assert_null(ray_call("__ray_noop", RAY_ARGS(), NULL));
    assert_non_null(strstr(ray_last_error(), "ray_init"));
}

static void wrong_token_is_refused(void **state)
{
    (void)state;
    ray_init_opts o = {.token = "not-the-cluster-token", .timeout_s = 5};
    assert_int_equal(ray_init(&o), RAY_ERR_CONNECTION);
    assert_non_null(strstr(ray_last_error(), "token was refused"));
}

static void killed_raylet_ends_every_wait(void **state)
{
    (void)state;
    char dir[512], path[600];
    assert_int_equal(ray_init(NULL), RAY_OK);
    int64_t pid;
    assert_int_equal(rt_call_i64("__ray_pid", RAY_ARGS(), &pid), RAY_OK);
    ray_ref *r = ray_call("__ray_sleep", RAY_ARGS(ray_f64(30)), NULL);
    assert_int_equal(rt_node_dir(dir, sizeof dir), 0);
    snprintf(path, sizeof path, "%s/pids/raylet.pid", dir);
    int raylet = read_int_file(path);
    assert_true(raylet > 0);
    double d;
    assert_int_equal(kill(raylet, SIGKILL), 0);
    /* No timeout: only the lost raylet can end this get. */
    assert_int_equal(ray_get_f64(r, -1, &d), RAY_ERR_CONNECTION);
    assert_non_null(strstr(ray_last_error(), "raylet"));
    assert_null(ray_call("__ray_noop", RAY_ARGS(), NULL));
    assert_int_equal(ray_get_f64(r, 1, &d), RAY_ERR_CONNECTION);
    ray_ref_release(r);
    /* Its workers follow it (parent-death signal). */
    for (int i = 0; i < 100 && rt_pid_alive((int)pid); i++)
        rt_sleep_ms(50);
    assert_false(rt_pid_alive((int)pid));
    ray_shutdown();
    /* A raylet killed with -9 cannot remove its shared memory; we do. */
    char *info = NULL;
    snprintf(path, sizeof path, "%s/node.info", dir);
    if (fs_read_file(path, 4096, &info, NULL) == 0 && strstr(info, "node_id ") != NULL) {
        char shm[128];
        snprintf(shm, sizeof shm, "/dev/shm/rayc_%.16s_arena", strstr(info, "node_id ") + 8);
        unlink(shm);
    }
    free(info);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(no_cluster_is_a_connection_error),
        cmocka_unit_test(wrong_token_is_refused),
        cmocka_unit_test(killed_raylet_ends_every_wait),
    };
    if (rt_cluster_start("--num-cpus 1") != 0)
        return 1;
    int rc = cmocka_run_group_tests_name("runtime-conn", tests, NULL, NULL);
    rt_cluster_stop();
    return rc;
}
