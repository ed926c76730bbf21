/* `ray microbenchmark`: Ray's microbenchmark metrics for rayc.
 *
 * bin/ray (cli_microbench.c) and build/bench/runtime_microbenchmark call
 * runtime_microbenchmark_main with the arguments after "microbenchmark".
 * It drives a cluster through the public C API only; not part of libray. */
#ifndef RAYC_CLI_CLI_BENCH_H
#define RAYC_CLI_CLI_BENCH_H

#include <limits.h>
#include <stddef.h>

/* Runs the benchmarks against a temporary local head (`ray start --head`
 * in a temp dir, stopped at the end) or, with --address, an existing
 * cluster.  Prints one line per metric, "<name> per second <mean> +- <std>",
 * plus the machine's limits beside the metrics they bound.  Returns the
 * process exit code: 0, 1 when the cluster could not be started or a
 * benchmark failed, 2 for a bad command line. */
int runtime_microbenchmark_main(int argc, char **argv);

/* ---------------------------------------------------------------- internals */

/* A temporary head started for the benchmarks. */
typedef struct cli_bench_head {
    char dir[PATH_MAX];
    char ray[PATH_MAX];
    char addr[64];
    char token_file[PATH_MAX + 16];
    int started;
} cli_bench_head;

/* Starts the head with NUM_CPUS (NULL: detect).  Returns 0 or -1 with ERR. */
int cli_bench_head_start(cli_bench_head *h, const char *num_cpus, char *err, size_t errlen);

/* Stops the head and removes its directory. */
void cli_bench_head_stop(cli_bench_head *h);

/* The machine's limits: memcpy bandwidth in GB/s between two warm buffers
 * of SIZE bytes, and Unix-socket ping-pong round trips per second between
 * two processes, each measured for SECONDS (RUNS times into MEAN/SD). */
void cli_bench_memcpy(size_t size, double seconds, int runs, double *mean, double *sd);
void cli_bench_pingpong(double seconds, int runs, double *mean, double *sd);

/* Round trips per second through a middle process (A -> B -> C -> B -> A):
 * the shape of a task's path, driver -> raylet -> worker and back. */
void cli_bench_relay(double seconds, int runs, double *mean, double *sd);

#endif
