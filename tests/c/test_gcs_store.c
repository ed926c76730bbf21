/* gcs-store-*: the GCS's SQLite store on a temporary file. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/util.h"
#include "gcs/gcs_store.h"

#define NAMED_TEST(name, fn) {name, fn, NULL, NULL, NULL}

typedef struct fixture {
    char dir[64];
    char path[128];
    gcs_store *s;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (f == NULL)
        return -1;
    snprintf(f->dir, sizeof f->dir, "/tmp/test_gcs_store.XXXXXX");
    if (mkdtemp(f->dir) == NULL) {
        free(f);
        return -1;
    }
    snprintf(f->path, sizeof f->path, "%s/gcs.db", f->dir);
    char err[256];
    if (gcs_store_open(f->path, &f->s, err, sizeof err) != 0) {
        fprintf(stderr, "open: %s\n", err);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    gcs_store_close(f->s);
    fs_rm_rf(f->dir);
    free(f);
    return 0;
}

/* Closes and reopens the store of F. */
static void reopen(fixture *f)
{
    char err[256];
    gcs_store_close(f->s);
    f->s = NULL;
    assert_int_equal(gcs_store_open(f->path, &f->s, err, sizeof err), 0);
}

static gcs_bytes B(const char *s)
{
    gcs_bytes b = {(const uint8_t *)s, strlen(s)};
    return b;
}

/* Reads (NS, KEY) as a string into OUT; returns the store's code. */
static int kv_get_str(gcs_store *s, const char *ns, const char *key, char *out, size_t outlen)
{
    uint8_t *v;
    size_t n;
    int rc = gcs_store_kv_get(s, ns, B(key), &v, &n);
    if (rc == 0) {
        snprintf(out, outlen, "%.*s", (int)n, (const char *)v);
        free(v);
    }
    return rc;
}

/* ---------------------------------------------------------------- KV */

/* gcs-store-1.1 KV put/get/overwrite round-trips and survives a reopen */
static void test_kv_roundtrip(void **state)
{
    fixture *f = *state;
    int added = -1;
    char v[64];
    assert_int_equal(gcs_store_kv_put(f->s, "ns", B("k"), B("v1"), 0, &added), 0);
    assert_int_equal(added, 1);
    assert_int_equal(gcs_store_kv_put(f->s, "ns", B("k"), B("v2"), 0, &added), 0);
    assert_int_equal(added, 0);
    assert_int_equal(kv_get_str(f->s, "ns", "k", v, sizeof v), 0);
    assert_string_equal(v, "v1");
    assert_int_equal(gcs_store_kv_put(f->s, "ns", B("k"), B("v3"), 1, &added), 0);
    assert_int_equal(added, 0);
    assert_int_equal(gcs_store_kv_put(f->s, "other", B("k"), B("o"), 1, &added), 0);
    assert_int_equal(added, 1);
    assert_int_equal(gcs_store_kv_put(f->s, "ns", B(""), B(""), 0, &added), 0);
    reopen(f);
    assert_int_equal(kv_get_str(f->s, "ns", "k", v, sizeof v), 0);
    assert_string_equal(v, "v3");
    assert_int_equal(kv_get_str(f->s, "other", "k", v, sizeof v), 0);
    assert_string_equal(v, "o");
    assert_int_equal(kv_get_str(f->s, "ns", "", v, sizeof v), 0);
    assert_string_equal(v, "");
    assert_int_equal(kv_get_str(f->s, "ns", "missing", v, sizeof v), -ENOENT);
}

