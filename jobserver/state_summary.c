/* /api/v0/tasks/summarize and /api/v0/actors/summarize: counts by function
 * (class) and state over the newest records, in Ray's shape
 * (data.result.result.node_id_to_summary.cluster). */
#include <string.h>

#include "jobserver/state_int.h"

/* Adds one to SUMMARY[KEY].state_counts[STATE], making the entry with
 * EXTRA_KEY: EXTRA_VALUE when new. */
static void count(json_t *summary, const char *name_key, const char *key, const char *extra_key,
                  const char *extra_value, const char *state)
{
    json_t *e = json_object_get(summary, key);
    if (e == NULL) {
        e = extra_key ? json_pack("{s:s, s:s, s:{}}", name_key, key, extra_key, extra_value,
                                  "state_counts")
                      : json_pack("{s:s, s:{}}", name_key, key, "state_counts");
        if (e == NULL || json_object_set_new(summary, key, e) != 0)
            return;
    }
    json_t *counts = json_object_get(e, "state_counts");
    json_t *c = json_object_get(counts, state);
    json_object_set_new(counts, state, json_integer(c ? json_integer_value(c) + 1 : 1));
}

static void respond_summary(http_request *r, json_t *cluster, int64_t total, int64_t n)
{
    json_t *res = json_pack("{s:I, s:I, s:I, s:{s:{s:o}}, s:s, s:n}", "total", (json_int_t)total,
                            "num_after_truncation", (json_int_t)n, "num_filtered", (json_int_t)n,
                            "result", "node_id_to_summary", "cluster", cluster,
                            "partial_failure_warning", "", "warnings");
    state_respond_ok(r, "", json_pack("{s:o}", "result", res));
}

void state_summarize_tasks(jobs_server *srv, http_request *r, const state_query *q)
{
    Rayc__Envelope *rep = state_query_events(srv, r, q, 0, STATE_MAX_LIMIT);
    if (rep == NULL)
        return;
    const Rayc__TaskEventsReply *e = rep->task_events_reply;
    static const char *const types[] = {"NORMAL_TASK", "ACTOR_CREATION_TASK", "ACTOR_TASK"};
    json_t *summary = json_object();
    int64_t normal = 0, actor_tasks = 0, scheduled = 0;
    for (size_t i = 0; summary != NULL && i < e->n_tasks; i++) {
        const Rayc__TaskEvent *t = e->tasks[i]->task;
        int k = t->kind >= 0 && t->kind <= 2 ? t->kind : 0;
        normal += k == 0;
        scheduled += k == 1;
        actor_tasks += k == 2;
        count(summary, "func_or_class_name", t->func, "type", types[k], t->state);
    }
    json_t *cluster = json_pack("{s:o, s:I, s:I, s:I, s:s}", "summary", summary, "total_tasks",
                                (json_int_t)normal, "total_actor_tasks", (json_int_t)actor_tasks,
                                "total_actor_scheduled", (json_int_t)scheduled, "summary_by",
                                "func_name");
    int64_t total = e->total, n = (int64_t)e->n_tasks;
    rayc__envelope__free_unpacked(rep, NULL);
    respond_summary(r, cluster, total, n);
}

void state_summarize_actors(jobs_server *srv, http_request *r, const state_query *q)
{
    Rayc__Envelope *rep = state_query_events(srv, r, q, 1, STATE_MAX_LIMIT);
    if (rep == NULL)
        return;
    const Rayc__TaskEventsReply *e = rep->task_events_reply;
    json_t *summary = json_object();
    for (size_t i = 0; summary != NULL && i < e->n_actors; i++)
        count(summary, "class_name", e->actors[i]->actor->class_name, NULL, NULL,
              e->actors[i]->actor->state);
    json_t *cluster = json_pack("{s:o, s:I, s:s}", "summary", summary, "total_actors",
                                (json_int_t)e->n_actors, "summary_by", "class");
    int64_t total = e->total, n = (int64_t)e->n_actors;
    rayc__envelope__free_unpacked(rep, NULL);
    respond_summary(r, cluster, total, n);
}
