/* Unit tests for the raylet's resource detection (fake /proc and /sys trees),
 * resource maps, the resource-fit rule and the --resources / --labels JSON. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/util.h"
#include "raylet/res_detect.h"
#include "common/res_map.h"
#include "common/res_json.h"
#include "raylet/res_spec.h"

#define GiB (UINT64_C(1) << 30)
#define MiB (UINT64_C(1) << 20)

static char root[256];

static int make_root(void **state)
{
    (void)state;
    snprintf(root, sizeof root, "/tmp/rayc-test-resources-XXXXXX");
    return mkdtemp(root) ? 0 : -1;
}

static int remove_root(void **state)
{
    (void)state;
    return fs_rm_rf(root);
}

/* Writes TEXT to ROOT/REL, creating parent directories. */
static void put(const char *rel, const char *text)
{
    char path[PATH_MAX], dir[PATH_MAX];
    snprintf(path, sizeof path, "%s%s", root, rel);
    snprintf(dir, sizeof dir, "%s", path);
    *strrchr(dir, '/') = '\0';
    assert_int_equal(fs_mkdir_p(dir, 0755), 0);
    assert_int_equal(fs_write_file(path, text, strlen(text), 0644), 0);
}

static void fake_paths(res_paths *p)
{
    assert_int_equal(res_paths_init(p, root), 0);
}

/* ---------------------------------------------------------------- CPU */

static void cpu_max_v2_parsing(void **state)
{
    (void)state;
    double c = 0;
    assert_int_equal(res_parse_cpu_max("max 100000\n", &c), 1);
    assert_int_equal(res_parse_cpu_max("200000 100000\n", &c), 0);
    assert_true(c == 2.0);
    assert_int_equal(res_quota_to_cpus(c), 2);
    assert_int_equal(res_parse_cpu_max("150000 100000", &c), 0);
    assert_int_equal(res_quota_to_cpus(c), 2);
    assert_int_equal(res_parse_cpu_max("50000 100000", &c), 0);
    assert_int_equal(res_quota_to_cpus(c), 1);
    assert_int_equal(res_parse_cpu_max("0 100000", &c), 0);
    assert_int_equal(res_quota_to_cpus(c), 1);
    assert_int_equal(res_parse_cpu_max("", &c), -EINVAL);
    assert_int_equal(res_parse_cpu_max("100000", &c), -EINVAL);
    assert_int_equal(res_parse_cpu_max("100000 0", &c), -EINVAL);
    assert_int_equal(res_parse_cpu_max("-5 100000", &c), -EINVAL);
    assert_int_equal(res_parse_cpu_max("max 100000 7", &c), -EINVAL);
    assert_int_equal(res_parse_cpu_max("lots 100000", &c), -EINVAL);
}

static void cfs_v1_parsing(void **state)
{
    (void)state;
    double c = 0;
    assert_int_equal(res_parse_cfs("-1\n", "100000\n", &c), 1);
    assert_int_equal(res_parse_cfs("250000\n", "100000\n", &c), 0);
    assert_int_equal(res_quota_to_cpus(c), 3);
    assert_int_equal(res_parse_cfs("400000", "100000", &c), 0);
    assert_int_equal(res_quota_to_cpus(c), 4);
    assert_int_equal(res_parse_cfs("x", "100000", &c), -EINVAL);
    assert_int_equal(res_parse_cfs("100000", "0", &c), -EINVAL);
    assert_int_equal(res_parse_cfs("100000", "", &c), -EINVAL);
}

