/* `ray logs` (a node's log files, or one of them, followed on request) and
 * `ray timeline` (a Chrome trace of recent tasks), through /api/v0. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli_state.h"
#include "common/util.h"
#include "jobserver/jobs_agent_http.h"

/* Prints the log files of one node (NODE_ID "" for the head). */
static int list_node(jobs_client *c, const state_opts *o, const char *node_id, const char *ip)
{
    char path[2048] = "/api/v0/logs";
    jobs_url_add_query(path, sizeof path, "node_id", node_id);
    jobs_url_add_query(path, sizeof path, "glob", o->glob);
    json_t *data = cli_state_get(c, path);
    if (data == NULL)
        return 1;
    printf("======== Ray logs on node %s (%s) ========\n", node_id[0] ? node_id : "head",
           ip ? ip : "");
    const char *cat;
    json_t *files;
    json_object_foreach(json_object_get(data, "result"), cat, files) {
        printf("%s:\n", cat);
        size_t i;
        json_t *f;
        json_array_foreach(files, i, f) printf("  %s\n", json_string_value(f));
    }
    json_decref(data);
    return 0;
}

static int list_cluster(jobs_client *c, const state_opts *o)
{
    if (o->node_id != NULL || o->node_ip != NULL)
        return list_node(c, o, o->node_id ? o->node_id : "", o->node_ip);
    json_t *data = cli_state_get(c, "/api/v0/nodes?limit=10000&filter_keys=state&"
                                    "filter_predicates=%3D&filter_values=ALIVE");
    if (data == NULL)
        return 1;
    int rc = 0;
    size_t i;
    json_t *n;
    json_array_foreach(json_object_get(json_object_get(data, "result"), "result"), i, n)
        rc |= list_node(c, o, json_string_value(json_object_get(n, "node_id")),
                        json_string_value(json_object_get(n, "node_ip")));
    json_decref(data);
    return rc;
}

/* GETs the file text (Ray's log stream framing removed); returns it (caller
 * frees) or NULL after printing an error. */
static char *fetch_file(jobs_client *c, const state_opts *o, const char *file, long lines,
                        size_t *len)
{
    char path[4096] = "/api/v0/logs/file", num[32];
    jobs_url_add_query(path, sizeof path, "node_id", o->node_id);
    jobs_url_add_query(path, sizeof path, "node_ip", o->node_ip);
    jobs_url_add_query(path, sizeof path, "filename", file);
    jobs_url_add_query(path, sizeof path, "actor_id", o->actor_id);
    jobs_url_add_query(path, sizeof path, "task_id", o->task_id);
    snprintf(num, sizeof num, "%ld", lines);
    jobs_url_add_query(path, sizeof path, "lines", num);
    long status = 0;
    char *resp = NULL, err[1024];
    if (jobs_client_request(c, "GET", path, NULL, 0, NULL, &status, &resp, len, err,
                            sizeof err) != 0) {
        fprintf(stderr, "Error: %s\n", err);
        return NULL;
    }
    if (status != 200) {
        json_t *body = json_loadb(resp, *len, 0, NULL);
        const char *msg = json_string_value(json_object_get(body, "msg"));
        fprintf(stderr, "Error: %s\n", msg ? msg : resp);
        json_decref(body);
        free(resp);
        return NULL;
    }
    /* Ray's log stream: "1" then text for success, "0" then an error. */
    if (*len == 0 || resp[0] != '1') {
        fprintf(stderr, "Error: %.*s\n", *len > 1 ? (int)(*len - 1) : 0, resp + (*len > 0));
        free(resp);
        return NULL;
    }
    memmove(resp, resp + 1, --*len);
    return resp;
}

/* One chunk of Ray's log stream: "1" then text, or "0" then an error. */
static int stream_chunk(void *arg, const char *data, size_t n)
{
    int *failed = arg;
    if (n > 0 && data[0] == '1') {
        fwrite(data + 1, 1, n - 1, stdout);
        fflush(stdout);
        return 0;
    }
    fprintf(stderr, "Error: %.*s\n", n > 1 ? (int)(n - 1) : 0, data + (n > 0));
    *failed = 1;
    return 1;
}

/* Follows the file over /api/v0/logs/stream (Ray's media_type=stream): its
 * last lines, then each line as it is written, until interrupted. */
static int follow_file(jobs_client *c, const state_opts *o, const char *file)
{
    char path[4096] = "/api/v0/logs/stream", num[32], err[1024];
    jobs_url_add_query(path, sizeof path, "node_id", o->node_id);
    jobs_url_add_query(path, sizeof path, "node_ip", o->node_ip);
    jobs_url_add_query(path, sizeof path, "filename", file);
    jobs_url_add_query(path, sizeof path, "actor_id", o->actor_id);
    jobs_url_add_query(path, sizeof path, "task_id", o->task_id);
    snprintf(num, sizeof num, "%ld", o->tail);
    jobs_url_add_query(path, sizeof path, "lines", num);
    int failed = 0;
    long status = 0;
    char *body = NULL;
    size_t len = 0;
    if (jobs_client_stream(c, path, stream_chunk, &failed, &status, &body, &len, err,
                           sizeof err) != 0) {
        fprintf(stderr, "Error: %s\n", err);
        free(body);
        return 1;
    }
    if (status != 200) {
        json_t *j = body ? json_loadb(body, len, 0, NULL) : NULL;
        const char *msg = json_string_value(json_object_get(j, "msg"));
        fprintf(stderr, "Error: %s\n", msg ? msg : body ? body : "no answer");
        json_decref(j);
        failed = 1;
    }
    free(body);
    return failed;
}

