/* multihost: the rayc side of bench/multihost.sh, a driver for a running
 * cluster (RAY_ADDRESS, RAY_AUTH_TOKEN_PATH).  Its tasks are in
 * multihost_tasks.c.  Prints "name value..." lines for the script:
 *
 *   multihost xfer MIB NODE RUNS
 *       Run on host A: RUNS times, puts MIB MiB of pseudo-random bytes here
 *       and times a task pinned to node NODE (hard affinity) that receives
 *       them by reference and returns their length without reading them, so
 *       the time is the pull from A's store into NODE's plus one task round
 *       trip ("xfer_rtt", measured alone).  Then a second task on NODE
 *       checks the whole object's checksum.
 *         xfer_run I SECONDS                     each run
 *         xfer_rtt SECONDS                       best small-argument round trip to NODE
 *         xfer BYTES BEST_SECONDS GB/s ok|MISMATCH
 *   multihost tasks N US STRATEGY WARMUP
 *       After WARMUP spread tasks of 1 ms (they start the job's workers on
 *       every node), submits N tasks that each spin US microseconds of CPU
 *       (default or spread), then gets every result.
 *         tasks N SECONDS TASKS/S NODES_REACHED
 *   multihost mapreduce M K RUNS
 *       M chunks of K uint64 values made by tasks (store objects), a sum of
 *       squares per chunk, one reduce over the M partial sums; a warm-up run,
 *       then RUNS timed runs.
 *         mapreduce_run I SECONDS
 *         mapreduce TOTAL BEST_SECONDS
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ray/ray.h>

#include "multihost.h"

#define WAIT_S 300.0

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Prints the failed call and the runtime's reason; returns 1. */
static int fail(const char *what, int rc)
{
    fprintf(stderr, "multihost: %s: %s: %s\n", what, ray_status_name(rc), ray_last_error());
    return 1;
}

/* Calls FUNCTION(ARGS) with OPTS and gets its integer result. */
static int call_i64(const char *function, ray_args args, const ray_task_opts *o, int64_t *out)
{
    ray_ref *r = ray_call(function, args, o);
    if (r == NULL)
        return fail(function, RAY_ERR_CONNECTION);
    int rc = ray_get_i64(r, WAIT_S, out);
    ray_ref_release(r);
    return rc == RAY_OK ? 0 : fail(function, rc);
}

/* ---------------------------------------------------------------- xfer */

/* A new store object of N bytes (a multiple of 8) of xorshift output;
 * its checksum goes to *SUM.  NULL on failure (message printed). */
static ray_ref *random_object(size_t n, uint64_t seed, uint64_t *sum)
{
    void *p;
    ray_ref *r;
    int rc = ray_put_alloc(n, &p, &r);
    if (rc != RAY_OK) {
        fail("ray_put_alloc", rc);
        return NULL;
    }
    uint64_t *w = p, x = seed | 1;
    for (size_t i = 0; i < n / 8; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        w[i] = x;
    }
    *sum = mh_checksum(p, n);
    if ((rc = ray_put_seal(r)) != RAY_OK) {
        fail("ray_put_seal", rc);
        ray_ref_release(r);
        return NULL;
    }
    return r;
}

/* The best of a few small-argument round trips to the node of O. */
static int small_rtt(const ray_task_opts *o, double *best)
{
    int64_t len;
    char small[64] = {0};
    *best = 1e9;
    for (int i = 0; i < 5; i++) {
        double t0 = now_s();
        if (call_i64("mh_len", RAY_ARGS(ray_bytes(small, sizeof small)), o, &len))
            return 1;
        if (now_s() - t0 < *best)
            *best = now_s() - t0;
    }
    return 0;
}

/* One timed transfer of N bytes to the node of O; *SECS gets its time and
 * *OK whether that node saw the right checksum. */
static int xfer_once(size_t n, uint64_t seed, const ray_task_opts *o, double *secs, int *ok)
{
    uint64_t sum;
    int64_t len = 0, there = 0;
    ray_ref *obj = random_object(n, seed, &sum);
    if (obj == NULL)
        return 1;
    double t0 = now_s();
    int rc = call_i64("mh_len", RAY_ARGS(ray_ref_arg(obj)), o, &len);
    *secs = now_s() - t0;
    if (rc == 0)
        rc = call_i64("mh_sum", RAY_ARGS(ray_ref_arg(obj)), o, &there);
    *ok = rc == 0 && (size_t)len == n && (uint64_t)there == sum;
    ray_ref_release(obj);
    return rc;
}

static int xfer(long mib, const char *node, long runs)
{
    ray_task_opts o = {.strategy = RAY_STRATEGY_NODE_AFFINITY, .node_id = node};
    size_t n = (size_t)mib << 20;
    double rtt, best = 1e9, secs;
    int all_ok = 1, ok;
    if (small_rtt(&o, &rtt))
        return 1;
    for (long i = 0; i < runs; i++) {
        if (xfer_once(n, 0x9e3779b97f4a7c15ull * (uint64_t)(i + 1), &o, &secs, &ok))
            return 1;
        printf("xfer_run %ld %.4f%s\n", i, secs, ok ? "" : " MISMATCH");
        fflush(stdout);
        all_ok &= ok;
        if (secs < best)
            best = secs;
    }
    printf("xfer_rtt %.6f\n", rtt);
    printf("xfer %zu %.4f %.3f %s\n", n, best, (double)n / best / 1e9, all_ok ? "ok" : "MISMATCH");
    return !all_ok;
}

/* ---------------------------------------------------------------- tasks */

#define MAX_NODES 64

