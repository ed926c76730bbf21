/* GCS node requests: register, report resources, unregister, list; and the
 * one way a node dies (gcs_node_mark_dead).
 *
 * A node's record is never edited in place: each change builds a shallow
 * view of the new record and deep-copies it (gcs_msg_dup), so every record
 * is one protobuf-c allocation tree freed with free_unpacked. */
#include "gcs/gcs_server.h"

#include <stdio.h>
#include <stdlib.h>

#include "common/log.h"
#include "common/util.h"

/* ---------------------------------------------------------------- helpers */

/* Map entries for NodeInfo.resources_available that borrow another
 * message's keys; valid while that message lives. */
typedef struct avail_view {
    Rayc__NodeInfo__ResourcesAvailableEntry *entries;
    Rayc__NodeInfo__ResourcesAvailableEntry **ptrs;
    size_t n;
} avail_view;

static int avail_alloc(avail_view *v, size_t n)
{
    v->n = n;
    v->entries = calloc(n ? n : 1, sizeof *v->entries);
    v->ptrs = calloc(n ? n : 1, sizeof *v->ptrs);
    if (v->entries == NULL || v->ptrs == NULL) {
        free(v->entries);
        free(v->ptrs);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        Rayc__NodeInfo__ResourcesAvailableEntry init =
            RAYC__NODE_INFO__RESOURCES_AVAILABLE_ENTRY__INIT;
        v->entries[i] = init;
        v->ptrs[i] = &v->entries[i];
    }
    return 0;
}

static void avail_free(avail_view *v)
{
    free(v->entries);
    free(v->ptrs);
}

/* Deep-copies the record VIEW. */
static Rayc__NodeInfo *node_copy(const Rayc__NodeInfo *view)
{
    return (Rayc__NodeInfo *)gcs_msg_dup(&view->base);
}

static Rayc__Envelope reply_env(Rayc__Envelope__BodyCase body)
{
    Rayc__Envelope env = RAYC__ENVELOPE__INIT;
    env.body_case = body;
    return env;
}

/* ---------------------------------------------------------------- register */

/* Builds the record stored for a registration of IN; OLD is the record of
 * an alive node re-registering (NULL for a new node). */
static Rayc__NodeInfo *registered_copy(const Rayc__NodeInfo *in, const Rayc__NodeInfo *old)
{
    Rayc__NodeInfo view = *in;
    view.state = RAYC__NODE_INFO__STATE__ALIVE;
    view.end_time_ms = 0;
    view.death_reason = "";
    if (view.start_time_ms <= 0)
        view.start_time_ms = old ? old->start_time_ms : time_now_ms();
    avail_view av = {0};
    if (view.n_resources_available == 0 && in->n_resources_total > 0) {
        /* A new node has all of its resources available. */
        if (avail_alloc(&av, in->n_resources_total) != 0)
            return NULL;
        for (size_t i = 0; i < av.n; i++) {
            av.entries[i].key = in->resources_total[i]->key;
            av.entries[i].value = in->resources_total[i]->value;
        }
        view.n_resources_available = av.n;
        view.resources_available = av.ptrs;
    }
    Rayc__NodeInfo *copy = node_copy(&view);
    avail_free(&av);
    return copy;
}

/* Why IN cannot be registered (NULL when it can); EXISTING is its record. */
static const char *register_refusal(gcs_server *srv, const Rayc__NodeInfo *in,
                                    const gcs_node *existing)
{
    if (in == NULL || !gcs_valid_id(in->node_id))
        return "register_node: node_id is missing or not a valid id";
    if (in->n_resources_total > GCS_MAX_RESOURCES || in->n_labels > GCS_MAX_RESOURCES ||
        in->n_resources_available > GCS_MAX_RESOURCES || in->n_demands > GCS_MAX_DEMANDS)
        return "register_node: too many resources, labels or demands";
    if (existing == NULL && srv->nodes.n >= GCS_MAX_NODES)
        return "register_node: the node table is full";
    return NULL;
}

