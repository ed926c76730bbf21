/* GCS records as the JSON objects of Ray's state API (ray.util.state.common:
 * TaskState, ActorState, NodeState, PlacementGroupState, JobState). */
#include <stdio.h>
#include <string.h>

#include "common/ids.h"
#include "jobserver/state_int.h"

json_t *state_hex(const ProtobufCBinaryData *b)
{
    char hex[2 * 64 + 1];
    if (b->len == 0 || b->len > 64)
        return json_null();
    ids_hex(b->data, b->len, hex);
    return json_string(hex);
}

static json_t *str_or_null(const char *s)
{
    return s != NULL && s[0] != '\0' ? json_string(s) : json_null();
}

static const char *task_type(int kind)
{
    return kind == 1 ? "ACTOR_CREATION_TASK" : kind == 2 ? "ACTOR_TASK" : "NORMAL_TASK";
}

static int64_t ms(int64_t ns)
{
    return ns / 1000000;
}

/* The time (ms) REC entered STATE, or 0. */
static int64_t state_ms(Rayc__StateTime **ev, size_t n, const char *state)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(ev[i]->state, state) == 0)
            return ms(ev[i]->time_ns);
    return 0;
}

static json_t *ms_or_null(int64_t v)
{
    return v > 0 ? json_integer(v) : json_null();
}

static json_t *events_json(Rayc__StateTime **ev, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; a != NULL && i < n; i++)
        json_array_append_new(a, json_pack("{s:s, s:I}", "state", ev[i]->state, "created_ms",
                                           (json_int_t)ms(ev[i]->time_ns)));
    return a;
}

json_t *state_task_json(const Rayc__TaskRecord *rec, int detail)
{
    const Rayc__TaskEvent *t = rec->task;
    if (t == NULL)
        return NULL;
    json_t *o = json_object();
    if (o == NULL)
        return NULL;
    json_object_set_new(o, "task_id", state_hex(&t->task_id));
    json_object_set_new(o, "attempt_number", json_integer(t->attempt));
    json_object_set_new(o, "name", json_string(t->name[0] ? t->name : t->func));
    json_object_set_new(o, "state", json_string(t->state));
    json_object_set_new(o, "job_id", state_hex(&t->job_id));
    json_object_set_new(o, "actor_id", state_hex(&t->actor_id));
    json_object_set_new(o, "type", json_string(task_type(t->kind)));
    json_object_set_new(o, "func_or_class_name", json_string(t->func));
    json_object_set_new(o, "parent_task_id", json_null());
    json_object_set_new(o, "node_id", str_or_null(t->node_id));
    json_object_set_new(o, "worker_id", state_hex(&t->worker_id));
    json_object_set_new(o, "worker_pid", t->worker_pid > 0 ? json_integer(t->worker_pid)
                                                           : json_null());
    json_object_set_new(o, "error_type", str_or_null(t->error_type));
    if (!detail)
        return o;
    json_object_set_new(o, "language", json_string("C"));
    json_object_set_new(o, "required_resources", json_object());
    json_object_set_new(o, "runtime_env_info", json_null());
    json_object_set_new(o, "placement_group_id", state_hex(&t->pg_id));
    json_object_set_new(o, "events", events_json(rec->events, rec->n_events));
    json_object_set_new(o, "profiling_data", json_object());
    json_object_set_new(o, "creation_time_ms",
                        ms_or_null(rec->n_events ? ms(rec->events[0]->time_ns) : 0));
    json_object_set_new(o, "start_time_ms",
                        ms_or_null(state_ms(rec->events, rec->n_events, "RUNNING")));
    int64_t end = state_ms(rec->events, rec->n_events, "FINISHED");
    if (end == 0)
        end = state_ms(rec->events, rec->n_events, "FAILED");
    json_object_set_new(o, "end_time_ms", ms_or_null(end));
    json_object_set_new(o, "task_log_info", json_null());
    json_object_set_new(o, "error_message", str_or_null(t->error));
    json_object_set_new(o, "is_debugger_paused", json_false());
    return o;
}

