/* `ray list`, `ray get` and `ray summary`: Ray's state CLI (ray.util.state)
 * against /api/v0 of the dashboard port. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "cli/cli_state.h"
#include "common/cmdline.h"
#include "common/util.h"

#define STATE_PATH_MAX 8192

/* ---------------------------------------------------------------- options */

/* The usage line of `ray CMD` in its click usage error. */
static const char *usage_of(const char *cmd)
{
    static const char *const usages[][2] = {
        {"list", "[OPTIONS] {actors|jobs|placement-groups|nodes|workers|tasks|objects}"},
        {"get", "[OPTIONS] {actors|placement-groups|nodes|workers|tasks|objects} ID"},
        {"summary", "[OPTIONS] {tasks|actors|objects}"},
        {"logs", "[OPTIONS] [cluster] [GLOB]"},
    };
    for (size_t i = 0; i < sizeof usages / sizeof usages[0]; i++)
        if (strcmp(cmd, usages[i][0]) == 0)
            return usages[i][1];
    return "[OPTIONS]";
}

/* Click's usage error for `ray CMD`; returns its exit code 2. */
static int usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int usage_error(const char *cmd, const char *fmt, ...)
{
    char prog[64];
    snprintf(prog, sizeof prog, "ray %s", cmd);
    va_list ap;
    va_start(ap, fmt);
    int rc = cmdline_usage_verror(prog, usage_of(cmd), fmt, ap);
    va_end(ap);
    return rc;
}

static int need_value(int argc, char **argv, int *i, const char **out)
{
    const char *eq = strchr(argv[*i], '=');
    if (strncmp(argv[*i], "--", 2) == 0 && eq != NULL) {
        *out = eq + 1;
        return 0;
    }
    if (*i + 1 >= argc)
        return usage_error(argv[0], "Option '%s' requires an argument.", argv[*i]);
    *out = argv[++*i];
    return 0;
}

static int opt_is(const char *arg, const char *name)
{
    size_t n = strlen(name);
    return strncmp(arg, name, n) == 0 && (arg[n] == '\0' || arg[n] == '=');
}

static int parse_num(const char *cmd, const char *name, const char *v, long lo, long hi,
                     long *out)
{
    if (parse_long(v, lo, hi, out) != 0)
        return usage_error(cmd, "Invalid value for '%s': '%s' is not a valid integer.", name, v);
    return 0;
}

