/* The raylet's command line. */
#include "raylet/raylet_opts.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "common/net.h"

enum opt_id {
    OPT_GCS_ADDRESS, OPT_TOKEN_FILE, OPT_NODE_ID, OPT_NODE_IP, OPT_NM_PORT,
    OPT_NODE_DIR, OPT_HEAD, OPT_NUM_CPUS, OPT_NUM_GPUS, OPT_MEMORY,
    OPT_OBJECT_STORE, OPT_RESOURCES, OPT_LABELS, OPT_LOG_FILE,
    OPT_REPORT_PERIOD, OPT_RECONNECT_TIMEOUT, OPT_AGENT_PORT, OPT_METRICS_PORT, OPT_PLASMA_DIR, OPT_SPILL_DIR,
    OPT_HELP,
};

typedef struct opt_spec {
    const char *name;
    enum opt_id id;
    int takes_value;
} opt_spec;

static const opt_spec opt_table[] = {
    {"gcs-address", OPT_GCS_ADDRESS, 1},
    {"token-file", OPT_TOKEN_FILE, 1},
    {"node-id", OPT_NODE_ID, 1},
    {"node-ip-address", OPT_NODE_IP, 1},
    {"node-manager-port", OPT_NM_PORT, 1},
    {"node-dir", OPT_NODE_DIR, 1},
    {"head", OPT_HEAD, 0},
    {"num-cpus", OPT_NUM_CPUS, 1},
    {"num-gpus", OPT_NUM_GPUS, 1},
    {"memory", OPT_MEMORY, 1},
    {"object-store-memory", OPT_OBJECT_STORE, 1},
    {"resources", OPT_RESOURCES, 1},
    {"labels", OPT_LABELS, 1},
    {"log-file", OPT_LOG_FILE, 1},
    {"report-period-ms", OPT_REPORT_PERIOD, 1},
    {"gcs-reconnect-timeout-s", OPT_RECONNECT_TIMEOUT, 1},
    {"dashboard-agent-port", OPT_AGENT_PORT, 1},
    {"metrics-export-port", OPT_METRICS_PORT, 1},
    {"plasma-directory", OPT_PLASMA_DIR, 1},
    {"object-spilling-directory", OPT_SPILL_DIR, 1},
    {"help", OPT_HELP, 0},
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

static const opt_spec *find_opt(const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof opt_table / sizeof opt_table[0]; i++)
        if (strlen(opt_table[i].name) == len && strncmp(opt_table[i].name, name, len) == 0)
            return &opt_table[i];
    return NULL;
}

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

/* Parses the option at ARGV[*I] (and its value) and advances *I. */
static int parse_one(raylet_opts *o, int argc, char **argv, int *i, char *err, size_t errlen)
{
    const char *arg = argv[*i];
    if (strncmp(arg, "--", 2) != 0 || arg[2] == '\0') {
        snprintf(err, errlen, "unexpected argument '%.200s'", arg);
        return -EINVAL;
    }
    const char *eq = strchr(arg + 2, '=');
    size_t len = eq ? (size_t)(eq - arg - 2) : strlen(arg + 2);
    const opt_spec *s = find_opt(arg + 2, len);
    if (s == NULL) {
        snprintf(err, errlen, "unknown flag --%.*s", (int)(len > 200 ? 200 : len), arg + 2);
        return -EINVAL;
    }
    const char *v = eq ? eq + 1 : NULL;
    if (!s->takes_value && v != NULL) {
        snprintf(err, errlen, "--%s takes no value", s->name);
        return -EINVAL;
    }
    if (s->takes_value && v == NULL) {
        if (*i + 1 >= argc) {
            snprintf(err, errlen, "--%s needs a value", s->name);
            return -EINVAL;
        }
        v = argv[++*i];
    }
    if (apply(o, s->id, v) != 0) {
        snprintf(err, errlen, "bad value for --%s: '%.200s'", s->name, v);
        return -EINVAL;
    }
    return 0;
}

int raylet_opts_parse(raylet_opts *o, int argc, char **argv, char *err, size_t errlen)
{
    set_defaults(o);
    for (int i = 1; i < argc; i++) {
        int rc = parse_one(o, argc, argv, &i, err, errlen);
        if (rc != 0)
            return rc;
    }
    return o->help ? 0 : check_required(o, err, errlen);
}