void gcs_handle_register_node(gcs_client *cl, uint64_t id, const Rayc__RegisterNode *req)
{
    gcs_server *srv = cl->srv;
    const Rayc__NodeInfo *in = req->node;
    gcs_node *n = in ? gcs_node_table_find(&srv->nodes, in->node_id) : NULL;
    const char *why = register_refusal(srv, in, n);
    if (why != NULL) {
        gcs_reply_error(cl, id, RPC_E_INVALID, "%s", why);
        return;
    }
    if (n != NULL && n->info->state == RAYC__NODE_INFO__STATE__DEAD) {
        gcs_reply_error(cl, id, RPC_E_INVALID, "node %s was marked dead", in->node_id);
        return;
    }
    Rayc__NodeInfo *info = registered_copy(in, n ? n->info : NULL);
    int rc = info ? gcs_store_node_put(srv->store, info) : -1;
    if (rc != 0 || (n == NULL && (n = gcs_node_table_add(&srv->nodes, info)) == NULL)) {
        gcs_reply_error(cl, id, RPC_E_INTERNAL, "cannot register node %s: %s", in->node_id,
                        info && rc != 0 ? gcs_store_errmsg(srv->store) : "out of memory");
        if (info != NULL)
            rayc__node_info__free_unpacked(info, NULL);
        return;
    }
    int again = n->info != info;
    if (again)
        gcs_node_set_info(n, info);
    n->last_seen_ms = time_mono_ms();
    n->dirty = 0;
    n->conn = cl;
    n->report_seq++;
    n->reported = 0;
    log_info("node %s %s: %s:%d pid %d%s", info->node_id, again ? "re-registered" : "registered",
             info->address, info->node_manager_port, info->raylet_pid, info->is_head ? " (head)" : "");
    Rayc__RegisterNodeReply r = RAYC__REGISTER_NODE_REPLY__INIT;
    Rayc__Envelope env = reply_env(RAYC__ENVELOPE__BODY_REGISTER_NODE_REPLY);
    env.register_node_reply = &r;
    gcs_reply(cl, id, &env);
    gcs_publish_node(srv, n->info);
    gcs_pg_node_registered(srv, n, cl);
}

/* ---------------------------------------------------------------- report */

/* Map entries for NodeInfo.resources_total borrowing a report's keys. */
static Rayc__NodeInfo__ResourcesTotalEntry **total_view(const Rayc__ReportResources *req,
                                                         Rayc__NodeInfo__ResourcesTotalEntry **block)
{
    size_t n = req->n_total;
    Rayc__NodeInfo__ResourcesTotalEntry *e = calloc(n ? n : 1, sizeof *e);
    Rayc__NodeInfo__ResourcesTotalEntry **p = calloc(n ? n : 1, sizeof *p);
    if (e == NULL || p == NULL) {
        free(e);
        free(p);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        rayc__node_info__resources_total_entry__init(&e[i]);
        e[i].key = req->total[i]->key;
        e[i].value = req->total[i]->value;
        p[i] = &e[i];
    }
    *block = e;
    return p;
}

/* Replaces the available resources and demands of N with those of REQ, and
 * the totals when REQ has them (placement group bundles change them). */
static int apply_report(gcs_node *n, const Rayc__ReportResources *req)
{
    avail_view av;
    Rayc__NodeInfo__ResourcesTotalEntry *tblock = NULL, **totals = NULL;
    if (req->n_total > 0 && (totals = total_view(req, &tblock)) == NULL)
        return -1;
    if (avail_alloc(&av, req->n_available) != 0) {
        free(tblock);
        free(totals);
        return -1;
    }
    for (size_t i = 0; i < av.n; i++) {
        av.entries[i].key = req->available[i]->key;
        av.entries[i].value = req->available[i]->value;
    }
    Rayc__NodeInfo view = *n->info;
    view.n_resources_available = av.n;
    view.resources_available = av.ptrs;
    view.n_demands = req->n_demands;
    view.demands = req->demands;
    if (req->stats != NULL)
        view.stats = req->stats;
    if (totals != NULL) {
        view.n_resources_total = req->n_total;
        view.resources_total = totals;
    }
    Rayc__NodeInfo *copy = node_copy(&view);
    avail_free(&av);
    free(tblock);
    free(totals);
    if (copy == NULL)
        return -1;
    gcs_node_set_info(n, copy);
    n->dirty = 1;
    n->report_seq++;
    return 0;
}

