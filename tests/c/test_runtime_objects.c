/* runtime-objects-*: ray_put / ray_get / ray_wait and large objects through
 * the node's shared-memory store, against a real local head with a 64 MiB
 * store: zero-copy views, ray_put_alloc, large arguments and returns, refs
 * of large objects as arguments, spilling and restoring with the right
 * bytes, and the store-full error. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "test_runtime_cluster.h"

#define MiB (1024u * 1024u)

static int group_setup(void **state)
{
    (void)state;
    /* A short grace so that the store-full test does not wait long. */
    setenv("RAY_object_store_full_timeout_ms", "700", 1);
    return rt_cluster_up("--num-cpus 2 --object-store-memory 67108864", NULL);
}

static int group_teardown(void **state)
{
    (void)state;
    ray_shutdown();
    rt_cluster_stop();
    return 0;
}

/* The checksum __ray_sum computes. */
static int64_t checksum(const void *p, size_t n)
{
    uint64_t sum = 0;
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        sum = sum * 31 + b[i];
    return (int64_t)sum;
}

static void fill_pattern(uint8_t *p, size_t n, unsigned seed)
{
    uint32_t x = seed * 2654435761u + 1;
    for (size_t i = 0; i < n; i++) {
        x = x * 1664525u + 1013904223u;
        p[i] = (uint8_t)(x >> 24);
    }
}

/* ---------------------------------------------------------------- small */

static void small_puts_round_trip(void **state)
{
    (void)state;
    ray_ref *a = ray_put(ray_i64(7)), *b = ray_put(ray_f64(-1.5)), *c = ray_put(ray_str("text"));
    int64_t i;
    double d;
    void *s;
    size_t n;
    assert_int_equal(ray_get_i64(a, 0, &i), RAY_OK);
    assert_int_equal(i, 7);
    assert_int_equal(ray_get_f64(b, 0, &d), RAY_OK);
    assert_true(d == -1.5);
    assert_int_equal(ray_get_bytes(c, 0, &s, &n), RAY_OK);
    assert_string_equal(s, "text");
    assert_int_equal(n, 4);
    free(s);
    ray_ref *refs[] = {a, b, c};
    int ready[3];
    size_t nready;
    assert_int_equal(ray_wait(refs, 3, 3, 0, ready, &nready), RAY_OK);
    assert_int_equal(nready, 3);
    assert_null(ray_put(ray_ref_arg(a)));
    assert_int_equal(ray_get_i64(NULL, 0, &i), RAY_ERR_INVALID);
    for (int k = 0; k < 3; k++)
        ray_ref_release(refs[k]);
}

/* ---------------------------------------------------------------- large */

static void large_put_gives_a_zero_copy_view(void **state)
{
    (void)state;
    size_t n = 20 * MiB;
    uint8_t *buf = malloc(n);
    fill_pattern(buf, n, 1);
    ray_ref *r = ray_put(ray_bytes(buf, n));
    assert_non_null(r);
    ray_value v, w;
    assert_int_equal(ray_get(r, 10, &v), RAY_OK);
    assert_int_equal(v.type, RAY_BYTES);
    assert_int_equal(v.len, n);
    assert_memory_equal(v.data, buf, n);
    /* A second get maps the same shared bytes. */
    assert_int_equal(ray_get(r, 10, &w), RAY_OK);
    assert_memory_equal(w.data, buf, 4096);
    ray_value_release(&v);
    ray_value_release(&w);
    /* A task reads it by reference, zero-copy on its side too. */
    ray_ref *sum = ray_call("__ray_sum", RAY_ARGS(ray_ref_arg(r)), NULL);
    int64_t got;
    assert_int_equal(ray_get_i64(sum, 60, &got), RAY_OK);
    assert_int_equal(got, checksum(buf, n));
    ray_ref_release(sum);
    ray_ref_release(r);
    free(buf);
}

static void large_string_keeps_its_nul(void **state)
{
    (void)state;
    size_t n = 300 * 1024;
    char *s = malloc(n + 1);
    memset(s, 'x', n);
    s[n] = '\0';
    ray_ref *r = ray_put(ray_str(s));
    ray_value v;
    assert_int_equal(ray_get(r, 10, &v), RAY_OK);
    assert_int_equal(v.type, RAY_STR);
    assert_int_equal(v.len, n);
    assert_int_equal(strlen(v.data), n);
    ray_value_release(&v);
    ray_ref *e = ray_call("__ray_echo", RAY_ARGS(ray_ref_arg(r)), NULL);
    assert_int_equal(ray_get(e, 30, &v), RAY_OK);
    assert_int_equal(v.type, RAY_STR);
    assert_int_equal(strlen(v.data), n);
    ray_value_release(&v);
    ray_ref_release(e);
    ray_ref_release(r);
    free(s);
}

static void put_alloc_then_seal(void **state)
{
    (void)state;
    void *p;
    ray_ref *r;
    assert_int_equal(ray_put_alloc(8 * MiB, &p, &r), RAY_OK);
    /* Not sealed yet: it cannot go to a task. */
    assert_null(ray_call("__ray_sum", RAY_ARGS(ray_ref_arg(r)), NULL));
    assert_int_equal(ray_get_i64(NULL, 0, NULL), RAY_ERR_INVALID);
    fill_pattern(p, 8 * MiB, 2);
    int64_t want = checksum(p, 8 * MiB);
    assert_int_equal(ray_put_seal(r), RAY_OK);
    assert_int_equal(ray_put_seal(r), RAY_ERR_INVALID);
    ray_ref *sum = ray_call("__ray_sum", RAY_ARGS(ray_ref_arg(r)), NULL);
    int64_t got;
    assert_int_equal(ray_get_i64(sum, 60, &got), RAY_OK);
    assert_int_equal(got, want);
    ray_ref_release(sum);
    ray_ref_release(r);
    /* Abandoned before sealing: released and aborted. */
    assert_int_equal(ray_put_alloc(MiB, &p, &r), RAY_OK);
    ray_ref_release(r);
}

