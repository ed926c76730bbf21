/* `ray microbenchmark`: Ray's metrics (python/ray/_private/ray_perf.py),
 * same names and definitions, measured through the C API.  Each metric is
 * warmed up, then run RUNS times for DURATION seconds; the line is
 * "<name> per second <mean> +- <std>" over the runs.  The functions are the
 * workers' builtins (api_builtin.c), so no task library is needed.
 *
 *   ray microbenchmark [--duration S] [--only SUBSTRING] [--num-cpus N]
 *                      [--address IP:PORT]
 *
 * $TESTS_TO_RUN works like --only, as in Ray. */
#include "cli/cli_bench.h"

#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ray/ray.h"
#include "common/token.h"
#include "common/util.h"

#define BENCH_RUNS 4
#define BENCH_BATCH 1000

typedef struct bench_opts {
    double duration;
    const char *only;
    const char *num_cpus;
    const char *address;
} bench_opts;

typedef struct bench_ctx {
    const bench_opts *o;
    ray_ref *value;                /* ray_put(0) */
    ray_actor *actors[64];
    size_t nactors;
    ray_actor *client;
    int failed;
} bench_ctx;

typedef int (*bench_fn)(bench_ctx *c);

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---------------------------------------------------------------- timing */

static int selected(const bench_ctx *c, const char *name)
{
    return c->o->only == NULL || strstr(name, c->o->only) != NULL;
}

static void print_line(const char *name, double mean, double sd)
{
    printf("%s per second %.2f +- %.2f\n", name, mean, sd);
    fflush(stdout);
}

/* Runs FN for about SECONDS; returns calls per second, or -1 on failure. */
static double run_for(bench_ctx *c, bench_fn fn, double seconds)
{
    double t0 = now_s(), t;
    long n = 0;
    do {
        if (fn(c) != RAY_OK)
            return -1;
        n++;
    } while ((t = now_s() - t0) < seconds);
    return (double)n / t;
}

/* Ray's timeit: a warm-up, then BENCH_RUNS runs; MULT scales calls to units. */
static void timeit(bench_ctx *c, const char *name, bench_fn fn, double mult)
{
    double rates[BENCH_RUNS], mean = 0, sd = 0;
    if (!selected(c, name))
        return;
    if (run_for(c, fn, c->o->duration / 2) < 0)
        goto failed;
    for (int i = 0; i < BENCH_RUNS; i++) {
        rates[i] = run_for(c, fn, c->o->duration) * mult;
        if (rates[i] < 0)
            goto failed;
        mean += rates[i] / BENCH_RUNS;
    }
    for (int i = 0; i < BENCH_RUNS; i++)
        sd += (rates[i] - mean) * (rates[i] - mean) / BENCH_RUNS;
    print_line(name, mean, sqrt(sd));
    return;
failed:
    fprintf(stderr, "%s failed: %s\n", name, ray_last_error());
    c->failed = 1;
}

/* ---------------------------------------------------------------- helpers */

static int get_release(ray_ref *r)
{
    ray_value v;
    int rc = r ? ray_get(r, -1, &v) : RAY_ERR_CONNECTION;
    if (rc == RAY_OK)
        ray_value_release(&v);
    ray_ref_release(r);
    return rc;
}

/* Gets and releases N refs. */
static int get_all(ray_ref **refs, size_t n)
{
    int rc = RAY_OK;
    for (size_t i = 0; i < n; i++) {
        int one = get_release(refs[i]);
        if (rc == RAY_OK)
            rc = one;
    }
    return rc;
}

static int tasks_batch(size_t n)
{
    ray_ref *refs[BENCH_BATCH];
    for (size_t i = 0; i < n; i++)
        refs[i] = ray_call("__ray_noop", RAY_ARGS(), NULL);
    return get_all(refs, n);
}

