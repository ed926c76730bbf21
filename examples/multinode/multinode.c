/* multinode: exercises a multi-node cluster (used by the multi-node tests).
 *
 *   multinode spread N            N SPREAD tasks; prints each node reached
 *   multinode affinity NODE SOFT  one task with node affinity; prints the status
 *   multinode bigarg MIB NODE     puts MIB MiB, sums it in a task on NODE
 *   multinode bigret MIB NODE [soft]  a task on NODE (soft: preferably) returns
 *                                 MIB MiB; checks it here
 *   multinode custom RES QTY SECS one task asking for QTY of resource RES; waits
 *                                 up to SECS for it and prints its status and node
 *   multinode readall MIB NODE... puts MIB MiB here; a task on each NODE sums it
 *   multinode squares N SECS      N SPREAD tasks that sleep SECS and square their
 *                                 index; checks every result
 *   multinode actors N            N MnCounter actors placed with SPREAD; prints
 *                                 where each lives and its count after 3 calls
 *   multinode actorlife NODE N PAUSE  one MnCounter with soft affinity to NODE
 *                                 (max_restarts 2, calls retried); N calls PAUSE
 *                                 seconds apart; prints where it lived first/last
 *   multinode actorkill NODE      a MnCounter on NODE, called, killed for good,
 *                                 called again; prints each call's status
 *   multinode soak SECS           rounds of SPREAD tasks and actors (both retried
 *                                 and restarted without limit) for SECS seconds;
 *                                 checks every result
 *   multinode counter NAME        increments the detached __RayCounter NAME
 *                                 in namespace "multinode" (made on first use)
 *                                 and prints its value
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ray/ray.h>

static uint64_t fnv(const uint8_t *b, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 1099511628211ull;
    return h;
}

static int spread(long n)
{
    ray_task_opts o = {.strategy = RAY_STRATEGY_SPREAD};
    ray_ref **refs = calloc((size_t)n, sizeof *refs);
    for (long i = 0; refs && i < n; i++)
        if ((refs[i] = ray_call("mn_where", RAY_ARGS(), &o)) == NULL)
            return 1;
    for (long i = 0; refs && i < n; i++) {
        void *s = NULL;
        int rc = ray_get_bytes(refs[i], 60, &s, NULL);
        if (rc != RAY_OK) {
            printf("error %s: %s\n", ray_status_name(rc), ray_last_error());
            return 1;
        }
        printf("where %s\n", (char *)s);
        free(s);
        ray_ref_release(refs[i]);
    }
    free(refs);
    return 0;
}

static int affinity(const char *node, int soft)
{
    ray_task_opts o = {.strategy = RAY_STRATEGY_NODE_AFFINITY, .node_id = node, .soft = soft};
    ray_ref *r = ray_call("mn_where", RAY_ARGS(), &o);
    void *s = NULL;
    int rc = r ? ray_get_bytes(r, 60, &s, NULL) : RAY_ERR_CONNECTION;
    printf("status %s %s\n", ray_status_name(rc), rc == RAY_OK ? (char *)s : ray_last_error());
    free(s);
    ray_ref_release(r);
    return 0;
}

static int custom(const char *res, double qty, double secs)
{
    ray_resource want[] = {{res, qty}};
    ray_task_opts o = {.resources = want, .n_resources = 1};
    ray_ref *r = ray_call("mn_where", RAY_ARGS(), &o);
    void *s = NULL;
    int rc = r ? ray_get_bytes(r, secs, &s, NULL) : RAY_ERR_CONNECTION;
    printf("status %s %s\n", ray_status_name(rc), rc == RAY_OK ? (char *)s : ray_last_error());
    fflush(stdout);
    free(s);
    ray_ref_release(r);
    return rc != RAY_OK;
}

static uint8_t *pattern(size_t n)
{
    uint8_t *b = malloc(n);
    uint64_t x = 88172645463325252ull;
    for (size_t i = 0; b && i < n; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        b[i] = (uint8_t)x;
    }
    return b;
}

static int bigarg(long mib, const char *node)
{
    size_t n = (size_t)mib << 20;
    uint8_t *b = pattern(n);
    ray_ref *obj = b ? ray_put(ray_bytes(b, n)) : NULL;
    ray_task_opts o = {.strategy = RAY_STRATEGY_NODE_AFFINITY, .node_id = node};
    ray_ref *r = obj ? ray_call("mn_sum", RAY_ARGS(ray_ref_arg(obj)), &o) : NULL;
    int64_t got = 0;
    int rc = r ? ray_get_i64(r, 120, &got) : RAY_ERR_CONNECTION;
    if (rc != RAY_OK)
        printf("error %s: %s\n", ray_status_name(rc), ray_last_error());
    else
        printf("checksum %s\n", (uint64_t)got == fnv(b, n) ? "ok" : "MISMATCH");
    free(b);
    ray_ref_release(r);
    ray_ref_release(obj);
    return rc != RAY_OK;
}

static int readall(long mib, char **nodes, int n)
{
    size_t len = (size_t)mib << 20;
    uint8_t *b = pattern(len);
    ray_ref *obj = b ? ray_put(ray_bytes(b, len)) : NULL;
    if (obj == NULL) {
        printf("error put: %s\n", ray_last_error());
        free(b);
        return 1;
    }
    uint64_t want = fnv(b, len);
    free(b);
    ray_ref **refs = calloc((size_t)n + 1, sizeof *refs);
    for (int i = 0; refs && i < n; i++) {
        ray_task_opts o = {.strategy = RAY_STRATEGY_NODE_AFFINITY, .node_id = nodes[i]};
        refs[i] = ray_call("mn_sum", RAY_ARGS(ray_ref_arg(obj)), &o);
    }
    int bad = refs == NULL;
    for (int i = 0; refs && i < n; i++) {
        int64_t got = 0;
        int rc = refs[i] ? ray_get_i64(refs[i], 300, &got) : RAY_ERR_CONNECTION;
        if (rc != RAY_OK)
            printf("error %s on %s: %s\n", ray_status_name(rc), nodes[i], ray_last_error());
        else
            printf("checksum %s %s\n", (uint64_t)got == want ? "ok" : "MISMATCH", nodes[i]);
        bad += rc != RAY_OK || (uint64_t)got != want;
        ray_ref_release(refs[i]);
    }
    free(refs);
    ray_ref_release(obj);
    return bad != 0;
}

static int squares(long n, double secs)
{
    ray_task_opts o = {.strategy = RAY_STRATEGY_SPREAD};
    ray_ref **refs = calloc((size_t)n + 1, sizeof *refs);
    for (long i = 0; refs && i < n; i++)
        if ((refs[i] = ray_call("mn_square", RAY_ARGS(ray_i64(i), ray_f64(secs)), &o)) == NULL) {
            printf("error submit: %s\n", ray_last_error());
            return 1;
        }
    long bad = 0;
    for (long i = 0; refs && i < n; i++) {
        int64_t v = -1;
        int rc = ray_get_i64(refs[i], 600, &v);
        if (rc != RAY_OK || v != i * i) {
            printf("error task %ld: %s %s\n", i, ray_status_name(rc),
                   rc != RAY_OK ? ray_last_error() : "wrong value");
            bad++;
        }
        ray_ref_release(refs[i]);
    }
    free(refs);
    printf("squares %ld %s\n", n, bad == 0 ? "ok" : "FAILED");
    return bad != 0;
}

/* "where" of actor A as an owned string, or NULL (error printed). */
static char *actor_where(ray_actor *a)
{
    ray_ref *r = ray_actor_call(a, "where", RAY_ARGS(), NULL);
    void *s = NULL;
    int rc = r ? ray_get_bytes(r, 120, &s, NULL) : RAY_ERR_CONNECTION;
    if (rc != RAY_OK)
        printf("error where: %s %s\n", ray_status_name(rc), ray_last_error());
    ray_ref_release(r);
    return rc == RAY_OK ? s : NULL;
}

