/* The `ray` subcommands implemented in cli/.  Each returns the exit code. */
#ifndef RAYC_CLI_CLI_CMDS_H
#define RAYC_CLI_CLI_CMDS_H

int cmd_start(int argc, char **argv);
int cmd_stop(int argc, char **argv);
int cmd_status(int argc, char **argv);

/* `ray metrics launch-prometheus|shutdown-prometheus` (cli_metrics.c). */
int cmd_metrics(int argc, char **argv);

#endif