static void large_arguments_and_returns(void **state)
{
    (void)state;
    size_t n = 3 * MiB;
    uint8_t *buf = malloc(n);
    fill_pattern(buf, n, 3);
    /* By value: put into the store on the way. */
    ray_ref *sum = ray_call("__ray_sum", RAY_ARGS(ray_bytes(buf, n)), NULL);
    int64_t got;
    assert_int_equal(ray_get_i64(sum, 60, &got), RAY_OK);
    assert_int_equal(got, checksum(buf, n));
    ray_ref_release(sum);
    /* A large return value comes back as a view of the store. */
    ray_ref *f = ray_call("__ray_fill", RAY_ARGS(ray_i64(5 * MiB), ray_i64(7)), NULL);
    ray_value v;
    assert_int_equal(ray_get(f, 60, &v), RAY_OK);
    assert_int_equal(v.len, 5 * MiB);
    const uint8_t *b = v.data;
    assert_true(b[0] == 7 && b[5 * MiB - 1] == 7 && b[MiB] == 7);
    ray_value_release(&v);
    /* ...and can be passed on by reference. */
    ray_ref *s2 = ray_call("__ray_sum", RAY_ARGS(ray_ref_arg(f)), NULL);
    memset(buf, 7, n);
    uint8_t *sevens = malloc(5 * MiB);
    memset(sevens, 7, 5 * MiB);
    assert_int_equal(ray_get_i64(s2, 60, &got), RAY_OK);
    assert_int_equal(got, checksum(sevens, 5 * MiB));
    free(sevens);
    ray_ref_release(s2);
    ray_ref_release(f);
    free(buf);
}

/* ---------------------------------------------------------------- full store */

static void released_objects_free_the_store(void **state)
{
    (void)state;
    /* 40 x 16 MiB through a 64 MiB store: only works if releases free. */
    size_t n = 16 * MiB;
    uint8_t *buf = malloc(n);
    fill_pattern(buf, n, 4);
    for (int i = 0; i < 40; i++) {
        ray_ref *r = ray_put(ray_bytes(buf, n));
        assert_non_null(r);
        ray_ref_release(r);
    }
    free(buf);
}

static void spill_and_restore_keep_the_bytes(void **state)
{
    (void)state;
    enum { K = 10 };
    size_t n = 16 * MiB; /* 160 MiB of objects through a 64 MiB store */
    uint8_t *buf = malloc(n);
    ray_ref *refs[K];
    int64_t sums[K];
    for (int i = 0; i < K; i++) {
        fill_pattern(buf, n, 100 + (unsigned)i);
        sums[i] = checksum(buf, n);
        refs[i] = ray_put(ray_bytes(buf, n));
        assert_non_null(refs[i]);
    }
    for (int i = K - 1; i >= 0; i--) { /* the oldest ones were spilled */
        ray_value v;
        assert_int_equal(ray_get(refs[i], 30, &v), RAY_OK);
        assert_int_equal(v.len, n);
        assert_int_equal(checksum(v.data, v.len), sums[i]);
        ray_value_release(&v);
    }
    for (int i = 0; i < K; i++) {
        ray_ref *s = ray_call("__ray_sum", RAY_ARGS(ray_ref_arg(refs[i])), NULL);
        int64_t got;
        assert_int_equal(ray_get_i64(s, 60, &got), RAY_OK);
        assert_int_equal(got, sums[i]);
        ray_ref_release(s);
    }
    for (int i = 0; i < K; i++)
        ray_ref_release(refs[i]);
    free(buf);
}

static void store_full_is_a_clear_error(void **state)
{
    (void)state;
    /* Pinned objects cannot spill: hold views of 3 x 20 MiB, then ask for more. */
    size_t n = 20 * MiB;
    uint8_t *buf = calloc(1, n);
    ray_ref *refs[3];
    ray_value views[3];
    for (int i = 0; i < 3; i++) {
        refs[i] = ray_put(ray_bytes(buf, n));
        assert_non_null(refs[i]);
        assert_int_equal(ray_get(refs[i], 10, &views[i]), RAY_OK);
    }
    double t0 = rt_now();
    ray_ref *more = ray_put(ray_bytes(buf, n));
    assert_null(more);
    assert_true(strstr(ray_last_error(), "full") != NULL);
    assert_true(rt_now() - t0 >= 0.5); /* after the grace period */
    void *p;
    ray_ref *r;
    assert_int_equal(ray_put_alloc(n, &p, &r), RAY_ERR_STORE_FULL);
    /* Larger than the whole store: refused at once. */
    assert_int_equal(ray_put_alloc(100 * MiB, &p, &r), RAY_ERR_STORE_FULL);
    for (int i = 0; i < 3; i++) {
        ray_value_release(&views[i]);
        ray_ref_release(refs[i]);
    }
    more = ray_put(ray_bytes(buf, n)); /* room again */
    assert_non_null(more);
    ray_ref_release(more);
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(small_puts_round_trip),
        cmocka_unit_test(large_put_gives_a_zero_copy_view),
        cmocka_unit_test(large_string_keeps_its_nul),
        cmocka_unit_test(put_alloc_then_seal),
        cmocka_unit_test(large_arguments_and_returns),
        cmocka_unit_test(released_objects_free_the_store),
        cmocka_unit_test(spill_and_restore_keep_the_bytes),
        cmocka_unit_test(store_full_is_a_clear_error),
    };
    return cmocka_run_group_tests_name("runtime-objects", tests, group_setup, group_teardown);
}
