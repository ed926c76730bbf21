/* `ray up` (and `ray-up`): create or update a cluster, and the report that
 * ends it. */
#ifndef RAYC_LAUNCHER_UP_CMD_H
#define RAYC_LAUNCHER_UP_CMD_H

#include <stddef.h>

#include "launcher/up_node.h"

/* Runs `ray up` with ARGV (ARGV[0] is "up").  Returns the exit code: 0 when
 * every node is up-to-date, 1 on failure (the failed nodes are named), 2 on
 * a usage error. */
int up_main(int argc, char **argv);

/* Prints the failures among the N jobs (command, exit code, last output
 * lines, log file) to stderr.  Returns the number of failed jobs. */
size_t up_report_failures(const up_job *jobs, size_t n);

/* Prints Ray's "Useful commands:" block for the cluster file CONFIG_PATH
 * (NAME_FLAG is " --cluster-name=X" or ""), with the token file for
 * `ray job`, and CA_PATH (the cluster CA; NULL when TLS is off) for HTTPS. */
void up_report_useful(const char *config_path, const char *name_flag, const char *token_path,
                      const char *ca_path);

#endif
