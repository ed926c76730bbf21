/* dash_nodes: polls the GCS's node table once a second on the thread pool,
 * keeps Ray's `/nodes?view=summary` answer ready, an hour of samples per
 * node for the Metrics page, and writes Ray's Prometheus service-discovery
 * file in the session directory. */
#include "jobserver/dash.h"
#include "jobserver/dash_int.h"

#include <errno.h>
#include <jansson.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/net.h"
#include "common/rpc_client.h"
#include "common/util.h"

#define GCS_CONNECT_TIMEOUT_MS 1000
#define GCS_CALL_TIMEOUT_MS 2000

/* ---------------------------------------------------------------- thread pool */

static void poll_work_cb(uv_work_t *w)
{
    dash *d = w->data;
    d->err[0] = '\0';
    if (d->client == NULL &&
        rpc_client_connect(d->gcs_host, d->gcs_port, d->token, "dashboard",
                           GCS_CONNECT_TIMEOUT_MS, &d->client, d->err, sizeof d->err) != 0)
        return;
    Rayc__Envelope env = RAYC__ENVELOPE__INIT;
    Rayc__GetAllNodes req = RAYC__GET_ALL_NODES__INIT;
    env.body_case = RAYC__ENVELOPE__BODY_GET_ALL_NODES;
    env.get_all_nodes = &req;
    if (rpc_client_call(d->client, &env, GCS_CALL_TIMEOUT_MS, &d->reply, d->err,
                        sizeof d->err) != 0) {
        rpc_client_close(d->client);
        d->client = NULL;
        d->reply = NULL;
    }
}

/* ---------------------------------------------------------------- samples */

static dash_node *node_slot(dash *d, const char *id, const char *ip)
{
    for (size_t i = 0; i < d->nnodes; i++)
        if (strcmp(d->nodes[i].id, id) == 0)
            return &d->nodes[i];
    if (d->nnodes == d->cap) {
        size_t cap = d->cap ? 2 * d->cap : 16;
        if (cap > DASH_MAX_NODES)
            return NULL;
        dash_node *n = realloc(d->nodes, cap * sizeof *n);
        if (n == NULL)
            return NULL;
        d->nodes = n;
        d->cap = cap;
    }
    dash_node *n = &d->nodes[d->nnodes++];
    memset(n, 0, sizeof *n);
    str_copy(n->id, sizeof n->id, id);
    str_copy(n->ip, sizeof n->ip, ip);
    return n;
}

static void add_sample(dash *d, const Rayc__NodeInfo *ni, int64_t now)
{
    const Rayc__NodeStats *s = ni->stats;
    if (s == NULL || ni->state != RAYC__NODE_INFO__STATE__ALIVE || ni->node_id == NULL)
        return;
    dash_node *n = node_slot(d, ni->node_id, ni->address ? ni->address : "");
    if (n == NULL || (n->count > 0 && now - n->last_ms < DASH_SAMPLE_MS))
        return;
    dash_sample *x = &n->ring[(n->first + n->count) % DASH_RING];
    if (n->count == DASH_RING)
        n->first = (n->first + 1) % DASH_RING;
    else
        n->count++;
    x->t_ms = now;
    x->cpu = s->cpu_percent;
    x->mem_used = (double)s->mem_used;
    x->mem_total = (double)s->mem_total;
    x->store_used = (double)s->object_store_used;
    x->running = s->tasks_running;
    x->pending = s->tasks_pending;
    n->last_ms = now;
}

/* ---------------------------------------------------------------- summary */

static json_t *res_object(Rayc__NodeInfo__ResourcesTotalEntry **e, size_t n)
{
    json_t *o = json_object();
    for (size_t i = 0; o != NULL && i < n; i++)
        if (strncmp(e[i]->key, "bundle_group_", 13) != 0)
            json_object_set_new(o, e[i]->key, json_real(e[i]->value));
    return o;
}

static json_t *avail_object(Rayc__NodeInfo__ResourcesAvailableEntry **e, size_t n)
{
    json_t *o = json_object();
    for (size_t i = 0; o != NULL && i < n; i++)
        if (strncmp(e[i]->key, "bundle_group_", 13) != 0)
            json_object_set_new(o, e[i]->key, json_real(e[i]->value));
    return o;
}

/* One entry of Ray's node summary: the reporter's physical stats at the top
 * level, the GCS's record under "raylet". */
