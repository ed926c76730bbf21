/* What this machine offers: CPUs, memory, shared memory and GPUs.
 *
 * Every function takes the paths or the text it reads, so unit tests can
 * point it at fake /proc and /sys trees.  The rules follow Ray's
 * ray._private.utils (get_num_cpus, get_system_memory, get_used_memory,
 * get_shared_memory_bytes, _autodetect_num_gpus); where rayc differs it says
 * so next to the function. */
#ifndef RAYC_RAYLET_RES_DETECT_H
#define RAYC_RAYLET_RES_DETECT_H

#include <stdint.h>

#define RES_PATH_MAX 512

/* The files detection reads, all under one root ("" for the real machine). */
typedef struct res_paths {
    char cfs_quota[RES_PATH_MAX];   /* cgroup v1 cpu/cpu.cfs_quota_us */
    char cfs_period[RES_PATH_MAX];  /* cgroup v1 cpu/cpu.cfs_period_us */
    char cpu_max[RES_PATH_MAX];     /* cgroup v2 cpu.max */
    char meminfo[RES_PATH_MAX];     /* /proc/meminfo */
    char mem_limit_v1[RES_PATH_MAX];
    char mem_usage_v1[RES_PATH_MAX];
    char mem_stat_v1[RES_PATH_MAX];
    char mem_max_v2[RES_PATH_MAX];
    char mem_current_v2[RES_PATH_MAX];
    char mem_stat_v2[RES_PATH_MAX];
    char shm_dir[RES_PATH_MAX];     /* /dev/shm */
    char gpu_proc_dir[RES_PATH_MAX];/* /proc/driver/nvidia/gpus */
    char dev_dir[RES_PATH_MAX];     /* /dev */
} res_paths;

/* What detection found, before any command-line override. */
typedef struct res_detected {
    long cpus;                /* >= 1 */
    long gpus;                /* >= 0 */
    uint64_t mem_total;       /* MemTotal capped by the cgroup limit */
    uint64_t mem_available;   /* MemAvailable capped by what the cgroup has left */
    uint64_t shm_free;        /* free bytes of shm_dir; valid when shm_known */
    int shm_known;
} res_detected;

/* A cgroup memory limit at or above this means "no limit" (cgroup v1 writes
 * 9223372036854771712 when none is set). */
#define RES_MEM_UNLIMITED (UINT64_C(1) << 60)

/* Fills P with the standard paths below ROOT ("" or NULL: the real /).
 * Returns 0 or -ENAMETOOLONG. */
int res_paths_init(res_paths *p, const char *root);

/* ---------------------------------------------------------------- CPU */

/* Parses cgroup v2 cpu.max ("QUOTA PERIOD" or "max PERIOD").  Stores the
 * quota in CPUs in *CPUS and returns 0 when a limit is set, returns 1 for
 * "max", and -EINVAL for anything else (a zero period included). */
int res_parse_cpu_max(const char *text, double *cpus);

/* Same for cgroup v1's cpu.cfs_quota_us and cpu.cfs_period_us texts; a
 * negative quota (-1) means no limit and returns 1. */
int res_parse_cfs(const char *quota_text, const char *period_text, double *cpus);

/* Whole CPUs for a fractional quota: rounded up, at least 1 ("150000 100000"
 * is 2, "50000 100000" is 1).  Ray's get_num_cpus truncates instead, which
 * turns a 0.5-CPU container into 0 CPUs; rayc rounds up on purpose. */
long res_quota_to_cpus(double quota);

/* The cgroup CPU limit under P in whole CPUs: v1 files first, then v2 (the
 * order Ray reads them).  Returns 0 with *CPUS set, or 1 when no file gives
 * a limit (missing, unreadable or unlimited). */
int res_cgroup_cpus(const res_paths *p, long *cpus);

/* CPUs in this process's affinity mask (sched_getaffinity), at least 1. */
long res_affinity_cpus(void);

/* AFFINITY limited by the cgroup quota under P; at least 1. */
long res_detect_cpus(const res_paths *p, long affinity);

/* ---------------------------------------------------------------- memory */

/* Finds "KEY: N kB" (meminfo) or "KEY N" (memory.stat) at the start of a
 * line of TEXT and stores N in bytes (kB multiplied by 1024) in *BYTES.
 * Returns 0, -ENOENT when KEY is absent, or -EINVAL for a malformed number. */
int res_parse_stat_field(const char *text, const char *key, uint64_t *bytes);

/* Parses a cgroup memory limit: "max" or a value >= RES_MEM_UNLIMITED
 * returns 1 (no limit); a number returns 0 with *BYTES set; else -EINVAL. */
int res_parse_mem_limit(const char *text, uint64_t *bytes);

/* Reads meminfo and the cgroup files under P into D->mem_total and
 * D->mem_available.  mem_total = min(MemTotal, cgroup limit);
 * mem_available = min(MemAvailable, limit - working set) where the working
 * set is the cgroup usage minus its inactive file cache (Ray's
 * get_used_memory).  Returns 0, or -errno when meminfo cannot be read. */
int res_detect_memory(const res_paths *p, res_detected *d);

/* Free bytes of the file system at DIR (statvfs f_bavail * f_frsize).
 * Returns 0 or -errno. */
int res_fs_free(const char *dir, uint64_t *bytes);

/* Ray's default object store size: 30 % of AVAILABLE, at most SHM_FREE when
 * SHM_KNOWN, and at most 200 GB. */
uint64_t res_default_object_store(uint64_t available, uint64_t shm_free, int shm_known);

/* rayc's default `memory` resource: 70 % of TOTAL.  (Ray subtracts the
 * object store from the memory available at start; a fixed share of the
 * total is stable across restarts and simpler to explain.) */
uint64_t res_default_memory(uint64_t total);

/* ---------------------------------------------------------------- GPUs */

/* Number of GPUs named by a CUDA_VISIBLE_DEVICES value: its non-empty
 * comma-separated entries; "" and "NoDevFiles" are 0.  VALUE NULL (unset)
 * returns -1. */
long res_parse_cuda_visible(const char *value);

/* NVIDIA GPUs present: the entries of P->gpu_proc_dir when it lists any,
 * else the /dev/nvidiaN device files in P->dev_dir (nvidiactl and
 * nvidia-uvm are not GPUs).  0 when neither exists. */
long res_count_gpus(const res_paths *p);

/* res_count_gpus, unless CUDA_ENV (the CUDA_VISIBLE_DEVICES value, NULL when
 * unset) names the GPUs: then its count wins. */
long res_detect_gpus(const res_paths *p, const char *cuda_env);

/* ---------------------------------------------------------------- all */

/* Fills D from the files under P, the affinity mask and CUDA_ENV.
 * Returns 0, or -errno when meminfo is unreadable (D is then unusable). */
int res_detect_all(const res_paths *p, const char *cuda_env, res_detected *d);

#endif
