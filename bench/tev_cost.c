/* tev_cost: the driver of bench/task_events_cost.py.  Stays connected (one
 * job, its workers kept warm) and runs a burst per line of stdin:
 *
 *   RAY_ADDRESS=IP:PORT build/bench/tev_cost      then lines "N"
 *
 * submits N tev_square tasks at once, gets every result (as
 * single_client_tasks_async does) and prints "ok N" (or "error: ...").
 * Ends at end of input. */
#include <stdio.h>
#include <stdlib.h>

#include <ray/ray.h>

/* N tasks at once, then their results.  Returns 0 or -1. */
static int burst(long n)
{
    ray_ref **refs = calloc((size_t)n, sizeof *refs);
    int rc = refs != NULL ? 0 : -1;
    for (long i = 0; i < n && rc == 0; i++)
        if ((refs[i] = ray_call("tev_square", RAY_ARGS(ray_i64(i)), NULL)) == NULL)
            rc = -1;
    for (long i = 0; refs != NULL && i < n; i++) {
        int64_t v;
        if (rc == 0 && (refs[i] == NULL || ray_get_i64(refs[i], 300.0, &v) != RAY_OK || v != i * i))
            rc = -1;
        ray_ref_release(refs[i]);
    }
    free(refs);
    return rc;
}

int main(void)
{
    if (ray_init(NULL) != RAY_OK) {
        fprintf(stderr, "tev_cost: %s\n", ray_last_error());
        return 1;
    }
    char line[64];
    while (fgets(line, sizeof line, stdin) != NULL) {
        char *end;
        long n = strtol(line, &end, 10);
        if (n < 1 || n > 1000000 || (*end != '\n' && *end != '\0')) {
            printf("error: want a task count from 1 to 1000000\n");
        } else if (burst(n) != 0) {
            printf("error: %s\n", ray_last_error());
        } else {
            printf("ok %ld\n", n);
        }
        fflush(stdout);
    }
    ray_shutdown();
    return 0;
}
