/* /api/v0/objects, /api/v0/objects/summarize and /api/v0/workers: each
 * alive node's raylet is asked what its object table and worker pool hold
 * (GetNodeState on its node-manager port, after Hello with the cluster
 * token), in Ray's ObjectState and WorkerState field names.  The raylet
 * also lists the small objects its drivers and workers keep in their own
 * memory (it asks each; one that did not answer in time is named in the
 * node's warnings, which go into the envelope's partial-failure warning). */
#include <stdio.h>
#include <string.h>

#include "common/rpc_client.h"
#include "jobserver/state_int.h"

#define NODE_CONNECT_MS 1000
#define NODE_CALL_MS 3000
#define MAX_NODES 2048

typedef void (*node_cb)(const Rayc__NodeInfo *n, const Rayc__NodeStateReply *s, void *arg);

/* Calls CB with the answer of every alive node's raylet (OWNED: with the
 * small objects its drivers and workers own); nodes that did not answer,
 * and owners a raylet names, are in WARN.  Returns 0, or -1 after
 * answering R. */
static int each_node(jobs_server *srv, http_request *r, int limit, int owned, node_cb cb,
                     void *arg, char *warn, size_t warnlen)
{
    Rayc__Envelope *nodes = state_gcs_nodes(srv, r);
    if (nodes == NULL)
        return -1;
    warn[0] = '\0';
    size_t wl = 0;
    for (size_t i = 0; i < nodes->node_list->n_nodes && i < MAX_NODES; i++) {
        const Rayc__NodeInfo *n = nodes->node_list->nodes[i];
        if (n->state != RAYC__NODE_INFO__STATE__ALIVE)
            continue;
        char err[300] = "";
        rpc_client *c = NULL;
        Rayc__Envelope *rep = NULL;
        Rayc__GetNodeState gs = RAYC__GET_NODE_STATE__INIT;
        gs.limit = limit;
        gs.no_owned_objects = !owned;
        Rayc__Envelope ask = RAYC__ENVELOPE__INIT;
        ask.body_case = RAYC__ENVELOPE__BODY_GET_NODE_STATE;
        ask.get_node_state = &gs;
        int rc = rpc_client_connect(n->address, n->node_manager_port, srv->token, "jobserver",
                                    NODE_CONNECT_MS, &c, err, sizeof err);
        if (rc == 0)
            rc = rpc_client_call(c, &ask, NODE_CALL_MS, &rep, err, sizeof err);
        if (rc == 0 && rep->body_case == RAYC__ENVELOPE__BODY_NODE_STATE_REPLY) {
            cb(n, rep->node_state_reply, arg);
            for (size_t k = 0; k < rep->node_state_reply->n_warnings && wl < warnlen; k++)
                wl += (size_t)snprintf(warn + wl, warnlen - wl, "%snode %s: %s", wl ? "; " : "",
                                       n->node_id, rep->node_state_reply->warnings[k]);
        } else if (wl < warnlen)
            wl += (size_t)snprintf(warn + wl, warnlen - wl, "%snode %s (%s) did not answer: %s",
                                   wl ? "; " : "", n->node_id, n->address,
                                   err[0] ? err : "unexpected reply");
        if (rep != NULL)
            rayc__envelope__free_unpacked(rep, NULL);
        if (c != NULL)
            rpc_client_close(c);
    }
    rayc__envelope__free_unpacked(nodes, NULL);
    return 0;
}

/* ---------------------------------------------------------------- objects */

static void objects_cb(const Rayc__NodeInfo *n, const Rayc__NodeStateReply *s, void *arg)
{
    json_t *all = arg;
    for (size_t i = 0; i < s->n_objects; i++) {
        const Rayc__ObjectStateInfo *o = s->objects[i];
        json_array_append_new(
            all, json_pack("{s:o, s:I, s:s, s:i, s:s, s:s, s:s, s:i, s:s}", "object_id",
                           state_hex(&o->object_id), "object_size", (json_int_t)o->object_size,
                           "task_status", o->task_status, "attempt_number", 0,
                           "reference_type", o->reference_type, "call_site", "disabled",
                           "type", o->owner_type, "pid", o->pid, "ip", n->address));
    }
}

static json_t *all_objects(jobs_server *srv, http_request *r, char *warn, size_t warnlen)
{
    json_t *all = json_array();
    if (all == NULL) {
        state_respond_error(r, 500, "out of memory");
        return NULL;
    }
    if (each_node(srv, r, STATE_MAX_LIMIT, 1, objects_cb, all, warn, warnlen) != 0) {
        json_decref(all);
        return NULL;
    }
    return all;
}

void state_list_objects(jobs_server *srv, http_request *r, const state_query *q)
{
    char warn[1024];
    json_t *all = all_objects(srv, r, warn, sizeof warn);
    if (all != NULL)
        state_respond_filtered(r, q, all, warn);
}

/* Adds one object of SIZE bytes (-1: unknown) to the summary of call site
 * SITE, with its task status, reference type, owner and node. */
