/* The /api/v0 routes: parameters, Ray's envelope, and the lists of nodes,
 * jobs, actors, tasks and placement groups (objects and workers: state_node.c). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/util.h"
#include "jobserver/state_int.h"

#define CT_JSON "application/json; charset=utf-8"

/* ---------------------------------------------------------------- envelope */

static void respond_json(http_request *r, int status, json_t *body)
{
    char *s = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    if (s == NULL) {
        http_respond_text(r, 500, "Out of memory");
        return;
    }
    http_respond_take(r, status, CT_JSON, s, strlen(s));
}

void state_respond_ok(http_request *r, const char *msg, json_t *data)
{
    respond_json(r, 200, json_pack("{s:b, s:s, s:o}", "result", 1, "msg", msg ? msg : "",
                                   "data", data ? data : json_object()));
}

void state_respond_error(http_request *r, int status, const char *msg)
{
    respond_json(r, status, json_pack("{s:b, s:s, s:{}}", "result", 0, "msg", msg, "data"));
}

/* {"result": {"total", "num_after_truncation", "num_filtered", "result": LIST, ...}} */
static void respond_list(http_request *r, json_t *list, int64_t total, int64_t filtered,
                         const char *warning)
{
    json_t *res = json_pack("{s:I, s:I, s:I, s:o, s:s, s:n}", "total", (json_int_t)total,
                            "num_after_truncation", (json_int_t)json_array_size(list),
                            "num_filtered", (json_int_t)filtered, "result", list,
                            "partial_failure_warning", warning ? warning : "", "warnings");
    state_respond_ok(r, "", json_pack("{s:o}", "result", res));
}

/* ---------------------------------------------------------------- parameters */

static int parse_bool(const char *v)
{
    return v != NULL && (strcasecmp(v, "true") == 0 || strcmp(v, "1") == 0);
}

static void take(char **list, size_t *n, const char *v, state_query *q, const char *what)
{
    if (*n == STATE_MAX_FILTERS) {
        snprintf(q->err, sizeof q->err, "at most %d %s", STATE_MAX_FILTERS, what);
        return;
    }
    list[(*n)++] = strdup(v ? v : "");
}

static void copy_param(char *dst, size_t len, const char *v, state_query *q, const char *key)
{
    if (v == NULL || strlen(v) >= len) {
        snprintf(q->err, sizeof q->err, "invalid value for %s", key);
        return;
    }
    memcpy(dst, v, strlen(v) + 1);
}

static void arg_cb(void *arg, const char *key, const char *v)
{
    state_query *q = arg;
    long n;
    if (q->err[0] != '\0')
        return;
    if (strcmp(key, "limit") == 0) {
        if (v == NULL || parse_long(v, 1, STATE_MAX_LIMIT, &n) != 0)
            snprintf(q->err, sizeof q->err, "limit must be an integer in [1, %d], got '%.100s'",
                     STATE_MAX_LIMIT, v ? v : "");
        else
            q->limit = (int)n;
    } else if (strcmp(key, "lines") == 0) {
        if (v == NULL || parse_long(v, -1, 1000000, &n) != 0)
            snprintf(q->err, sizeof q->err, "lines must be an integer, got '%.100s'", v ? v : "");
        else
            q->lines = n;
    } else if (strcmp(key, "detail") == 0) {
        q->detail = parse_bool(v);
    } else if (strcmp(key, "exclude_driver") == 0) {
        q->exclude_driver = parse_bool(v);
    } else if (strcmp(key, "filter_keys") == 0) {
        take(q->keys, &q->nkeys, v, q, "filters");
    } else if (strcmp(key, "filter_predicates") == 0) {
        take(q->preds, &q->npreds, v, q, "filters");
    } else if (strcmp(key, "filter_values") == 0) {
        take(q->values, &q->nvalues, v, q, "filters");
    } else if (strcmp(key, "summary_by") == 0) {
        copy_param(q->summary_by, sizeof q->summary_by, v, q, key);
    } else if (strcmp(key, "node_id") == 0) {
        copy_param(q->node_id, sizeof q->node_id, v, q, key);
    } else if (strcmp(key, "node_ip") == 0) {
        copy_param(q->node_ip, sizeof q->node_ip, v, q, key);
    } else if (strcmp(key, "filename") == 0) {
        copy_param(q->filename, sizeof q->filename, v, q, key);
    } else if (strcmp(key, "glob") == 0) {
        copy_param(q->glob, sizeof q->glob, v, q, key);
    } else if (strcmp(key, "actor_id") == 0) {
        copy_param(q->actor_id, sizeof q->actor_id, v, q, key);
    } else if (strcmp(key, "task_id") == 0) {
        copy_param(q->task_id, sizeof q->task_id, v, q, key);
    } else if (strcmp(key, "format") == 0) {
        copy_param(q->format, sizeof q->format, v, q, key);
        if (q->err[0] == '\0' && strcmp(q->format, "text") != 0 &&
            strcmp(q->format, "leading_1") != 0)
            snprintf(q->err, sizeof q->err, "Unsupported format: %.15s, use 'text' or "
                     "'leading_1'", q->format);
    } else if (strcmp(key, "pid") == 0) {
        if (v == NULL || parse_long(v, 1, 1L << 30, &n) != 0)
            snprintf(q->err, sizeof q->err, "pid must be a positive integer, got '%.100s'",
                     v ? v : "");
        else
            q->pid = n;
    } else if (strcmp(key, "suffix") == 0) {
        copy_param(q->suffix, sizeof q->suffix, v, q, key);
        if (q->err[0] == '\0' && strcmp(q->suffix, "out") != 0 && strcmp(q->suffix, "err") != 0)
            snprintf(q->err, sizeof q->err, "suffix must be 'out' or 'err', got '%.7s'",
                     q->suffix);
    } else if (strcmp(key, "interval") == 0) {
        char *end = NULL;
        double d = v ? strtod(v, &end) : 0;
        if (v == NULL || end == v || *end != '\0' || !(d > 0 && d <= 3600))
            snprintf(q->err, sizeof q->err, "interval must be a number of seconds in (0, 3600], "
                     "got '%.100s'", v ? v : "");
        else
            q->interval = d;
    }
    /* Other parameters (timeout, media_type, ...) are accepted. */
}