/* Counts S among the distinct strings of SEEN (adding it when new). */
static void count_node(char **seen, size_t *nseen, const char *s)
{
    for (size_t i = 0; i < *nseen; i++)
        if (strcmp(seen[i], s) == 0)
            return;
    if (*nseen < MAX_NODES && (seen[*nseen] = strdup(s)) != NULL)
        (*nseen)++;
}

/* Runs N tasks of US microseconds with strategy O; the time goes to *SECS
 * and the number of nodes that ran them to *NODES. */
static int run_tasks(long n, long us, const ray_task_opts *o, double *secs, size_t *nodes)
{
    ray_ref **refs = calloc((size_t)n, sizeof *refs);
    char *seen[MAX_NODES];
    size_t nseen = 0;
    int rc = refs ? 0 : 1;
    double t0 = now_s();
    for (long i = 0; rc == 0 && i < n; i++)
        if ((refs[i] = ray_call("mh_burn", RAY_ARGS(ray_i64(us)), o)) == NULL)
            rc = fail("ray_call mh_burn", RAY_ERR_CONNECTION);
    for (long i = 0; rc == 0 && i < n; i++) {
        ray_value v;
        int st = ray_get(refs[i], WAIT_S, &v);
        if (st != RAY_OK)
            rc = fail("ray_get mh_burn", st);
        else
            count_node(seen, &nseen, v.data);
        ray_value_release(&v);
    }
    *secs = now_s() - t0;
    *nodes = nseen;
    for (long i = 0; refs && i < n; i++)
        ray_ref_release(refs[i]);
    for (size_t i = 0; i < nseen; i++)
        free(seen[i]);
    free(refs);
    return rc;
}

static int tasks(long n, long us, const char *strategy, long warmup)
{
    ray_task_opts spread = {.strategy = RAY_STRATEGY_SPREAD};
    ray_task_opts o = {.strategy = strcmp(strategy, "spread") == 0 ? RAY_STRATEGY_SPREAD
                                                                   : RAY_STRATEGY_DEFAULT};
    double secs;
    size_t nodes;
    if (warmup > 0 && run_tasks(warmup, 1000, &spread, &secs, &nodes))
        return 1;
    if (run_tasks(n, us, &o, &secs, &nodes))
        return 1;
    printf("tasks %ld %.3f %.1f %zu\n", n, secs, (double)n / secs, nodes);
    return 0;
}

/* ---------------------------------------------------------------- map-reduce */

/* One map-reduce of M chunks of K values; the total goes to *TOTAL. */
static int mapreduce_once(long m, long k, uint64_t *total)
{
    ray_arg *partial = calloc((size_t)m, sizeof *partial);
    int rc = partial ? 0 : 1;
    for (long i = 0; rc == 0 && i < m; i++) {
        ray_ref *chunk = ray_call("mr_gen", RAY_ARGS(ray_i64(i), ray_i64(k)), NULL);
        ray_ref *sq = chunk ? ray_call("mr_sumsq", RAY_ARGS(ray_ref_arg(chunk)), NULL) : NULL;
        /* The pending map holds the chunk; dropping our reference lets the
         * store free it as soon as the map is done. */
        ray_ref_release(chunk);
        if (sq == NULL)
            rc = fail("ray_call map", RAY_ERR_CONNECTION);
        else
            partial[i] = ray_ref_arg(sq);
    }
    int64_t sum = 0;
    if (rc == 0)
        rc = call_i64("mr_add", (ray_args){partial, (size_t)m}, NULL, &sum);
    *total = (uint64_t)sum;
    for (long i = 0; partial && i < m; i++)
        ray_ref_release(partial[i].ref);
    free(partial);
    return rc;
}

static int mapreduce(long m, long k, long runs)
{
    uint64_t total = 0, again;
    double best = 1e9;
    if (mapreduce_once(m, k, &total))
        return 1;
    for (long i = 0; i < runs; i++) {
        double t0 = now_s();
        if (mapreduce_once(m, k, &again))
            return 1;
        double secs = now_s() - t0;
        printf("mapreduce_run %ld %.4f\n", i, secs);
        fflush(stdout);
        if (again != total) {
            fprintf(stderr, "multihost: map-reduce gave %llu, then %llu\n",
                    (unsigned long long)total, (unsigned long long)again);
            return 1;
        }
        if (secs < best)
            best = secs;
    }
    printf("mapreduce %llu %.4f\n", (unsigned long long)total, best);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 5 && !(argc == 6 && strcmp(argv[1], "tasks") == 0)) {
        fprintf(stderr, "usage: multihost xfer MIB NODE RUNS | tasks N US default|spread WARMUP"
                        " | mapreduce M K RUNS\n");
        return 2;
    }
    if (ray_init(NULL) != RAY_OK)
        return fail("ray_init", RAY_ERR_CONNECTION);
    int rc = 2;
    if (strcmp(argv[1], "xfer") == 0)
        rc = xfer(strtol(argv[2], NULL, 10), argv[3], strtol(argv[4], NULL, 10));
    else if (strcmp(argv[1], "tasks") == 0)
        rc = tasks(strtol(argv[2], NULL, 10), strtol(argv[3], NULL, 10), argv[4],
                   argc == 6 ? strtol(argv[5], NULL, 10) : 0);
    else if (strcmp(argv[1], "mapreduce") == 0)
        rc = mapreduce(strtol(argv[2], NULL, 10), strtol(argv[3], NULL, 10),
                       strtol(argv[4], NULL, 10));
    else
        fprintf(stderr, "multihost: unknown command '%s'\n", argv[1]);
    ray_shutdown();
    return rc;
}
