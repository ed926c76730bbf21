/* Unit tests for the client side of the object store
 * (runtime/common/shm_map.h): location strings, whole-file and arena
 * mappings, kept arena mappings and their replacement, read-only mappings,
 * limits, and use from several threads. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/shm_map.h"
#include "common/util.h"

static char dir[64];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/shm-map-test-XXXXXX");
    return mkdtemp(dir) == NULL ? -1 : 0;
}

static int teardown(void **state)
{
    (void)state;
    fs_rm_rf(dir);
    return 0;
}

/* Makes DIR/NAME of SIZE bytes, every byte BYTE; its path goes in PATH. */
static void make_file(const char *name, size_t size, int byte, char *path, size_t len)
{
    snprintf(path, len, "%s/%s", dir, name);
    char *buf = malloc(size);
    assert_non_null(buf);
    memset(buf, byte, size);
    assert_int_equal(fs_write_file(path, buf, size, 0600), 0);
    free(buf);
}

/* shm-1.1 location strings */
static void locations(void **state)
{
    (void)state;
    char file[64];
    uint64_t off = 99;
    assert_int_equal(shm_loc_parse("/a/b@12", file, sizeof file, &off), 0);
    assert_string_equal(file, "/a/b");
    assert_int_equal(off, 12);
    assert_int_equal(shm_loc_parse("/a/b", file, sizeof file, &off), 0);
    assert_string_equal(file, "/a/b");
    assert_int_equal(off, 0);
    assert_int_equal(shm_loc_parse("/x@y/b", file, sizeof file, &off), 0);
    assert_string_equal(file, "/x@y/b");
    assert_int_equal(shm_loc_parse("/a/b@18446744073709551615", file, sizeof file, &off), 0);
    assert_true(off == UINT64_MAX);
    const char *bad[] = {"", "/a/b@", "/a/b@12x", "/a/b@-1", "/a/@5", "@5",
                         "/a/b@18446744073709551616", "/a/b@ 1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (shm_loc_parse(bad[i], file, sizeof file, &off) != -EINVAL)
            fail_msg("\"%s\" should be -EINVAL", bad[i]);
    assert_int_equal(shm_loc_parse("/a/long-name@1", file, 8, &off), -ENAMETOOLONG);
    assert_int_equal(shm_loc_parse(NULL, file, sizeof file, &off), -EINVAL);
}

/* shm-1.2 a whole file maps on its own; size checks; size 0 */
static void whole_file(void **state)
{
    (void)state;
    char path[128];
    make_file("obj", 10000, 'a', path, sizeof path);
    void *w;
    assert_int_equal(shm_map_write(path, 10000, &w), 0);
    memset(w, 'b', 10);
    shm_unmap(w, 10000);
    const void *r;
    assert_int_equal(shm_map_read(path, 10000, &r), 0);
    assert_memory_equal(r, "bbbbbbbbbba", 11);
    shm_unmap(r, 10000);
    assert_int_equal(shm_map_read(path, 10001, &r), -ERANGE);
    char missing[160];
    snprintf(missing, sizeof missing, "%s/none", dir);
    assert_int_equal(shm_map_read(missing, 1, &r), -ENOENT);
    assert_int_equal(shm_map_read(missing, 0, &r), 0);   /* size 0 never opens */
    assert_non_null(r);
    shm_unmap(r, 0);
    assert_int_equal(shm_map_read("bad@x", 1, &r), -EINVAL);
}

/* shm-1.3 an arena is mapped once per mode and kept; offsets; ranges */
static void arena_kept(void **state)
{
    (void)state;
    char path[128], loc[160];
    make_file("arena", 1 << 20, 0, path, sizeof path);
    void *w1, *w2;
    snprintf(loc, sizeof loc, "%s@0", path);
    assert_int_equal(shm_map_write(loc, 100, &w1), 0);
    snprintf(loc, sizeof loc, "%s@4160", path);
    assert_int_equal(shm_map_write(loc, 100, &w2), 0);
    assert_ptr_equal((char *)w1 + 4160, w2);
    memcpy(w2, "hello", 5);
    const void *r;
    assert_int_equal(shm_map_read(loc, 100, &r), 0);
    assert_ptr_not_equal(r, w2);
    assert_memory_equal(r, "hello", 5);
    snprintf(loc, sizeof loc, "%s@%d", path, (1 << 20) - 10);
    const void *r2;
    assert_int_equal(shm_map_read(loc, 11, &r2), -ERANGE);
    assert_int_equal(shm_map_read(loc, 10, &r2), 0);
    shm_unmap(r2, 10);
    assert_int_equal(shm_map_trim(), 2);   /* w1, w2 and r still mapped */
    shm_unmap(w1, 100);
    shm_unmap(w2, 100);
    shm_unmap(r, 100);
    assert_int_equal(shm_map_trim(), 0);
}

/* shm-1.4 a replaced arena file (restarted raylet) gets a new mapping; the
 * old one stays valid until its last object is unmapped */
static void arena_replaced(void **state)
{
    (void)state;
    char path[128], loc[160];
    make_file("arena2", 8192, 'o', path, sizeof path);
    snprintf(loc, sizeof loc, "%s@64", path);
    const void *old;
    assert_int_equal(shm_map_read(loc, 64, &old), 0);
    assert_int_equal(unlink(path), 0);
    make_file("arena2", 8192, 'n', path, sizeof path);
    const void *now;
    assert_int_equal(shm_map_read(loc, 64, &now), 0);
    assert_ptr_not_equal(old, now);
    assert_memory_equal(old, "oooo", 4);
    assert_memory_equal(now, "nnnn", 4);
    shm_unmap(old, 64);
    assert_int_equal(shm_map_trim(), 1);
    shm_unmap(now, 64);
    assert_int_equal(shm_map_trim(), 0);
}

#define SEGV_EXIT 77

static void segv_exit(int sig)
{
    (void)sig;
    _exit(SEGV_EXIT);
}

/* shm-1.5 a reader cannot write */
static void read_only(void **state)
{
    (void)state;
    char path[128], loc[160];
    make_file("arena3", 4096, 0, path, sizeof path);
    snprintf(loc, sizeof loc, "%s@0", path);
    const void *r;
    assert_int_equal(shm_map_read(loc, 16, &r), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        signal(SIGSEGV, segv_exit);   /* not cmocka's handler */
        *(volatile char *)(uintptr_t)r = 1;
        _exit(0);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == SEGV_EXIT);
    shm_unmap(r, 16);
    assert_int_equal(shm_map_trim(), 0);
}

/* shm-1.6 at most SHM_MAP_MAX_ARENAS arenas in use at once */
static void arena_limit(void **state)
{
    (void)state;
    const void *r[SHM_MAP_MAX_ARENAS + 1];
    char path[128], loc[160];
    for (int i = 0; i <= SHM_MAP_MAX_ARENAS; i++) {
        char name[32];
        snprintf(name, sizeof name, "many%d", i);
        make_file(name, 4096, i, path, sizeof path);
        snprintf(loc, sizeof loc, "%s@0", path);
        int rc = shm_map_read(loc, 1, &r[i]);
        assert_int_equal(rc, i < SHM_MAP_MAX_ARENAS ? 0 : -EMFILE);
    }
    shm_unmap(r[0], 1);
    assert_int_equal(shm_map_read(loc, 1, &r[0]), 0);   /* an idle slot is reused */
    for (int i = 0; i < SHM_MAP_MAX_ARENAS; i++)
        shm_unmap(r[i], 1);
    assert_int_equal(shm_map_trim(), 0);
}

static char thread_loc[160];

static void *mapper(void *arg)
{
    (void)arg;
    for (int i = 0; i < 2000; i++) {
        void *w;
        if (shm_map_write(thread_loc, 4096, &w) != 0)
            return (void *)1;
        ((volatile char *)w)[i % 4096] = 1;
        shm_unmap(w, 4096);
    }
    return NULL;
}

/* shm-1.7 several threads mapping and unmapping the same arena */
static void threads(void **state)
{
    (void)state;
    char path[128];
    make_file("arena4", 1 << 16, 0, path, sizeof path);
    snprintf(thread_loc, sizeof thread_loc, "%s@4096", path);
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&t[i], NULL, mapper, NULL), 0);
    for (int i = 0; i < 4; i++) {
        void *ret;
        assert_int_equal(pthread_join(t[i], &ret), 0);
        assert_null(ret);
    }
    assert_int_equal(shm_map_trim(), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(locations),
        cmocka_unit_test(whole_file),
        cmocka_unit_test(arena_kept),
        cmocka_unit_test(arena_replaced),
        cmocka_unit_test(read_only),
        cmocka_unit_test(arena_limit),
        cmocka_unit_test(threads),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