static int actor_batch(ray_actor *a, size_t n)
{
    ray_ref *refs[BENCH_BATCH];
    for (size_t i = 0; i < n; i++)
        refs[i] = ray_actor_call(a, "noop", RAY_ARGS(), NULL);
    return get_all(refs, n);
}

/* A fresh builtin actor (num_cpus 0, as Ray's benchmark actors). */
static ray_actor *new_actor(int concurrency)
{
    ray_actor_opts o = {.max_concurrency = concurrency};
    ray_actor *a = ray_actor_create("__RayCounter", RAY_ARGS(), &o);
    if (a != NULL && get_release(ray_actor_call(a, "noop", RAY_ARGS(), NULL)) != RAY_OK) {
        ray_actor_release(a);
        return NULL;
    }
    return a;
}

static void drop_actors(bench_ctx *c)
{
    for (size_t i = 0; i < c->nactors; i++) {
        ray_actor_kill(c->actors[i], 1);
        ray_actor_release(c->actors[i]);
    }
    c->nactors = 0;
    if (c->client != NULL) {
        ray_actor_kill(c->client, 1);
        ray_actor_release(c->client);
        c->client = NULL;
    }
}

/* Makes N actors in C (and a client actor when CLIENT). */
static int make_actors(bench_ctx *c, size_t n, int concurrency, int client)
{
    drop_actors(c);
    for (; c->nactors < n && c->nactors < 64; c->nactors++)
        if ((c->actors[c->nactors] = new_actor(concurrency)) == NULL)
            return RAY_ERR_ACTOR_DIED;
    if (client && (c->client = new_actor(1)) == NULL)
        return RAY_ERR_ACTOR_DIED;
    return RAY_OK;
}

/* ---------------------------------------------------------------- metrics */

static int get_small(bench_ctx *c)
{
    int64_t v;
    return ray_get_i64(c->value, -1, &v);
}

static int put_small(bench_ctx *c)
{
    (void)c;
    ray_ref *r = ray_put(ray_i64(0));
    ray_ref_release(r);
    return r ? RAY_OK : RAY_ERR_STORE_FULL;
}

static char *big_array;
#define BIG_ARRAY (800u * 1024u * 1024u) /* Ray's np.zeros(100M, int64) */

static int put_large(bench_ctx *c)
{
    (void)c;
    ray_ref *r = ray_put(ray_bytes(big_array, BIG_ARRAY));
    ray_ref_release(r);
    return r ? RAY_OK : RAY_ERR_STORE_FULL;
}

static int tasks_and_get_batch(bench_ctx *c)
{
    (void)c;
    return tasks_batch(BENCH_BATCH);
}

static int wait_1k_refs(bench_ctx *c)
{
    (void)c;
    ray_ref *refs[BENCH_BATCH];
    size_t n = BENCH_BATCH;
    int ready[BENCH_BATCH];
    for (size_t i = 0; i < n; i++)
        if ((refs[i] = ray_call("__ray_noop", RAY_ARGS(), NULL)) == NULL)
            return RAY_ERR_CONNECTION;
    while (n > 0) { /* one at a time, keeping the not-ready ones */
        int rc = ray_wait(refs, n, 1, -1, ready, NULL);
        if (rc != RAY_OK)
            return rc;
        size_t k = 0;
        for (size_t i = 0; i < n; i++) {
            if (ready[i])
                ray_ref_release(refs[i]);
            else
                refs[k++] = refs[i];
        }
        n = k;
    }
    return RAY_OK;
}

static int tasks_sync(bench_ctx *c)
{
    (void)c;
    return get_release(ray_call("__ray_noop", RAY_ARGS(), NULL));
}

static int tasks_async(bench_ctx *c)
{
    (void)c;
    return tasks_batch(BENCH_BATCH);
}

enum { MULTI_N = 10000, MULTI_M = 4, ONE_N = 5000 };

