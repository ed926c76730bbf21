/* The raylet's command line. */
#include "raylet/raylet_opts.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "common/cmdline.h"
#include "common/net.h"

enum opt_id {
    OPT_GCS_ADDRESS, OPT_TOKEN_FILE, OPT_NODE_ID, OPT_NODE_IP, OPT_NM_PORT,
    OPT_NODE_DIR, OPT_HEAD, OPT_NUM_CPUS, OPT_NUM_GPUS, OPT_MEMORY,
    OPT_OBJECT_STORE, OPT_RESOURCES, OPT_LABELS, OPT_LOG_FILE,
    OPT_REPORT_PERIOD, OPT_RECONNECT_TIMEOUT, OPT_AGENT_PORT, OPT_METRICS_PORT, OPT_PLASMA_DIR, OPT_SPILL_DIR,
    OPT_HELP,
};

/* Every flag is long; the values are enum opt_id + 1 (getopt's 0 is taken). */
static const struct option opt_table[] = {
    {"gcs-address", required_argument, NULL, OPT_GCS_ADDRESS + 1},
    {"token-file", required_argument, NULL, OPT_TOKEN_FILE + 1},
    {"node-id", required_argument, NULL, OPT_NODE_ID + 1},
    {"node-ip-address", required_argument, NULL, OPT_NODE_IP + 1},
    {"node-manager-port", required_argument, NULL, OPT_NM_PORT + 1},
    {"node-dir", required_argument, NULL, OPT_NODE_DIR + 1},
    {"head", no_argument, NULL, OPT_HEAD + 1},
    {"num-cpus", required_argument, NULL, OPT_NUM_CPUS + 1},
    {"num-gpus", required_argument, NULL, OPT_NUM_GPUS + 1},
    {"memory", required_argument, NULL, OPT_MEMORY + 1},
    {"object-store-memory", required_argument, NULL, OPT_OBJECT_STORE + 1},
    {"resources", required_argument, NULL, OPT_RESOURCES + 1},
    {"labels", required_argument, NULL, OPT_LABELS + 1},
    {"log-file", required_argument, NULL, OPT_LOG_FILE + 1},
    {"report-period-ms", required_argument, NULL, OPT_REPORT_PERIOD + 1},
    {"gcs-reconnect-timeout-s", required_argument, NULL, OPT_RECONNECT_TIMEOUT + 1},
    {"dashboard-agent-port", required_argument, NULL, OPT_AGENT_PORT + 1},
    {"metrics-export-port", required_argument, NULL, OPT_METRICS_PORT + 1},
    {"plasma-directory", required_argument, NULL, OPT_PLASMA_DIR + 1},
    {"object-spilling-directory", required_argument, NULL, OPT_SPILL_DIR + 1},
    {"help", no_argument, NULL, OPT_HELP + 1},
    {NULL, 0, NULL, 0},
};

void raylet_opts_usage(FILE *out)
{
    fputs("usage: raylet --gcs-address IP:PORT --token-file PATH --node-id HEX56\n"
          "              --node-ip-address IP --node-manager-port N --node-dir DIR\n"
          "              [--head] [--num-cpus N] [--num-gpus N] [--memory BYTES]\n"
          "              [--object-store-memory BYTES] [--resources JSON] [--labels JSON]\n"
          "              [--log-file PATH] [--report-period-ms N (1000)]\n"
          "              [--gcs-reconnect-timeout-s N (60)] [--dashboard-agent-port N]\n"
          "              [--metrics-export-port N (0: a free port)]\n"
          "              [--plasma-directory DIR ($RAY_object_store_shm_dir or /dev/shm)]\n"
          "              [--object-spilling-directory DIR (NODE_DIR/spill)]\n",
          out);
}

/* ---------------------------------------------------------------- values */

/* A non-empty string no longer than PATH_MAX - 64 (room for file names). */
static int check_path(const char *v)
{
    size_t n = strlen(v);
    return n > 0 && n < PATH_MAX - 64 ? 0 : -EINVAL;
}

/* 56 hex characters, stored lower-cased in OUT. */
static int parse_node_id(const char *v, char *out)
{
    if (strlen(v) != NODE_ID_HEX_LEN)
        return -EINVAL;
    for (size_t i = 0; i < NODE_ID_HEX_LEN; i++) {
        if (!isxdigit((unsigned char)v[i]))
            return -EINVAL;
        out[i] = (char)tolower((unsigned char)v[i]);
    }
    out[NODE_ID_HEX_LEN] = '\0';
    return 0;
}

static int parse_ipv4(const char *v)
{
    struct in_addr a;
    return inet_pton(AF_INET, v, &a) == 1 ? 0 : -EINVAL;
}

static int parse_int_into(const char *v, long min, long max, int *out)
{
    long x;
    int rc = parse_long(v, min, max, &x);
    if (rc == 0)
        *out = (int)x;
    return rc;
}

