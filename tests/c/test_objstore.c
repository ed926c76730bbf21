/* Unit tests for the raylet's object store (runtime/raylet/objstore.h) used
 * together with the client mapping layer (runtime/common/shm_map.h): the
 * life of an object, capacity, LRU spilling and restoring, pins, deletes,
 * and the files it leaves (none).  Every test works in its own temp dir. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/shm_map.h"
#include "common/util.h"
#include "objstore/objstore.h"

#define PREFIX "rayc-test0000000-"
#define KiB 1024ull
#define MiB (1024ull * 1024ull)
#define JOB "01000000"

typedef struct fixture {
    char dir[64];
    char shm[128];
    char spill[128];
    objstore *s;
} fixture;

/* ---------------------------------------------------------------- helpers */

static void fill(uint8_t *p, uint64_t n, uint32_t seed)
{
    uint64_t x = 0x9e3779b97f4a7c15ull * (seed + 1);
    for (uint64_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        p[i] = (uint8_t)x;
    }
}

static fixture *fixture_new(uint64_t capacity, uint64_t max_object_size)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    snprintf(f->dir, sizeof f->dir, "/tmp/objstore-test-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->shm, sizeof f->shm, "%s/shm", f->dir);
    snprintf(f->spill, sizeof f->spill, "%s/spill", f->dir);
    assert_int_equal(mkdir(f->shm, 0700), 0);
    objstore_config cfg = {.capacity = capacity, .shm_dir = f->shm, .prefix = PREFIX,
                           .spill_dir = f->spill, .max_object_size = max_object_size};
    assert_int_equal(objstore_open(&cfg, &f->s), 0);
    return f;
}

static void fixture_free(fixture *f)
{
    objstore_close(f->s);
    assert_int_equal(shm_map_trim(), 0);
    fs_rm_rf(f->dir);
    free(f);
}

/* Creates OID of SIZE filled from SEED, and seals it unless SEAL is 0. */
static int put_obj(objstore *s, const char *oid, const char *job, uint64_t size, uint32_t seed, int seal)
{
    char path[SHM_LOC_MAX];
    int rc = objstore_create(s, oid, job, size, path, sizeof path);
    if (rc != 0)
        return rc;
    void *p;
    assert_int_equal(shm_map_write(path, size, &p), 0);
    fill(p, size, seed);
    shm_unmap(p, size);
    return seal ? objstore_seal(s, oid) : 0;
}

static int put(objstore *s, const char *oid, uint64_t size, uint32_t seed)
{
    return put_obj(s, oid, JOB, size, seed, 1);
}

/* Gets OID, checks its size and bytes against SEED, and releases it unless
 * KEEP_PIN. */
static int check_obj(objstore *s, const char *oid, uint64_t size, uint32_t seed, int keep_pin)
{
    char path[SHM_LOC_MAX];
    uint64_t got_size = 0;
    int rc = objstore_get(s, oid, path, sizeof path, &got_size);
    if (rc != 0)
        return rc;
    assert_int_equal(got_size, size);
    const void *p;
    assert_int_equal(shm_map_read(path, size, &p), 0);
    uint8_t *want = malloc(size + 1);
    assert_non_null(want);
    fill(want, size, seed);
    int same = memcmp(p, want, size) == 0;
    free(want);
    shm_unmap(p, size);
    if (!keep_pin)
        objstore_release(s, oid);
    if (!same)
        fail_msg("object %s: bytes differ from what was written", oid);
    return 0;
}

static int count_files(const char *dir, const char *prefix)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.' && strncmp(e->d_name, prefix, strlen(prefix)) == 0)
            n++;
    closedir(d);
    return n;
}

static int spill_file_exists(const fixture *f, const char *oid)
{
    char p[256];
    snprintf(p, sizeof p, "%s/%s%s", f->spill, PREFIX, oid);
    return access(p, F_OK) == 0;
}

static objstore_stats stats(const objstore *s)
{
    objstore_stats st;
    objstore_get_stats(s, &st);
    return st;
}

/* ---------------------------------------------------------------- basics */

