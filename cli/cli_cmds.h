/* The `ray` subcommands implemented in cli/.  Each returns the exit code. */
#ifndef RAYC_CLI_CLI_CMDS_H
#define RAYC_CLI_CLI_CMDS_H

int cmd_start(int argc, char **argv);
int cmd_stop(int argc, char **argv);
int cmd_status(int argc, char **argv);

/* `ray microbenchmark [--python] ...`: the C API's benchmark, or with
 * --python Ray's Python one ($RAYC_PYTHON, else /usr/bin/python3). */
int cmd_microbenchmark(int argc, char **argv);

/* `ray metrics launch-prometheus|shutdown-prometheus` (cli_metrics.c). */
int cmd_metrics(int argc, char **argv);

#endif
