/* What this machine offers: CPUs, memory, shared memory and GPUs. */
#include "raylet/res_detect.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <sched.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "common/util.h"

/* The files read here are a few KiB; anything bigger is not what we expect. */
#define RES_FILE_MAX (64 * 1024)
#define RES_OBJECT_STORE_MAX UINT64_C(200000000000)

/* ---------------------------------------------------------------- text helpers */

/* Copies the next whitespace-separated word at *P into OUT (size N) and
 * advances *P.  Returns the word's length, 0 at the end, -EINVAL if too long. */
static int next_word(const char **p, char *out, size_t n)
{
    const char *s = *p;
    while (isspace((unsigned char)*s))
        s++;
    size_t len = 0;
    while (s[len] != '\0' && !isspace((unsigned char)s[len]))
        len++;
    if (len >= n)
        return -EINVAL;
    memcpy(out, s, len);
    out[len] = '\0';
    *p = s + len;
    return (int)len;
}

/* Parses a whole unsigned decimal number (digits only). */
static int parse_u64(const char *s, uint64_t *out)
{
    if (!isdigit((unsigned char)*s))
        return -EINVAL;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0')
        return -EINVAL;
    *out = v;
    return 0;
}

/* Parses a whole signed decimal number. */
static int parse_i64(const char *s, int64_t *out)
{
    long v;
    if (parse_long(s, INT64_MIN, INT64_MAX, &v) != 0)
        return -EINVAL;
    *out = v;
    return 0;
}

/* Parses TEXT as exactly one word holding a signed decimal number. */
static int parse_one_i64(const char *text, int64_t *out)
{
    char w[32], extra[2];
    const char *p = text;
    if (next_word(&p, w, sizeof w) <= 0 || next_word(&p, extra, sizeof extra) != 0)
        return -EINVAL;
    return parse_i64(w, out);
}

/* Reads PATH into *TEXT (caller frees).  Returns 0 or -errno. */
static int read_small(const char *path, char **text)
{
    return fs_read_file(path, RES_FILE_MAX, text, NULL);
}

/* ---------------------------------------------------------------- paths */

static int path_join(char *out, const char *root, const char *rel)
{
    int n = snprintf(out, RES_PATH_MAX, "%s%s", root, rel);
    return n < 0 || n >= RES_PATH_MAX ? -ENAMETOOLONG : 0;
}

int res_paths_init(res_paths *p, const char *root)
{
    static const struct { size_t off; const char *rel; } files[] = {
        {offsetof(res_paths, cfs_quota), "/sys/fs/cgroup/cpu/cpu.cfs_quota_us"},
        {offsetof(res_paths, cfs_period), "/sys/fs/cgroup/cpu/cpu.cfs_period_us"},
        {offsetof(res_paths, cpu_max), "/sys/fs/cgroup/cpu.max"},
        {offsetof(res_paths, meminfo), "/proc/meminfo"},
        {offsetof(res_paths, mem_limit_v1), "/sys/fs/cgroup/memory/memory.limit_in_bytes"},
        {offsetof(res_paths, mem_usage_v1), "/sys/fs/cgroup/memory/memory.usage_in_bytes"},
        {offsetof(res_paths, mem_stat_v1), "/sys/fs/cgroup/memory/memory.stat"},
        {offsetof(res_paths, mem_max_v2), "/sys/fs/cgroup/memory.max"},
        {offsetof(res_paths, mem_current_v2), "/sys/fs/cgroup/memory.current"},
        {offsetof(res_paths, mem_stat_v2), "/sys/fs/cgroup/memory.stat"},
        {offsetof(res_paths, shm_dir), "/dev/shm"},
        {offsetof(res_paths, gpu_proc_dir), "/proc/driver/nvidia/gpus"},
        {offsetof(res_paths, dev_dir), "/dev"},
    };
    if (root == NULL)
        root = "";
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        if (path_join((char *)p + files[i].off, root, files[i].rel) != 0)
            return -ENAMETOOLONG;
    return 0;
}

/* ---------------------------------------------------------------- CPU */

int res_parse_cpu_max(const char *text, double *cpus)
{
    char quota[32], period[32], extra[2];
    const char *p = text;
    if (next_word(&p, quota, sizeof quota) <= 0 || next_word(&p, period, sizeof period) <= 0 ||
        next_word(&p, extra, sizeof extra) != 0)
        return -EINVAL;
    uint64_t q, per;
    if (parse_u64(period, &per) != 0 || per == 0)
        return -EINVAL;
    if (strcmp(quota, "max") == 0)
        return 1;
    if (parse_u64(quota, &q) != 0)
        return -EINVAL;
    *cpus = (double)q / (double)per;
    return 0;
}

int res_parse_cfs(const char *quota_text, const char *period_text, double *cpus)
{
    int64_t q, per;
    if (parse_one_i64(quota_text, &q) != 0 || parse_one_i64(period_text, &per) != 0 || per <= 0)
        return -EINVAL;
    if (q < 0)
        return 1;
    *cpus = (double)q / (double)per;
    return 0;
}