int cli_state_parse(int argc, char **argv, state_opts *o)
{
    memset(o, 0, sizeof *o);
    o->format = "default";
    o->limit = 100;
    o->tail = 1000;
    int is_logs = strcmp(argv[0], "logs") == 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = NULL;
        int rc = 0;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            o->help = 1;
            return 0;
        }
        if (opt_is(a, "--address")) rc = need_value(argc, argv, &i, &o->address);
        else if (opt_is(a, "--format")) rc = need_value(argc, argv, &i, &o->format);
        else if (opt_is(a, "--output") || strcmp(a, "-o") == 0) rc = need_value(argc, argv, &i, &o->output);
        else if (opt_is(a, "--filter") || (!is_logs && strcmp(a, "-f") == 0)) {
            rc = need_value(argc, argv, &i, &v);
            if (rc == 0 && o->nfilters == 32) {
                fprintf(stderr, "Error: at most 32 filters\n");
                rc = 2;
            } else if (rc == 0 && (strchr(v, '=') == NULL || v[0] == '=')) {
                /* Ray raises this one itself, after click: no usage lines. */
                fprintf(stderr, "Error: Invalid filter `%s`. Filters must be in the form "
                        "`key=value` or `key!=value`.\n", v);
                rc = 2;
            } else if (rc == 0) {
                o->filters[o->nfilters++] = v;
            }
        } else if (opt_is(a, "--limit")) {
            rc = need_value(argc, argv, &i, &v);
            if (rc == 0)
                rc = parse_num(argv[0], "--limit", v, 1, 10000, &o->limit);
        } else if (opt_is(a, "--tail")) {
            rc = need_value(argc, argv, &i, &v);
            if (rc == 0)
                rc = parse_num(argv[0], "--tail", v, -1, 1000000, &o->tail);
        } else if (strcmp(a, "--detail") == 0) o->detail = 1;
        else if (strcmp(a, "--follow") == 0 || (is_logs && strcmp(a, "-f") == 0)) o->follow = 1;
        else if (opt_is(a, "--node-id")) rc = need_value(argc, argv, &i, &o->node_id);
        else if (opt_is(a, "--node-ip")) rc = need_value(argc, argv, &i, &o->node_ip);
        else if (opt_is(a, "--actor-id") || (is_logs && strcmp(a, "-a") == 0))
            rc = need_value(argc, argv, &i, &o->actor_id);
        else if (opt_is(a, "--task-id") || (is_logs && strcmp(a, "-t") == 0))
            rc = need_value(argc, argv, &i, &o->task_id);
        else if (opt_is(a, "--glob")) rc = need_value(argc, argv, &i, &o->glob);
        else if (opt_is(a, "--timeout") || opt_is(a, "--interval") || opt_is(a, "--encoding"))
            rc = need_value(argc, argv, &i, &v);   /* accepted; our calls are bounded */
        else if (a[0] == '-' && a[1] != '\0')
            rc = usage_error(argv[0], "No such option: %.*s", cmdline_name_len(a), a);
        else if (o->npositional == 4)
            rc = usage_error(argv[0], "Got unexpected extra argument (%s)", a);
        else
            o->positional[o->npositional++] = a;
        if (rc != 0)
            return rc;
    }
    const char *f = o->format;
    if (strcmp(f, "default") != 0 && strcmp(f, "json") != 0 && strcmp(f, "yaml") != 0 &&
        strcmp(f, "table") != 0)
        return usage_error(argv[0], "Invalid value for '--format': '%s' is not one of "
                           "'default', 'json', 'yaml', 'table'.", f);
    return 0;
}

/* ---------------------------------------------------------------- the client */

int cli_state_client(const state_opts *o, jobs_client *c)
{
    char addr[300], err[512];
    const char *a = o->address;
    const char *gcs = getenv("RAY_ADDRESS");
    if (a == NULL && getenv("RAY_API_SERVER_ADDRESS") == NULL && gcs != NULL && gcs[0] != '\0' &&
        strstr(gcs, "://") == NULL && strcmp(gcs, "auto") != 0) {
        /* RAY_ADDRESS names the GCS (ip:6379); the dashboard is on its host. */
        const char *colon = strrchr(gcs, ':');
        size_t n = colon ? (size_t)(colon - gcs) : strlen(gcs);
        snprintf(addr, sizeof addr, "http://%.*s:8265", (int)(n < 256 ? n : 256), gcs);
        a = addr;
    }
    if (jobs_client_init(c, a, NULL, NULL, err, sizeof err) != 0) {
        fprintf(stderr, "Error: %s\n", err);
        return 1;
    }
    return 0;
}

json_t *cli_state_get(jobs_client *c, const char *path)
{
    long status = 0;
    char *resp = NULL, err[1024];
    size_t len = 0;
    if (jobs_client_request(c, "GET", path, NULL, 0, NULL, &status, &resp, &len, err,
                            sizeof err) != 0) {
        fprintf(stderr, "Error: %s\n", err);
        return NULL;
    }
    json_t *body = json_loadb(resp, len, 0, NULL);
    json_t *data = NULL;
    if (status == 200 && json_is_true(json_object_get(body, "result"))) {
        data = json_incref(json_object_get(body, "data"));
    } else if (json_is_string(json_object_get(body, "msg"))) {
        fprintf(stderr, "Error: Failed to make request to %s%s. %s\n", c->base, path,
                json_string_value(json_object_get(body, "msg")));
    } else {
        jobs_client_http_error(status, resp, err, sizeof err);
        fprintf(stderr, "Error: %s\n", err);
    }
    json_decref(body);
    free(resp);
    return data;
}

/* ---------------------------------------------------------------- requests */

