/* runtime-dirs-*: `ray start --plasma-directory DIR --object-spilling-directory
 * DIR` against a real local head with a 64 MiB store: the arena is a file in
 * the plasma directory, objects that overflow the store are spilled into the
 * spilling directory and come back intact, and `ray stop` removes the node's
 * files there while leaving the user's directories. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "test_runtime_cluster.h"

#define MiB (1024u * 1024u)

static char dirs[256], plasma[300], spill[300];

/* Counts the files in DIR whose name starts with PREFIX and ends with SUFFIX. */
static int count_files(const char *dir, const char *prefix, const char *suffix)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name), sl = strlen(suffix);
        n += strncmp(e->d_name, prefix, strlen(prefix)) == 0 && len >= sl &&
             strcmp(e->d_name + len - sl, suffix) == 0;
    }
    closedir(d);
    return n;
}

static int group_setup(void **state)
{
    (void)state;
    char extra[1024];
    snprintf(dirs, sizeof dirs, "/tmp/rayc-test-dirs-XXXXXX");
    if (mkdtemp(dirs) == NULL)
        return -1;
    snprintf(plasma, sizeof plasma, "%s/plasma", dirs);
    snprintf(spill, sizeof spill, "%s/spill", dirs); /* `ray start` creates it */
    fs_mkdir_p(plasma, 0700);
    snprintf(extra, sizeof extra, "--num-cpus 1 --object-store-memory 67108864 "
             "--plasma-directory %s --object-spilling-directory %s", plasma, spill);
    return rt_cluster_up(extra, NULL);
}

static int group_teardown(void **state)
{
    (void)state;
    ray_shutdown();
    rt_cluster_stop();
    fs_rm_rf(dirs);
    return 0;
}

static void fill_pattern(uint8_t *p, size_t n, unsigned seed)
{
    uint32_t x = seed * 2654435761u + 1;
    for (size_t i = 0; i < n; i++) {
        x = x * 1664525u + 1013904223u;
        p[i] = (uint8_t)(x >> 24);
    }
}

static void arena_lives_in_the_plasma_directory(void **state)
{
    (void)state;
    assert_int_equal(count_files(plasma, "rayc_", "_arena"), 1);
}

static void overflow_spills_into_the_spilling_directory(void **state)
{
    (void)state;
    enum { K = 8 };
    size_t n = 16 * MiB; /* 128 MiB of objects through a 64 MiB store */
    uint8_t *buf = malloc(n), *want = malloc(n);
    assert_non_null(buf);
    assert_non_null(want);
    ray_ref *refs[K];
    for (int i = 0; i < K; i++) {
        fill_pattern(buf, n, 7 + (unsigned)i);
        refs[i] = ray_put(ray_bytes(buf, n));
        assert_non_null(refs[i]);
    }
    assert_true(count_files(spill, "rayc_", "") > 0);
    for (int i = 0; i < K; i++) { /* the spilled ones come back intact */
        ray_value v;
        fill_pattern(want, n, 7 + (unsigned)i);
        assert_int_equal(ray_get(refs[i], 30, &v), RAY_OK);
        assert_int_equal(v.len, n);
        assert_memory_equal(v.data, want, n);
        ray_value_release(&v);
    }
    for (int i = 0; i < K; i++)
        ray_ref_release(refs[i]);
    free(buf);
    free(want);
}

static void ray_stop_removes_the_node_files_and_keeps_the_dirs(void **state)
{
    (void)state;
    ray_shutdown();
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s stop --force >/dev/null 2>&1", rt_c.ray);
    assert_int_equal(rt_sh(cmd), 0);
    assert_int_equal(count_files(plasma, "rayc_", ""), 0);
    assert_int_equal(count_files(spill, "rayc_", ""), 0);
    struct stat st;
    assert_int_equal(stat(spill, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(arena_lives_in_the_plasma_directory),
        cmocka_unit_test(overflow_spills_into_the_spilling_directory),
        cmocka_unit_test(ray_stop_removes_the_node_files_and_keeps_the_dirs),
    };
    return cmocka_run_group_tests_name("runtime-dirs", tests, group_setup, group_teardown);
}