/* objstore-1.1 create, map, write, seal, get, read back */
static void create_write_seal_get(void **state)
{
    (void)state;
    fixture *f = fixture_new(8 * MiB, 0);
    char path[SHM_LOC_MAX];
    assert_int_equal(objstore_create(f->s, "aa01", JOB, 1 * MiB, path, sizeof path), 0);
    assert_non_null(strstr(path, f->shm));
    assert_non_null(strchr(path, '@'));
    assert_int_equal(objstore_contains(f->s, "aa01"), -EAGAIN);
    void *w;
    assert_int_equal(shm_map_write(path, 1 * MiB, &w), 0);
    fill(w, 1 * MiB, 7);
    shm_unmap(w, 1 * MiB);
    assert_int_equal(objstore_seal(f->s, "aa01"), 0);
    assert_int_equal(objstore_contains(f->s, "aa01"), 1);
    assert_int_equal(check_obj(f->s, "aa01", 1 * MiB, 7, 0), 0);
    assert_int_equal(stats(f->s).pinned_bytes, 0);
    fixture_free(f);
}

/* objstore-1.2 a known id cannot be created again */
static void duplicate_id(void **state)
{
    (void)state;
    fixture *f = fixture_new(1 * MiB, 0);
    char path[SHM_LOC_MAX];
    assert_int_equal(objstore_create(f->s, "ab", JOB, 10, path, sizeof path), 0);
    assert_int_equal(objstore_create(f->s, "ab", JOB, 10, path, sizeof path), -EEXIST);
    assert_int_equal(objstore_seal(f->s, "ab"), 0);
    assert_int_equal(objstore_create(f->s, "ab", JOB, 20, path, sizeof path), -EEXIST);
    assert_int_equal(stats(f->s).objects, 1);
    fixture_free(f);
}

/* objstore-1.3 get before seal is -EAGAIN; seal twice -EINVAL; unknown -ENOENT */
static void get_before_seal(void **state)
{
    (void)state;
    fixture *f = fixture_new(1 * MiB, 0);
    char path[SHM_LOC_MAX];
    uint64_t size;
    assert_int_equal(objstore_create(f->s, "ac", JOB, 100, path, sizeof path), 0);
    assert_int_equal(objstore_get(f->s, "ac", path, sizeof path, &size), -EAGAIN);
    assert_int_equal(objstore_seal(f->s, "ac"), 0);
    assert_int_equal(objstore_seal(f->s, "ac"), -EINVAL);
    assert_int_equal(objstore_seal(f->s, "ad"), -ENOENT);
    assert_int_equal(objstore_get(f->s, "ad", path, sizeof path, &size), -ENOENT);
    assert_int_equal(objstore_contains(f->s, "ad"), 0);
    fixture_free(f);
}

/* objstore-1.4 bad ids, small path buffers */
static void bad_arguments(void **state)
{
    (void)state;
    fixture *f = fixture_new(1 * MiB, 0);
    char path[SHM_LOC_MAX];
    char long_id[OBJSTORE_ID_MAX + 2];
    memset(long_id, 'a', sizeof long_id - 1);
    long_id[sizeof long_id - 1] = '\0';
    assert_int_equal(objstore_create(f->s, "", JOB, 1, path, sizeof path), -EINVAL);
    assert_int_equal(objstore_create(f->s, "xyz", JOB, 1, path, sizeof path), -EINVAL);
    assert_int_equal(objstore_create(f->s, "../a", JOB, 1, path, sizeof path), -EINVAL);
    assert_int_equal(objstore_create(f->s, long_id, JOB, 1, path, sizeof path), -EINVAL);
    long_id[OBJSTORE_ID_MAX] = '\0';
    assert_int_equal(objstore_create(f->s, long_id, JOB, 1, path, sizeof path), 0);
    assert_int_equal(objstore_create(f->s, "ae", "job!", 1, path, sizeof path), -EINVAL);
    assert_int_equal(objstore_create(f->s, "ae", JOB, 1, path, 8), -ENAMETOOLONG);
    assert_int_equal(stats(f->s).objects, 1);
    fixture_free(f);
}