static void parse_query(http_request *r, state_query *q)
{
    memset(q, 0, sizeof *q);
    q->limit = STATE_DEFAULT_LIMIT;
    q->lines = 1000;
    http_request_args(r, arg_cb, q);
    if (q->err[0] == '\0' && (q->nkeys != q->npreds || q->nkeys != q->nvalues))
        snprintf(q->err, sizeof q->err, "filter_keys, filter_predicates and filter_values must "
                 "come in equal numbers");
    for (size_t i = 0; q->err[0] == '\0' && i < q->npreds; i++)
        if (strcmp(q->preds[i], "=") != 0 && strcmp(q->preds[i], "!=") != 0)
            snprintf(q->err, sizeof q->err, "Unsupported filter predicate '%.50s': only = and "
                     "!= are supported", q->preds[i]);
}

static void free_query(state_query *q)
{
    for (size_t i = 0; i < q->nkeys; i++)
        free(q->keys[i]);
    for (size_t i = 0; i < q->npreds; i++)
        free(q->preds[i]);
    for (size_t i = 0; i < q->nvalues; i++)
        free(q->values[i]);
}

/* ---------------------------------------------------------------- local filtering */

/* V as the text a filter value is compared with. */
static void as_text(json_t *v, char *buf, size_t len)
{
    if (json_is_string(v))
        snprintf(buf, len, "%s", json_string_value(v));
    else if (json_is_integer(v))
        snprintf(buf, len, "%lld", (long long)json_integer_value(v));
    else if (json_is_real(v))
        snprintf(buf, len, "%g", json_real_value(v));
    else if (json_is_boolean(v))
        snprintf(buf, len, "%s", json_is_true(v) ? "True" : "False");
    else
        buf[0] = '\0';
}

/* 1 when O passes Q's filters, 0 when not, -1 for a key O lacks (ERR set). */
static int passes(json_t *o, const state_query *q, char *err, size_t errlen)
{
    char buf[512];
    for (size_t i = 0; i < q->nkeys; i++) {
        json_t *v = json_object_get(o, q->keys[i]);
        if (v == NULL) {
            snprintf(err, errlen, "Given filter column %.100s is not supported", q->keys[i]);
            return -1;
        }
        as_text(v, buf, sizeof buf);
        int eq = strcasecmp(buf, q->values[i]) == 0;
        if (eq != (strcmp(q->preds[i], "=") == 0))
            return 0;
    }
    return 1;
}