static json_t *node_json(const Rayc__NodeInfo *ni)
{
    Rayc__NodeStats zero = RAYC__NODE_STATS__INIT;
    const Rayc__NodeStats *s = ni->stats ? ni->stats : &zero;
    double ncpu = 0;
    for (size_t i = 0; i < ni->n_resources_total; i++)
        if (strcmp(ni->resources_total[i]->key, "CPU") == 0)
            ncpu = ni->resources_total[i]->value;
    double avail = (double)(s->mem_total - s->mem_used);
    double pct = s->mem_total ? 100.0 * (double)s->mem_used / (double)s->mem_total : 0;
    int alive = ni->state == RAYC__NODE_INFO__STATE__ALIVE;
    json_t *raylet = json_pack(
        "{s:s, s:s, s:i, s:s, s:b, s:o, s:o, s:I, s:I, s:s, s:I, s:I, s:i, s:i, s:i, s:i, "
        "s:I, s:I}",
        "nodeId", ni->node_id ? ni->node_id : "", "nodeManagerAddress",
        ni->address ? ni->address : "", "nodeManagerPort", ni->node_manager_port, "state",
        alive ? "ALIVE" : "DEAD", "isHeadNode", ni->is_head, "resourcesTotal",
        res_object(ni->resources_total, ni->n_resources_total), "resourcesAvailable",
        avail_object(ni->resources_available, ni->n_resources_available), "startTimeMs",
        (json_int_t)ni->start_time_ms, "endTimeMs", (json_int_t)ni->end_time_ms, "stateMessage",
        ni->death_reason ? ni->death_reason : "", "objectStoreUsedMemory",
        (json_int_t)s->object_store_used, "objectStoreAvailableMemory",
        (json_int_t)(s->object_store_total - s->object_store_used), "numWorkers", s->workers,
        "tasksRunning", s->tasks_running, "tasksPending", s->tasks_pending, "metricsExportPort",
        ni->metrics_export_port, "tasksFinished", (json_int_t)s->tasks_finished, "tasksFailed",
        (json_int_t)s->tasks_failed);
    return json_pack("{s:f, s:s, s:s, s:f, s:[f,f], s:[I,f,f,I], s:i, s:o}", "now",
                     (double)s->timestamp_ms / 1000.0, "hostname",
                     ni->hostname ? ni->hostname : "", "ip", ni->address ? ni->address : "",
                     "cpu", s->cpu_percent, "cpus", ncpu, ncpu, "mem",
                     (json_int_t)s->mem_total, avail, pct, (json_int_t)s->mem_used, "actors",
                     s->actors, "raylet", raylet);
}

static void build_summary(dash *d, const Rayc__NodeList *l)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr != NULL && i < l->n_nodes; i++)
        json_array_append_new(arr, node_json(l->nodes[i]));
    json_t *top = json_pack("{s:b, s:s, s:{s:o}}", "result", 1, "msg", "Node summary fetched.",
                            "data", "summary", arr);
    char *text = top ? json_dumps(top, JSON_COMPACT) : NULL;
    json_decref(top);
    if (text == NULL) {
        log_error("dashboard: out of memory building the node summary");
        return;
    }
    free(d->summary);
    d->summary = text;
}

/* ---------------------------------------------------------------- service discovery */

/* The GCS's metrics address (its port from gcs_metrics.port in the head's
 * node dir, which the GCS shares with this job server).  Returns 0 or -1. */
static int gcs_target(const dash *d, char *out, size_t outlen)
{
    char path[PATH_MAX + 32], *text = NULL;
    size_t len;
    long port;
    snprintf(path, sizeof path, "%s/gcs_metrics.port", d->srv->node_dir);
    if (fs_read_file(path, 16, &text, &len) != 0)
        return -1;
    text[strcspn(text, "\n")] = '\0';
    int rc = parse_long(text, 1, 65535, &port);
    free(text);
    if (rc != 0 || d->srv->node_ip[0] == '\0')
        return -1;
    snprintf(out, outlen, "%s:%ld", d->srv->node_ip, port);
    return 0;
}

/* Writes Ray's file_sd document listing every alive node's metrics port,
 * when it changed (through a temporary file and rename). */