void gcs_handle_report_resources(gcs_client *cl, uint64_t id, const Rayc__ReportResources *req)
{
    gcs_node *n = gcs_node_table_find(&cl->srv->nodes, req->node_id);
    if (n == NULL) {
        gcs_reply_error(cl, id, RPC_E_INVALID, "node %.*s is not registered",
                        GCS_MAX_ID_LEN, req->node_id);
        return;
    }
    if (req->n_available > GCS_MAX_RESOURCES || req->n_total > GCS_MAX_RESOURCES ||
        req->n_demands > GCS_MAX_DEMANDS) {
        gcs_reply_error(cl, id, RPC_E_INVALID, "report_resources: too many resources or demands");
        return;
    }
    Rayc__ReportResourcesReply r = RAYC__REPORT_RESOURCES_REPLY__INIT;
    r.node_dead = n->info->state == RAYC__NODE_INFO__STATE__DEAD;
    if (!r.node_dead) {
        n->last_seen_ms = time_mono_ms();
        if (apply_report(n, req) != 0) {
            gcs_reply_error(cl, id, RPC_E_INTERNAL, "report_resources: out of memory");
            return;
        }
        /* Once per registration, so tests and operators can tell that a
         * node's own numbers replaced what the GCS loaded from its store. */
        if (!n->reported)
            log_info("node %s: first resource report since it registered", n->info->node_id);
        n->reported = 1;
    }
    Rayc__Envelope env = reply_env(RAYC__ENVELOPE__BODY_REPORT_RESOURCES_REPLY);
    env.report_resources_reply = &r;
    gcs_reply(cl, id, &env);
}

/* ---------------------------------------------------------------- unregister, list */

void gcs_node_mark_dead(gcs_server *srv, gcs_node *n, const char *reason)
{
    Rayc__NodeInfo view = *n->info;
    view.state = RAYC__NODE_INFO__STATE__DEAD;
    view.end_time_ms = time_now_ms();
    view.death_reason = (char *)reason;
    Rayc__NodeInfo *copy = node_copy(&view);
    if (copy == NULL) {
        /* Keep the old record but still stop treating the node as alive. */
        n->info->state = RAYC__NODE_INFO__STATE__DEAD;
        n->info->end_time_ms = view.end_time_ms;
    } else {
        gcs_node_set_info(n, copy);
    }
    n->dirty = 0;
    if (gcs_store_node_put(srv->store, n->info) != 0)
        log_error("cannot store the death of node %s: %s", n->info->node_id,
                  gcs_store_errmsg(srv->store));
    log_info("node %s is dead: %s", n->info->node_id, reason);
    gcs_publish_node(srv, n->info);
    gcs_pg_node_dead(srv, n);
}

void gcs_handle_unregister_node(gcs_client *cl, uint64_t id, const Rayc__UnregisterNode *req)
{
    gcs_node *n = gcs_node_table_find(&cl->srv->nodes, req->node_id);
    if (n == NULL) {
        gcs_reply_error(cl, id, RPC_E_INVALID, "node %.*s is not registered",
                        GCS_MAX_ID_LEN, req->node_id);
        return;
    }
    if (n->info->state != RAYC__NODE_INFO__STATE__DEAD) {
        char reason[256];
        snprintf(reason, sizeof reason, "%.200s",
                 req->reason[0] ? req->reason : "expected termination: received SIGTERM");
        gcs_node_mark_dead(cl->srv, n, reason);
    }
    Rayc__UnregisterNodeReply r = RAYC__UNREGISTER_NODE_REPLY__INIT;
    Rayc__Envelope env = reply_env(RAYC__ENVELOPE__BODY_UNREGISTER_NODE_REPLY);
    env.unregister_node_reply = &r;
    gcs_reply(cl, id, &env);
}

void gcs_handle_get_all_nodes(gcs_client *cl, uint64_t id)
{
    gcs_node_table *t = &cl->srv->nodes;
    Rayc__NodeInfo **list = malloc((t->n ? t->n : 1) * sizeof *list);
    if (list == NULL) {
        gcs_reply_error(cl, id, RPC_E_INTERNAL, "get_all_nodes: out of memory");
        return;
    }
    for (size_t i = 0; i < t->n; i++)
        list[i] = t->list[i]->info;
    Rayc__NodeList r = RAYC__NODE_LIST__INIT;
    r.n_nodes = t->n;
    r.nodes = list;
    Rayc__Envelope env = reply_env(RAYC__ENVELOPE__BODY_NODE_LIST);
    env.node_list = &r;
    gcs_reply(cl, id, &env);
    free(list);
}
