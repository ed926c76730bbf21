/* sched-res-*: resource requests of tasks against a node's resources:
 * parsing (unknown and oversized requests are infeasible), fitting,
 * acquiring and releasing, and GPU ids (whole GPUs and shares). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "raylet/raylet.h"
#include "raylet/sched.h"

static raylet r;

static int setup(void **state)
{
    (void)state;
    memset(&r, 0, sizeof r);
    res_map_init(&r.total);
    res_map_set(&r.total, "CPU", 4);
    res_map_set(&r.total, "GPU", 2);
    res_map_set(&r.total, "memory", 1e9);
    res_map_set(&r.total, "gadget", 1);
    res_map_copy(&r.available, &r.total);
    return sched_open(&r);
}

static int teardown(void **state)
{
    (void)state;
    sched_close(&r);
    res_map_free(&r.total);
    res_map_free(&r.available);
    return 0;
}

static int parse(const char *n1, double q1, const char *n2, double q2, sched_res *out)
{
    Rayc__Resource a = RAYC__RESOURCE__INIT, b = RAYC__RESOURCE__INIT;
    a.name = (char *)n1;
    a.qty = q1;
    b.name = (char *)n2;
    b.qty = q2;
    const Rayc__Resource *list[] = {&a, &b};
    char err[256];
    return sched_res_parse(&r, list, n2 ? 2 : 1, out, err, sizeof err);
}

static void parse_and_infeasible(void **state)
{
    (void)state;
    sched_res q;
    assert_int_equal(parse("CPU", 1, "gadget", 1, &q), 0);
    assert_int_equal(q.n, 2);
    assert_true(q.cpu == 1);
    assert_int_equal(parse("CPU", 5, NULL, 0, &q), -ENOENT);     /* more than the node has */
    assert_int_equal(parse("unicorn", 1, NULL, 0, &q), -ENOENT); /* a resource it lacks */
    assert_int_equal(parse("CPU", -1, NULL, 0, &q), -EINVAL);
    assert_int_equal(parse("CPU", 0, NULL, 0, &q), 0);           /* zero asks for nothing */
    assert_int_equal(q.n, 0);
}

static void fit_acquire_release(void **state)
{
    (void)state;
    sched_res q;
    assert_int_equal(parse("CPU", 1.5, NULL, 0, &q), 0);
    assert_true(sched_res_fits(&r, &q));
    sched_res_acquire(&r, &q);
    sched_res_acquire(&r, &q);
    assert_false(sched_res_fits(&r, &q)); /* 1.0 left */
    sched_res_release(&r, &q);
    assert_true(sched_res_fits(&r, &q));
    sched_res_release(&r, &q);
    sched_res_release(&r, &q); /* never above the total */
    double cpu;
    res_map_get(&r.available, "CPU", &cpu);
    assert_true(cpu == 4);
    sched_res p;
    assert_int_equal(parse("CPU", 1.5, NULL, 0, &p), 0);
    assert_true(sched_res_equal(&p, &q));
}

static void gpu_ids(void **state)
{
    (void)state;
    sched_res one, half, two;
    int32_t a[4], b[4], c[4], d[4];
    assert_int_equal(parse("GPU", 1, NULL, 0, &one), 0);
    assert_int_equal(parse("GPU", 0.5, NULL, 0, &half), 0);
    assert_int_equal(parse("GPU", 2, NULL, 0, &two), 0);
    assert_int_equal(sched_gpu_take(&r, &one, a, 4), 1);
    assert_int_equal(sched_gpu_take(&r, &half, b, 4), 1);
    assert_int_equal(sched_gpu_take(&r, &half, c, 4), 1);
    assert_true(a[0] != b[0] && b[0] == c[0]); /* two halves share the other GPU */
    assert_int_equal(sched_gpu_take(&r, &one, d, 4), 0); /* none whole left */
    sched_gpu_give(&r, &one, a, 1);
    sched_gpu_give(&r, &half, b, 1);
    sched_gpu_give(&r, &half, c, 1);
    assert_int_equal(sched_gpu_take(&r, &two, d, 4), 2);
    sched_gpu_give(&r, &two, d, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parse_and_infeasible),
        cmocka_unit_test(fit_acquire_release),
        cmocka_unit_test(gpu_ids),
    };
    return cmocka_run_group_tests_name("sched-res", tests, setup, teardown);
}