void state_respond_filtered(http_request *r, const state_query *q, json_t *all,
                            const char *warning)
{
    char err[256];
    json_t *out = json_array();
    int64_t matched = 0;
    size_t i;
    json_t *o;
    json_array_foreach(all, i, o) {
        int ok = passes(o, q, err, sizeof err);
        if (ok < 0) {
            json_decref(all);
            json_decref(out);
            state_respond_error(r, 400, err);
            return;
        }
        if (ok && matched++ < q->limit)
            json_array_append(out, o);
    }
    int64_t total = (int64_t)json_array_size(all);
    json_decref(all);
    respond_list(r, out, total, matched, warning);
}

/* ---------------------------------------------------------------- GCS lists */

Rayc__Envelope *state_gcs_get(jobs_server *srv, http_request *r, Rayc__Envelope *req,
                              int want_case)
{
    char err[300], msg[400];
    Rayc__Envelope *reply = NULL;
    int rc = state_gcs_call(srv, req, &reply, err, sizeof err);
    if (rc == 0 && (int)reply->body_case != want_case) {
        snprintf(err, sizeof err, "unexpected reply from the GCS");
        rayc__envelope__free_unpacked(reply, NULL);
        reply = NULL;
        rc = -EPROTO;
    }
    if (rc != 0) {
        snprintf(msg, sizeof msg, "Failed to query the GCS: %s", err);
        state_respond_error(r, 500, msg);
        return NULL;
    }
    return reply;
}

Rayc__Envelope *state_gcs_nodes(jobs_server *srv, http_request *r)
{
    Rayc__Envelope req = RAYC__ENVELOPE__INIT;
    Rayc__GetAllNodes get = RAYC__GET_ALL_NODES__INIT;
    req.body_case = RAYC__ENVELOPE__BODY_GET_ALL_NODES;
    req.get_all_nodes = &get;
    return state_gcs_get(srv, r, &req, RAYC__ENVELOPE__BODY_NODE_LIST);
}

static void list_nodes(jobs_server *srv, http_request *r, const state_query *q)
{
    Rayc__Envelope *rep = state_gcs_nodes(srv, r);
    if (rep == NULL)
        return;
    json_t *all = json_array();
    for (size_t i = 0; all != NULL && i < rep->node_list->n_nodes; i++)
        json_array_append_new(all, state_node_json(rep->node_list->nodes[i], q->detail));
    rayc__envelope__free_unpacked(rep, NULL);
    state_respond_filtered(r, q, all, NULL);
}

static void list_pgs(jobs_server *srv, http_request *r, const state_query *q)
{
    Rayc__Envelope req = RAYC__ENVELOPE__INIT;
    Rayc__GetAllPlacementGroups get = RAYC__GET_ALL_PLACEMENT_GROUPS__INIT;
    req.body_case = RAYC__ENVELOPE__BODY_GET_ALL_PLACEMENT_GROUPS;
    req.get_all_placement_groups = &get;
    Rayc__Envelope *rep = state_gcs_get(srv, r, &req, RAYC__ENVELOPE__BODY_PLACEMENT_GROUP_LIST);
    if (rep == NULL)
        return;
    json_t *all = json_array();
    for (size_t i = 0; all != NULL && i < rep->placement_group_list->n_pgs; i++)
        json_array_append_new(all, state_pg_json(rep->placement_group_list->pgs[i], q->detail));
    rayc__envelope__free_unpacked(rep, NULL);
    state_respond_filtered(r, q, all, NULL);
}

/* Submission jobs from the job table (JobDetails, as /api/jobs/ lists them)
 * and drivers the GCS knows that no submission started. */
static void list_jobs(jobs_server *srv, http_request *r, const state_query *q)
{
    json_t *all = json_array();
    for (jobs_job *j = jobs_table_first(srv->table); all && j; j = jobs_table_next(srv->table, j)) {
        size_t len;
        const char *s = jobs_job_json(j, &len);
        json_t *o = s ? json_loadb(s, len, 0, NULL) : NULL;
        if (o != NULL)
            json_array_append_new(all, o);
    }
    Rayc__Envelope req = RAYC__ENVELOPE__INIT;
    Rayc__GetAllJobs get = RAYC__GET_ALL_JOBS__INIT;
    req.body_case = RAYC__ENVELOPE__BODY_GET_ALL_JOBS;
    req.get_all_jobs = &get;
    Rayc__Envelope *rep = state_gcs_get(srv, r, &req, RAYC__ENVELOPE__BODY_JOB_LIST);
    if (rep == NULL) {
        json_decref(all);
        return;
    }
    for (size_t i = 0; all != NULL && i < rep->job_list->n_jobs; i++) {
        const Rayc__JobInfo *j = rep->job_list->jobs[i];
        if (j->submission_id == NULL || j->submission_id[0] == '\0')
            json_array_append_new(all, state_driver_job_json(j));
    }
    rayc__envelope__free_unpacked(rep, NULL);
    state_respond_filtered(r, q, all, NULL);
}

