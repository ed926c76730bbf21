/* `ray microbenchmark`: the C API's benchmark (cli_bench*.c), or with
 * --python Ray's Python microbenchmark (python -m ray._private.ray_perf). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli_bench.h"
#include "cli/cli_cmds.h"
#include "cli/cli_pypath.h"

#define MICROBENCH_MAX_ARGS 64

/* Replaces this process with the Python microbenchmark, passing on every
 * argument but --python.  Returns only on failure (1). */
static int run_python(int argc, char **argv)
{
    const char *python = getenv("RAYC_PYTHON");
    char *args[MICROBENCH_MAX_ARGS + 4];
    size_t n = 0;
    python = python && *python ? python : "/usr/bin/python3";
    args[n++] = (char *)python;
    args[n++] = "-m";
    args[n++] = "ray._private.ray_perf";
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--python") == 0)
            continue;
        if (n == MICROBENCH_MAX_ARGS + 3) {
            fprintf(stderr, "Error: too many arguments for `ray microbenchmark --python`\n");
            return 2;
        }
        args[n++] = argv[i];
    }
    args[n] = NULL;
    cli_export_python_path();
    execv(python, args);
    fprintf(stderr, "Error: cannot run %s (set RAYC_PYTHON): %s\n", python, strerror(errno));
    return 1;
}

int cmd_microbenchmark(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--python") == 0)
            return run_python(argc, argv);
    return runtime_microbenchmark_main(argc, argv);
}
