/* Internal to the `ray job` CLI (jobs_cli.c, jobs_cli_submit.c,
 * jobs_cli_upload.c): option parsing and Ray's output wording. */
#ifndef RAYC_JOBCLIENT_JOBS_CLI_INT_H
#define RAYC_JOBCLIENT_JOBS_CLI_INT_H

#include <jansson.h>
#include <stddef.h>

#include "jobclient/jobs_client.h"

/* One option of a subcommand: "--name" (and SHORT_NAME, may be NULL).
 * Flags set *FLAG to 1; the others store their value in *VALUE. */
typedef struct cli_opt {
    const char *name;
    const char *short_name;
    const char **value;
    int *flag;
} cli_opt;

/* Options every subcommand takes (--address, --headers, --verify, logging). */
typedef struct cli_common {
    const char *address;
    const char *headers;
    const char *verify;
    const char *log_style;
    const char *log_color;
    int verbose;
} cli_common;

/* Parses ARGV[1..] of subcommand CMD against OPTS plus the common ones.
 * Positional arguments go to POS (up to MAXPOS; with REST, everything from
 * the first positional or after "--" is positional).  Returns the number of
 * positional arguments, -1 after printing click's usage error, or -2 after
 * printing the usage for --help. */
int jobs__cli_parse(const char *cmd, const char *usage, int argc, char **argv, cli_opt *opts,
                    cli_common *common, char **pos, int maxpos, int rest);

/* Creates the client for COMMON and prints Ray's "Job submission server
 * address: ..." line.  Returns 0, or 1 after printing the error. */
int jobs__cli_client(jobs_client *c, const cli_common *common);

/* Sends a request and decodes a 200 JSON answer into *OUT (may be NULL to
 * ignore the body).  On failure prints Ray's one-line error and returns 1. */
int jobs__cli_call(jobs_client *c, const char *method, const char *path, const char *body,
                   size_t len, const char *ctype, json_t **out);

/* Prints Ray's summary of job ID's status; returns the status name (static
 * storage) or NULL after printing an error. */
const char *jobs__cli_log_status(jobs_client *c, const char *id);

/* Follows the job's log to stdout, then prints its status.  Returns the
 * process exit code: 1 when the job FAILED or the log could not be read. */
int jobs__cli_follow(jobs_client *c, const char *id);

/* Prints a timestamped INFO line the way Ray's SDK logger does. */
void jobs__cli_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Uploads the local working_dir and py_modules of RUNTIME_ENV (replacing
 * them by gcs:// URIs) and reads a pip requirements file, as Ray's client
 * does before submitting.  Returns 0, or 1 after printing the error. */
int jobs__cli_prepare_runtime_env(jobs_client *c, json_t *runtime_env);

/* `ray job submit`. */
int jobs__cli_submit(int argc, char **argv);

#endif
