/* gcs_server's command line: long options only, "--name=value" or "--name value". */
#include "gcs/gcs_server.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/frame.h"
#include "common/util.h"

enum opt_key { OPT_PORT, OPT_HOST, OPT_TOKEN, OPT_SESSION, OPT_DB, OPT_LOG,
               OPT_HEALTH, OPT_MAX_FRAME, OPT_METRICS, OPT_TASK_EVENTS };

static const struct {
    const char *name;
    enum opt_key key;
} options[] = {
    {"port", OPT_PORT},
    {"host", OPT_HOST},
    {"token-file", OPT_TOKEN},
    {"session-name", OPT_SESSION},
    {"db", OPT_DB},
    {"log-file", OPT_LOG},
    {"health-check-timeout-ms", OPT_HEALTH},
    {"max-frame-bytes", OPT_MAX_FRAME},
    {"metrics-export-port", OPT_METRICS},
    {"task-events-max-num-task-in-gcs", OPT_TASK_EVENTS},
};

static const char usage[] =
    "usage: gcs_server --token-file PATH --session-name NAME [options]\n"
    "  --port N                     TCP port (default 6379)\n"
    "  --host IP                    bind address (default 0.0.0.0)\n"
    "  --token-file PATH            cluster token file (required)\n"
    "  --session-name NAME          session name kept on first start (required)\n"
    "  --db PATH                    SQLite file (default ./gcs.db)\n"
    "  --log-file PATH              log file (default stderr)\n"
    "  --health-check-timeout-ms N  a node silent this long is dead (default\n"
    "                               RAY_health_check_period_ms * RAY_health_check_failure_threshold)\n"
    "  --max-frame-bytes N          largest frame accepted (default 16 MiB)\n"
    "  --metrics-export-port N      Prometheus /metrics (default 0: a free port, written\n"
    "                               to gcs_metrics.port next to the db)\n"
    "  --task-events-max-num-task-in-gcs N\n"
    "                               task attempts (and actors) kept for the state API\n"
    "                               (default RAY_task_events_max_num_task_in_gcs, 100000)\n";

const char *gcs_config_usage(void) { return usage; }

/* Reads the integer environment variable NAME in [1, MAX], else DEF. */
static long env_long(const char *name, long def, long max)
{
    long v;
    const char *s = getenv(name);
    return s != NULL && parse_long(s, 1, max, &v) == 0 ? v : def;
}

static void config_defaults(gcs_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->host = "0.0.0.0";
    cfg->port = 6379;
    cfg->db_path = "./gcs.db";
    cfg->max_frame = FRAME_DEFAULT_MAX;
    long period = env_long("RAY_health_check_period_ms", 2000, 24L * 3600 * 1000);
    long threshold = env_long("RAY_health_check_failure_threshold", 5, 1000);
    cfg->health_timeout_ms = (int64_t)period * threshold;
    cfg->task_events_max = (size_t)env_long("RAY_task_events_max_num_task_in_gcs", 100000,
                                            100000000);
}

/* Stores VALUE for option KEY.  Returns 0 or -EINVAL with ERR set. */
static int config_set(gcs_config *cfg, enum opt_key key, const char *name,
                      const char *value, char *err, size_t errlen)
{
    long v = 0;
    int rc = 0;
    switch (key) {
    case OPT_PORT: rc = parse_long(value, 1, 65535, &v); cfg->port = (int)v; break;
    case OPT_HOST: cfg->host = value; break;
    case OPT_TOKEN: cfg->token_file = value; break;
    case OPT_SESSION:
        rc = strlen(value) > 200 ? -EINVAL : 0;
        cfg->session_name = value;
        break;
    case OPT_DB: cfg->db_path = value; break;
    case OPT_LOG: cfg->log_file = value; break;
    case OPT_HEALTH:
        rc = parse_long(value, 100, 24L * 3600 * 1000, &v);
        cfg->health_timeout_ms = v;
        break;
    case OPT_TASK_EVENTS:
        rc = parse_long(value, 1, 100000000, &v);
        cfg->task_events_max = (size_t)v;
        break;
    case OPT_MAX_FRAME:
        rc = parse_long(value, 1024, 1L << 30, &v);
        cfg->max_frame = (size_t)v;
        break;
    case OPT_METRICS:
        rc = parse_long(value, 0, 65535, &v);
        cfg->metrics_port = (int)v;
        break;
    }
    if (rc != 0 || value[0] == '\0') {
        snprintf(err, errlen, "invalid value for --%s: '%s'", name, value);
        return -EINVAL;
    }
    return 0;
}

/* Finds option NAME (LEN characters), or -1. */
static int find_option(const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof options / sizeof options[0]; i++)
        if (strlen(options[i].name) == len && memcmp(options[i].name, name, len) == 0)
            return (int)i;
    return -1;
}

/* Parses ARGV[*I] (and its value, advancing *I when it is the next word). */
static int parse_one(int argc, char **argv, int *i, gcs_config *cfg, char *err, size_t errlen)
{
    const char *arg = argv[*i];
    if (strncmp(arg, "--", 2) != 0) {
        snprintf(err, errlen, "unexpected argument '%s'", arg);
        return -EINVAL;
    }
    const char *name = arg + 2;
    const char *eq = strchr(name, '=');
    size_t len = eq ? (size_t)(eq - name) : strlen(name);
    int o = find_option(name, len);
    if (o < 0) {
        snprintf(err, errlen, "unknown option '%.*s'", (int)(len + 2), arg);
        return -EINVAL;
    }
    const char *value = eq ? eq + 1 : NULL;
    if (value == NULL) {
        if (*i + 1 >= argc) {
            snprintf(err, errlen, "option --%s needs a value", options[o].name);
            return -EINVAL;
        }
        value = argv[++*i];
    }
    return config_set(cfg, options[o].key, options[o].name, value, err, errlen);
}

int gcs_config_parse(int argc, char **argv, gcs_config *cfg, char *err, size_t errlen)
{
    config_defaults(cfg);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0)
            return GCS_CONFIG_HELP;
        int rc = parse_one(argc, argv, &i, cfg, err, errlen);
        if (rc != 0)
            return rc;
    }
    if (cfg->token_file == NULL || cfg->session_name == NULL) {
        snprintf(err, errlen, "--%s is required", cfg->token_file ? "session-name" : "token-file");
        return -EINVAL;
    }
    return GCS_CONFIG_OK;
}