static int multi_client_tasks(bench_ctx *c)
{
    ray_ref *refs[MULTI_M];
    for (size_t i = 0; i < c->nactors; i++)
        refs[i] = ray_actor_call(c->actors[i], "spawn", RAY_ARGS(ray_i64(MULTI_N)), NULL);
    return get_all(refs, c->nactors);
}

static int actor_sync(bench_ctx *c)
{
    return get_release(ray_actor_call(c->actors[0], "noop", RAY_ARGS(), NULL));
}

static int actor_async(bench_ctx *c)
{
    return actor_batch(c->actors[0], BENCH_BATCH);
}

/* Argument list: count, then the actors. */
static int actor_args(bench_ctx *c, int64_t n, ray_arg *args)
{
    args[0] = ray_i64(n);
    for (size_t i = 0; i < c->nactors; i++)
        args[i + 1] = ray_actor_arg(c->actors[i]);
    return (int)c->nactors + 1;
}

static int one_to_n(bench_ctx *c)
{
    ray_arg args[65];
    ray_args a = {args, (size_t)actor_args(c, ONE_N, args)};
    return get_release(ray_actor_call(c->client, "batch", a, NULL));
}

static int n_to_n(bench_ctx *c)
{
    ray_arg args[65];
    ray_args a = {args, (size_t)actor_args(c, ONE_N, args)};
    ray_ref *refs[MULTI_M];
    for (int i = 0; i < MULTI_M; i++)
        refs[i] = ray_call("__ray_bench_work", a, NULL);
    return get_all(refs, MULTI_M);
}

/* ---------------------------------------------------------------- groups */

static void object_metrics(bench_ctx *c)
{
    double mean, sd;
    c->value = ray_put(ray_i64(0));
    timeit(c, "single_client_get_calls_Plasma_Store", get_small, 1);
    timeit(c, "single_client_put_calls_Plasma_Store", put_small, 1);
    ray_ref_release(c->value);
    c->value = NULL;
    /* Ray puts np.zeros, whose untouched pages all read the kernel's zero
     * page; a real array is filled, so every byte comes from memory. */
    if (selected(c, "single_client_put_gigabytes") && (big_array = malloc(BIG_ARRAY))) {
        memset(big_array, 1, BIG_ARRAY);
        timeit(c, "single_client_put_gigabytes", put_large, BIG_ARRAY / 1e9);
        free(big_array);
        big_array = NULL;
        cli_bench_memcpy(256u * 1024 * 1024, c->o->duration / 2, BENCH_RUNS, &mean, &sd);
        print_line("  (limit) memcpy_gigabytes", mean, sd);
    }
    timeit(c, "single_client_tasks_and_get_batch", tasks_and_get_batch, 1);
    timeit(c, "single_client_wait_1k_refs", wait_1k_refs, 1);
}

static void task_metrics(bench_ctx *c)
{
    double mean, sd;
    timeit(c, "single_client_tasks_sync", tasks_sync, 1);
    if (selected(c, "single_client_tasks_sync")) {
        cli_bench_pingpong(c->o->duration / 2, BENCH_RUNS, &mean, &sd);
        print_line("  (limit) unix_socket_ping_pong", mean, sd);
        cli_bench_relay(c->o->duration / 2, BENCH_RUNS, &mean, &sd);
        print_line("  (limit) unix_socket_relay_3_processes", mean, sd);
    }
    timeit(c, "single_client_tasks_async", tasks_async, BENCH_BATCH);
    if (selected(c, "multi_client_tasks_async") && make_actors(c, MULTI_M, 1, 0) == RAY_OK)
        timeit(c, "multi_client_tasks_async", multi_client_tasks, MULTI_N * MULTI_M);
}

static size_t half_cpus(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN) / 2;
    return n < 1 ? 1 : n > 32 ? 32 : (size_t)n;
}