/* objstore-1.5 capacity accounting: used counts aligned sizes in memory */
static void capacity_accounting(void **state)
{
    (void)state;
    fixture *f = fixture_new(1 * MiB + 10, 0);
    objstore_stats st = stats(f->s);
    assert_int_equal(st.capacity, 1 * MiB);
    assert_int_equal(st.used, 0);
    assert_int_equal(put(f->s, "b1", 100 * KiB, 1), 0);
    assert_int_equal(put(f->s, "b2", 100 * KiB + 1, 2), 0);
    assert_int_equal(put(f->s, "b3", 1, 3), 0);
    st = stats(f->s);
    assert_int_equal(st.used, 100 * KiB + (100 * KiB + OBJSTORE_ALIGN) + OBJSTORE_ALIGN);
    assert_int_equal(st.objects, 3);
    assert_int_equal(objstore_delete(f->s, "b2"), 0);
    st = stats(f->s);
    assert_int_equal(st.used, 100 * KiB + OBJSTORE_ALIGN);
    assert_int_equal(st.objects, 2);
    assert_int_equal(st.spilled_objects, 0);
    fixture_free(f);
}

/* objstore-1.6 objects of size 0 */
static void zero_size(void **state)
{
    (void)state;
    fixture *f = fixture_new(1 * MiB, 0);
    char path[SHM_LOC_MAX];
    assert_int_equal(objstore_create(f->s, "00", JOB, 0, path, sizeof path), 0);
    void *w = NULL;
    assert_int_equal(shm_map_write(path, 0, &w), 0);
    assert_non_null(w);
    shm_unmap(w, 0);
    assert_int_equal(objstore_seal(f->s, "00"), 0);
    uint64_t size = 99;
    assert_int_equal(objstore_get(f->s, "00", path, sizeof path, &size), 0);
    assert_int_equal(size, 0);
    const void *r = NULL;
    assert_int_equal(shm_map_read(path, 0, &r), 0);
    assert_non_null(r);
    shm_unmap(r, 0);
    objstore_release(f->s, "00");
    assert_int_equal(stats(f->s).used, 0);
    assert_int_equal(stats(f->s).objects, 1);
    fixture_free(f);
}

/* objstore-1.7 over max_object_size or capacity is -EFBIG */
static void too_big(void **state)
{
    (void)state;
    fixture *f = fixture_new(1 * MiB, 1000);
    char path[SHM_LOC_MAX];
    assert_int_equal(objstore_create(f->s, "c1", JOB, 1001, path, sizeof path), -EFBIG);
    assert_int_equal(objstore_create(f->s, "c1", JOB, 1000, path, sizeof path), 0);
    fixture_free(f);
    f = fixture_new(1 * MiB, 0);
    assert_int_equal(objstore_create(f->s, "c2", JOB, 1 * MiB + 1, path, sizeof path), -EFBIG);
    assert_int_equal(objstore_create(f->s, "c2", JOB, UINT64_MAX, path, sizeof path), -EFBIG);
    assert_int_equal(objstore_create(f->s, "c2", JOB, 1 * MiB, path, sizeof path), 0);
    fixture_free(f);
}

/* ---------------------------------------------------------------- spilling */

/* objstore-2.1 a full store spills least recently used objects, and get
 * restores them byte for byte */
static void spill_lru_and_restore(void **state)
{
    (void)state;
    fixture *f = fixture_new(4 * MiB, 0);
    assert_int_equal(put(f->s, "d1", 1 * MiB, 1), 0);
    assert_int_equal(put(f->s, "d2", 1 * MiB, 2), 0);
    assert_int_equal(put(f->s, "d3", 1 * MiB, 3), 0);
    assert_int_equal(put(f->s, "d4", 1 * MiB, 4), 0);
    assert_int_equal(check_obj(f->s, "d1", 1 * MiB, 1, 0), 0);  /* d1 is now most recent */
    assert_int_equal(put(f->s, "d5", 1 * MiB, 5), 0);
    objstore_stats st = stats(f->s);
    assert_int_equal(st.spilled_objects, 1);
    assert_int_equal(st.spilled_bytes, 1 * MiB);
    assert_int_equal(st.spill_dir_bytes, 1 * MiB);
    assert_int_equal(st.used, 4 * MiB);
    assert_int_equal(st.objects, 5);
    assert_true(spill_file_exists(f, "d2"));
    assert_int_equal(objstore_contains(f->s, "d2"), 1);
    assert_int_equal(check_obj(f->s, "d2", 1 * MiB, 2, 0), 0);  /* restores d2, spills d3 */
    st = stats(f->s);
    assert_false(spill_file_exists(f, "d2"));
    assert_true(spill_file_exists(f, "d3"));
    assert_int_equal(st.restored_bytes, 1 * MiB);
    assert_int_equal(st.spilled_bytes, 2 * MiB);
    assert_int_equal(st.spilled_objects, 1);
    for (int i = 1; i <= 5; i++) {
        char oid[8];
        snprintf(oid, sizeof oid, "d%d", i);
        assert_int_equal(check_obj(f->s, oid, 1 * MiB, (uint32_t)i, 0), 0);
    }
    fixture_free(f);
}

