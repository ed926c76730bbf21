/* `ray list|get|summary|logs|timeline`: Ray's state CLI over the state API
 * of the dashboard port (jobserver/state_api.c). */
#ifndef RAYC_CLI_CLI_STATE_H
#define RAYC_CLI_CLI_STATE_H

#include <jansson.h>
#include <stdio.h>

#include "jobclient/jobs_client.h"

/* Options common to the state commands. */
typedef struct state_opts {
    const char *address;          /* --address: the dashboard (API server) */
    const char *format;           /* default | json | yaml | table */
    const char *filters[32];      /* "key=value" or "key!=value" */
    int nfilters;
    long limit;
    int detail;
    const char *output;           /* ray timeline --output */
    const char *node_id, *node_ip, *actor_id, *task_id, *glob;
    long tail;
    int follow;
    int help;                     /* --help: print the usage and exit 0 */
    const char *positional[4];
    int npositional;
} state_opts;

/* Parses ARGV[1..] into O.  Returns 0, or 2 after printing one error line. */
int cli_state_parse(int argc, char **argv, state_opts *o);

/* Connects a client to the dashboard that O (or the environment) names:
 * --address, RAY_API_SERVER_ADDRESS, else the host of RAY_ADDRESS (a GCS
 * address) with port 8265, else http://127.0.0.1:8265.  Returns 0 or 1
 * after printing the error. */
int cli_state_client(const state_opts *o, jobs_client *c);

/* GETs PATH and returns the "data" of Ray's envelope (a new reference), or
 * NULL after printing Ray's error line. */
json_t *cli_state_get(jobs_client *c, const char *path);

/* Prints LIST (objects) in FORMAT to OUT (a table with a header for
 * "default"/"table", a JSON array, or a YAML list). */
void cli_state_print_list(FILE *out, json_t *list, const char *format);

/* Prints one value as YAML at INDENT. */
void cli_state_print_yaml(FILE *out, json_t *v, int indent);

int cmd_list(int argc, char **argv);
int cmd_get(int argc, char **argv);
int cmd_summary(int argc, char **argv);
int cmd_logs(int argc, char **argv);
int cmd_timeline(int argc, char **argv);

#endif
