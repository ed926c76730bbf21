/* tiny_demo: the "hello world" of Ray in C — squares of 0..N-1 computed
 * as N parallel tasks, then summed by the driver.
 *
 *   RAY_ADDRESS=127.0.0.1:6379 ./tiny_demo [N]      (or TINY_DEMO_N=N in the environment)
 *   ray job submit --working-dir examples/tiny_demo -- ./tiny_demo
 *
 * Python's version:  futures = [square.remote(i) for i in range(N)]
 *                    print(ray.get(futures)) */
#include <stdio.h>
#include <stdlib.h>

#include <ray/ray.h>

int main(int argc, char **argv)
{
    /* N from the command line, else from the job's runtime_env env_vars. */
    const char *env_n = getenv("TINY_DEMO_N");
    long n = argc > 1 ? strtol(argv[1], NULL, 10) : env_n ? strtol(env_n, NULL, 10) : 10;
    if (n < 1 || n > 1000000) {
        fprintf(stderr, "usage: tiny_demo [N], 1 <= N <= 1000000\n");
        return 2;
    }
    if (ray_init(NULL) != RAY_OK) {
        fprintf(stderr, "tiny_demo: %s\n", ray_last_error());
        return 1;
    }
    ray_ref **refs = calloc((size_t)n, sizeof *refs);
    int rc = refs ? RAY_OK : RAY_ERR_NOMEM;
    for (long i = 0; i < n && rc == RAY_OK; i++)
        if ((refs[i] = ray_call("square", RAY_ARGS(ray_i64(i)), NULL)) == NULL)
            rc = RAY_ERR_CONNECTION;
    int64_t sum = 0;
    printf("squares:");
    for (long i = 0; i < n && rc == RAY_OK; i++) {
        int64_t v;
        rc = ray_get_i64(refs[i], 60.0, &v);
        if (rc == RAY_OK) {
            printf(" %lld", (long long)v);
            sum += v;
        }
    }
    printf("\n");
    for (long i = 0; refs != NULL && i < n; i++)
        ray_ref_release(refs[i]);
    free(refs);
    if (rc != RAY_OK)
        fprintf(stderr, "tiny_demo: %s: %s\n", ray_status_name(rc), ray_last_error());
    else
        printf("sum of squares of 0..%ld: %lld\n", n - 1, (long long)sum);
    ray_shutdown();
    return rc == RAY_OK ? 0 : 1;
}