/* objstore-2.2 pinned objects and objects being created are never spilled */
static void pinned_never_spilled(void **state)
{
    (void)state;
    fixture *f = fixture_new(3 * MiB, 0);
    assert_int_equal(put(f->s, "e1", 1 * MiB, 1), 0);
    assert_int_equal(put(f->s, "e2", 1 * MiB, 2), 0);
    assert_int_equal(check_obj(f->s, "e1", 1 * MiB, 1, 1), 0);   /* e1 pinned, LRU */
    assert_int_equal(put_obj(f->s, "e3", JOB, 1 * MiB, 3, 0), 0);  /* e3 unsealed */
    assert_int_equal(stats(f->s).pinned_bytes, 1 * MiB);
    assert_int_equal(put(f->s, "e4", 1 * MiB, 4), 0);             /* spills e2 */
    assert_true(spill_file_exists(f, "e2"));
    assert_false(spill_file_exists(f, "e1"));
    assert_int_equal(check_obj(f->s, "e4", 1 * MiB, 4, 1), 0);    /* pin e4 too */
    char path[SHM_LOC_MAX];
    assert_int_equal(objstore_create(f->s, "e5", JOB, 1 * MiB, path, sizeof path), -ENOSPC);
    assert_int_equal(stats(f->s).spilled_objects, 1);
    objstore_release(f->s, "e1");
    assert_int_equal(objstore_create(f->s, "e5", JOB, 1 * MiB, path, sizeof path), 0);
    assert_true(spill_file_exists(f, "e1"));
    objstore_release(f->s, "e4");
    assert_int_equal(objstore_seal(f->s, "e3"), 0);
    assert_int_equal(check_obj(f->s, "e1", 1 * MiB, 1, 0), 0);
    assert_int_equal(check_obj(f->s, "e3", 1 * MiB, 3, 0), 0);
    fixture_free(f);
}

/* objstore-2.3 nothing spillable: -ENOSPC, and nothing is spilled in vain */
static void nothing_spillable(void **state)
{
    (void)state;
    fixture *f = fixture_new(2 * MiB, 0);
    char path[SHM_LOC_MAX];
    assert_int_equal(put_obj(f->s, "f1", JOB, 1 * MiB, 1, 0), 0);
    assert_int_equal(put(f->s, "f2", 512 * KiB, 2), 0);
    /* 1.5 MiB would need f2 spilled and still not fit: keep f2 in memory */
    assert_int_equal(objstore_create(f->s, "f3", JOB, 1536 * KiB, path, sizeof path), -ENOSPC);
    assert_int_equal(stats(f->s).spilled_objects, 0);
    assert_int_equal(objstore_create(f->s, "f3", JOB, 1 * MiB, path, sizeof path), 0);
    assert_int_equal(stats(f->s).spilled_objects, 1);
    assert_int_equal(objstore_create(f->s, "f4", JOB, 1, path, sizeof path), -ENOSPC);
    fixture_free(f);
}

/* objstore-2.4 a failed spill (spill dir gone: as disk full) keeps the
 * object in memory and create answers -ENOSPC */
