/* multinode's task library: tasks that tell where they ran and check the
 * bytes they were given, for the multi-node tests. */
#include <fcntl.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <ray/ray.h>

/* The raylet socket this worker was started with (one per node). */
static int where(ray_ctx *c)
{
    char buf[8192];
    int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
    if (fd >= 0)
        close(fd);
    if (n <= 0)
        return ray_error(c, "mn_where: cannot read /proc/self/cmdline");
    buf[n] = '\0';
    for (char *p = buf; p < buf + n; p += strlen(p) + 1)
        if (strcmp(p, "--socket") == 0 && p + strlen(p) + 1 < buf + n)
            return ray_return_str(c, p + strlen(p) + 1);
    return ray_error(c, "mn_where: no --socket argument");
}

static int mn_where(ray_ctx *c)
{
    return where(c);
}
RAY_REMOTE(mn_where);

/* Returns the multinode checksum (below) of its bytes argument. */
static int mn_sum(ray_ctx *c)
{
    const void *p;
    size_t n;
    if (ray_arg_bytes(c, 0, &p, &n) != RAY_OK)
        return ray_error(c, "mn_sum: want bytes");
    uint64_t h = 1469598103934665603ull;
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 1099511628211ull;
    return ray_return_i64(c, (int64_t)h);
}
RAY_REMOTE(mn_sum);

/* mn_square(i, seconds): sleeps SECONDS, then returns i * i. */
static int mn_square(ray_ctx *c)
{
    int64_t i;
    double secs;
    if (ray_arg_i64(c, 0, &i) != RAY_OK || ray_arg_f64(c, 1, &secs) != RAY_OK)
        return ray_error(c, "mn_square: want an integer and seconds");
    struct timespec ts = {(time_t)secs, (long)((secs - (double)(time_t)secs) * 1e9)};
    while (nanosleep(&ts, &ts) != 0)
        ;
    return ray_return_i64(c, i * i);
}
RAY_REMOTE(mn_square);

/* MnCounter: a counter actor that can say where it lives. */
typedef struct mn_counter {
    int64_t value;
} mn_counter;

static void *mn_counter_new(ray_ctx *c)
{
    (void)c;
    return calloc(1, sizeof(mn_counter));
}

static void mn_counter_free(void *self)
{
    free(self);
}
RAY_ACTOR(MnCounter, mn_counter_new, mn_counter_free);

static int incr(ray_ctx *c, void *self)
{
    return ray_return_i64(c, ++((mn_counter *)self)->value);
}
RAY_METHOD(MnCounter, incr);

static int where_method(ray_ctx *c, void *self)
{
    (void)self;
    return where(c);
}
RAY_METHOD_NAMED(MnCounter, "where", where_method, where);

static int square_method(ray_ctx *c, void *self)
{
    int64_t i;
    (void)self;
    if (ray_arg_i64(c, 0, &i) != RAY_OK)
        return ray_error(c, "square: want an integer");
    return ray_return_i64(c, i * i);
}
RAY_METHOD_NAMED(MnCounter, "square", square_method, square);
