/* pg: exercises placement groups (used by tests/integration/runtime_pg.tcl).
 *
 *   pg layout STRATEGY N CPU      N bundles of CPU cpus; prints each bundle's node
 *                                 and where a task of each bundle ran; removes it
 *   pg pending NAME STRATEGY N CPU  a detached named group; waits 2 s (prints the status)
 *   pg waitname NAME SECONDS      waits for the named group; prints its layout as above
 *   pg removename NAME            removes the named group
 *   pg work                       tasks (any bundle) and an actor in a bundle, then removal
 *   pg kill                       removal kills a running task and fails a queued one
 *   pg nested                     a task of a 1-CPU bundle waits for a nested task of it
 *   pg gpu                        a {CPU: 1, GPU: 1} bundle; prints the
 *                                 CUDA_VISIBLE_DEVICES a task of it sees
 *   pg bad                        bad input: one line per case
 *
 * STRATEGY is PACK, SPREAD, STRICT_PACK or STRICT_SPREAD.  Output lines start
 * with a keyword the tests match. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ray/ray.h>

static int strategy_of(const char *s)
{
    static const char *names[] = {"PACK", "SPREAD", "STRICT_PACK", "STRICT_SPREAD"};
    for (int i = 0; i < 4; i++)
        if (strcmp(s, names[i]) == 0)
            return i;
    return atoi(s); /* lets the tests pass a bad number */
}

/* A group of N bundles of CPU cpus each. */
static ray_pg *make(int strategy, int n, double cpu, const char *name, int detached)
{
    ray_resource res = {"CPU", cpu};
    ray_bundle *b = calloc((size_t)n + 1, sizeof *b);
    for (int i = 0; b != NULL && i < n; i++)
        b[i] = (ray_bundle){&res, 1};
    /* Named groups live in namespace "pg", so that later drivers find them. */
    ray_pg_opts o = {.strategy = (ray_pg_strategy)strategy, .name = name, .ns = name ? "pg" : NULL,
                     .detached = detached};
    ray_pg *pg = ray_pg_create(b, (size_t)n, &o);
    free(b);
    if (pg == NULL)
        printf("create %s %s\n", ray_status_name(RAY_ERR_INVALID), ray_last_error());
    return pg;
}

/* The worker socket of a task in bundle I (RAY_BUNDLE_ANY: any) of PG. */
static ray_ref *where_in(ray_pg *pg, int i, double cpu)
{
    ray_task_opts o = {.num_cpus = cpu, .placement_group = pg, .bundle_index = i};
    return ray_call("pg_where", RAY_ARGS(), &o);
}

static void print_where(const char *what, int i, ray_ref *r)
{
    void *s = NULL;
    int rc = r ? ray_get_bytes(r, 60, &s, NULL) : RAY_ERR_INVALID;
    if (rc == RAY_OK)
        printf("%s %d where %s\n", what, i, (char *)s);
    else
        printf("%s %d error %s %s\n", what, i, ray_status_name(rc), ray_last_error());
    free(s);
    ray_ref_release(r);
}

/* Prints where every bundle of PG is and where a task of each ran. */
static void show(ray_pg *pg, double cpu)
{
    size_t n = ray_pg_bundle_count(pg);
    for (size_t i = 0; i < n; i++) {
        char node[128];
        if (ray_pg_bundle_node(pg, i, node, sizeof node) == RAY_OK)
            printf("bundle %zu node %s\n", i, node);
    }
    ray_ref **refs = calloc(n + 1, sizeof *refs);
    for (size_t i = 0; refs != NULL && i < n; i++)
        refs[i] = where_in(pg, (int)i, cpu);
    for (size_t i = 0; refs != NULL && i < n; i++)
        print_where("task", (int)i, refs[i]);
    free(refs);
}

static int wait_print(ray_pg *pg, double timeout)
{
    int rc = ray_pg_wait(pg, timeout);
    printf("wait %s%s%s\n", ray_status_name(rc), rc ? " " : "", rc ? ray_last_error() : "");
    return rc;
}

static int layout(const char *strategy, int n, double cpu)
{
    ray_pg *pg = make(strategy_of(strategy), n, cpu, NULL, 0);
    if (pg == NULL)
        return 1;
    if (wait_print(pg, 30) == RAY_OK)
        show(pg, cpu);
    printf("remove %s\n", ray_status_name(ray_pg_remove(pg)));
    ray_pg_release(pg);
    return 0;
}

