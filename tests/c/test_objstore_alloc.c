/* Unit tests for the object store's arena allocator
 * (runtime/raylet/objstore_alloc.h): alignment, splitting, merging of
 * neighbours, good fit, and a long random run checked against a shadow
 * map of the arena. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "objstore/objstore_alloc.h"

/* objstore-alloc-1.1 sizes round up to the alignment; the total rounds down */
static void rounding(void **state)
{
    (void)state;
    assert_null(objstore_alloc_new(63, 64));
    assert_null(objstore_alloc_new(1000, 48));
    objstore_alloc *a = objstore_alloc_new(1000, 64);
    assert_non_null(a);
    assert_int_equal(objstore_alloc_total(a), 960);
    assert_int_equal(objstore_alloc_round(a, 1), 64);
    assert_int_equal(objstore_alloc_round(a, 64), 64);
    assert_int_equal(objstore_alloc_round(a, 65), 128);
    assert_int_equal(objstore_alloc_round(a, UINT64_MAX), 0);
    objstore_block *b;
    assert_int_equal(objstore_alloc_take(a, 961, &b), -ENOSPC);
    assert_int_equal(objstore_alloc_take(a, 0, &b), -ENOSPC);
    assert_int_equal(objstore_alloc_take(a, 1, &b), 0);
    assert_int_equal(b->off, 0);
    assert_int_equal(b->size, 64);
    assert_int_equal(objstore_alloc_free_bytes(a), 896);
    objstore_alloc_free(a);
}

/* objstore-alloc-1.2 freed neighbours merge, in either order */
static void merging(void **state)
{
    (void)state;
    objstore_alloc *a = objstore_alloc_new(4096, 64);
    objstore_block *b[4];
    for (int i = 0; i < 4; i++) {
        assert_int_equal(objstore_alloc_take(a, 1024, &b[i]), 0);
        assert_int_equal(b[i]->off, (uint64_t)i * 1024);
    }
    objstore_block *x;
    assert_int_equal(objstore_alloc_take(a, 64, &x), -ENOSPC);
    objstore_alloc_put(a, b[1]);
    objstore_alloc_put(a, b[3]);
    assert_int_equal(objstore_alloc_largest(a), 1024);
    assert_int_equal(objstore_alloc_take(a, 2048, &x), -ENOSPC);
    objstore_alloc_put(a, b[2]);   /* merges with both sides */
    assert_int_equal(objstore_alloc_largest(a), 3072);
    assert_int_equal(objstore_alloc_take(a, 3072, &x), 0);
    assert_int_equal(x->off, 1024);
    objstore_alloc_put(a, x);
    objstore_alloc_put(a, b[0]);
    assert_int_equal(objstore_alloc_largest(a), 4096);
    assert_int_equal(objstore_alloc_free_bytes(a), 4096);
    objstore_alloc_free(a);
}

/* objstore-alloc-1.3 a small request does not split the big free range when
 * a hole of its size exists */
static void good_fit(void **state)
{
    (void)state;
    objstore_alloc *a = objstore_alloc_new(1 << 20, 64);
    objstore_block *small, *sep, *x;
    assert_int_equal(objstore_alloc_take(a, 128, &small), 0);
    assert_int_equal(objstore_alloc_take(a, 64, &sep), 0);
    objstore_alloc_put(a, small);  /* a 128-byte hole at 0, a big range after sep */
    assert_int_equal(objstore_alloc_take(a, 100, &x), 0);
    assert_int_equal(x->off, 0);
    objstore_alloc_free(a);
}

/* objstore-alloc-1.4 random takes and puts never overlap, never leak, and
 * end as one free range */
static void random_run(void **state)
{
    (void)state;
    enum { SIZE = 1 << 20, ALIGN = 64, SLOTS = 200, STEPS = 20000 };
    objstore_alloc *a = objstore_alloc_new(SIZE, ALIGN);
    unsigned char *owner = calloc(SIZE / ALIGN, 1);   /* 1 + slot % 250 per unit */
    objstore_block *held[SLOTS] = {0};
    uint64_t used = 0;
    uint32_t rnd = 42;
    for (int step = 0; step < STEPS; step++) {
        rnd = rnd * 1103515245u + 12345u;
        int i = (int)((rnd >> 8) % SLOTS);
        if (held[i] != NULL) {
            for (uint64_t u = held[i]->off / ALIGN; u < (held[i]->off + held[i]->size) / ALIGN; u++)
                owner[u] = 0;
            used -= held[i]->size;
            objstore_alloc_put(a, held[i]);
            held[i] = NULL;
            continue;
        }
        uint64_t want = 1 + (rnd >> 4) % (SIZE / 40);
        int rc = objstore_alloc_take(a, want, &held[i]);
        if (rc == -ENOSPC) {
            held[i] = NULL;
            continue;
        }
        assert_int_equal(rc, 0);
        assert_int_equal(held[i]->off % ALIGN, 0);
        assert_true(held[i]->size >= want && held[i]->size < want + ALIGN);
        for (uint64_t u = held[i]->off / ALIGN; u < (held[i]->off + held[i]->size) / ALIGN; u++) {
            assert_int_equal(owner[u], 0);
            owner[u] = 1;
        }
        used += held[i]->size;
        assert_int_equal(objstore_alloc_free_bytes(a), SIZE - used);
    }
    for (int i = 0; i < SLOTS; i++)
        if (held[i] != NULL)
            objstore_alloc_put(a, held[i]);
    assert_int_equal(objstore_alloc_free_bytes(a), SIZE);
    assert_int_equal(objstore_alloc_largest(a), SIZE);
    free(owner);
    objstore_alloc_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rounding),
        cmocka_unit_test(merging),
        cmocka_unit_test(good_fit),
        cmocka_unit_test(random_run),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