static void spill_failure_keeps_object(void **state)
{
    (void)state;
    fixture *f = fixture_new(2 * MiB, 0);
    assert_int_equal(put(f->s, "a1", 2 * MiB, 1), 0);
    assert_int_equal(fs_rm_rf(f->spill), 0);
    char path[SHM_LOC_MAX];
    assert_int_equal(objstore_create(f->s, "a2", JOB, 1 * MiB, path, sizeof path), -ENOSPC);
    objstore_stats st = stats(f->s);
    assert_int_equal(st.spilled_objects, 0);
    assert_int_equal(st.spilled_bytes, 0);
    assert_int_equal(st.used, 2 * MiB);
    assert_int_equal(objstore_contains(f->s, "a2"), 0);
    assert_int_equal(check_obj(f->s, "a1", 2 * MiB, 1, 0), 0);
    assert_int_equal(mkdir(f->spill, 0700), 0);
    assert_int_equal(put(f->s, "a2", 1 * MiB, 2), 0);
    assert_true(spill_file_exists(f, "a1"));
    fixture_free(f);
}

/* objstore-2.5 restoring when nothing can make room: -ENOSPC, still spilled;
 * a damaged spill file: -EIO */
static void restore_failures(void **state)
{
    (void)state;
    fixture *f = fixture_new(1 * MiB, 0);
    char path[SHM_LOC_MAX];
    uint64_t size;
    assert_int_equal(put(f->s, "b1", 1 * MiB, 1), 0);
    assert_int_equal(put(f->s, "b2", 1 * MiB, 2), 0);          /* spills b1 */
    assert_int_equal(check_obj(f->s, "b2", 1 * MiB, 2, 1), 0);  /* pin b2 */
    assert_int_equal(objstore_get(f->s, "b1", path, sizeof path, &size), -ENOSPC);
    assert_int_equal(objstore_contains(f->s, "b1"), 1);
    assert_true(spill_file_exists(f, "b1"));
    objstore_release(f->s, "b2");
    assert_int_equal(check_obj(f->s, "b1", 1 * MiB, 1, 0), 0);  /* spills b2 */
    char spilled[256];
    snprintf(spilled, sizeof spilled, "%s/%sb2", f->spill, PREFIX);
    assert_int_equal(truncate(spilled, 10), 0);
    assert_int_equal(objstore_get(f->s, "b2", path, sizeof path, &size), -EIO);
    assert_int_equal(stats(f->s).pinned_bytes, 0);
    fixture_free(f);
}

/* objstore-2.6 the real layout: arena in /dev/shm (tmpfs), spill dir on
 * another filesystem, so spills cannot use copy_file_range */
static void spill_across_filesystems(void **state)
{
    (void)state;
    if (access("/dev/shm", W_OK) != 0)
        skip();
    fixture *f = fixture_new(1 * MiB, 0);
    objstore_close(f->s);
    char prefix[64];
    snprintf(prefix, sizeof prefix, "rayc-test%08d-", (int)getpid());
    objstore_config cfg = {.capacity = 1 * MiB, .shm_dir = "/dev/shm", .prefix = prefix,
                           .spill_dir = f->spill};
    assert_int_equal(objstore_open(&cfg, &f->s), 0);
    assert_int_equal(count_files("/dev/shm", prefix), 1);
    assert_int_equal(put(f->s, "a1", 1 * MiB - 1, 1), 0);
    assert_int_equal(put(f->s, "a2", 1 * MiB - 1, 2), 0);
    assert_int_equal(count_files(f->spill, prefix), 1);
    assert_int_equal(check_obj(f->s, "a1", 1 * MiB - 1, 1, 0), 0);
    assert_int_equal(check_obj(f->s, "a2", 1 * MiB - 1, 2, 0), 0);
    assert_int_equal(stats(f->s).restored_bytes, 2 * (1 * MiB - 1));
    objstore_close(f->s);
    f->s = NULL;
    assert_int_equal(count_files("/dev/shm", prefix), 0);
    assert_int_equal(count_files(f->spill, prefix), 0);
    fixture_free(f);
}

/* ---------------------------------------------------------------- deleting */