static int actors(long n)
{
    ray_actor_opts o = {.strategy = RAY_STRATEGY_SPREAD};
    ray_actor **as = calloc((size_t)n + 1, sizeof *as);
    ray_ref **refs = calloc((size_t)n * 3 + 1, sizeof *refs);
    int bad = as == NULL || refs == NULL;
    for (long i = 0; !bad && i < n; i++)
        bad = (as[i] = ray_actor_create("MnCounter", RAY_ARGS(), &o)) == NULL;
    for (long i = 0; !bad && i < n * 3; i++)
        refs[i] = ray_actor_call(as[i % n], "incr", RAY_ARGS(), NULL);
    for (long i = 0; !bad && i < n * 3; i++) {
        int64_t v = 0;
        int rc = refs[i] ? ray_get_i64(refs[i], 120, &v) : RAY_ERR_CONNECTION;
        if (rc != RAY_OK || v != i / n + 1) {
            printf("error call %ld: %s %s\n", i, ray_status_name(rc), ray_last_error());
            bad = 1;
        }
    }
    for (long i = 0; !bad && i < n; i++) {
        char *w = actor_where(as[i]);
        if (w != NULL)
            printf("actor %ld where %s\n", i, w);
        bad = w == NULL;
        free(w);
    }
    for (long i = 0; refs && i < n * 3; i++)
        ray_ref_release(refs[i]);
    for (long i = 0; as && i < n; i++)
        ray_actor_release(as[i]);
    free(refs);
    free(as);
    printf("actors %s\n", bad ? "FAILED" : "ok");
    return bad;
}

