/* The raylet's command line: long options only, "--key=value" or
 * "--key value", parsed into one struct with every value checked. */
#ifndef RAYC_RAYLET_RAYLET_OPTS_H
#define RAYC_RAYLET_RAYLET_OPTS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/util.h"

typedef struct raylet_opts {
    char gcs_host[256];          /* --gcs-address HOST:PORT */
    int gcs_port;
    const char *token_file;      /* --token-file */
    char node_id[NODE_ID_HEX_LEN + 1]; /* --node-id, lower-cased */
    const char *node_ip;         /* --node-ip-address, dotted IPv4 */
    int node_manager_port;       /* --node-manager-port, 0 picks a free port */
    const char *node_dir;        /* --node-dir */
    int head;                    /* --head */
    long num_cpus;               /* --num-cpus, -1 = detect */
    long num_gpus;               /* --num-gpus, -1 = detect */
    int64_t memory;              /* --memory bytes, -1 = default */
    int64_t object_store_memory; /* --object-store-memory bytes, -1 = default */
    const char *resources_json;  /* --resources, NULL when absent */
    const char *labels_json;     /* --labels, NULL when absent */
    const char *log_file;        /* --log-file, NULL: stderr */
    long report_period_ms;       /* --report-period-ms, default 1000 */
    long reconnect_timeout_s;    /* --gcs-reconnect-timeout-s, default 60 */
    int agent_port;              /* --dashboard-agent-port: the node's job agent, 0: none */
    int metrics_export_port;     /* --metrics-export-port: Prometheus text, 0: a free port */
    const char *plasma_dir;      /* --plasma-directory: the arena's dir, NULL: node_shm_dir() */
    const char *spill_dir;       /* --object-spilling-directory, NULL: NODE_DIR/spill */
    int help;                    /* --help was given: nothing else is checked */
} raylet_opts;

/* Parses ARGV[1..ARGC-1] into O.  String fields point into ARGV, which must
 * outlive O.  Returns 0, or -EINVAL with one line in ERR naming the flag
 * ("unknown flag --foo", "bad value for --num-cpus: 'x'", "--node-id is
 * required"); O is then only partly filled. */
int raylet_opts_parse(raylet_opts *o, int argc, char **argv, char *err, size_t errlen);

/* Prints the usage text to OUT. */
void raylet_opts_usage(FILE *out);

#endif