/* gcs-store-1.2 keys and deletes by prefix, binary keys with 0xff included */
static void test_kv_prefix(void **state)
{
    fixture *f = *state;
    const char *keys[] = {"a", "job:1", "job:2", "job:20", "jobz", "k"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        assert_int_equal(gcs_store_kv_put(f->s, "p", B(keys[i]), B("x"), 0, NULL), 0);
    const uint8_t bin1[] = {0xff, 0xff, 0x01}, bin2[] = {0xff, 0xff};
    gcs_bytes b1 = {bin1, 3}, b2 = {bin2, 2}, bp = {bin1, 1};
    assert_int_equal(gcs_store_kv_put(f->s, "p", b1, B("y"), 0, NULL), 0);
    assert_int_equal(gcs_store_kv_put(f->s, "p", b2, B("y"), 0, NULL), 0);

    gcs_key_list l = {0};
    assert_int_equal(gcs_store_kv_keys(f->s, "p", B("job:"), 1 << 20, &l), 0);
    assert_int_equal(l.n, 3);
    assert_memory_equal(l.items[0].data, "job:1", 5);
    assert_memory_equal(l.items[2].data, "job:20", 6);
    gcs_key_list_free(&l);
    assert_int_equal(gcs_store_kv_keys(f->s, "p", bp, 1 << 20, &l), 0);
    assert_int_equal(l.n, 2);
    gcs_key_list_free(&l);
    assert_int_equal(gcs_store_kv_keys(f->s, "p", B(""), 1 << 20, &l), 0);
    assert_int_equal(l.n, 8);
    gcs_key_list_free(&l);
    assert_int_equal(gcs_store_kv_keys(f->s, "p", B(""), 10, &l), -EMSGSIZE);
    gcs_key_list_free(&l);

    int64_t deleted = -1;
    assert_int_equal(gcs_store_kv_del(f->s, "p", B("job:2"), 1, &deleted), 0);
    assert_int_equal(deleted, 2);
    assert_int_equal(gcs_store_kv_del(f->s, "p", B("job"), 0, &deleted), 0);
    assert_int_equal(deleted, 0);
    assert_int_equal(gcs_store_kv_del(f->s, "p", bp, 1, &deleted), 0);
    assert_int_equal(deleted, 2);
    assert_int_equal(gcs_store_kv_del(f->s, "p", B("a"), 0, &deleted), 0);
    assert_int_equal(deleted, 1);
    reopen(f);
    assert_int_equal(gcs_store_kv_keys(f->s, "p", B(""), 1 << 20, &l), 0);
    assert_int_equal(l.n, 3); /* job:1, jobz, k */
    gcs_key_list_free(&l);
    assert_int_equal(gcs_store_kv_del(f->s, "p", B(""), 1, &deleted), 0);
    assert_int_equal(deleted, 3);
}

/* ---------------------------------------------------------------- nodes */

static int collect_node(Rayc__NodeInfo *n, void *data)
{
    Rayc__NodeInfo **out = data;
    int i = 0;
    while (out[i] != NULL)
        i++;
    out[i] = n;
    return 0;
}

/* gcs-store-2.1 nodes keep every field, update in place and survive a reopen */
static void test_nodes(void **state)
{
    fixture *f = *state;
    Rayc__NodeInfo__ResourcesTotalEntry cpu = RAYC__NODE_INFO__RESOURCES_TOTAL_ENTRY__INIT;
    cpu.key = "CPU";
    cpu.value = 8;
    Rayc__NodeInfo__ResourcesTotalEntry *total[] = {&cpu};
    Rayc__NodeInfo a = RAYC__NODE_INFO__INIT, b = RAYC__NODE_INFO__INIT;
    a.node_id = "aaaa";
    a.address = "10.0.0.1";
    a.node_manager_port = 1234;
    a.n_resources_total = 1;
    a.resources_total = total;
    a.start_time_ms = 111;
    b.node_id = "bbbb";
    b.is_head = 1;
    assert_int_equal(gcs_store_node_put(f->s, &a), 0);
    assert_int_equal(gcs_store_node_put(f->s, &b), 0);
    a.state = RAYC__NODE_INFO__STATE__DEAD;
    a.death_reason = "health check failed";
    a.end_time_ms = 222;
    assert_int_equal(gcs_store_node_put(f->s, &a), 0);
    reopen(f);

    Rayc__NodeInfo *got[4] = {0};
    assert_int_equal(gcs_store_nodes_load(f->s, collect_node, got), 0);
    assert_non_null(got[0]);
    assert_non_null(got[1]);
    assert_null(got[2]);
    assert_string_equal(got[0]->node_id, "aaaa");
    assert_int_equal(got[0]->state, RAYC__NODE_INFO__STATE__DEAD);
    assert_string_equal(got[0]->death_reason, "health check failed");
    assert_int_equal(got[0]->end_time_ms, 222);
    assert_int_equal(got[0]->node_manager_port, 1234);
    assert_int_equal(got[0]->n_resources_total, 1);
    assert_string_equal(got[0]->resources_total[0]->key, "CPU");
    assert_true(got[0]->resources_total[0]->value == 8);
    assert_string_equal(got[1]->node_id, "bbbb");
    assert_true(got[1]->is_head);
    for (int i = 0; got[i] != NULL; i++)
        rayc__node_info__free_unpacked(got[i], NULL);
}

/* ---------------------------------------------------------------- jobs, meta */

static int count_job(Rayc__JobInfo *j, void *data)
{
    (*(int *)data)++;
    rayc__job_info__free_unpacked(j, NULL);
    return 0;
}

/* gcs-store-3.1 jobs, the job counter and meta survive a reopen */
static void test_jobs_meta(void **state)
{
    fixture *f = *state;
    uint32_t n1, n2;
    assert_int_equal(gcs_store_next_job_number(f->s, &n1), 0);
    assert_int_equal(gcs_store_next_job_number(f->s, &n2), 0);
    assert_int_equal(n1, 1);
    assert_int_equal(n2, 2);
    Rayc__JobInfo j = RAYC__JOB_INFO__INIT;
    j.job_id = "01000000";
    j.entrypoint = "python x.py";
    j.start_time_ms = 5;
    assert_int_equal(gcs_store_job_put(f->s, &j), 0);
    j.job_id = "02000000";
    assert_int_equal(gcs_store_job_put(f->s, &j), 0);
    j.is_dead = 1;
    j.end_time_ms = 9;
    assert_int_equal(gcs_store_job_put(f->s, &j), 0);
    assert_int_equal(gcs_store_meta_set(f->s, "session_name", "session_x"), 0);
    reopen(f);

    assert_int_equal(gcs_store_next_job_number(f->s, &n1), 0);
    assert_int_equal(n1, 3);
    Rayc__JobInfo *got = NULL;
    assert_int_equal(gcs_store_job_get(f->s, "02000000", &got), 0);
    assert_true(got->is_dead);
    assert_int_equal(got->end_time_ms, 9);
    assert_string_equal(got->entrypoint, "python x.py");
    rayc__job_info__free_unpacked(got, NULL);
    assert_int_equal(gcs_store_job_get(f->s, "ffffffff", &got), -ENOENT);
    int count = 0;
    assert_int_equal(gcs_store_jobs_load(f->s, count_job, &count), 0);
    assert_int_equal(count, 2);
    char v[64];
    assert_int_equal(gcs_store_meta_get(f->s, "session_name", v, sizeof v), 0);
    assert_string_equal(v, "session_x");
    assert_int_equal(gcs_store_meta_get(f->s, "nothing", v, sizeof v), -ENOENT);
}

/* gcs-store-4.1 a path in a missing directory fails with a message */
static void test_open_fails(void **state)
{
    gcs_store *s = NULL;
    char err[256] = "";
    assert_int_equal(gcs_store_open("/nonexistent-dir/x/gcs.db", &s, err, sizeof err), -EIO);
    assert_null(s);
    assert_true(strlen(err) > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        {"gcs-store-1.1 KV put/get/overwrite round-trip and reopen", test_kv_roundtrip, setup, teardown, NULL},
        {"gcs-store-1.2 KV keys and delete by prefix", test_kv_prefix, setup, teardown, NULL},
        {"gcs-store-2.1 nodes round-trip and reopen", test_nodes, setup, teardown, NULL},
        {"gcs-store-3.1 jobs, job counter and meta round-trip and reopen", test_jobs_meta, setup, teardown, NULL},
        NAMED_TEST("gcs-store-4.1 opening in a missing directory fails", test_open_fails),
    };
    return cmocka_run_group_tests_name("gcs_store", tests, NULL, NULL);
}