json_t *state_actor_json(const Rayc__ActorRecord *rec, int detail)
{
    const Rayc__ActorEvent *a = rec->actor;
    if (a == NULL)
        return NULL;
    json_t *o = json_object();
    if (o == NULL)
        return NULL;
    json_object_set_new(o, "actor_id", state_hex(&a->actor_id));
    json_object_set_new(o, "class_name", json_string(a->class_name));
    json_object_set_new(o, "state", json_string(a->state));
    json_object_set_new(o, "job_id", state_hex(&a->job_id));
    json_object_set_new(o, "name", json_string(a->name));
    json_object_set_new(o, "node_id", str_or_null(a->node_id));
    json_object_set_new(o, "pid", a->pid > 0 ? json_integer(a->pid) : json_null());
    json_object_set_new(o, "ray_namespace", json_string(a->namespace_));
    if (!detail)
        return o;
    json_object_set_new(o, "serialized_runtime_env", json_string("{}"));
    json_object_set_new(o, "required_resources", json_object());
    json_t *death = json_null();
    if (a->death_cause[0] != '\0')
        death = json_pack("{s:{s:s, s:o, s:s, s:s}}", "actor_died_error_context",
                          "error_message", a->death_cause, "actor_id", state_hex(&a->actor_id),
                          "class_name", a->class_name, "name", a->name);
    json_object_set_new(o, "death_cause", death);
    json_object_set_new(o, "is_detached", json_boolean(a->detached));
    json_object_set_new(o, "placement_group_id", state_hex(&a->pg_id));
    json_object_set_new(o, "repr_name", json_string(""));
    json_object_set_new(o, "num_restarts", json_integer(a->num_restarts));
    json_object_set_new(o, "num_restarts_due_to_lineage_reconstruction", json_integer(0));
    json_object_set_new(o, "call_site", json_null());
    json_object_set_new(o, "events", events_json(rec->events, rec->n_events));
    return o;
}

/* A map<string, double> of NodeInfo as a JSON object. */
#define RESOURCES_JSON(out, e, n)                                             \
    do {                                                                      \
        (out) = json_object();                                                \
        for (size_t i_ = 0; (out) != NULL && i_ < (n); i_++)                  \
            json_object_set_new((out), (e)[i_]->key, json_real((e)[i_]->value)); \
    } while (0)

json_t *state_node_json(const Rayc__NodeInfo *n, int detail)
{
    json_t *o = json_object();
    if (o == NULL)
        return NULL;
    int alive = n->state == RAYC__NODE_INFO__STATE__ALIVE;
    json_object_set_new(o, "node_id", json_string(n->node_id));
    json_object_set_new(o, "node_ip", json_string(n->address));
    json_object_set_new(o, "is_head_node", json_boolean(n->is_head));
    json_object_set_new(o, "state", json_string(alive ? "ALIVE" : "DEAD"));
    json_object_set_new(o, "state_message", str_or_null(alive ? "" : n->death_reason));
    json_object_set_new(o, "node_name", json_string(n->address));
    json_t *total, *avail;
    RESOURCES_JSON(total, n->resources_total, n->n_resources_total);
    json_object_set_new(o, "resources_total", total);
    json_t *labels = json_object();
    for (size_t i = 0; labels != NULL && i < n->n_labels; i++)
        json_object_set_new(labels, n->labels[i]->key, json_string(n->labels[i]->value));
    json_object_set_new(o, "labels", labels);
    json_object_set_new(o, "start_time_ms", json_integer(n->start_time_ms));
    json_object_set_new(o, "end_time_ms", json_integer(n->end_time_ms));
    if (detail) {
        json_object_set_new(o, "hostname", json_string(n->hostname));
        json_object_set_new(o, "node_manager_port", json_integer(n->node_manager_port));
        json_object_set_new(o, "raylet_pid", json_integer(n->raylet_pid));
        RESOURCES_JSON(avail, n->resources_available, n->n_resources_available);
        json_object_set_new(o, "resources_available", avail);
    }
    return o;
}

