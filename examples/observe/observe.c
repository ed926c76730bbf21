/* observe: work worth looking at with `ray list` / `ray summary`: tasks that
 * finished, tasks that failed, an actor that restarted once, and (until
 * the file RELEASE exists) a task that is still running.
 *
 *   RAY_ADDRESS=IP:6379 ./observe N_OK N_FAIL RELEASE
 *
 * Also runs 5 tasks one at a time (obs_seq, which go to a leased worker)
 * and 5 calls of the actor (obs_ping, over its direct channel).
 * Prints "ready actor=<hex> restarted_pid=<pid>" once everything above is
 * in place, then waits for the running task (that is, for RELEASE).
 *
 *   RAY_ADDRESS=IP:6379 ./observe put BYTES RELEASE
 *
 * puts one object of BYTES bytes (in its node's object store), prints
 * "put=<object hex> pid=<pid>" and holds it until the file RELEASE exists.
 *
 *   RAY_ADDRESS=IP:6379 ./observe small BYTES RELEASE
 *
 * the same with a small object (BYTES up to 100 KiB: kept in the driver's
 * own memory, never in the store), the small result of one obs_small task and
 * of one direct actor call; prints "put=<hex> result=<hex> call=<hex>
 * pid=<pid>" and holds them until RELEASE
 * exists, sleeping outside the library meanwhile.
 *
 *   RAY_ADDRESS=IP:6379 ./observe direct N RELEASE
 *
 * runs N obs_many tasks one at a time (each straight to a leased worker,
 * so that worker records them all) and then one obs_many_fail, prints
 * "direct ok=<finished> failed=<failed>" and stays connected until the
 * file RELEASE exists. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <ray/ray.h>

static int fail(const char *what)
{
    fprintf(stderr, "observe: %s: %s\n", what, ray_last_error());
    return 1;
}

/* Runs N tasks of FUNCTION at once and counts those that succeeded. */
static long burst(const char *function, long n, int retries)
{
    ray_task_opts o = {0};
    o.max_retries = retries ? retries : RAY_ZERO;
    ray_ref **refs = calloc((size_t)n, sizeof *refs);
    long ok = 0;
    for (long i = 0; refs != NULL && i < n; i++)
        refs[i] = ray_call(function, RAY_ARGS(ray_i64(i)), &o);
    for (long i = 0; refs != NULL && i < n; i++) {
        int64_t v;
        if (refs[i] != NULL && ray_get_i64(refs[i], 120.0, &v) == RAY_OK)
            ok++;
        ray_ref_release(refs[i]);
    }
    free(refs);
    return ok;
}

static int actor_pid(ray_actor *a, int64_t *pid)
{
    ray_ref *r = ray_actor_call(a, "obs_pid", RAY_ARGS(), NULL);
    int rc = r ? ray_get_i64(r, 120.0, pid) : RAY_ERR_CONNECTION;
    ray_ref_release(r);
    return rc;
}

/* The put modes: one object of BYTES bytes (SMALL: and one task result)
 * held until RELEASE exists. */
static int put_and_hold(const char *bytes, const char *release, int small)
{
    long n = strtol(bytes, NULL, 10);
    char *buf = n > 0 ? calloc(1, (size_t)n) : NULL;
    if (buf == NULL) {
        fprintf(stderr, "observe: put: BYTES must be a positive size\n");
        return 2;
    }
    if (ray_init(NULL) != RAY_OK)
        return fail("ray_init");
    ray_ref *r = ray_put(ray_bytes(buf, (size_t)n));
    free(buf);
    if (r == NULL)
        return fail("ray_put");
    ray_ref *res = NULL, *call = NULL;
    ray_actor *a = NULL;
    int64_t v;
    if (small) {
        res = ray_call("obs_small", RAY_ARGS(ray_i64(41)), NULL);
        if (res == NULL || ray_get_i64(res, 120.0, &v) != RAY_OK)
            return fail("obs_small");
        /* The second call goes over the actor's direct channel: its result
         * never passes the raylet. */
        a = ray_actor_create("ObsActor", RAY_ARGS(), NULL);
        if (a == NULL || actor_pid(a, &v) != RAY_OK)
            return fail("actor");
        call = ray_actor_call(a, "obs_pid", RAY_ARGS(), NULL);
        if (call == NULL || ray_get_i64(call, 120.0, &v) != RAY_OK)
            return fail("obs_pid");
        printf("put=%s result=%s call=%s pid=%d\n", ray_ref_hex(r), ray_ref_hex(res),
               ray_ref_hex(call), (int)getpid());
    } else {
        printf("put=%s pid=%d\n", ray_ref_hex(r), (int)getpid());
    }
    fflush(stdout);
    struct timespec pause = {0, 50 * 1000 * 1000};
    while (access(release, F_OK) != 0)
        nanosleep(&pause, NULL);
    ray_ref_release(call);
    ray_ref_release(res);
    ray_actor_release(a);
    ray_ref_release(r);
    ray_shutdown();
    return 0;
}