/* objstore-3.1 delete while pinned waits for the last release */
static void delete_while_pinned(void **state)
{
    (void)state;
    fixture *f = fixture_new(1 * MiB, 0);
    assert_int_equal(put(f->s, "c1", 100 * KiB, 1), 0);
    char path[SHM_LOC_MAX];
    uint64_t size;
    assert_int_equal(objstore_get(f->s, "c1", path, sizeof path, &size), 0);
    assert_int_equal(check_obj(f->s, "c1", 100 * KiB, 1, 1), 0);  /* two pins */
    const void *p;
    assert_int_equal(shm_map_read(path, size, &p), 0);
    assert_int_equal(objstore_delete(f->s, "c1"), 0);
    assert_int_equal(objstore_delete(f->s, "c1"), -ENOENT);
    assert_int_equal(objstore_contains(f->s, "c1"), 0);
    assert_int_equal(objstore_get(f->s, "c1", path, sizeof path, &size), -ENOENT);
    assert_int_equal(objstore_create(f->s, "c1", JOB, 10, path, sizeof path), -EEXIST);
    /* The reader's bytes stay intact while it holds its pin. */
    assert_int_equal(put(f->s, "c2", 900 * KiB, 2), 0);
    uint8_t want[100];
    fill(want, sizeof want, 1);
    assert_memory_equal(p, want, sizeof want);
    shm_unmap(p, size);
    objstore_release(f->s, "c1");
    assert_int_equal(stats(f->s).objects, 2);
    objstore_release(f->s, "c1");
    objstore_stats st = stats(f->s);
    assert_int_equal(st.objects, 1);
    assert_int_equal(st.used, 900 * KiB);
    assert_int_equal(st.pinned_bytes, 0);
    objstore_release(f->s, "c1");  /* unknown now: nothing happens */
    fixture_free(f);
}

/* objstore-3.2 delete of an unsealed object waits for seal or abort; abort */
static void delete_unsealed_and_abort(void **state)
{
    (void)state;
    fixture *f = fixture_new(1 * MiB, 0);
    assert_int_equal(put_obj(f->s, "d1", JOB, 1000, 1, 0), 0);
    assert_int_equal(objstore_delete(f->s, "d1"), 0);
    assert_int_equal(objstore_contains(f->s, "d1"), 0);
    assert_int_equal(stats(f->s).used, 1024);
    assert_int_equal(objstore_seal(f->s, "d1"), -ENOENT);
    assert_int_equal(stats(f->s).used, 0);
    assert_int_equal(stats(f->s).objects, 0);

    assert_int_equal(put_obj(f->s, "d2", JOB, 1000, 2, 0), 0);
    objstore_abort(f->s, "d2");
    assert_int_equal(objstore_contains(f->s, "d2"), 0);
    assert_int_equal(stats(f->s).used, 0);
    assert_int_equal(put(f->s, "d3", 1000, 3), 0);
    objstore_abort(f->s, "d3");       /* sealed: abort does nothing */
    objstore_abort(f->s, "d4");       /* unknown */
    assert_int_equal(objstore_contains(f->s, "d3"), 1);
    fixture_free(f);
}

/* objstore-3.3 deleting a spilled object removes its spill file */
static void delete_spilled(void **state)
{
    (void)state;
    fixture *f = fixture_new(1 * MiB, 0);
    assert_int_equal(put(f->s, "e1", 1 * MiB, 1), 0);
    assert_int_equal(put(f->s, "e2", 1 * MiB, 2), 0);
    assert_true(spill_file_exists(f, "e1"));
    assert_int_equal(objstore_delete(f->s, "e1"), 0);
    assert_false(spill_file_exists(f, "e1"));
    objstore_stats st = stats(f->s);
    assert_int_equal(st.spilled_objects, 0);
    assert_int_equal(st.spill_dir_bytes, 0);
    assert_int_equal(st.objects, 1);
    fixture_free(f);
}