static int waitname(const char *name, double seconds)
{
    ray_pg *pg = ray_pg_get(name, "pg");
    if (pg == NULL) {
        printf("get %s\n", ray_last_error());
        return 1;
    }
    if (wait_print(pg, seconds) == RAY_OK)
        show(pg, 1);
    ray_pg_release(pg);
    return 0;
}

static int removename(const char *name)
{
    ray_pg *pg = ray_pg_get(name, "pg");
    int rc = pg ? ray_pg_remove(pg) : RAY_ERR_NOT_FOUND;
    printf("remove %s\n", ray_status_name(rc));
    ray_pg_release(pg);
    return 0;
}

/* ---------------------------------------------------------------- work, kill */

static int work(void)
{
    ray_pg *pg = make(RAY_PG_STRICT_PACK, 2, 1, NULL, 0);
    if (pg == NULL || wait_print(pg, 30) != RAY_OK)
        return 1;
    char node[128] = "";
    ray_pg_bundle_node(pg, 0, node, sizeof node);
    printf("bundle 0 node %s\n", node);
    ray_ref *refs[6];
    for (int i = 0; i < 6; i++)
        refs[i] = where_in(pg, RAY_BUNDLE_ANY, 1);
    for (int i = 0; i < 6; i++)
        print_where("anytask", i, refs[i]);
    ray_actor_opts ao = {.num_cpus = 1, .placement_group = pg, .bundle_index = 0};
    ray_actor *a = ray_actor_create("PgActor", RAY_ARGS(), &ao);
    print_where("actor", 0, a ? ray_actor_call(a, "where", RAY_ARGS(), NULL) : NULL);
    printf("remove %s\n", ray_status_name(ray_pg_remove(pg)));
    ray_ref *r = a ? ray_actor_call(a, "where", RAY_ARGS(), NULL) : NULL;
    print_where("actor_after_remove", 0, r);
    ray_actor_release(a);
    ray_pg_release(pg);
    return 0;
}

static void print_result(const char *what, ray_ref *r)
{
    int64_t v = 0;
    int rc = r ? ray_get_i64(r, 30, &v) : RAY_ERR_INVALID;
    printf("%s %s %s\n", what, ray_status_name(rc), rc ? ray_last_error() : "");
    ray_ref_release(r);
}

static int kill_running(void)
{
    ray_pg *pg = make(RAY_PG_PACK, 1, 1, NULL, 0);
    if (pg == NULL || wait_print(pg, 30) != RAY_OK)
        return 1;
    ray_task_opts o = {.placement_group = pg, .bundle_index = 0};
    ray_ref *running = ray_call("pg_sleep", RAY_ARGS(ray_f64(60)), &o);
    ray_ref *queued = ray_call("pg_sleep", RAY_ARGS(ray_f64(60)), &o);
    int ready = 0;
    ray_wait(&running, 1, 1, 1.5, &ready, NULL); /* give it time to start */
    printf("started %d\n", !ready);
    fflush(stdout);
    printf("remove %s\n", ray_status_name(ray_pg_remove(pg)));
    print_result("running", running);
    print_result("queued", queued);
    ray_pg_release(pg);
    return 0;
}

static int nested(void)
{
    ray_pg *pg = make(RAY_PG_PACK, 1, 1, "nest", 0);
    if (pg == NULL || wait_print(pg, 30) != RAY_OK)
        return 1;
    ray_task_opts o = {.placement_group = pg, .bundle_index = 0};
    print_where("nested", 0, ray_call("pg_nested", RAY_ARGS(ray_str("nest")), &o));
    printf("remove %s\n", ray_status_name(ray_pg_remove(pg)));
    ray_pg_release(pg);
    return 0;
}

/* ---------------------------------------------------------------- bad input */

static void bad_case(const char *name, ray_pg *pg)
{
    printf("bad %s %s %s\n", name, pg ? "created" : "refused", pg ? "" : ray_last_error());
    if (pg != NULL) {
        ray_pg_remove(pg);
        ray_pg_release(pg);
    }
}