static const char *pg_state(int s)
{
    return s == RAYC__PLACEMENT_GROUP_INFO__STATE__CREATED ? "CREATED"
           : s == RAYC__PLACEMENT_GROUP_INFO__STATE__REMOVED ? "REMOVED" : "PENDING";
}

static const char *pg_strategy(int s)
{
    static const char *const names[] = {"PACK", "SPREAD", "STRICT_PACK", "STRICT_SPREAD"};
    return s >= 0 && s < 4 ? names[s] : "PACK";
}

json_t *state_pg_json(const Rayc__PlacementGroupInfo *pg, int detail)
{
    json_t *o = json_object();
    if (o == NULL)
        return NULL;
    json_object_set_new(o, "placement_group_id", state_hex(&pg->pg_id));
    json_object_set_new(o, "name", json_string(pg->name));
    json_object_set_new(o, "creator_job_id", state_hex(&pg->job_id));
    json_object_set_new(o, "state", json_string(pg_state(pg->state)));
    json_object_set_new(o, "is_detached", json_boolean(pg->detached));
    if (!detail)
        return o;
    json_t *bundles = json_array();
    for (size_t i = 0; bundles != NULL && i < pg->n_bundles; i++) {
        const Rayc__Bundle *b = pg->bundles[i];
        json_t *res = json_object();
        for (size_t k = 0; res != NULL && k < b->n_resources; k++)
            json_object_set_new(res, b->resources[k]->name, json_real(b->resources[k]->qty));
        char id[2 * IDS_PG_LEN + 16];
        char hex[2 * IDS_PG_LEN + 1] = "";
        if (pg->pg_id.len == IDS_PG_LEN)
            ids_hex(pg->pg_id.data, IDS_PG_LEN, hex);
        snprintf(id, sizeof id, "%s", hex);
        json_array_append_new(bundles, json_pack("{s:s, s:i, s:o, s:o}", "placement_group_id",
                                                 id, "bundle_index", b->index, "node_id",
                                                 str_or_null(b->node_id), "unit_resources",
                                                 res));
    }
    json_object_set_new(o, "bundles", bundles);
    json_object_set_new(o, "strategy", json_string(pg_strategy(pg->strategy)));
    json_object_set_new(o, "ray_namespace", json_string(pg->namespace_));
    json_object_set_new(o, "stats", json_pack("{s:s}", "scheduling_state", pg->reason));
    return o;
}

json_t *state_driver_job_json(const Rayc__JobInfo *j)
{
    char ip[64] = "", pid[16];
    snprintf(pid, sizeof pid, "%d", j->driver_pid);
    const char *colon = strrchr(j->driver_address, ':');
    size_t n = colon ? (size_t)(colon - j->driver_address) : strlen(j->driver_address);
    snprintf(ip, sizeof ip, "%.*s", (int)(n < sizeof ip ? n : sizeof ip - 1), j->driver_address);
    return json_pack("{s:s, s:s, s:n, s:s, s:s, s:s?, s:I, s:o, s:{}, s:{}, s:{s:s, s:s, s:s}}",
                     "type", "DRIVER", "job_id", j->job_id, "submission_id",
                     "status", j->is_dead ? "SUCCEEDED" : "RUNNING",
                     "entrypoint", j->entrypoint, "message", NULL,
                     "start_time", (json_int_t)j->start_time_ms,
                     "end_time", j->end_time_ms > 0 ? json_integer(j->end_time_ms) : json_null(),
                     "metadata", "runtime_env", "driver_info", "id", j->job_id,
                     "node_ip_address", ip, "pid", pid);
}