/* objstore-3.4 delete_job frees everything of one job, only that job */
static void delete_job(void **state)
{
    (void)state;
    fixture *f = fixture_new(2 * MiB, 0);
    assert_int_equal(put_obj(f->s, "f1", "0a", 1 * MiB, 1, 1), 0);
    assert_int_equal(put_obj(f->s, "f2", "0a", 512 * KiB, 2, 1), 0);
    assert_int_equal(put_obj(f->s, "f3", "0b", 512 * KiB, 3, 1), 0);
    assert_int_equal(put_obj(f->s, "f4", "0a", 512 * KiB, 4, 1), 0);  /* spills f1 */
    assert_int_equal(put_obj(f->s, "f5", "0a", 100, 5, 0), 0);       /* unsealed */
    assert_true(spill_file_exists(f, "f1"));
    assert_int_equal(check_obj(f->s, "f2", 512 * KiB, 2, 1), 0);    /* pinned */
    assert_int_equal(objstore_delete_job(f->s, "0a"), 4);
    assert_false(spill_file_exists(f, "f1"));
    assert_int_equal(objstore_contains(f->s, "f2"), 0);
    assert_int_equal(objstore_contains(f->s, "f3"), 1);
    objstore_stats st = stats(f->s);
    assert_int_equal(st.objects, 3);  /* f3, and f2 / f5 until released / sealed */
    assert_int_equal(objstore_delete_job(f->s, "0a"), 0);
    objstore_release(f->s, "f2");
    assert_int_equal(objstore_seal(f->s, "f5"), -ENOENT);
    st = stats(f->s);
    assert_int_equal(st.objects, 1);
    assert_int_equal(st.used, 512 * KiB);
    assert_int_equal(st.spilled_objects, 0);
    assert_int_equal(check_obj(f->s, "f3", 512 * KiB, 3, 0), 0);
    fixture_free(f);
}

/* ---------------------------------------------------------------- files */

/* objstore-4.1 close leaves no file in shm_dir or spill_dir */
static void close_leaves_no_files(void **state)
{
    (void)state;
    fixture *f = fixture_new(1 * MiB, 0);
    assert_int_equal(put(f->s, "a1", 1 * MiB, 1), 0);
    assert_int_equal(put(f->s, "a2", 1 * MiB, 2), 0);
    assert_int_equal(put_obj(f->s, "a3", JOB, 0, 3, 0), 0);
    assert_int_equal(check_obj(f->s, "a2", 1 * MiB, 2, 1), 0);
    assert_int_equal(count_files(f->shm, ""), 1);
    assert_int_equal(count_files(f->spill, ""), 1);
    objstore_close(f->s);
    f->s = NULL;
    assert_int_equal(count_files(f->shm, ""), 0);
    assert_int_equal(count_files(f->spill, ""), 0);
    fixture_free(f);
}

/* objstore-4.2 open removes stale files with its prefix, and only those */
static void open_removes_stale(void **state)
{
    (void)state;
    fixture *f = fixture_new(1 * MiB, 0);
    objstore_close(f->s);
    f->s = NULL;
    const char *names[] = {PREFIX "arena", PREFIX "abcd", "rayc-other000000-arena", "keep"};
    for (int i = 0; i < 4; i++) {
        char p[256];
        snprintf(p, sizeof p, "%s/%s", f->shm, names[i]);
        assert_int_equal(fs_write_file(p, "x", 1, 0600), 0);
        snprintf(p, sizeof p, "%s/%s", f->spill, names[i]);
        assert_int_equal(fs_write_file(p, "x", 1, 0600), 0);
    }
    objstore_config cfg = {.capacity = 1 * MiB, .shm_dir = f->shm, .prefix = PREFIX,
                           .spill_dir = f->spill};
    assert_int_equal(objstore_open(&cfg, &f->s), 0);
    assert_int_equal(count_files(f->shm, PREFIX), 1);  /* the new arena */
    assert_int_equal(count_files(f->spill, PREFIX), 0);
    assert_int_equal(count_files(f->shm, ""), 3);
    assert_int_equal(count_files(f->spill, ""), 2);
    fixture_free(f);
}

/* objstore-4.3 bad configs are refused and leave nothing behind */
static void open_refuses_bad_config(void **state)
{
    (void)state;
    objstore *s = NULL;
    objstore_config cfg = {.capacity = 1 * MiB, .shm_dir = "/tmp", .prefix = "bad@prefix",
                           .spill_dir = "/tmp"};
    assert_int_equal(objstore_open(&cfg, &s), -EINVAL);
    cfg.prefix = "";
    assert_int_equal(objstore_open(&cfg, &s), -EINVAL);
    cfg.prefix = "rayc-x-";
    cfg.capacity = 0;
    assert_int_equal(objstore_open(&cfg, &s), -EINVAL);
    cfg.capacity = 1 * MiB;
    cfg.shm_dir = "/nonexistent-rayc-dir";
    assert_int_equal(objstore_open(&cfg, &s), -ENOENT);
    cfg.shm_dir = "/tmp";
    cfg.capacity = UINT64_MAX / 2;
    assert_int_equal(objstore_open(&cfg, &s), -ENOSPC);
    assert_null(s);
    objstore_close(NULL);
}