static int bad(void)
{
    ray_resource cpu = {"CPU", 1}, neg = {"CPU", -1}, zero = {"CPU", 0};
    ray_bundle ok = {&cpu, 1}, empty = {NULL, 0}, negb = {&neg, 1}, zerob = {&zero, 1};
    ray_pg_opts badstrat = {.strategy = (ray_pg_strategy)7};
    bad_case("zero_bundles", ray_pg_create(&ok, 0, NULL));
    bad_case("empty_bundle", ray_pg_create(&empty, 1, NULL));
    bad_case("zero_bundle", ray_pg_create(&zerob, 1, NULL));
    bad_case("negative", ray_pg_create(&negb, 1, NULL));
    bad_case("strategy", ray_pg_create(&ok, 1, &badstrat));
    ray_pg *pg = ray_pg_create(&ok, 1, NULL);
    ray_task_opts o = {.placement_group = pg, .bundle_index = 1};
    ray_ref *r = pg ? ray_call("pg_where", RAY_ARGS(), &o) : NULL;
    printf("bad bundle_index %s %s\n", r ? "submitted" : "refused", r ? "" : ray_last_error());
    o.bundle_index = -2;
    r = pg ? ray_call("pg_where", RAY_ARGS(), &o) : NULL;
    printf("bad bundle_index_neg %s %s\n", r ? "submitted" : "refused",
           r ? "" : ray_last_error());
    ray_actor_opts ao = {.placement_group = pg, .bundle_index = 5};
    ray_actor *a = pg ? ray_actor_create("PgActor", RAY_ARGS(), &ao) : NULL;
    printf("bad actor_bundle_index %s %s\n", a ? "created" : "refused",
           a ? "" : ray_last_error());
    int rc = ray_pg_wait(NULL, 1);
    printf("bad wait_null %s %s\n", ray_status_name(rc), ray_last_error());
    ray_pg_remove(pg);
    ray_pg_release(pg);
    return 0;
}

/* A task in a GPU bundle is given its device, as a plain GPU task is. */
static int gpu(void)
{
    ray_resource res[] = {{"CPU", 1}, {"GPU", 1}};
    ray_bundle b = {res, 2};
    ray_pg_opts po = {.strategy = RAY_PG_STRICT_PACK};
    ray_pg *pg = ray_pg_create(&b, 1, &po);
    int rc = pg ? ray_pg_wait(pg, 30) : RAY_ERR_INVALID;
    printf("wait %s\n", ray_status_name(rc));
    if (rc == RAY_OK) {
        ray_task_opts o = {.num_gpus = 1, .placement_group = pg, .bundle_index = 0};
        ray_ref *r = ray_call("__ray_getenv", RAY_ARGS(ray_str("CUDA_VISIBLE_DEVICES")), &o);
        void *s = NULL;
        rc = r ? ray_get_bytes(r, 60, &s, NULL) : RAY_ERR_INVALID;
        printf("cuda %s %s\n", ray_status_name(rc), rc == RAY_OK ? (char *)s : ray_last_error());
        free(s);
        ray_ref_release(r);
        ray_pg_remove(pg);
    }
    ray_pg_release(pg);
    return rc != RAY_OK;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: pg layout|pending|waitname|removename|work|kill|bad ...\n");
        return 2;
    }
    if (ray_init(NULL) != RAY_OK) {
        fprintf(stderr, "pg: %s\n", ray_last_error());
        return 1;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    int rc = 2;
    const char *cmd = argv[1];
    if (strcmp(cmd, "layout") == 0 && argc == 5) {
        rc = layout(argv[2], atoi(argv[3]), atof(argv[4]));
    } else if (strcmp(cmd, "pending") == 0 && argc == 6) {
        ray_pg *pg = make(strategy_of(argv[3]), atoi(argv[4]), atof(argv[5]), argv[2], 1);
        rc = pg ? (wait_print(pg, 2), 0) : 1;
        ray_pg_release(pg);
    } else if (strcmp(cmd, "waitname") == 0 && argc == 4) {
        rc = waitname(argv[2], atof(argv[3]));
    } else if (strcmp(cmd, "removename") == 0 && argc == 3) {
        rc = removename(argv[2]);
    } else if (strcmp(cmd, "work") == 0) {
        rc = work();
    } else if (strcmp(cmd, "nested") == 0) {
        rc = nested();
    } else if (strcmp(cmd, "kill") == 0) {
        rc = kill_running();
    } else if (strcmp(cmd, "gpu") == 0) {
        rc = gpu();
    } else if (strcmp(cmd, "bad") == 0) {
        rc = bad();
    } else {
        fprintf(stderr, "pg: unknown command or wrong arguments\n");
    }
    ray_shutdown();
    return rc;
}
