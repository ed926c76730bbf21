/* gcs_server's command line: long options only, "--name=value" or "--name value"
 * (getopt_long through common/cmdline). */
#include "gcs/gcs_server.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cmdline.h"
#include "common/frame.h"
#include "common/util.h"

enum opt_key { OPT_PORT, OPT_HOST, OPT_TOKEN, OPT_SESSION, OPT_DB, OPT_LOG,
               OPT_HEALTH, OPT_MAX_FRAME, OPT_METRICS, OPT_TASK_EVENTS, OPT_HELP };

/* Every option is long and takes a value; the values are enum opt_key + 1. */
static const struct option options[] = {
    {"port", required_argument, NULL, OPT_PORT + 1},
    {"host", required_argument, NULL, OPT_HOST + 1},
    {"token-file", required_argument, NULL, OPT_TOKEN + 1},
    {"session-name", required_argument, NULL, OPT_SESSION + 1},
    {"db", required_argument, NULL, OPT_DB + 1},
    {"log-file", required_argument, NULL, OPT_LOG + 1},
    {"health-check-timeout-ms", required_argument, NULL, OPT_HEALTH + 1},
    {"max-frame-bytes", required_argument, NULL, OPT_MAX_FRAME + 1},
    {"metrics-export-port", required_argument, NULL, OPT_METRICS + 1},
    {"task-events-max-num-task-in-gcs", required_argument, NULL, OPT_TASK_EVENTS + 1},
    {"help", no_argument, NULL, OPT_HELP + 1},
    {NULL, 0, NULL, 0},
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
    case OPT_HELP:
        break;
    }
    if (rc != 0 || value[0] == '\0') {
        snprintf(err, errlen, "invalid value for --%s: '%s'", name, value);
        return -EINVAL;
    }
    return 0;
}

/* Writes the message for cmdline_next's error RC about WORD into ERR. */
static int option_error(int rc, const char *word, char *err, size_t errlen)
{
    int len = cmdline_name_len(word);
    if (rc == CMDLINE_MISSING)
        snprintf(err, errlen, "option %s needs a value", word);
    else if (strncmp(word, "--", 2) == 0)
        snprintf(err, errlen, "unknown option '%.*s'", len, word);
    else
        snprintf(err, errlen, "unexpected argument '%s'", word);
    return -EINVAL;
}

int gcs_config_parse(int argc, char **argv, gcs_config *cfg, char *err, size_t errlen)
{
    config_defaults(cfg);
    cmdline_reset();
    const char *word;
    int c;
    while ((c = cmdline_next(argc, argv, "+:", options, &word)) != CMDLINE_END) {
        if (c == OPT_HELP + 1)
            return GCS_CONFIG_HELP;
        if (c < 0)
            return option_error(c, word, err, errlen);
        int rc = config_set(cfg, (enum opt_key)(c - 1), options[c - 1].name, optarg, err, errlen);
        if (rc != 0)
            return rc;
    }
    if (optind < argc)
        return option_error(CMDLINE_UNKNOWN, argv[optind], err, errlen);
    if (cfg->token_file == NULL || cfg->session_name == NULL) {
        snprintf(err, errlen, "--%s is required", cfg->token_file ? "session-name" : "token-file");
        return -EINVAL;
    }
    return GCS_CONFIG_OK;
}