static void cgroup_v2_limits_the_affinity_count(void **state)
{
    (void)state;
    res_paths p;
    fake_paths(&p);
    long n = 0;
    assert_int_equal(res_cgroup_cpus(&p, &n), 1); /* no files: no limit */
    assert_int_equal(res_detect_cpus(&p, 8), 8);
    put("/sys/fs/cgroup/cpu.max", "150000 100000\n");
    assert_int_equal(res_cgroup_cpus(&p, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(res_detect_cpus(&p, 8), 2);
    assert_int_equal(res_detect_cpus(&p, 1), 1); /* affinity smaller than quota */
    put("/sys/fs/cgroup/cpu.max", "max 100000\n");
    assert_int_equal(res_detect_cpus(&p, 8), 8);
    put("/sys/fs/cgroup/cpu.max", "garbage\n");
    assert_int_equal(res_detect_cpus(&p, 8), 8);
    assert_int_equal(res_detect_cpus(&p, 0), 1);
}

static void cgroup_v1_files_win_over_v2(void **state)
{
    (void)state;
    res_paths p;
    fake_paths(&p);
    put("/sys/fs/cgroup/cpu.max", "100000 100000\n");
    put("/sys/fs/cgroup/cpu/cpu.cfs_quota_us", "300000\n");
    put("/sys/fs/cgroup/cpu/cpu.cfs_period_us", "100000\n");
    assert_int_equal(res_detect_cpus(&p, 16), 3);
    put("/sys/fs/cgroup/cpu/cpu.cfs_quota_us", "-1\n");
    assert_int_equal(res_detect_cpus(&p, 16), 16);
}

static void affinity_count_is_positive(void **state)
{
    (void)state;
    assert_true(res_affinity_cpus() >= 1);
}

/* ---------------------------------------------------------------- memory */

static const char meminfo[] =
    "MemTotal:       16777216 kB\n"
    "MemFree:         1000000 kB\n"
    "MemAvailable:   12582912 kB\n"
    "Buffers:          123456 kB\n"
    "HugePages_Total:       0\n";

static void meminfo_parsing(void **state)
{
    (void)state;
    uint64_t v = 0;
    assert_int_equal(res_parse_stat_field(meminfo, "MemTotal", &v), 0);
    assert_true(v == 16 * GiB);
    assert_int_equal(res_parse_stat_field(meminfo, "MemAvailable", &v), 0);
    assert_true(v == 12 * GiB);
    assert_int_equal(res_parse_stat_field(meminfo, "HugePages_Total", &v), 0);
    assert_true(v == 0);
    assert_int_equal(res_parse_stat_field(meminfo, "Mem", &v), -ENOENT);
    assert_int_equal(res_parse_stat_field(meminfo, "SwapTotal", &v), -ENOENT);
    assert_int_equal(res_parse_stat_field("MemTotal: lots kB\n", "MemTotal", &v), -EINVAL);
    assert_int_equal(res_parse_stat_field("MemTotal: 5 MB\n", "MemTotal", &v), -EINVAL);
    assert_int_equal(res_parse_stat_field("cache 10\ninactive_file 4096\n", "inactive_file", &v), 0);
    assert_true(v == 4096);
}

static void memory_limit_parsing(void **state)
{
    (void)state;
    uint64_t v = 0;
    assert_int_equal(res_parse_mem_limit("max\n", &v), 1);
    assert_int_equal(res_parse_mem_limit("9223372036854771712\n", &v), 1);
    assert_int_equal(res_parse_mem_limit("2147483648\n", &v), 0);
    assert_true(v == 2 * GiB);
    assert_int_equal(res_parse_mem_limit("", &v), -EINVAL);
    assert_int_equal(res_parse_mem_limit("-1", &v), -EINVAL);
}

static void memory_without_cgroup_is_meminfo(void **state)
{
    (void)state;
    res_paths p;
    res_detected d;
    fake_paths(&p);
    assert_int_equal(res_detect_memory(&p, &d), -ENOENT);
    put("/proc/meminfo", meminfo);
    assert_int_equal(res_detect_memory(&p, &d), 0);
    assert_true(d.mem_total == 16 * GiB);
    assert_true(d.mem_available == 12 * GiB);
    put("/sys/fs/cgroup/memory.max", "max\n");
    assert_int_equal(res_detect_memory(&p, &d), 0);
    assert_true(d.mem_total == 16 * GiB);
}

static void memory_capped_by_cgroup_v2(void **state)
{
    (void)state;
    res_paths p;
    res_detected d;
    fake_paths(&p);
    put("/proc/meminfo", meminfo);
    put("/sys/fs/cgroup/memory.max", "4294967296\n");
    put("/sys/fs/cgroup/memory.current", "1073741824\n");
    put("/sys/fs/cgroup/memory.stat", "anon 100\ninactive_file 536870912\nactive_file 5\n");
    assert_int_equal(res_detect_memory(&p, &d), 0);
    assert_true(d.mem_total == 4 * GiB);
    assert_true(d.mem_available == 4 * GiB - 512 * MiB);
}

static void memory_capped_by_cgroup_v1(void **state)
{
    (void)state;
    res_paths p;
    res_detected d;
    fake_paths(&p);
    put("/proc/meminfo", meminfo);
    put("/sys/fs/cgroup/memory/memory.limit_in_bytes", "2147483648\n");
    put("/sys/fs/cgroup/memory/memory.usage_in_bytes", "3221225472\n"); /* over the limit */
    assert_int_equal(res_detect_memory(&p, &d), 0);
    assert_true(d.mem_total == 2 * GiB);
    assert_true(d.mem_available == 0);
    put("/sys/fs/cgroup/memory/memory.limit_in_bytes", "9223372036854771712\n");
    assert_int_equal(res_detect_memory(&p, &d), 0);
    assert_true(d.mem_total == 16 * GiB);
}

static void default_memory_and_object_store(void **state)
{
    (void)state;
    assert_true(res_default_memory(10 * GiB) == (uint64_t)(10 * GiB * 0.7));
    assert_true(res_default_object_store(10 * GiB, 100 * GiB, 1) == (uint64_t)(10 * GiB * 0.3));
    assert_true(res_default_object_store(10 * GiB, 1 * GiB, 1) == 1 * GiB);
    assert_true(res_default_object_store(10 * GiB, 1 * GiB, 0) == (uint64_t)(10 * GiB * 0.3));
    assert_true(res_default_object_store(UINT64_C(2000000000000), UINT64_MAX, 1) ==
                UINT64_C(200000000000));
    uint64_t shm = 0;
    assert_int_equal(res_fs_free("/tmp", &shm), 0);
    assert_int_equal(res_fs_free("/no/such/dir", &shm), -ENOENT);
}

/* ---------------------------------------------------------------- GPUs */

static void cuda_visible_devices(void **state)
{
    (void)state;
    assert_int_equal(res_parse_cuda_visible(NULL), -1);
    assert_int_equal(res_parse_cuda_visible(""), 0);
    assert_int_equal(res_parse_cuda_visible("NoDevFiles"), 0);
    assert_int_equal(res_parse_cuda_visible("0"), 1);
    assert_int_equal(res_parse_cuda_visible("0,1,3"), 3);
    assert_int_equal(res_parse_cuda_visible(" 0 , 1 "), 2);
    assert_int_equal(res_parse_cuda_visible("0,,1,"), 2);
    assert_int_equal(res_parse_cuda_visible("GPU-5ae0b2c1,GPU-77aa"), 2);
}

static void gpu_devices_are_counted(void **state)
{
    (void)state;
    res_paths p;
    fake_paths(&p);
    assert_int_equal(res_count_gpus(&p), 0);
    put("/dev/nvidiactl", "");
    put("/dev/nvidia-uvm", "");
    put("/dev/nvidia0", "");
    put("/dev/nvidia1", "");
    put("/dev/nvidia12", "");
    put("/dev/nvidia", "");
    assert_int_equal(res_count_gpus(&p), 3);
    assert_int_equal(res_detect_gpus(&p, NULL), 3);
    assert_int_equal(res_detect_gpus(&p, "0"), 1);
    assert_int_equal(res_detect_gpus(&p, ""), 0);
    assert_int_equal(res_detect_gpus(&p, "NoDevFiles"), 0);
    put("/proc/driver/nvidia/gpus/0000:3b:00.0/information", "x");
    put("/proc/driver/nvidia/gpus/0000:5e:00.0/information", "x");
    assert_int_equal(res_count_gpus(&p), 2);
}

static void detect_all_on_this_machine(void **state)
{
    (void)state;
    res_paths p;
    res_detected d;
    assert_int_equal(res_paths_init(&p, NULL), 0);
    assert_string_equal(p.meminfo, "/proc/meminfo");
    assert_int_equal(res_detect_all(&p, "0,1", &d), 0);
    assert_true(d.cpus >= 1);
    assert_int_equal(d.gpus, 2);
    assert_true(d.mem_total > 0 && d.mem_available <= d.mem_total);
}

/* ---------------------------------------------------------------- maps */

static void resource_map_is_sorted_and_capped(void **state)
{
    (void)state;
    res_map m, c;
    res_map_init(&m);
    res_map_init(&c);
    assert_int_equal(res_map_set(&m, "b", 2), 0);
    assert_int_equal(res_map_set(&m, "a", 1), 0);
    assert_int_equal(res_map_set(&m, "c", 3), 0);
    assert_int_equal(res_map_set(&m, "b", 5), 0);
    assert_int_equal(m.len, 3);
    assert_string_equal(m.items[0].name, "a");
    assert_string_equal(m.items[2].name, "c");
    double q;
    assert_int_equal(res_map_get(&m, "b", &q), 0);
    assert_true(q == 5);
    assert_int_equal(res_map_get(&m, "zz", &q), -ENOENT);
    assert_int_equal(res_map_set(&m, "", 1), -EINVAL);
    assert_int_equal(res_map_copy(&c, &m), 0);
    res_map_del(&m, "a");
    assert_int_equal(m.len, 2);
    assert_int_equal(c.len, 3);
    for (int i = 0; m.len < RES_MAP_MAX; i++) {
        char name[16];
        snprintf(name, sizeof name, "r%d", i);
        assert_int_equal(res_map_set(&m, name, i), 0);
    }
    assert_int_equal(res_map_set(&m, "one-too-many", 1), -E2BIG);
    res_map_free(&m);
    res_map_free(&c);
}

/* ---------------------------------------------------------------- JSON */

/* Parses JSON as --resources; returns the code and leaves the message in ERR. */
static int parse_resources(const char *json, res_map *m, char *err)
{
    res_map_init(m);
    err[0] = '\0';
    return res_parse_resources_json(json, m, err, 256);
}

/* Placement group resources are appended (indexes before them stay) and
 * returned ones become free slots that lookups skip and renames reuse. */
static void resource_map_append_keeps_indexes(void **state)
{
    (void)state;
    res_map m;
    double q = 0;
    res_map_init(&m);
    assert_int_equal(res_map_set(&m, "GPU", 1), 0);
    assert_int_equal(res_map_set(&m, "CPU", 4), 0);
    assert_int_equal(res_map_append(&m, "A_group_x", 2), 0);
    assert_int_equal(res_map_append(&m, "A_group_x", 2), -EEXIST);
    assert_string_equal(m.items[0].name, "CPU");
    assert_string_equal(m.items[2].name, "A_group_x");
    assert_int_equal(res_map_get(&m, "A_group_x", &q), 0);
    assert_true(q == 2);
    /* A later set of an existing name finds it at the end. */
    assert_int_equal(res_map_set(&m, "A_group_x", 3), 0);
    assert_int_equal(m.len, 3);
    assert_int_equal(res_map_rename_at(&m, 2, "", 0), 0);
    assert_int_equal(res_map_get(&m, "A_group_x", &q), -ENOENT);
    assert_int_equal(res_map_rename_at(&m, 2, "CPU", 1), -EEXIST);
    assert_int_equal(res_map_rename_at(&m, 2, "B_group_y", 1), 0);
    assert_int_equal(res_map_get(&m, "B_group_y", &q), 0);
    assert_true(q == 1);
    assert_int_equal(res_map_rename_at(&m, 9, "C", 1), -EINVAL);
    res_map_free(&m);
}

/* res_fits is the one rule the raylet, the GCS and the job server share. */
static void res_fits_edges(void **state)
{
    (void)state;
    assert_true(res_fits(1, 1));
    assert_false(res_fits(1, 1.5));
    /* Within RES_EPS: fractions that do not sum exactly still fit. */
    assert_true(res_fits(0.3, 0.1 + 0.2));
    assert_true(res_fits(1, 1 + RES_EPS / 2));
    assert_false(res_fits(1, 1 + 1e-6));
    /* A missing resource is 0: only a zero request fits it. */
    assert_true(res_fits(0, 0));
    assert_true(res_fits(0, RES_EPS / 2));
    assert_false(res_fits(0, 0.5));
    /* A zero request fits even an overdrawn resource; a real one does not. */
    assert_true(res_fits(-0.5, 0));
    assert_false(res_fits(-0.5, 0.1));
    assert_false(res_fits(1, NAN));
}

static void resources_json_valid(void **state)
{
    (void)state;
    res_map m;
    char err[256];
    assert_int_equal(parse_resources("{\"gadget\": 2, \"disk_ssd\": 0.5, \"none\": 0}", &m, err), 0);
    assert_int_equal(m.len, 3);
    double q;
    assert_int_equal(res_map_get(&m, "disk_ssd", &q), 0);
    assert_true(q == 0.5);
    res_map_free(&m);
    assert_int_equal(parse_resources("{}", &m, err), 0);
    assert_int_equal(m.len, 0);
    res_map_free(&m);
}

static void resources_json_invalid(void **state)
{
    (void)state;
    static const struct { const char *json, *msg; } cases[] = {
        {"[1, 2]", "--resources must be a JSON object"},
        {"5", "--resources must be a JSON object"},
        {"{\"a\": 1", "--resources is not valid JSON"},
        {"{\"a\": -1}", "resource \"a\" must be a non-negative number"},
        {"{\"a\": \"lots\"}", "resource \"a\" must be a non-negative number"},
        {"{\"a\": true}", "resource \"a\" must be a non-negative number"},
        {"{\"a\": null}", "resource \"a\" must be a non-negative number"},
        {"{\"CPU\": 4}", "use --num-cpus instead of \"CPU\" in --resources"},
        {"{\"GPU\": 1}", "use --num-gpus instead of \"GPU\" in --resources"},
        {"{\"memory\": 1}", "use --memory instead of \"memory\" in --resources"},
        {"{\"object_store_memory\": 1}", "use --object-store-memory instead"},
        {"{\"node:10.0.0.1\": 1}", "resource \"node:10.0.0.1\": names starting with node:"},
        {"{\"a\": 1, \"a\": 2}", "--resources is not valid JSON"},
        {"{\"\": 1}", "--resources: \"\" is empty or too long"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        res_map m;
        char err[256];
        assert_int_equal(parse_resources(cases[i].json, &m, err), -EINVAL);
        if (strncmp(err, cases[i].msg, strlen(cases[i].msg)) != 0)
            fail_msg("case %zu %s\nexpected: %s\ngot:      %s", i, cases[i].json,
                     cases[i].msg, err);
        res_map_free(&m);
    }
}

static void labels_json(void **state)
{
    (void)state;
    res_labels l;
    char err[256];
    res_labels_init(&l);
    assert_int_equal(res_parse_labels_json("{\"zone\": \"us-east-1a\", \"tier\": \"\"}", &l, err,
                                           sizeof err), 0);
    assert_int_equal(l.len, 2);
    assert_string_equal(res_labels_get(&l, "zone"), "us-east-1a");
    assert_string_equal(res_labels_get(&l, "tier"), "");
    assert_int_equal(res_default_labels(&l, "abcd"), 0);
    assert_string_equal(res_labels_get(&l, "ray.io/node-id"), "abcd");
    res_labels_free(&l);

    static const struct { const char *json, *msg; } bad[] = {
        {"[\"a\"]", "--labels must be a JSON object"},
        {"{\"zone\": 5}", "label \"zone\" must be a string"},
        {"{\"ray.io/node-id\": \"x\"}", "label \"ray.io/node-id\": the ray.io/ prefix is reserved"},
        {"{zone: 1}", "--labels is not valid JSON"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        res_labels_init(&l);
        assert_int_equal(res_parse_labels_json(bad[i].json, &l, err, sizeof err), -EINVAL);
        if (strncmp(err, bad[i].msg, strlen(bad[i].msg)) != 0)
            fail_msg("case %zu\nexpected: %s\ngot:      %s", i, bad[i].msg, err);
        res_labels_free(&l);
    }
}

/* ---------------------------------------------------------------- totals */

static double qty(const res_map *m, const char *name)
{
    double q = -1;
    res_map_get(m, name, &q);
    return q;
}

static void totals_merge_detection_flags_and_custom(void **state)
{
    (void)state;
    res_detected det = {.cpus = 4, .gpus = 0, .mem_total = 10 * GiB,
                        .mem_available = 8 * GiB, .shm_free = 1 * GiB, .shm_known = 1};
    res_request req = {-1, -1, -1, -1, "10.0.0.5", 1};
    res_map custom, t;
    res_map_init(&custom);
    res_map_init(&t);
    res_map_set(&custom, "gadget", 2);
    res_map_set(&custom, "zero", 0);
    assert_int_equal(res_build_totals(&req, &det, &custom, &t), 0);
    assert_true(qty(&t, "CPU") == 4);
    assert_true(qty(&t, "GPU") == -1); /* absent: no GPUs */
    assert_true(qty(&t, "memory") == (double)(uint64_t)(10 * GiB * 0.7));
    assert_true(qty(&t, "object_store_memory") == (double)GiB); /* capped by /dev/shm */
    assert_true(qty(&t, "node:10.0.0.5") == 1);
    assert_true(qty(&t, "node:__internal_head__") == 1);
    assert_true(qty(&t, "gadget") == 2);
    assert_true(qty(&t, "zero") == -1);
    res_map_free(&t);

    res_request over = {0, 2, 1000, 2000, "10.0.0.5", 0};
    assert_int_equal(res_build_totals(&over, &det, NULL, &t), 0);
    assert_true(qty(&t, "CPU") == -1); /* --num-cpus 0 */
    assert_true(qty(&t, "GPU") == 2);
    assert_true(qty(&t, "memory") == 1000);
    assert_true(qty(&t, "object_store_memory") == 2000);
    assert_true(qty(&t, "node:__internal_head__") == -1);
    char text[256];
    res_map_format(&t, text, sizeof text);
    assert_string_equal(text, "GPU=2 memory=1000 node:10.0.0.5=1 object_store_memory=2000");
    res_map_free(&t);
    res_map_free(&custom);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cpu_max_v2_parsing),
        cmocka_unit_test(cfs_v1_parsing),
        cmocka_unit_test_setup_teardown(cgroup_v2_limits_the_affinity_count, make_root, remove_root),
        cmocka_unit_test_setup_teardown(cgroup_v1_files_win_over_v2, make_root, remove_root),
        cmocka_unit_test(affinity_count_is_positive),
        cmocka_unit_test(meminfo_parsing),
        cmocka_unit_test(memory_limit_parsing),
        cmocka_unit_test_setup_teardown(memory_without_cgroup_is_meminfo, make_root, remove_root),
        cmocka_unit_test_setup_teardown(memory_capped_by_cgroup_v2, make_root, remove_root),
        cmocka_unit_test_setup_teardown(memory_capped_by_cgroup_v1, make_root, remove_root),
        cmocka_unit_test(default_memory_and_object_store),
        cmocka_unit_test(cuda_visible_devices),
        cmocka_unit_test_setup_teardown(gpu_devices_are_counted, make_root, remove_root),
        cmocka_unit_test(detect_all_on_this_machine),
        cmocka_unit_test(resource_map_is_sorted_and_capped),
        cmocka_unit_test(resource_map_append_keeps_indexes),
        cmocka_unit_test(res_fits_edges),
        cmocka_unit_test(resources_json_valid),
        cmocka_unit_test(resources_json_invalid),
        cmocka_unit_test(labels_json),
        cmocka_unit_test(totals_merge_detection_flags_and_custom),
    };
    return cmocka_run_group_tests_name("resources", tests, NULL, NULL);
}
