/* Ray's `ray start` flags that on-prem start lines carry: value checks and notes. */
#include "cli/cli_compat.h"

#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/util.h"

/* What each accepted-only flag does not change, and why. */
static const struct {
    const char *flag;
    const char *note;
} notes[] = {
    {"min-worker-port", "rayc workers listen only on Unix sockets in the node directory, so "
                        "they open no TCP port and the range is not used"},
    {"max-worker-port", "rayc workers listen only on Unix sockets in the node directory, so "
                        "they open no TCP port and the range is not used"},
    {"worker-port-list", "rayc workers listen only on Unix sockets in the node directory, so "
                         "they open no TCP port and the list is not used"},
    {"ray-client-server-port", "rayc has no Ray Client server (drivers link libray), so "
                               "nothing listens on it"},
    {"runtime-env-agent-port", "runtime_env is set up by the job server itself, so no "
                               "runtime env agent listens on it"},
    {"dashboard-agent-grpc-port", "the job agent speaks HTTP only, on "
                                  "--dashboard-agent-listen-port, so nothing listens on it"},
    {"object-manager-port", "objects travel over the node manager port "
                            "(--node-manager-port), so nothing listens on it"},
    {"no-monitor", "rayc runs no autoscaler monitor"},
    {"autoscaling-config", "rayc runs no autoscaler, so the file is not read"},
    {"storage", "rayc has no cluster storage, so the path is not used"},
    {"redis-password", "rayc has no Redis; clients prove themselves with the cluster token "
                       "(--auth-token-file)"},
    {"disable-usage-stats", "rayc collects no usage stats"},
};

void compat_note(const char *flag)
{
    for (size_t i = 0; i < sizeof notes / sizeof notes[0]; i++) {
        if (strcmp(notes[i].flag, flag) == 0) {
            fprintf(stderr, "Note: --%s changes nothing here: %s.\n", flag, notes[i].note);
            return;
        }
    }
    fprintf(stderr, "Note: --%s changes nothing here.\n", flag);
}

int compat_parse_bool(const char *flag, const char *value, int *out)
{
    static const char *yes[] = {"1", "true", "t", "yes", "y", "on"};
    static const char *no[] = {"0", "false", "f", "no", "n", "off"};
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
        if (strcasecmp(value, yes[i]) == 0 || strcasecmp(value, no[i]) == 0) {
            *out = strcasecmp(value, yes[i]) == 0;
            return 0;
        }
    }
    fprintf(stderr, "Error: Invalid value for '--%s': '%s' is not a valid boolean.\n", flag,
            value);
    return -EINVAL;
}

/* ---------------------------------------------------------------- worker ports */

/* Parses one worker port of FLAG: 0 (when ZERO_OK) or 1024..65535. */
static int worker_port(const char *flag, const char *value, int zero_ok, long *out)
{
    if (parse_long(value, LONG_MIN, LONG_MAX, out) != 0) {
        fprintf(stderr, "Error: Invalid value for '--%s': '%s' is not a valid integer.\n", flag,
                value);
        return -EINVAL;
    }
    if ((*out == 0 && zero_ok) || (*out >= 1024 && *out <= 65535))
        return 0;
    if (zero_ok)
        fprintf(stderr, "Error: Invalid value for '--%s': it must be 0 or an integer between "
                        "1024 and 65535, got %ld.\n", flag, *out);
    else
        fprintf(stderr, "Error: Invalid value for '--%s': ports must be between 1024 and "
                        "65535, got %ld.\n", flag, *out);
    return -EINVAL;
}

static int check_port_list(const char *list)
{
    char item[32];
    const char *p = list;
    do {
        size_t n = strcspn(p, ",");
        long port;
        if (n == 0 || n >= sizeof item) {
            fprintf(stderr, "Error: Invalid value for '--worker-port-list': '%s' is not a "
                            "comma-separated list of integers.\n", list);
            return -EINVAL;
        }
        memcpy(item, p, n);
        item[n] = '\0';
        if (worker_port("worker-port-list", item, 0, &port) != 0)
            return -EINVAL;
        p += n;
    } while (*p++ == ',');
    return 0;
}

int compat_check_worker_ports(const char *min, const char *max, const char *list)
{
    long lo = 0, hi = 0;
    if ((min != NULL && worker_port("min-worker-port", min, 1, &lo) != 0) ||
        (max != NULL && worker_port("max-worker-port", max, 1, &hi) != 0))
        return -EINVAL;
    if (min != NULL && max != NULL && hi != 0 && hi <= lo) {
        fprintf(stderr, "Error: Invalid value for '--max-worker-port': it must be higher than "
                        "--min-worker-port (%ld), got %ld.\n", lo, hi);
        return -EINVAL;
    }
    return list != NULL ? check_port_list(list) : 0;
}

/* ---------------------------------------------------------------- system config */

/* Exports RAY_KEY=VALUE (VALUE as text, see cli_compat.h).  Returns 0 or -errno. */
static int export_key(const char *key, json_t *value)
{
    char name[256], num[64], *dumped = NULL;
    const char *text = num;
    if (snprintf(name, sizeof name, "RAY_%s", key) >= (int)sizeof name || strchr(key, '=') ||
        key[0] == '\0')
        return -EINVAL;
    if (json_is_string(value))
        text = json_string_value(value);
    else if (json_is_integer(value))
        snprintf(num, sizeof num, "%lld", (long long)json_integer_value(value));
    else if (json_is_real(value))
        snprintf(num, sizeof num, "%.17g", json_real_value(value));
    else if (json_is_boolean(value))
        text = json_is_true(value) ? "true" : "false";
    else
        text = dumped = json_dumps(value, JSON_COMPACT);
    int rc = text != NULL && setenv(name, text, 1) == 0 ? 0 : -EINVAL;
    free(dumped);
    return rc;
}

int compat_apply_system_config(const char *json)
{
    json_error_t jerr;
    json_t *obj = json_loads(json, 0, &jerr);
    int rc = json_is_object(obj) ? 0 : -EINVAL;
    const char *key;
    json_t *value;
    if (rc == 0) {
        json_object_foreach(obj, key, value) {
            if (rc == 0 && (rc = export_key(key, value)) != 0)
                fprintf(stderr, "Error: Invalid value for '--system-config': bad key '%.100s'.\n",
                        key);
        }
    } else {
        fprintf(stderr, "Error: Invalid value for '--system-config': it must be a JSON "
                        "object, got: %s\n", json);
    }
    json_decref(obj);
    return rc;
}