/* Ray's resource name (CLI spelling) to the API path; NULL when unknown. */
static const char *resource_path(const char *name)
{
    static const char *const map[][2] = {
        {"nodes", "nodes"}, {"jobs", "jobs"}, {"actors", "actors"}, {"tasks", "tasks"},
        {"objects", "objects"}, {"placement-groups", "placement_groups"},
        {"workers", "workers"},
    };
    for (size_t i = 0; name != NULL && i < sizeof map / sizeof map[0]; i++)
        if (strcmp(name, map[i][0]) == 0)
            return map[i][1];
    return NULL;
}

static void add_arg(char *path, size_t len, const char *key, const char *value)
{
    char *esc = curl_easy_escape(NULL, value, 0);
    size_t n = strlen(path);
    snprintf(path + n, len - n, "%s%s=%s", strchr(path, '?') ? "&" : "?", key, esc ? esc : "");
    curl_free(esc);
}

/* Adds "k=v" / "k!=v" filter F.  Returns 0 or 2 after printing the error. */
static int add_filter(char *path, size_t len, const char *f)
{
    char key[256], value[1024];
    const char *ne = strstr(f, "!="), *eq = strchr(f, '=');
    const char *op = ne != NULL && ne < eq ? ne : eq;
    if (op == NULL || op == f) {
        fprintf(stderr, "Error: Invalid filter `%s`. Filters must be in the form `key=value` "
                "or `key!=value`.\n", f);
        return 2;
    }
    size_t kl = (size_t)(op - f);
    while (kl > 0 && f[kl - 1] == ' ')
        kl--;
    const char *v = op + (op == ne ? 2 : 1);
    while (*v == ' ')
        v++;
    snprintf(key, sizeof key, "%.*s", (int)(kl < 255 ? kl : 255), f);
    snprintf(value, sizeof value, "%s", v);
    size_t vl = strlen(value);
    if (vl >= 2 && (value[0] == '"' || value[0] == '\'') && value[vl - 1] == value[0]) {
        memmove(value, value + 1, vl - 2);
        value[vl - 2] = '\0';
    }
    add_arg(path, len, "filter_keys", key);
    add_arg(path, len, "filter_predicates", op == ne ? "!=" : "=");
    add_arg(path, len, "filter_values", value);
    return 0;
}

static void now_text(char *buf, size_t len)
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    localtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm);
    snprintf(buf + n, len - n, ".%06ld", ts.tv_nsec / 1000);
}

static int usage_list(const char *cmd, int help)
{
    fprintf(help ? stdout : stderr, "Usage: ray %s [nodes|jobs|actors|tasks|objects|placement-groups|workers]%s "
            "[--filter KEY=VALUE] [--limit N] [--detail] [--format default|json|yaml|table] "
            "[--address URL]\n", cmd, strcmp(cmd, "get") == 0 ? " ID" : "");
    return help ? 0 : 2;
}

/* GETs /api/v0/RES with O's filters (and EXTRA "key=value"); returns the
 * list answer ({"total", "result": [...], ...}) or NULL. */
static json_t *fetch_list(const state_opts *o, const char *res, const char *extra, int detail,
                          long limit)
{
    char path[STATE_PATH_MAX], num[32];
    snprintf(path, sizeof path, "/api/v0/%s", res);
    snprintf(num, sizeof num, "%ld", limit);
    add_arg(path, sizeof path, "limit", num);
    add_arg(path, sizeof path, "detail", detail ? "true" : "false");
    for (int i = 0; i < o->nfilters; i++)
        if (add_filter(path, sizeof path, o->filters[i]) != 0)
            return NULL;
    if (extra != NULL && add_filter(path, sizeof path, extra) != 0)
        return NULL;
    jobs_client c;
    if (cli_state_client(o, &c) != 0)
        return NULL;
    json_t *data = cli_state_get(&c, path);
    jobs_client_free(&c);
    json_t *r = json_incref(json_object_get(data, "result"));
    json_decref(data);
    return r;
}