long res_quota_to_cpus(double quota)
{
    double c = ceil(quota);
    if (!(c >= 1))
        return 1;
    return c > (double)LONG_MAX ? LONG_MAX : (long)c;
}

/* Quota from the v1 pair of files: 0 with *CPUS, 1 none, <0 unreadable. */
static int cgroup_v1_quota(const res_paths *p, double *cpus)
{
    char *q = NULL, *per = NULL;
    int rc = read_small(p->cfs_quota, &q);
    if (rc == 0)
        rc = read_small(p->cfs_period, &per);
    if (rc == 0)
        rc = res_parse_cfs(q, per, cpus);
    free(q);
    free(per);
    return rc;
}

static int cgroup_v2_quota(const res_paths *p, double *cpus)
{
    char *text;
    int rc = read_small(p->cpu_max, &text);
    if (rc != 0)
        return rc;
    rc = res_parse_cpu_max(text, cpus);
    free(text);
    return rc;
}

int res_cgroup_cpus(const res_paths *p, long *cpus)
{
    double quota;
    int rc;
    /* Like Ray: the v1 files win when both exist; v2 is read otherwise. */
    if (access(p->cfs_quota, F_OK) == 0 && access(p->cfs_period, F_OK) == 0)
        rc = cgroup_v1_quota(p, &quota);
    else
        rc = cgroup_v2_quota(p, &quota);
    if (rc != 0)
        return 1;
    *cpus = res_quota_to_cpus(quota);
    return 0;
}

long res_affinity_cpus(void)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0)
        return CPU_COUNT(&set);
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? n : 1;
}

long res_detect_cpus(const res_paths *p, long affinity)
{
    long n = affinity > 0 ? affinity : 1, limit;
    if (res_cgroup_cpus(p, &limit) == 0 && limit < n)
        n = limit;
    return n;
}

/* ---------------------------------------------------------------- memory */

/* True when LINE starts with KEY followed by ':' or a blank. */
static int line_has_key(const char *line, const char *key, size_t keylen)
{
    return strncmp(line, key, keylen) == 0 &&
           (line[keylen] == ':' || line[keylen] == ' ' || line[keylen] == '\t');
}

/* Parses " N" or " N kB" after a key, up to the end of the line. */
static int parse_stat_value(const char *s, uint64_t *bytes)
{
    char num[32], unit[8], extra[2], line[96];
    size_t len = strcspn(s, "\n");
    if (len >= sizeof line)
        return -EINVAL;
    memcpy(line, s, len);
    line[len] = '\0';
    const char *p = line;
    if (next_word(&p, num, sizeof num) <= 0)
        return -EINVAL;
    int u = next_word(&p, unit, sizeof unit);
    uint64_t v;
    if (u < 0 || next_word(&p, extra, sizeof extra) != 0 || parse_u64(num, &v) != 0)
        return -EINVAL;
    if (u > 0 && strcmp(unit, "kB") != 0)
        return -EINVAL;
    if (u > 0 && v > UINT64_MAX / 1024)
        return -EINVAL;
    *bytes = u > 0 ? v * 1024 : v;
    return 0;
}

int res_parse_stat_field(const char *text, const char *key, uint64_t *bytes)
{
    size_t keylen = strlen(key);
    for (const char *line = text; line != NULL && *line != '\0';) {
        if (line_has_key(line, key, keylen)) {
            const char *v = line + keylen;
            if (*v == ':')
                v++;
            return parse_stat_value(v, bytes);
        }
        line = strchr(line, '\n');
        if (line != NULL)
            line++;
    }
    return -ENOENT;
}

int res_parse_mem_limit(const char *text, uint64_t *bytes)
{
    char w[32], extra[2];
    const char *p = text;
    uint64_t v;
    if (next_word(&p, w, sizeof w) <= 0 || next_word(&p, extra, sizeof extra) != 0)
        return -EINVAL;
    if (strcmp(w, "max") == 0)
        return 1;
    if (parse_u64(w, &v) != 0)
        return -EINVAL;
    if (v >= RES_MEM_UNLIMITED)
        return 1;
    *bytes = v;
    return 0;
}

/* Reads one number from PATH with PARSE-like rules: 0 with *BYTES, else not. */
static int read_mem_limit(const char *path, uint64_t *bytes)
{
    char *text;
    if (read_small(path, &text) != 0)
        return 1;
    int rc = res_parse_mem_limit(text, bytes);
    free(text);
    return rc;
}

/* Usage minus inactive file cache, from a usage file and a stat file.
 * Returns 0 with *BYTES, or non-zero when unknown. */
