/* observe's task library: tasks that finish, fail or wait, and an actor
 * whose worker can be killed (so that it restarts). */
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <ray/ray.h>

/* Returns its argument plus one. */
static int obs_ok(ray_ctx *c)
{
    int64_t x;
    if (ray_arg_i64(c, 0, &x) != RAY_OK)
        return ray_error(c, "obs_ok: want one integer");
    return ray_return_i64(c, x + 1);
}
RAY_REMOTE(obs_ok);
RAY_REMOTE_NAMED("obs_seq", obs_ok, obs_seq);
RAY_REMOTE_NAMED("obs_small", obs_ok, obs_small);
RAY_REMOTE_NAMED("obs_many", obs_ok, obs_many);

/* Always fails with an application error. */
static int obs_fail(ray_ctx *c)
{
    return ray_error(c, "obs_fail: failing on purpose");
}
RAY_REMOTE(obs_fail);
RAY_REMOTE_NAMED("obs_many_fail", obs_fail, obs_many_fail);

/* Runs until the file named by its argument exists (checked every 10 ms). */
static int obs_wait(ray_ctx *c)
{
    const char *path;
    struct stat st;
    if (ray_arg_str(c, 0, &path, NULL) != RAY_OK)
        return ray_error(c, "obs_wait: want a path");
    struct timespec ts = {0, 10 * 1000 * 1000};
    while (stat(path, &st) != 0)
        nanosleep(&ts, NULL);
    return ray_return_i64(c, 1);
}
RAY_REMOTE(obs_wait);

static int dummy;

static void *obs_actor_new(ray_ctx *c)
{
    (void)c;
    return &dummy;
}
RAY_ACTOR(ObsActor, obs_actor_new, NULL);

/* The actor's worker pid. */
static int obs_pid(ray_ctx *c, void *self)
{
    (void)self;
    return ray_return_i64(c, (int64_t)getpid());
}
RAY_METHOD(ObsActor, obs_pid);
RAY_METHOD_NAMED(ObsActor, "obs_ping", obs_pid, obs_ping);