int cmd_list(int argc, char **argv)
{
    state_opts o;
    int rc = cli_state_parse(argc, argv, &o);
    if (rc != 0)
        return rc;
    const char *res = o.npositional == 1 ? resource_path(o.positional[0]) : NULL;
    if (res == NULL || o.help)
        return usage_list("list", o.help);
    json_t *r = fetch_list(&o, res, NULL, o.detail, o.limit);
    if (r == NULL)
        return 1;
    json_t *list = json_object_get(r, "result");
    const char *fmt = strcmp(o.format, "default") == 0 && o.detail ? "yaml" : o.format;
    if (strcmp(o.format, "default") == 0) {
        char ts[64];
        now_text(ts, sizeof ts);
        printf("======== List: %s ========\nStats:\n------------------------------\n"
               "Total: %lld\n\nTable:\n------------------------------\n", ts,
               (long long)json_integer_value(json_object_get(r, "num_after_truncation")));
    }
    cli_state_print_list(stdout, list, fmt);
    long long filtered = json_integer_value(json_object_get(r, "num_filtered"));
    if ((long long)json_array_size(list) < filtered)
        fprintf(stderr, "Warning: %lld (> %zu) entries match; only %zu are shown. Use --limit "
                "to see more.\n", filtered, json_array_size(list), json_array_size(list));
    const char *warn = json_string_value(json_object_get(r, "partial_failure_warning"));
    if (warn != NULL && warn[0] != '\0')
        fprintf(stderr, "Warning: %s\n", warn);
    json_decref(r);
    return 0;
}

static const char *id_key(const char *res)
{
    if (strcmp(res, "placement_groups") == 0) return "placement_group_id";
    if (strcmp(res, "nodes") == 0) return "node_id";
    if (strcmp(res, "jobs") == 0) return "job_id";
    if (strcmp(res, "actors") == 0) return "actor_id";
    if (strcmp(res, "tasks") == 0) return "task_id";
    if (strcmp(res, "workers") == 0) return "worker_id";
    return "object_id";
}

int cmd_get(int argc, char **argv)
{
    state_opts o;
    int rc = cli_state_parse(argc, argv, &o);
    if (rc != 0)
        return rc;
    const char *res = o.npositional == 2 ? resource_path(o.positional[0]) : NULL;
    if (res == NULL || o.help)
        return usage_list("get", o.help);
    char f[512];
    snprintf(f, sizeof f, "%s=%s", id_key(res), o.positional[1]);
    json_t *r = fetch_list(&o, res, f, 1, 10000);
    if (r == NULL)
        return 1;
    json_t *list = json_object_get(r, "result");
    if (json_array_size(list) == 0) {
        fprintf(stderr, "Resource with id=%s not found in the cluster.\n", o.positional[1]);
        json_decref(r);
        return 1;
    }
    json_t *what = strcmp(res, "tasks") == 0 || json_array_size(list) > 1
                       ? list : json_array_get(list, 0);
    if (strcmp(o.format, "json") == 0) {
        char *s = json_dumps(what, JSON_INDENT(2));
        printf("%s\n", s ? s : "");
        free(s);
    } else {
        cli_state_print_yaml(stdout, what, 0);
    }
    json_decref(r);
    return 0;
}

/* ---------------------------------------------------------------- summary */

static void print_counts(json_t *summary, const char *name_key, const char *extra_key)
{
    json_t *rows = json_array();
    const char *k;
    json_t *e;
    json_object_foreach(summary, k, e) {
        char counts[1024] = "";
        const char *st;
        json_t *n;
        json_object_foreach(json_object_get(e, "state_counts"), st, n) {
            size_t len = strlen(counts);
            snprintf(counts + len, sizeof counts - len, "%s%s: %lld", len ? ", " : "", st,
                     (long long)json_integer_value(n));
        }
        json_t *row = json_pack("{s:s, s:s}", name_key, k, "state_counts", counts);
        if (extra_key != NULL)
            json_object_set(row, extra_key, json_object_get(e, extra_key));
        json_array_append_new(rows, row);
    }
    cli_state_print_list(stdout, rows, "table");
    json_decref(rows);
}