/* objstore-4.4 locate gives the arena fd and offset of a pinned object */
static void locate_pinned(void **state)
{
    (void)state;
    fixture *f = fixture_new(1 * MiB, 0);
    int fd;
    uint64_t off, size;
    assert_int_equal(put(f->s, "ab", 300, 1), 0);
    assert_int_equal(put(f->s, "cd", 300, 2), 0);
    assert_int_equal(objstore_locate(f->s, "cd", &fd, &off, &size), -EPERM);
    assert_int_equal(objstore_locate(f->s, "ef", &fd, &off, &size), -ENOENT);
    assert_int_equal(check_obj(f->s, "cd", 300, 2, 1), 0);
    assert_int_equal(objstore_locate(f->s, "cd", &fd, &off, &size), 0);
    assert_int_equal(size, 300);
    assert_int_equal(off % OBJSTORE_ALIGN, 0);
    uint8_t got[300], want[300];
    assert_int_equal(pread(fd, got, sizeof got, (off_t)off), 300);
    fill(want, sizeof want, 2);
    assert_memory_equal(got, want, sizeof want);
    objstore_release(f->s, "cd");
    fixture_free(f);
}

/* objstore-5.1 many objects of mixed sizes through a small store: every
 * byte survives spilling, restoring and reuse of freed ranges */
static void churn(void **state)
{
    (void)state;
    fixture *f = fixture_new(4 * MiB, 0);
    enum { N = 200 };
    uint64_t sizes[N];
    uint32_t rnd = 12345;
    for (int i = 0; i < N; i++) {
        rnd = rnd * 1103515245u + 12345u;
        sizes[i] = (rnd >> 8) % (600 * KiB);
        char oid[16];
        snprintf(oid, sizeof oid, "%04x", i);
        assert_int_equal(put(f->s, oid, sizes[i], (uint32_t)i), 0);
        if (i % 3 == 0 && i > 0 && sizes[i / 2] != UINT64_MAX) {
            snprintf(oid, sizeof oid, "%04x", i / 2);
            assert_int_equal(check_obj(f->s, oid, sizes[i / 2], (uint32_t)(i / 2), 0), 0);
        }
        if (i % 7 == 0) {
            snprintf(oid, sizeof oid, "%04x", i / 3);
            objstore_delete(f->s, oid);
            sizes[i / 3] = UINT64_MAX;
        }
    }
    for (int i = 0; i < N; i++) {
        char oid[16];
        snprintf(oid, sizeof oid, "%04x", i);
        if (sizes[i] == UINT64_MAX)
            assert_int_equal(objstore_contains(f->s, oid), 0);
        else
            assert_int_equal(check_obj(f->s, oid, sizes[i], (uint32_t)i, 0), 0);
    }
    objstore_stats st = stats(f->s);
    assert_true(st.spilled_bytes > 0);
    assert_true(st.restored_bytes > 0);
    assert_true(st.used <= st.capacity);
    fixture_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(create_write_seal_get),
        cmocka_unit_test(duplicate_id),
        cmocka_unit_test(get_before_seal),
        cmocka_unit_test(bad_arguments),
        cmocka_unit_test(capacity_accounting),
        cmocka_unit_test(zero_size),
        cmocka_unit_test(too_big),
        cmocka_unit_test(spill_lru_and_restore),
        cmocka_unit_test(pinned_never_spilled),
        cmocka_unit_test(nothing_spillable),
        cmocka_unit_test(spill_failure_keeps_object),
        cmocka_unit_test(restore_failures),
        cmocka_unit_test(spill_across_filesystems),
        cmocka_unit_test(delete_while_pinned),
        cmocka_unit_test(delete_unsealed_and_abort),
        cmocka_unit_test(delete_spilled),
        cmocka_unit_test(delete_job),
        cmocka_unit_test(close_leaves_no_files),
        cmocka_unit_test(open_removes_stale),
        cmocka_unit_test(open_refuses_bad_config),
        cmocka_unit_test(locate_pinned),
        cmocka_unit_test(churn),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