static int show_file(jobs_client *c, const state_opts *o, const char *file)
{
    if (o->follow)
        return follow_file(c, o, file);
    size_t len = 0;
    char *text = fetch_file(c, o, file, o->tail, &len);
    if (text == NULL)
        return 1;
    fwrite(text, 1, len, stdout);
    fflush(stdout);
    free(text);
    return 0;
}

int cmd_logs(int argc, char **argv)
{
    state_opts o;
    int rc = cli_state_parse(argc, argv, &o);
    if (rc != 0)
        return rc;
    if (o.help) {
        printf("Usage: ray logs [cluster [GLOB]] [--node-id ID | --node-ip IP] [--glob GLOB]\n"
               "       ray logs FILENAME [--node-id ID | --node-ip IP] [--tail N] [--follow]\n"
               "       ray logs --actor-id ID | --task-id ID [--tail N] [--follow]\n");
        return 0;
    }
    const char *what = o.npositional > 0 ? o.positional[0] : "cluster";
    jobs_client c;
    if (cli_state_client(&o, &c) != 0)
        return 1;
    if (o.actor_id != NULL || o.task_id != NULL)
        rc = show_file(&c, &o, NULL);
    else if (strcmp(what, "cluster") == 0 && o.npositional <= 1)
        rc = list_cluster(&c, &o);
    else if (strchr(what, '*') != NULL || strchr(what, '?') != NULL) {
        o.glob = what;
        rc = list_cluster(&c, &o);
    } else
        rc = show_file(&c, &o, strcmp(what, "cluster") == 0 ? o.positional[1] : what);
    jobs_client_free(&c);
    return rc;
}

/* ---------------------------------------------------------------- timeline */

static int64_t event_ms(json_t *events, const char *state)
{
    size_t i;
    json_t *e;
    json_array_foreach(events, i, e)
        if (strcmp(json_string_value(json_object_get(e, "state")), state) == 0)
            return json_integer_value(json_object_get(e, "created_ms"));
    return 0;
}

/* One complete ("X") trace event per task attempt that ran. */
static json_t *trace(json_t *tasks)
{
    json_t *out = json_array();
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    int64_t now_ms = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
    size_t i;
    json_t *t;
    json_array_foreach(tasks, i, t) {
        json_t *ev = json_object_get(t, "events");
        int64_t start = event_ms(ev, "RUNNING");
        if (start == 0)
            continue;
        int64_t end = event_ms(ev, "FINISHED");
        if (end == 0)
            end = event_ms(ev, "FAILED");
        if (end == 0)
            end = now_ms;
        const char *func = json_string_value(json_object_get(t, "func_or_class_name"));
        const char *node = json_string_value(json_object_get(t, "node_id"));
        char pid[160], tid[160], cat[600];
        snprintf(pid, sizeof pid, "Node %s", node ? node : "?");
        snprintf(tid, sizeof tid, "Worker %lld",
                 (long long)json_integer_value(json_object_get(t, "worker_pid")));
        snprintf(cat, sizeof cat, "task::%s", func ? func : "?");
        json_array_append_new(out, json_pack(
            "{s:s, s:s, s:s, s:s, s:I, s:I, s:s, s:{s:O, s:O, s:O, s:O}}", "cat", cat, "name",
            func ? func : "?", "pid", pid, "tid", tid, "ts", (json_int_t)(start * 1000),
            "dur", (json_int_t)((end - start) * 1000), "ph", "X", "args", "task_id",
            json_object_get(t, "task_id"), "attempt_number", json_object_get(t, "attempt_number"),
            "state", json_object_get(t, "state"), "job_id", json_object_get(t, "job_id")));
    }
    return out;
}

int cmd_timeline(int argc, char **argv)
{
    state_opts o;
    int rc = cli_state_parse(argc, argv, &o);
    if (rc != 0)
        return rc;
    if (o.help) {
        printf("Usage: ray timeline [--output FILE] [--address URL]\n");
        return 0;
    }
    jobs_client c;
    if (cli_state_client(&o, &c) != 0)
        return 1;
    json_t *data = cli_state_get(&c, "/api/v0/tasks?detail=true&limit=10000");
    jobs_client_free(&c);
    if (data == NULL)
        return 1;
    json_t *events = trace(json_object_get(json_object_get(data, "result"), "result"));
    json_decref(data);
    char path[512];
    if (o.output != NULL) {
        snprintf(path, sizeof path, "%s", o.output);
    } else {
        char ts[64];
        time_t t = time(NULL);
        struct tm tm;
        localtime_r(&t, &tm);
        strftime(ts, sizeof ts, "%Y-%m-%d_%H-%M-%S", &tm);
        snprintf(path, sizeof path, "/tmp/ray-timeline-%s.json", ts);
    }
    if (json_dump_file(events, path, JSON_COMPACT) != 0) {
        fprintf(stderr, "Error: cannot write %s: %s\n", path, strerror(errno));
        json_decref(events);
        return 1;
    }
    json_decref(events);
    printf("Trace file written to %s\n", path);
    printf("You can open this with chrome://tracing in the Chrome browser.\n");
    return 0;
}