static void count_object(json_t *summary, json_t *o)
{
    const char *site = json_string_value(json_object_get(o, "call_site"));
    json_t *e = json_object_get(summary, site);
    if (e == NULL) {
        e = json_pack("{s:i, s:f, s:i, s:i, s:{}, s:{}, s:{}, s:{}}", "total_objects", 0,
                      "total_size_mb", 0.0, "total_num_workers", 0, "total_num_nodes", 0,
                      "task_state_counts", "ref_type_counts", "_pids", "_ips");
        if (e == NULL || json_object_set_new(summary, site, e) != 0)
            return;
    }
    json_int_t size = json_integer_value(json_object_get(o, "object_size"));
    json_object_set_new(e, "total_objects",
                        json_integer(json_integer_value(json_object_get(e, "total_objects")) + 1));
    if (size > 0)
        json_object_set_new(e, "total_size_mb",
                            json_real(json_real_value(json_object_get(e, "total_size_mb")) +
                                      (double)size / (1024.0 * 1024.0)));
    const char *keys[] = {"task_status", "reference_type"};
    const char *into[] = {"task_state_counts", "ref_type_counts"};
    for (int k = 0; k < 2; k++) {
        json_t *counts = json_object_get(e, into[k]);
        const char *v = json_string_value(json_object_get(o, keys[k]));
        json_t *c = json_object_get(counts, v);
        json_object_set_new(counts, v, json_integer(c ? json_integer_value(c) + 1 : 1));
    }
    char pid[96];
    snprintf(pid, sizeof pid, "%s/%lld", json_string_value(json_object_get(o, "ip")),
             (long long)json_integer_value(json_object_get(o, "pid")));
    json_object_set_new(json_object_get(e, "_pids"), pid, json_true());
    json_object_set_new(json_object_get(e, "_ips"),
                        json_string_value(json_object_get(o, "ip")), json_true());
}

/* Ray's ObjectSummaries: by call site (rayc records none: "disabled"). */
void state_summarize_objects(jobs_server *srv, http_request *r, const state_query *q)
{
    char warn[1024];
    json_t *all = all_objects(srv, r, warn, sizeof warn);
    if (all == NULL)
        return;
    json_t *summary = json_object(), *o;
    size_t i;
    double mb = 0;
    json_array_foreach(all, i, o) {
        count_object(summary, o);
        json_int_t size = json_integer_value(json_object_get(o, "object_size"));
        mb += size > 0 ? (double)size / (1024.0 * 1024.0) : 0;
    }
    const char *k;
    json_t *e;
    json_object_foreach(summary, k, e) {
        json_object_set_new(e, "total_num_workers",
                            json_integer((json_int_t)json_object_size(json_object_get(e, "_pids"))));
        json_object_set_new(e, "total_num_nodes",
                            json_integer((json_int_t)json_object_size(json_object_get(e, "_ips"))));
        json_object_del(e, "_pids");
        json_object_del(e, "_ips");
    }
    json_int_t n = (json_int_t)json_array_size(all);
    json_decref(all);
    json_t *cluster = json_pack("{s:o, s:I, s:f, s:b, s:s}", "summary", summary, "total_objects",
                                n, "total_size_mb", mb, "callsite_enabled", 0, "summary_by",
                                "callsite");
    json_t *res = json_pack("{s:I, s:I, s:I, s:{s:{s:o}}, s:s, s:n}", "total", n,
                            "num_after_truncation", n, "num_filtered", n, "result",
                            "node_id_to_summary", "cluster", cluster, "partial_failure_warning",
                            warn, "warnings");
    (void)q;
    state_respond_ok(r, "", json_pack("{s:o}", "result", res));
}

/* ---------------------------------------------------------------- workers */

typedef struct worker_list {
    json_t *all;
    int detail;
} worker_list;

static void workers_cb(const Rayc__NodeInfo *n, const Rayc__NodeStateReply *s, void *arg)
{
    worker_list *wl = arg;
    for (size_t i = 0; i < s->n_workers; i++) {
        const Rayc__WorkerStateInfo *w = s->workers[i];
        json_t *o = json_pack("{s:o, s:b, s:s, s:s?, s:s, s:s, s:i, s:s?, s:I, s:I, s:I, s:n, "
                              "s:i, s:i}",
                              "worker_id", state_hex(&w->worker_id), "is_alive", w->is_alive,
                              "worker_type", w->worker_type, "exit_type",
                              w->exit_type[0] ? w->exit_type : NULL, "node_id", n->node_id,
                              "ip", n->address, "pid", w->pid, "exit_detail",
                              w->exit_detail[0] ? w->exit_detail : NULL,
                              "worker_launch_time_ms", (json_int_t)w->start_time_ms,
                              "worker_launched_time_ms", (json_int_t)w->start_time_ms,
                              "start_time_ms", (json_int_t)w->start_time_ms, "end_time_ms",
                              "debugger_port", 0, "num_paused_threads", 0);
        if (o != NULL && !wl->detail) {
            /* Ray's columns without --detail. */
            static const char *const detail_only[] = {
                "exit_detail", "worker_launch_time_ms", "worker_launched_time_ms",
                "start_time_ms", "end_time_ms", "debugger_port", "num_paused_threads"};
            for (size_t k = 0; k < sizeof detail_only / sizeof detail_only[0]; k++)
                json_object_del(o, detail_only[k]);
        }
        json_array_append_new(wl->all, o);
    }
}

void state_list_workers(jobs_server *srv, http_request *r, const state_query *q)
{
    char warn[1024];
    json_t *all = json_array();
    if (all == NULL) {
        state_respond_error(r, 500, "out of memory");
        return;
    }
    worker_list wl = {all, q->detail};
    if (each_node(srv, r, 1, 0, workers_cb, &wl, warn, sizeof warn) != 0) {
        json_decref(all);
        return;
    }
    state_respond_filtered(r, q, all, warn);
}