/* `observe direct N RELEASE`: N tasks one at a time, then one that fails. */
static int direct(long n, const char *release)
{
    if (ray_init(NULL) != RAY_OK)
        return fail("ray_init");
    long ok = 0, failed = 0;
    for (long i = 0; i <= n; i++) {
        int64_t v;
        ray_ref *r = ray_call(i < n ? "obs_many" : "obs_many_fail", RAY_ARGS(ray_i64(i)), NULL);
        int rc = r != NULL ? ray_get_i64(r, 120.0, &v) : RAY_ERR_INVALID;
        ok += rc == RAY_OK;
        failed += rc == RAY_ERR_TASK;
        ray_ref_release(r);
    }
    printf("direct ok=%ld failed=%ld\n", ok, failed);
    fflush(stdout);
    while (access(release, F_OK) != 0)
        usleep(10000);
    ray_shutdown();
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "direct") == 0)
        return direct(strtol(argv[2], NULL, 10), argv[3]);
    if (argc == 4 && (strcmp(argv[1], "put") == 0 || strcmp(argv[1], "small") == 0))
        return put_and_hold(argv[2], argv[3], strcmp(argv[1], "small") == 0);
    if (argc != 4) {
        fprintf(stderr, "usage: observe N_OK N_FAIL RELEASE\n");
        return 2;
    }
    long n_ok = strtol(argv[1], NULL, 10), n_fail = strtol(argv[2], NULL, 10);
    if (ray_init(NULL) != RAY_OK)
        return fail("ray_init");
    printf("finished %ld\n", burst("obs_ok", n_ok, 0));
    printf("failed %ld\n", n_fail - burst("obs_fail", n_fail, 0));
    /* One at a time: these go straight to a leased worker, not the raylet. */
    long seq = 0;
    for (int i = 0; i < 5; i++) {
        int64_t v;
        ray_ref *r = ray_call("obs_seq", RAY_ARGS(ray_i64(i)), NULL);
        seq += r != NULL && ray_get_i64(r, 120.0, &v) == RAY_OK;
        ray_ref_release(r);
    }
    printf("sequential %ld\n", seq);
    ray_actor_opts ao = {0};
    ao.max_restarts = 1;
    ray_actor *a = ray_actor_create("ObsActor", RAY_ARGS(), &ao);
    int64_t pid1, pid2;
    if (a == NULL || actor_pid(a, &pid1) != RAY_OK)
        return fail("actor");
    kill((pid_t)pid1, SIGKILL);
    /* The call that finds the worker gone waits for the restart. */
    int tries = 0;
    while ((actor_pid(a, &pid2) != RAY_OK || pid2 == pid1) && ++tries < 1000)
        ;
    if (tries == 1000)
        return fail("the actor did not restart");
    /* Straight to the actor's worker (its channel), not through the raylet. */
    for (int i = 0; i < 5; i++) {
        ray_ref *r = ray_actor_call(a, "obs_ping", RAY_ARGS(), NULL);
        if (r == NULL || ray_get_i64(r, 120.0, &pid2) != RAY_OK)
            return fail("obs_ping");
        ray_ref_release(r);
    }
    ray_ref *wait = ray_call("obs_wait", RAY_ARGS(ray_str(argv[3])), NULL);
    if (wait == NULL)
        return fail("obs_wait");
    printf("ready actor=%s restarted_pid=%lld\n", ray_actor_hex(a), (long long)pid2);
    fflush(stdout);
    int64_t v;
    int rc = ray_get_i64(wait, -1, &v);
    ray_ref_release(wait);
    ray_actor_release(a);
    ray_shutdown();
    printf("done\n");
    return rc == RAY_OK ? 0 : 1;
}
