/* pg's task library: tasks and an actor that tell where they run, and a
 * task that sleeps, for the placement group tests. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <ray/ray.h>

/* Copies the raylet socket this worker was started with (one per node)
 * into OUT. */
static int where(char *out, size_t len)
{
    char buf[8192];
    int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
    if (fd >= 0)
        close(fd);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    for (char *p = buf; p < buf + n; p += strlen(p) + 1) {
        if (strcmp(p, "--socket") == 0 && p + strlen(p) + 1 < buf + n) {
            size_t k = strlen(p + strlen(p) + 1);
            if (k >= len)
                return -1;
            memcpy(out, p + strlen(p) + 1, k + 1);
            return 0;
        }
    }
    return -1;
}

static int pg_where(ray_ctx *c)
{
    char s[4096];
    if (where(s, sizeof s) != 0)
        return ray_error(c, "pg_where: no --socket argument");
    return ray_return_str(c, s);
}
RAY_REMOTE(pg_where);

/* Sleeps argument 0 seconds, then returns 1. */
static int pg_sleep(ray_ctx *c)
{
    double s = 0;
    if (ray_arg_f64(c, 0, &s) != RAY_OK)
        return ray_error(c, "pg_sleep: want seconds");
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    nanosleep(&ts, NULL);
    return ray_return_i64(c, 1);
}
RAY_REMOTE(pg_sleep);

static void *pg_actor_new(ray_ctx *c)
{
    (void)c;
    return malloc(1);
}

static int pg_actor_where(ray_ctx *c, void *self)
{
    (void)self;
    return pg_where(c);
}

RAY_ACTOR(PgActor, pg_actor_new, free);
RAY_METHOD_NAMED(PgActor, "where", pg_actor_where, where);

/* Runs pg_where in bundle 0 of the group named by argument 0 (namespace
 * "pg") and returns its answer: the nested task needs the CPU of the
 * bundle this task holds, which it gives back while it waits. */
static int pg_nested(ray_ctx *c)
{
    const char *name;
    if (ray_arg_str(c, 0, &name, NULL) != RAY_OK)
        return ray_error(c, "pg_nested: want a group name");
    ray_pg *pg = ray_pg_get(name, "pg");
    if (pg == NULL)
        return ray_error(c, "pg_nested: %s", ray_last_error());
    ray_task_opts o = {.placement_group = pg, .bundle_index = 0};
    ray_ref *r = ray_call("pg_where", RAY_ARGS(), &o);
    void *s = NULL;
    int rc = r ? ray_get_bytes(r, 20, &s, NULL) : RAY_ERR_INVALID;
    ray_ref_release(r);
    ray_pg_release(pg);
    if (rc != RAY_OK)
        return ray_error(c, "pg_nested: %s", ray_last_error());
    rc = ray_return_str(c, s);
    free(s);
    return rc;
}
RAY_REMOTE(pg_nested);