/* "K: n, K: n" of the counts in object C into BUF. */
static void counts_text(json_t *c, char *buf, size_t len)
{
    const char *k;
    json_t *n;
    buf[0] = '\0';
    json_object_foreach(c, k, n) {
        size_t at = strlen(buf);
        snprintf(buf + at, len - at, "%s%s: %lld", at ? ", " : "", k,
                 (long long)json_integer_value(n));
    }
}

/* Ray's object summary table: one row per call site. */
static void print_objects(json_t *summary)
{
    json_t *rows = json_array();
    const char *k;
    json_t *e;
    json_object_foreach(summary, k, e) {
        char tasks[512], refs[512];
        counts_text(json_object_get(e, "task_state_counts"), tasks, sizeof tasks);
        counts_text(json_object_get(e, "ref_type_counts"), refs, sizeof refs);
        json_t *row = json_pack("{s:s, s:O, s:O, s:O, s:O, s:s, s:s}", "callsite", k,
                                "total_objects", json_object_get(e, "total_objects"),
                                "total_size_mb", json_object_get(e, "total_size_mb"),
                                "total_num_workers", json_object_get(e, "total_num_workers"),
                                "total_num_nodes", json_object_get(e, "total_num_nodes"),
                                "task_state_counts", tasks, "ref_type_counts", refs);
        json_array_append_new(rows, row);
    }
    cli_state_print_list(stdout, rows, "table");
    json_decref(rows);
}

int cmd_summary(int argc, char **argv)
{
    state_opts o;
    int rc = cli_state_parse(argc, argv, &o);
    if (rc != 0)
        return rc;
    const char *what = o.npositional == 1 ? o.positional[0] : "";
    if (o.help || (strcmp(what, "tasks") != 0 && strcmp(what, "actors") != 0 &&
                   strcmp(what, "objects") != 0)) {
        fprintf(o.help ? stdout : stderr, "Usage: ray summary [tasks|actors|objects] "
                "[--format default|json|yaml] [--address URL]\n");
        return o.help ? 0 : 2;
    }
    char path[256];
    snprintf(path, sizeof path, "/api/v0/%s/summarize", what);
    jobs_client c;
    if (cli_state_client(&o, &c) != 0)
        return 1;
    json_t *data = cli_state_get(&c, path);
    jobs_client_free(&c);
    json_t *cluster = json_object_get(json_object_get(json_object_get(json_object_get(data, "result"),
                                                              "result"), "node_id_to_summary"),
                              "cluster");
    if (cluster == NULL) {
        json_decref(data);
        return 1;
    }
    if (strcmp(o.format, "json") == 0 || strcmp(o.format, "yaml") == 0) {
        json_t *one = json_pack("{s:O}", "cluster", cluster);
        if (strcmp(o.format, "json") == 0) {
            char *s = json_dumps(one, JSON_INDENT(2));
            printf("%s\n", s ? s : "");
            free(s);
        } else {
            cli_state_print_yaml(stdout, one, 0);
        }
        json_decref(one);
        json_decref(data);
        return 0;
    }
    char ts[64];
    now_text(ts, sizeof ts);
    int tasks = strcmp(what, "tasks") == 0, objects = strcmp(what, "objects") == 0;
    printf("======== %s Summary: %s ========\nStats:\n------------------------------------\n",
           tasks ? "Tasks" : objects ? "Object" : "Actors", ts);
    const char *k;
    json_t *v;
    json_object_foreach(cluster, k, v) {
        if (json_is_integer(v))
            printf("%s: %lld\n", k, (long long)json_integer_value(v));
        else if (json_is_real(v))
            printf("%s: %.2f\n", k, json_real_value(v));
    }
    printf("\n\nTable (group by %s):\n------------------------------------\n",
           tasks ? "func_name" : objects ? "callsite" : "class");
    if (objects)
        print_objects(json_object_get(cluster, "summary"));
    else
        print_counts(json_object_get(cluster, "summary"),
                     tasks ? "func_or_class_name" : "class_name", tasks ? "type" : NULL);
    json_decref(data);
    return 0;
}