/* ---------------------------------------------------------------- events */

Rayc__Envelope *state_query_events(jobs_server *srv, http_request *r, const state_query *q,
                                   int actors, int limit)
{
    Rayc__StateFilter f[STATE_MAX_FILTERS], *fp[STATE_MAX_FILTERS];
    for (size_t i = 0; i < q->nkeys; i++) {
        rayc__state_filter__init(&f[i]);
        f[i].key = q->keys[i];
        f[i].op = q->preds[i];
        f[i].value = q->values[i];
        fp[i] = &f[i];
    }
    Rayc__GetTaskEvents get = RAYC__GET_TASK_EVENTS__INIT;
    get.filters = fp;
    get.n_filters = q->nkeys;
    get.limit = limit;
    get.actors = actors;
    Rayc__Envelope req = RAYC__ENVELOPE__INIT;
    req.body_case = RAYC__ENVELOPE__BODY_GET_TASK_EVENTS;
    req.get_task_events = &get;
    Rayc__Envelope *rep = state_gcs_get(srv, r, &req, RAYC__ENVELOPE__BODY_TASK_EVENTS_REPLY);
    if (rep != NULL && rep->task_events_reply->error[0] != '\0') {
        state_respond_error(r, 400, rep->task_events_reply->error);
        rayc__envelope__free_unpacked(rep, NULL);
        return NULL;
    }
    return rep;
}

static void list_events(jobs_server *srv, http_request *r, const state_query *q, int actors)
{
    Rayc__Envelope *rep = state_query_events(srv, r, q, actors, q->limit);
    if (rep == NULL)
        return;
    const Rayc__TaskEventsReply *e = rep->task_events_reply;
    json_t *list = json_array();
    for (size_t i = 0; list != NULL && i < e->n_tasks; i++)
        json_array_append_new(list, state_task_json(e->tasks[i], q->detail));
    for (size_t i = 0; list != NULL && i < e->n_actors; i++)
        json_array_append_new(list, state_actor_json(e->actors[i], q->detail));
    char warn[200] = "";
    if (e->num_dropped > 0)
        snprintf(warn, sizeof warn, "%lld %s events were dropped or evicted: the list may be "
                 "incomplete", (long long)e->num_dropped, actors ? "actor" : "task");
    int64_t total = e->total, filtered = e->num_filtered;
    rayc__envelope__free_unpacked(rep, NULL);
    respond_list(r, list, total, filtered, warn);
}

/* ---------------------------------------------------------------- routing */

void state_api_handle(jobs_server *srv, http_request *r, const char *rest)
{
    state_query q;
    parse_query(r, &q);
    if (q.err[0] != '\0')
        state_respond_error(r, 400, q.err);
    else if (strcmp(rest, "tasks") == 0)
        list_events(srv, r, &q, 0);
    else if (strcmp(rest, "actors") == 0)
        list_events(srv, r, &q, 1);
    else if (strcmp(rest, "nodes") == 0)
        list_nodes(srv, r, &q);
    else if (strcmp(rest, "jobs") == 0)
        list_jobs(srv, r, &q);
    else if (strcmp(rest, "placement_groups") == 0)
        list_pgs(srv, r, &q);
    else if (strcmp(rest, "workers") == 0)
        state_list_workers(srv, r, &q);
    else if (strcmp(rest, "tasks/summarize") == 0)
        state_summarize_tasks(srv, r, &q);
    else if (strcmp(rest, "actors/summarize") == 0)
        state_summarize_actors(srv, r, &q);
    else if (strcmp(rest, "objects") == 0)
        state_list_objects(srv, r, &q);
    else if (strcmp(rest, "objects/summarize") == 0)
        state_summarize_objects(srv, r, &q);
    else if (strcmp(rest, "logs") == 0)
        state_logs_list(srv, r, &q);
    else if (strcmp(rest, "logs/file") == 0)
        state_logs_file(srv, r, &q);
    else if (strcmp(rest, "logs/stream") == 0)
        state_logs_stream(srv, r, &q);
    else
        http_respond_text(r, 404, "404: Not Found");
    free_query(&q);
}