static int parse_bytes(const char *v, int64_t *out)
{
    long x;
    int rc = parse_long(v, 0, INT64_MAX, &x);
    if (rc == 0)
        *out = x;
    return rc;
}

/* Stores value V of option ID in O.  Returns 0 or -EINVAL. */
static int apply(raylet_opts *o, enum opt_id id, const char *v)
{
    switch (id) {
    case OPT_GCS_ADDRESS:
        return net_parse_hostport(v, -1, o->gcs_host, sizeof o->gcs_host, &o->gcs_port);
    case OPT_TOKEN_FILE:    return check_path(o->token_file = v);
    case OPT_NODE_ID:       return parse_node_id(v, o->node_id);
    case OPT_NODE_IP:       return parse_ipv4(o->node_ip = v);
    case OPT_NM_PORT:       return parse_int_into(v, 0, 65535, &o->node_manager_port);
    case OPT_NODE_DIR:      return check_path(o->node_dir = v);
    case OPT_HEAD:          o->head = 1; return 0;
    case OPT_NUM_CPUS:      return parse_long(v, 0, 1000000, &o->num_cpus);
    case OPT_NUM_GPUS:      return parse_long(v, 0, 100000, &o->num_gpus);
    case OPT_MEMORY:        return parse_bytes(v, &o->memory);
    case OPT_OBJECT_STORE:  return parse_bytes(v, &o->object_store_memory);
    case OPT_RESOURCES:     o->resources_json = v; return *v ? 0 : -EINVAL;
    case OPT_LABELS:        o->labels_json = v; return *v ? 0 : -EINVAL;
    case OPT_LOG_FILE:      return check_path(o->log_file = v);
    case OPT_REPORT_PERIOD: return parse_long(v, 1, 3600000, &o->report_period_ms);
    case OPT_RECONNECT_TIMEOUT: return parse_long(v, 1, 31536000, &o->reconnect_timeout_s);
    case OPT_AGENT_PORT:    return parse_int_into(v, 0, 65535, &o->agent_port);
    case OPT_METRICS_PORT:  return parse_int_into(v, 0, 65535, &o->metrics_export_port);
    case OPT_PLASMA_DIR:    return check_path(o->plasma_dir = v);
    case OPT_SPILL_DIR:     return check_path(o->spill_dir = v);
    case OPT_HELP:          o->help = 1; return 0;
    }
    return -EINVAL;
}

/* ---------------------------------------------------------------- parsing */

static void set_defaults(raylet_opts *o)
{
    memset(o, 0, sizeof *o);
    o->gcs_port = -1;
    o->node_manager_port = -1;
    o->num_cpus = -1;
    o->num_gpus = -1;
    o->memory = -1;
    o->object_store_memory = -1;
    o->report_period_ms = 1000;
    o->reconnect_timeout_s = 60;
}

/* Names the first required flag that is missing, or returns 0. */
static int check_required(const raylet_opts *o, char *err, size_t errlen)
{
    const char *missing = o->gcs_port < 0              ? "--gcs-address"
                          : o->token_file == NULL      ? "--token-file"
                          : o->node_id[0] == '\0'      ? "--node-id"
                          : o->node_ip == NULL         ? "--node-ip-address"
                          : o->node_manager_port < 0   ? "--node-manager-port"
                          : o->node_dir == NULL        ? "--node-dir"
                                                       : NULL;
    if (missing == NULL)
        return 0;
    snprintf(err, errlen, "%s is required", missing);
    return -EINVAL;
}

/* Writes the message for cmdline_next's error RC about WORD into ERR. */
static int flag_error(int rc, const char *word, char *err, size_t errlen)
{
    int len = cmdline_name_len(word);
    if (rc == CMDLINE_MISSING)
        snprintf(err, errlen, "%.200s needs a value", word);
    else if (rc == CMDLINE_NOT_VALUED)
        snprintf(err, errlen, "%.*s takes no value", len > 200 ? 200 : len, word);
    else if (strncmp(word, "--", 2) == 0 && word[2] != '\0')
        snprintf(err, errlen, "unknown flag %.*s", len > 200 ? 200 : len, word);
    else
        snprintf(err, errlen, "unexpected argument '%.200s'", word);
    return -EINVAL;
}

int raylet_opts_parse(raylet_opts *o, int argc, char **argv, char *err, size_t errlen)
{
    set_defaults(o);
    cmdline_reset();
    const char *word;
    int c;
    while ((c = cmdline_next(argc, argv, "+:", opt_table, &word)) != CMDLINE_END) {
        if (c < 0)
            return flag_error(c, word, err, errlen);
        if (apply(o, (enum opt_id)(c - 1), optarg) != 0) {
            snprintf(err, errlen, "bad value for %.*s: '%.200s'", cmdline_name_len(word), word,
                     optarg ? optarg : "");
            return -EINVAL;
        }
    }
    if (optind < argc)
        return flag_error(CMDLINE_UNKNOWN, argv[optind], err, errlen);
    return o->help ? 0 : check_required(o, err, errlen);
}
