/* Unit tests for runtime/common/htab.c: insert, find, remove, the walk
 * (unlinking while walking), growth, and -ENOMEM when the buckets cannot grow. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/htab.h"

#include "alloc_fail.h"

typedef struct item {
    char key[16];
    int value;
    htab_node link;
} item;

static int item_eq(const htab_node *n, const void *key)
{
    return strcmp(htab_entry(n, item, link)->key, key) == 0;
}

static item *find(const htab *t, const char *key)
{
    htab_node *n = htab_find(t, htab_hash_str(key), key, item_eq);
    return n ? htab_entry(n, item, link) : NULL;
}

static item *make_items(int n)
{
    item *v = calloc((size_t)n, sizeof *v);
    assert_non_null(v);
    for (int i = 0; i < n; i++) {
        snprintf(v[i].key, sizeof v[i].key, "k%d", i);
        v[i].value = i;
    }
    return v;
}

static void empty_table_finds_nothing(void **state)
{
    (void)state;
    htab t;
    htab_init(&t);
    htab_iter it;
    assert_null(find(&t, "k0"));
    assert_null(htab_first(&t, &it));
    assert_null(htab_remove(&t, htab_hash_str("k0"), "k0", item_eq));
    htab_free(&t);
}

static void insert_find_remove_through_growth(void **state)
{
    (void)state;
    enum { N = 5000 };
    item *v = make_items(N);
    htab t;
    htab_init(&t);
    for (int i = 0; i < N; i++)
        assert_int_equal(htab_insert(&t, &v[i].link, htab_hash_str(v[i].key)), 0);
    assert_int_equal(t.n, N);
    assert_true(t.nbuckets >= N);
    for (int i = 0; i < N; i++) {
        char key[16];
        snprintf(key, sizeof key, "k%d", i);
        item *x = find(&t, key);
        assert_non_null(x);
        assert_int_equal(x->value, i);
    }
    assert_null(find(&t, "k5000"));
    for (int i = 0; i < N; i += 2)
        assert_ptr_equal(htab_remove(&t, htab_hash_str(v[i].key), v[i].key, item_eq), &v[i].link);
    assert_int_equal(t.n, N / 2);
    for (int i = 0; i < N; i++)
        assert_true((find(&t, v[i].key) != NULL) == (i % 2 == 1));
    htab_free(&t);
    assert_int_equal(t.n, 0);
    free(v);
}

static void walk_sees_each_entry_once_and_may_unlink_it(void **state)
{
    (void)state;
    enum { N = 300 };
    item *v = make_items(N);
    htab t;
    htab_init(&t);
    for (int i = 0; i < N; i++)
        assert_int_equal(htab_insert(&t, &v[i].link, htab_hash_str(v[i].key)), 0);
    int seen[N] = {0};
    htab_iter it;
    for (htab_node *n = htab_first(&t, &it); n != NULL; n = htab_next(&it)) {
        item *x = htab_entry(n, item, link);
        seen[x->value]++;
        if (x->value % 3 == 0)
            htab_unlink(&t, n);
    }
    for (int i = 0; i < N; i++)
        assert_int_equal(seen[i], 1);
    assert_int_equal(t.n, N - (N + 2) / 3);
    int left = 0;
    for (htab_node *n = htab_first(&t, &it); n != NULL; n = htab_next(&it)) {
        assert_int_not_equal(htab_entry(n, item, link)->value % 3, 0);
        left++;
    }
    assert_int_equal(left, (int)t.n);
    htab_free(&t);
    free(v);
}

/* Equal hashes (a colliding key set) still find the right entry. */
static void colliding_hashes_are_told_apart_by_the_key(void **state)
{
    (void)state;
    item *v = make_items(40);
    htab t;
    htab_init(&t);
    for (int i = 0; i < 40; i++)
        assert_int_equal(htab_insert(&t, &v[i].link, 7), 0);
    for (int i = 0; i < 40; i++)
        assert_ptr_equal(htab_find(&t, 7, v[i].key, item_eq), &v[i].link);
    htab_unlink(&t, &v[20].link);
    assert_null(htab_find(&t, 7, "k20", item_eq));
    assert_ptr_equal(htab_find(&t, 7, "k21", item_eq), &v[21].link);
    htab_free(&t);
    free(v);
}

/* Every insert whose growth fails gives -ENOMEM and leaves the table as it
 * was: the entries linked before are all still found. */
static void failed_growth_is_enomem_and_changes_nothing(void **state)
{
    (void)state;
    if (!alloc_fail_works())
        skip();
    enum { N = 100 };
    item *v = make_items(N);
    htab t;
    htab_init(&t);
    int failures = 0;
    for (int i = 0; i < N; i++) {
        alloc_fail_at(1);
        int rc = htab_insert(&t, &v[i].link, htab_hash_str(v[i].key));
        int hit = alloc_fail_off();
        if (hit) {
            failures++;
            assert_int_equal(rc, -ENOMEM);
            assert_int_equal(t.n, (size_t)i);
            for (int j = 0; j < i; j++)
                assert_non_null(find(&t, v[j].key));
            assert_null(find(&t, v[i].key));
            rc = htab_insert(&t, &v[i].link, htab_hash_str(v[i].key));
        }
        assert_int_equal(rc, 0);
    }
    /* 16, 32, 64 and 128 buckets: four growths, each failed once. */
    assert_int_equal(failures, 4);
    for (int i = 0; i < N; i++)
        assert_non_null(find(&t, v[i].key));
    htab_free(&t);
    free(v);
}

/* A reserved table never fails: when growing fails, insert_anyway links
 * the entry into the chains it has. */
static void insert_anyway_links_when_growth_fails(void **state)
{
    (void)state;
    if (!alloc_fail_works())
        skip();
    enum { N = 64 };
    item *v = make_items(N);
    htab t;
    htab_init(&t);
    assert_int_equal(htab_reserve(&t, 16), 0);
    assert_int_equal(t.nbuckets, 16);
    for (int i = 0; i < N; i++) {
        alloc_fail_at(1);
        htab_insert_anyway(&t, &v[i].link, htab_hash_str(v[i].key));
        alloc_fail_off();
    }
    assert_int_equal(t.nbuckets, 16);
    assert_int_equal(t.n, N);
    for (int i = 0; i < N; i++)
        assert_non_null(find(&t, v[i].key));
    alloc_fail_at(1);
    assert_int_equal(htab_reserve(&t, 1000), -ENOMEM);
    alloc_fail_off();
    assert_int_equal(t.nbuckets, 16);
    assert_int_equal(htab_reserve(&t, 1000), 0);
    assert_int_equal(t.nbuckets, 1024);
    for (int i = 0; i < N; i++)
        assert_non_null(find(&t, v[i].key));
    htab_free(&t);
    free(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(empty_table_finds_nothing),
        cmocka_unit_test(insert_find_remove_through_growth),
        cmocka_unit_test(walk_sees_each_entry_once_and_may_unlink_it),
        cmocka_unit_test(colliding_hashes_are_told_apart_by_the_key),
        cmocka_unit_test(failed_growth_is_enomem_and_changes_nothing),
        cmocka_unit_test(insert_anyway_links_when_growth_fails),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