static int actorlife(const char *node, long n, double pause)
{
    ray_actor_opts o = {.strategy = RAY_STRATEGY_NODE_AFFINITY, .node_id = node, .soft = 1,
                        .max_restarts = 2, .max_task_retries = RAY_INFINITE};
    ray_actor *a = ray_actor_create("MnCounter", RAY_ARGS(), &o);
    char *first = a ? actor_where(a) : NULL;
    if (first == NULL)
        return 1;
    printf("first %s\n", first);
    fflush(stdout);
    long ok = 0;
    for (long i = 0; i < n; i++) {
        ray_ref *r = ray_actor_call(a, "incr", RAY_ARGS(), NULL);
        int64_t v = 0;
        int rc = r ? ray_get_i64(r, 120, &v) : RAY_ERR_CONNECTION;
        if (rc != RAY_OK)
            printf("error call %ld: %s %s\n", i, ray_status_name(rc), ray_last_error());
        ok += rc == RAY_OK;
        ray_ref_release(r);
        struct timespec ts = {(time_t)pause, (long)((pause - (double)(time_t)pause) * 1e9)};
        nanosleep(&ts, NULL);
    }
    char *last = actor_where(a);
    printf("last %s\ncalls %ld/%ld ok\n", last ? last : "?", ok, n);
    free(first);
    free(last);
    ray_actor_release(a);
    return ok != n;
}

