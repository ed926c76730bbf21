/* multihost_tasks: the tasks of bench/multihost.c (libmultihost_tasks.so,
 * dlopened by the workers from the driver's directory, build/bench/).
 *
 *   mh_len(bytes)            the length of its argument, without reading it
 *   mh_sum(bytes)            mh_checksum of its argument
 *   mh_burn(us)              spins US microseconds of this thread's CPU time;
 *                            returns where it ran (the raylet socket path)
 *   mr_gen(i, k)             K uint64 values of chunk I (see mh_value), as bytes
 *   mr_sumsq(bytes)          the sum of the squares of its uint64 values, mod 2^64
 *   mr_add(i64...)           the sum of its arguments, mod 2^64
 *
 * The map-reduce's values and arithmetic are those of bench/multihost_dask.py,
 * so both must print the same total. */
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <ray/ray.h>

#include "multihost.h"

static int mh_len(ray_ctx *c)
{
    const void *p;
    size_t n;
    if (ray_arg_bytes(c, 0, &p, &n) != RAY_OK)
        return ray_error(c, "mh_len: want bytes");
    return ray_return_i64(c, (int64_t)n);
}
RAY_REMOTE(mh_len);

static int mh_sum(ray_ctx *c)
{
    const void *p;
    size_t n;
    if (ray_arg_bytes(c, 0, &p, &n) != RAY_OK)
        return ray_error(c, "mh_sum: want bytes");
    return ray_return_i64(c, (int64_t)mh_checksum(p, n));
}
RAY_REMOTE(mh_sum);

static double thread_cpu_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* The raylet socket this worker was started with: one per node. */
static int where(ray_ctx *c)
{
    char buf[8192];
    int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
    if (fd >= 0)
        close(fd);
    if (n <= 0)
        return ray_error(c, "mh_burn: cannot read /proc/self/cmdline");
    buf[n] = '\0';
    for (char *p = buf; p < buf + n; p += strlen(p) + 1)
        if (strcmp(p, "--socket") == 0 && p + strlen(p) + 1 < buf + n)
            return ray_return_str(c, p + strlen(p) + 1);
    return ray_return_str(c, "?");
}

/* CPU time, not wall time: on an oversubscribed machine every task still
 * does the same work. */
static int mh_burn(ray_ctx *c)
{
    int64_t us = 0;
    if (ray_arg_i64(c, 0, &us) != RAY_OK || us < 0)
        return ray_error(c, "mh_burn: want microseconds");
    volatile uint64_t x = 1;
    double end = thread_cpu_us() + (double)us;
    while (us > 0 && thread_cpu_us() < end)
        for (int i = 0; i < 1000; i++)
            x = x * 6364136223846793005ull + 1;
    return where(c);
}
RAY_REMOTE(mh_burn);

static int mr_gen(ray_ctx *c)
{
    int64_t i, k;
    void *p;
    if (ray_arg_i64(c, 0, &i) != RAY_OK || ray_arg_i64(c, 1, &k) != RAY_OK || i < 0 || k <= 0)
        return ray_error(c, "mr_gen: want chunk index and count");
    int rc = ray_return_alloc(c, 0, (size_t)k * sizeof(uint64_t), &p);
    if (rc != RAY_OK)
        return rc;
    uint64_t *v = p;
    for (int64_t j = 0; j < k; j++)
        v[j] = mh_value((uint64_t)(i * k + j));
    return RAY_OK;
}
RAY_REMOTE(mr_gen);

static int mr_sumsq(ray_ctx *c)
{
    const void *p;
    size_t n;
    if (ray_arg_bytes(c, 0, &p, &n) != RAY_OK || n % sizeof(uint64_t) != 0)
        return ray_error(c, "mr_sumsq: want uint64 values");
    const uint64_t *v = p;
    uint64_t s = 0;
    for (size_t j = 0; j < n / sizeof(uint64_t); j++)
        s += v[j] * v[j];
    return ray_return_i64(c, (int64_t)s);
}
RAY_REMOTE(mr_sumsq);

static int mr_add(ray_ctx *c)
{
    uint64_t s = 0;
    int64_t x;
    for (size_t i = 0; i < ray_arg_count(c); i++) {
        if (ray_arg_i64(c, i, &x) != RAY_OK)
            return ray_error(c, "mr_add: argument %zu is not an integer", i);
        s += (uint64_t)x;
    }
    return ray_return_i64(c, (int64_t)s);
}
RAY_REMOTE(mr_add);