static void write_sd(dash *d, const Rayc__NodeList *l)
{
    json_t *targets = json_array();
    for (size_t i = 0; targets != NULL && i < l->n_nodes; i++) {
        const Rayc__NodeInfo *ni = l->nodes[i];
        char t[128];
        if (ni->state != RAYC__NODE_INFO__STATE__ALIVE || ni->metrics_export_port <= 0 ||
            ni->address == NULL)
            continue;
        snprintf(t, sizeof t, "%s:%d", ni->address, ni->metrics_export_port);
        json_array_append_new(targets, json_string(t));
    }
    char gcs[128];
    if (targets != NULL && gcs_target(d, gcs, sizeof gcs) == 0)
        json_array_append_new(targets, json_string(gcs));
    json_t *doc = json_pack("[{s:{s:s}, s:o}]", "labels", "job", "ray", "targets", targets);
    char *text = doc ? json_dumps(doc, JSON_INDENT(2)) : NULL;
    json_decref(doc);
    if (text == NULL)
        return;
    if (d->sd_text == NULL || strcmp(text, d->sd_text) != 0) {
        char tmp[PATH_MAX + 8];
        snprintf(tmp, sizeof tmp, "%s.tmp", d->sd_path);
        int rc = fs_write_file(tmp, text, strlen(text), 0644);
        if (rc == 0 && rename(tmp, d->sd_path) != 0)
            rc = -errno;
        if (rc != 0) {
            log_warn("dashboard: cannot write %s: %s", d->sd_path, strerror(-rc));
            unlink(tmp);
            free(text);
            return;
        }
        free(d->sd_text);
        d->sd_text = text;
        return;
    }
    free(text);
}

/* ---------------------------------------------------------------- loop */

static void poll_timer_cb(uv_timer_t *t);

static void poll_after_cb(uv_work_t *w, int status)
{
    dash *d = w->data;
    d->busy = 0;
    Rayc__Envelope *reply = d->reply;
    d->reply = NULL;
    if (d->stopped) {
        if (reply)
            rayc__envelope__free_unpacked(reply, NULL);
        rpc_client_close(d->client);
        dash__free(d);
        return;
    }
    if (status == 0 && reply != NULL && reply->body_case == RAYC__ENVELOPE__BODY_NODE_LIST) {
        int64_t now = time_now_ms();
        const Rayc__NodeList *l = reply->node_list;
        for (size_t i = 0; i < l->n_nodes; i++)
            add_sample(d, l->nodes[i], now);
        build_summary(d, l);
        write_sd(d, l);
        d->polled = 1;
        if (d->warned)
            log_info("dashboard: reading the node table again");
        d->warned = 0;
    } else if (d->err[0] != '\0' && !d->warned) {
        log_warn("dashboard: cannot read the node table: %s", d->err);
        d->warned = 1;
    }
    if (reply != NULL)
        rayc__envelope__free_unpacked(reply, NULL);
}

static void poll_timer_cb(uv_timer_t *t)
{
    dash *d = t->data;
    if (d->busy)
        return;
    d->busy = 1;
    d->work.data = d;
    if (uv_queue_work(d->srv->loop, &d->work, poll_work_cb, poll_after_cb) != 0)
        d->busy = 0;
}

void dash_start(jobs_server *srv)
{
    if (srv->is_agent || srv->gcs_address[0] == '\0')
        return;
    dash *d = calloc(1, sizeof *d);
    if (d == NULL) {
        log_error("dashboard: out of memory");
        return;
    }
    d->srv = srv;
    str_copy(d->token, sizeof d->token, srv->token);
    if (net_parse_hostport(srv->gcs_address, 6379, d->gcs_host, sizeof d->gcs_host,
                           &d->gcs_port) != 0) {
        log_warn("dashboard: bad GCS address %s; no node view", srv->gcs_address);
        free(d);
        return;
    }
    char nd[PATH_MAX];
    str_copy(nd, sizeof nd, srv->node_dir);
    snprintf(d->sd_path, sizeof d->sd_path, "%s/" DASH_SD_FILE, dirname(nd));
    uv_timer_init(srv->loop, &d->timer);
    d->timer.data = d;
    uv_timer_start(&d->timer, poll_timer_cb, 0, DASH_POLL_MS);
    srv->dash = d;
}

static void timer_closed_cb(uv_handle_t *h)
{
    dash *d = h->data;
    if (d->busy) {
        d->stopped = 1;   /* poll_after_cb frees it */
        return;
    }
    rpc_client_close(d->client);
    dash__free(d);
}

void dash_stop(jobs_server *srv)
{
    dash *d = srv->dash;
    if (d == NULL)
        return;
    srv->dash = NULL;
    uv_timer_stop(&d->timer);
    uv_close((uv_handle_t *)&d->timer, timer_closed_cb);
}

void dash__free(dash *d)
{
    free(d->summary);
    free(d->sd_text);
    free(d->nodes);
    free(d);
}
