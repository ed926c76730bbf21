/* build/bench/runtime_microbenchmark: `ray microbenchmark` as a program of
 * its own (run from the repo root, or set RAY_BIN to bin/ray).  Same flags:
 * --duration S, --only SUBSTRING, --num-cpus N, --address IP:PORT. */
#include "cli/cli_bench.h"

int main(int argc, char **argv)
{
    return runtime_microbenchmark_main(argc, argv);
}