static int cgroup_working_set(const char *usage_path, const char *stat_path,
                              const char *inactive_key, uint64_t *bytes)
{
    uint64_t usage, inactive = 0;
    if (read_mem_limit(usage_path, &usage) != 0)
        return -ENOENT;
    char *stat;
    if (read_small(stat_path, &stat) == 0) {
        if (res_parse_stat_field(stat, inactive_key, &inactive) != 0)
            inactive = 0;
        free(stat);
    }
    *bytes = inactive < usage ? usage - inactive : 0;
    return 0;
}

/* The cgroup limit and working set under P (v1 first, like Ray).
 * Returns 0 when a limit is set; *USED is UINT64_MAX when unknown. */
static int cgroup_memory(const res_paths *p, uint64_t *limit, uint64_t *used)
{
    int v1 = access(p->mem_limit_v1, F_OK) == 0;
    int rc = read_mem_limit(v1 ? p->mem_limit_v1 : p->mem_max_v2, limit);
    if (rc != 0)
        return rc;
    int u = v1 ? cgroup_working_set(p->mem_usage_v1, p->mem_stat_v1, "total_inactive_file", used)
               : cgroup_working_set(p->mem_current_v2, p->mem_stat_v2, "inactive_file", used);
    if (u != 0)
        *used = UINT64_MAX;
    return 0;
}

int res_detect_memory(const res_paths *p, res_detected *d)
{
    char *text;
    int rc = read_small(p->meminfo, &text);
    if (rc != 0)
        return rc;
    uint64_t total, avail;
    rc = res_parse_stat_field(text, "MemTotal", &total);
    if (rc == 0 && res_parse_stat_field(text, "MemAvailable", &avail) != 0)
        avail = total; /* kernels before 3.14 have no MemAvailable */
    free(text);
    if (rc != 0)
        return rc == -ENOENT ? -EINVAL : rc;
    uint64_t limit, used;
    if (cgroup_memory(p, &limit, &used) == 0) {
        total = limit < total ? limit : total;
        uint64_t left = used == UINT64_MAX ? limit : (used < limit ? limit - used : 0);
        avail = left < avail ? left : avail;
    }
    d->mem_total = total;
    d->mem_available = avail < total ? avail : total;
    return 0;
}

int res_fs_free(const char *dir, uint64_t *bytes)
{
    struct statvfs st;
    if (statvfs(dir, &st) != 0)
        return -errno;
    *bytes = (uint64_t)st.f_bavail * (uint64_t)st.f_frsize;
    return 0;
}

uint64_t res_default_object_store(uint64_t available, uint64_t shm_free, int shm_known)
{
    uint64_t v = (uint64_t)((double)available * 0.3);
    if (shm_known && shm_free < v)
        v = shm_free;
    return v < RES_OBJECT_STORE_MAX ? v : RES_OBJECT_STORE_MAX;
}

uint64_t res_default_memory(uint64_t total)
{
    return (uint64_t)((double)total * 0.7);
}

/* ---------------------------------------------------------------- GPUs */

long res_parse_cuda_visible(const char *value)
{
    if (value == NULL)
        return -1;
    if (strcmp(value, "NoDevFiles") == 0)
        return 0;
    long n = 0;
    for (const char *s = value; *s != '\0';) {
        size_t len = strcspn(s, ",");
        for (size_t i = 0; i < len; i++)
            if (!isspace((unsigned char)s[i])) {
                n++;
                break;
            }
        s += len;
        if (*s == ',')
            s++;
    }
    return n;
}

/* True for "nvidiaN" with N all digits. */
static int is_gpu_device(const char *name)
{
    if (strncmp(name, "nvidia", 6) != 0 || name[6] == '\0')
        return 0;
    for (const char *s = name + 6; *s != '\0'; s++)
        if (!isdigit((unsigned char)*s))
            return 0;
    return 1;
}

/* Counts entries of DIR (hidden ones skipped) for which MATCH is true
 * (MATCH NULL: all).  0 when DIR cannot be opened. */
static long count_entries(const char *dir, int (*match)(const char *))
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return 0;
    long n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.' && (match == NULL || match(e->d_name)))
            n++;
    closedir(d);
    return n;
}

long res_count_gpus(const res_paths *p)
{
    long n = count_entries(p->gpu_proc_dir, NULL);
    return n > 0 ? n : count_entries(p->dev_dir, is_gpu_device);
}

long res_detect_gpus(const res_paths *p, const char *cuda_env)
{
    long visible = res_parse_cuda_visible(cuda_env);
    return visible >= 0 ? visible : res_count_gpus(p);
}

/* ---------------------------------------------------------------- all */

int res_detect_all(const res_paths *p, const char *cuda_env, res_detected *d)
{
    memset(d, 0, sizeof *d);
    int rc = res_detect_memory(p, d);
    if (rc != 0)
        return rc;
    d->cpus = res_detect_cpus(p, res_affinity_cpus());
    d->gpus = res_detect_gpus(p, cuda_env);
    d->shm_known = res_fs_free(p->shm_dir, &d->shm_free) == 0;
    return 0;
}