static void actor_metrics(bench_ctx *c)
{
    if (make_actors(c, 1, 1, 0) == RAY_OK) {
        timeit(c, "1_1_actor_calls_sync", actor_sync, 1);
        timeit(c, "1_1_actor_calls_async", actor_async, BENCH_BATCH);
    }
    if (selected(c, "1_1_actor_calls_concurrent") && make_actors(c, 1, 16, 0) == RAY_OK)
        timeit(c, "1_1_actor_calls_concurrent", actor_async, BENCH_BATCH);
    size_t n = half_cpus();
    if (selected(c, "1_n_actor_calls_async") && make_actors(c, n, 1, 1) == RAY_OK)
        timeit(c, "1_n_actor_calls_async", one_to_n, (double)ONE_N * (double)n);
    if (selected(c, "n_n_actor_calls_async") && make_actors(c, n, 1, 0) == RAY_OK)
        timeit(c, "n_n_actor_calls_async", n_to_n, (double)ONE_N * MULTI_M);
    drop_actors(c);
}

/* ---------------------------------------------------------------- main */

static int usage(void)
{
    fprintf(stderr, "Usage: ray microbenchmark [--duration SECONDS] [--only SUBSTRING] "
                    "[--num-cpus N] [--address IP:PORT]\n"
                    "       ray microbenchmark --python [--seconds S] [--repeat N] "
                    "[--num-cpus N] [--large-mib N] [--no-dask]\n");
    return 2;
}

static int parse(int argc, char **argv, bench_opts *o)
{
    static const struct option flags[] = {
        {"duration", required_argument, NULL, 'd'}, {"only", required_argument, NULL, 'o'},
        {"num-cpus", required_argument, NULL, 'c'}, {"address", required_argument, NULL, 'a'},
        {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0},
    };
    o->duration = 2.0;
    o->only = getenv("TESTS_TO_RUN") && *getenv("TESTS_TO_RUN") ? getenv("TESTS_TO_RUN") : NULL;
    optind = 1;
    int ch;
    while ((ch = getopt_long(argc, argv, "", flags, NULL)) != -1) {
        switch (ch) {
        case 'd':
            if (parse_double(optarg, &o->duration) != 0 || o->duration < 0.05 ||
                o->duration > 600)
                return -1;
            break;
        case 'o': o->only = optarg; break;
        case 'c': o->num_cpus = optarg; break;
        case 'a': o->address = optarg; break;
        default: return -1;
        }
    }
    return optind == argc ? 0 : -1;
}

/* Connects to OPTS' cluster or to a temporary head started here. */
static int bench_connect(const bench_opts *o, cli_bench_head *h)
{
    char err[512], token[TOKEN_MAX + 1];
    ray_init_opts io = {.address = o->address};
    if (o->address == NULL) {
        if (cli_bench_head_start(h, o->num_cpus, err, sizeof err) != 0) {
            fprintf(stderr, "ray microbenchmark: %s\n", err);
            return -1;
        }
        if (token_read_file(h->token_file, token, sizeof token) != 0) {
            fprintf(stderr, "ray microbenchmark: cannot read %s\n", h->token_file);
            return -1;
        }
        io.address = h->addr;
        io.token = token;
    }
    if (ray_init(&io) != RAY_OK) {
        fprintf(stderr, "ray microbenchmark: %s\n", ray_last_error());
        return -1;
    }
    return 0;
}

int runtime_microbenchmark_main(int argc, char **argv)
{
    bench_opts o = {0};
    cli_bench_head head = {0};
    if (parse(argc, argv, &o) != 0)
        return usage();
    if (bench_connect(&o, &head) != 0) {
        cli_bench_head_stop(&head);
        return 1;
    }
    printf("Tip: set TESTS_TO_RUN='pattern' (or --only) to run a subset of benchmarks\n");
    bench_ctx c = {.o = &o};
    object_metrics(&c);
    task_metrics(&c);
    actor_metrics(&c);
    ray_shutdown();
    cli_bench_head_stop(&head);
    return c.failed ? 1 : 0;
}
