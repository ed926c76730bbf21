/* runtime-ids-*: the id layout (JobID ⊂ ActorID ⊂ TaskID ⊂ ObjectID), hex
 * forms, and the API's argument macros (RAY_ARGS with and without
 * arguments must compile under -std=c11 -Wpedantic). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/ids.h"
#include "ray/ray.h"

static void ids_nest_like_rays(void **state)
{
    (void)state;
    ids_job job = ids_job_from_number(258);
    char hex[64];
    ids_hex(job.b, IDS_JOB_LEN, hex);
    assert_string_equal(hex, "02010000"); /* the GCS's little-endian counter */
    ids_actor a = ids_actor_new(job, 42, 1);
    ids_job aj = ids_actor_job(&a);
    assert_memory_equal(aj.b, job.b, IDS_JOB_LEN);
    ids_task t = ids_task_for_actor(&a, 42, 7);
    ids_actor ta = ids_task_actor(&t);
    assert_memory_equal(ta.b, a.b, IDS_ACTOR_LEN);
    ids_task n = ids_task_new(job, 42, 7);
    ids_actor na = ids_task_actor(&n);
    assert_true(ids_is_nil(na.b, 12)); /* a normal task: nil actor part */
    ids_job nj = ids_task_job(&n);
    assert_memory_equal(nj.b, job.b, IDS_JOB_LEN);
    ids_object o = ids_object_for(&n, 3);
    ids_task ot = ids_object_task(&o);
    assert_true(ids_task_eq(&ot, &n));
    assert_int_equal(ids_object_index(&o), 3);
    ids_job oj = ids_object_job(&o);
    assert_memory_equal(oj.b, job.b, IDS_JOB_LEN);
}

static void ids_are_unique_per_seed_and_counter(void **state)
{
    (void)state;
    ids_job job = ids_job_from_number(1);
    ids_task a = ids_task_new(job, 1, 1), b = ids_task_new(job, 1, 2), c = ids_task_new(job, 2, 1);
    assert_false(ids_task_eq(&a, &b));
    assert_false(ids_task_eq(&a, &c));
    assert_true(ids_seed() != ids_seed());
}

static void hex_round_trip_and_bad_input(void **state)
{
    (void)state;
    ids_object o, back;
    for (int i = 0; i < IDS_OBJECT_LEN; i++)
        o.b[i] = (uint8_t)(i * 37);
    char hex[2 * IDS_OBJECT_LEN + 1];
    ids_hex(o.b, IDS_OBJECT_LEN, hex);
    assert_int_equal(strlen(hex), 56);
    assert_int_equal(ids_from_hex(hex, back.b, IDS_OBJECT_LEN), 0);
    assert_true(ids_object_eq(&o, &back));
    assert_int_equal(ids_from_hex("zz", back.b, 1), -EINVAL);
    assert_int_equal(ids_from_hex("abc", back.b, 1), -EINVAL); /* too long */
    assert_int_equal(ids_from_hex("a", back.b, 1), -EINVAL);   /* too short */
    assert_int_equal(ids_from_bytes(back.b, IDS_OBJECT_LEN, o.b, 5), -EINVAL);
    assert_true(ids_is_nil(back.b, IDS_OBJECT_LEN)); /* zeroed on error */
}

static void args_macro_counts(void **state)
{
    (void)state;
    ray_args none = RAY_ARGS();
    assert_int_equal(none.n, 0);
    ray_args three = RAY_ARGS(ray_i64(1), ray_f64(2.5), ray_str("x"));
    assert_int_equal(three.n, 3);
    assert_int_equal(three.v[0].kind, RAY_I64);
    assert_int_equal(three.v[0].i64, 1);
    assert_true(three.v[1].f64 == 2.5);
    assert_int_equal(three.v[2].kind, RAY_STR);
    assert_int_equal(three.v[2].len, 1);
    ray_arg b = ray_bytes("ab", 2);
    assert_int_equal(b.kind, RAY_BYTES);
    assert_int_equal(ray_ref_arg(NULL).kind, RAY_ARG_REF);
}

static void status_names(void **state)
{
    (void)state;
    assert_string_equal(ray_status_name(RAY_OK), "RAY_OK");
    assert_string_equal(ray_status_name(RAY_ERR_ACTOR_DIED), "RAY_ERR_ACTOR_DIED");
    assert_string_equal(ray_status_name(999), "RAY_ERR_UNKNOWN");
    assert_string_equal(ray_status_name(-1), "RAY_ERR_UNKNOWN");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ids_nest_like_rays),
        cmocka_unit_test(ids_are_unique_per_seed_and_counter),
        cmocka_unit_test(hex_round_trip_and_bad_input),
        cmocka_unit_test(args_macro_counts),
        cmocka_unit_test(status_names),
    };
    return cmocka_run_group_tests_name("runtime-ids", tests, NULL, NULL);
}