static int actorkill(const char *node)
{
    ray_actor_opts o = {.strategy = RAY_STRATEGY_NODE_AFFINITY, .node_id = node,
                        .max_restarts = RAY_INFINITE};
    ray_actor *a = ray_actor_create("MnCounter", RAY_ARGS(), &o);
    char *w = a ? actor_where(a) : NULL;
    ray_ref *r = a ? ray_actor_call(a, "incr", RAY_ARGS(), NULL) : NULL;
    int64_t v = 0;
    int rc = r ? ray_get_i64(r, 60, &v) : RAY_ERR_CONNECTION;
    ray_ref_release(r);
    printf("where %s\nbefore %s %lld\n", w ? w : "?", ray_status_name(rc), (long long)v);
    int krc = a ? ray_actor_kill(a, 1) : RAY_ERR_CONNECTION;
    printf("kill %s\n", ray_status_name(krc));
    r = a ? ray_actor_call(a, "incr", RAY_ARGS(), NULL) : NULL;
    rc = r ? ray_get_i64(r, 60, &v) : RAY_ERR_CONNECTION;
    printf("after %s\n", ray_status_name(rc));
    ray_ref_release(r);
    ray_actor_release(a);
    free(w);
    return 0;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One soak round: returns the number of wrong or failed results. */
static long soak_round(void)
{
    enum { TASKS = 20, ACTORS = 2, CALLS = 5 };
    ray_task_opts to = {.strategy = RAY_STRATEGY_SPREAD, .max_retries = RAY_INFINITE};
    ray_actor_opts ao = {.strategy = RAY_STRATEGY_SPREAD, .max_restarts = RAY_INFINITE,
                         .max_task_retries = RAY_INFINITE};
    ray_ref *t[TASKS], *c[ACTORS][CALLS];
    ray_actor *a[ACTORS];
    long bad = 0;
    for (int i = 0; i < TASKS; i++)
        t[i] = ray_call("mn_square", RAY_ARGS(ray_i64(i), ray_f64(0.02)), &to);
    for (int k = 0; k < ACTORS; k++) {
        a[k] = ray_actor_create("MnCounter", RAY_ARGS(), &ao);
        for (int j = 0; j < CALLS; j++)
            c[k][j] = a[k] ? ray_actor_call(a[k], "square", RAY_ARGS(ray_i64(j + k)), NULL) : NULL;
    }
    for (int i = 0; i < TASKS; i++) {
        int64_t v = -1;
        int rc = t[i] ? ray_get_i64(t[i], 300, &v) : RAY_ERR_CONNECTION;
        if (rc != RAY_OK || v != (int64_t)i * i) {
            printf("error task %d: %s %s\n", i, ray_status_name(rc), ray_last_error());
            bad++;
        }
        ray_ref_release(t[i]);
    }
    for (int k = 0; k < ACTORS; k++) {
        for (int j = 0; j < CALLS; j++) {
            int64_t v = -1;
            int rc = c[k][j] ? ray_get_i64(c[k][j], 300, &v) : RAY_ERR_CONNECTION;
            if (rc != RAY_OK || v != (int64_t)(j + k) * (j + k)) {
                printf("error actor call: %s %s\n", ray_status_name(rc), ray_last_error());
                bad++;
            }
            ray_ref_release(c[k][j]);
        }
        if (a[k] != NULL)
            ray_actor_kill(a[k], 1);
        ray_actor_release(a[k]);
    }
    fflush(stdout);
    return bad;
}

static int soak(double secs)
{
    double end = now_s() + secs;
    long rounds = 0, bad = 0;
    while (now_s() < end) {
        bad += soak_round();
        rounds++;
    }
    printf("soak %ld rounds, %ld errors\n", rounds, bad);
    return bad != 0;
}

static int counter(const char *name)
{
    ray_actor_opts o = {.name = name, .ns = "multinode", .get_if_exists = 1, .detached = 1, .max_restarts = RAY_INFINITE};
    ray_actor *a = ray_actor_create("__RayCounter", RAY_ARGS(), &o);
    ray_ref *r = a ? ray_actor_call(a, "incr", RAY_ARGS(), NULL) : NULL;
    int64_t v = 0;
    int rc = r ? ray_get_i64(r, 60, &v) : RAY_ERR_CONNECTION;
    if (rc != RAY_OK)
        printf("error %s: %s\n", ray_status_name(rc), ray_last_error());
    else
        printf("counter %lld\n", (long long)v);
    ray_ref_release(r);
    ray_actor_release(a);
    return rc != RAY_OK;
}

static int bigret(long mib, const char *node, int soft)
{
    ray_task_opts o = {.strategy = RAY_STRATEGY_NODE_AFFINITY, .node_id = node, .soft = soft};
    ray_ref *r = ray_call("__ray_fill", RAY_ARGS(ray_i64(mib << 20), ray_i64(7)), &o);
    ray_value v;
    int rc = r ? ray_get(r, 120, &v) : RAY_ERR_CONNECTION;
    if (rc != RAY_OK) {
        printf("error %s: %s\n", ray_status_name(rc), ray_last_error());
        return 1;
    }
    size_t bad = 0;
    for (size_t i = 0; i < v.len; i++)
        bad += ((const uint8_t *)v.data)[i] != 7;
    printf("returned %zu bytes, %s\n", v.len, bad == 0 && v.len == (size_t)mib << 20
                                                  ? "content ok" : "content MISMATCH");
    ray_value_release(&v);
    ray_ref_release(r);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: multinode spread N | affinity NODE SOFT | bigarg MIB NODE | "
                "bigret MIB NODE | custom RES QTY SECS | readall MIB NODE... | "
                "squares N SECS | actors N | actorlife NODE N PAUSE | actorkill NODE | soak SECS | counter NAME\n");
        return 2;
    }
    if (ray_init(NULL) != RAY_OK) {
        fprintf(stderr, "multinode: %s\n", ray_last_error());
        return 1;
    }
    int rc = 2;
    if (strcmp(argv[1], "spread") == 0)
        rc = spread(strtol(argv[2], NULL, 10));
    else if (strcmp(argv[1], "affinity") == 0 && argc > 3)
        rc = affinity(argv[2], strcmp(argv[3], "1") == 0);
    else if (strcmp(argv[1], "bigarg") == 0 && argc > 3)
        rc = bigarg(strtol(argv[2], NULL, 10), argv[3]);
    else if (strcmp(argv[1], "bigret") == 0 && argc > 3)
        rc = bigret(strtol(argv[2], NULL, 10), argv[3], argc > 4 && strcmp(argv[4], "soft") == 0);
    else if (strcmp(argv[1], "readall") == 0 && argc > 3)
        rc = readall(strtol(argv[2], NULL, 10), argv + 3, argc - 3);
    else if (strcmp(argv[1], "squares") == 0 && argc > 3)
        rc = squares(strtol(argv[2], NULL, 10), strtod(argv[3], NULL));
    else if (strcmp(argv[1], "actors") == 0)
        rc = actors(strtol(argv[2], NULL, 10));
    else if (strcmp(argv[1], "actorlife") == 0 && argc > 4)
        rc = actorlife(argv[2], strtol(argv[3], NULL, 10), strtod(argv[4], NULL));
    else if (strcmp(argv[1], "actorkill") == 0)
        rc = actorkill(argv[2]);
    else if (strcmp(argv[1], "soak") == 0)
        rc = soak(strtod(argv[2], NULL));
    else if (strcmp(argv[1], "counter") == 0)
        rc = counter(argv[2]);
    else if (strcmp(argv[1], "custom") == 0 && argc > 4)
        rc = custom(argv[2], strtod(argv[3], NULL), strtod(argv[4], NULL));
    ray_shutdown();
    return rc;
}
