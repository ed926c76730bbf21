/* The cluster view: the GCS's node table, kept current by the GCS's NODE
 * channel (joins and deaths) and refreshed periodically (resources). */
#include "raylet/cluster_view.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "raylet/raylet_cluster.h"

/* ---------------------------------------------------------------- filling */

static void fill_res(cview_node *n, const Rayc__NodeInfo *ni)
{
    n->nres = 0;
    for (size_t i = 0; i < ni->n_resources_total && n->nres < CVIEW_MAX_RES; i++) {
        cview_res *x = &n->res[n->nres++];
        str_copy(x->name, sizeof x->name, ni->resources_total[i]->key);
        x->total = ni->resources_total[i]->value;
        x->avail = x->total;
        for (size_t j = 0; j < ni->n_resources_available; j++)
            if (strcmp(ni->resources_available[j]->key, x->name) == 0)
                x->avail = ni->resources_available[j]->value;
    }
}

static void fill_node(raylet *r, cview_node *n, const Rayc__NodeInfo *ni)
{
    memset(n, 0, sizeof *n);
    str_copy(n->id, sizeof n->id, ni->node_id);
    str_copy(n->ip, sizeof n->ip, ni->address);
    n->port = ni->node_manager_port;
    n->alive = ni->state == RAYC__NODE_INFO__STATE__ALIVE;
    n->self = strcmp(n->id, r->opts->node_id) == 0;
    fill_res(n, ni);
    cview *v = raylet_cluster_of(r)->view;
    int64_t now = time_mono_ms();
    for (size_t i = 0; v != NULL && i < CVIEW_MAX_SUSPECTS; i++)
        if (v->suspects[i].until_ms > now && strcmp(v->suspects[i].id, n->id) == 0)
            n->alive = 0;
}

void cview_suspect(raylet *r, const char *id)
{
    cview *v = raylet_cluster_of(r)->view;
    if (v == NULL || id == NULL || id[0] == '\0')
        return;
    size_t slot = 0;
    for (size_t i = 0; i < CVIEW_MAX_SUSPECTS; i++) {
        if (strcmp(v->suspects[i].id, id) == 0) {
            slot = i;
            break;
        }
        if (v->suspects[i].until_ms < v->suspects[slot].until_ms)
            slot = i;
    }
    str_copy(v->suspects[slot].id, sizeof v->suspects[slot].id, id);
    v->suspects[slot].until_ms = time_mono_ms() + CVIEW_SUSPECT_MS;
    cview_node *n = cview_find(r, id);
    if (n != NULL && !n->self)
        n->alive = 0;
}

/* Logs nodes that appeared or died since the previous table. */
static void note_changes(cview *v, const cview_node *nodes, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const cview_node *old = cview_find(v->r, nodes[i].id);
        if (nodes[i].self || (old != NULL && old->alive == nodes[i].alive))
            continue;
        if (nodes[i].alive)
            log_info("cluster view: node %s at %s:%d is alive", nodes[i].id, nodes[i].ip,
                     nodes[i].port);
        else if (old != NULL)
            log_warn("cluster view: node %s at %s:%d died", nodes[i].id, nodes[i].ip,
                     nodes[i].port);
    }
}

static void nodes_cb(raylet *r, Rayc__Envelope *reply, void *data)
{
    cview *v = data;
    v->asking = 0;
    if (reply == NULL || reply->body_case != RAYC__ENVELOPE__BODY_NODE_LIST || r->closing)
        return;
    const Rayc__NodeList *l = reply->node_list;
    size_t n = l->n_nodes < CVIEW_MAX_NODES ? l->n_nodes : CVIEW_MAX_NODES;
    cview_node *nodes = calloc(n + 1, sizeof *nodes);
    if (nodes == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        fill_node(r, &nodes[i], l->nodes[i]);
    note_changes(v, nodes, n);
    free(v->nodes);
    v->nodes = nodes;
    v->n = n;
    v->loaded = 1;
    raylet_cluster_view_changed(r);
}

/* Asks the GCS for every node unless a request is in flight already. */
static void ask_all(cview *v)
{
    if (v->asking || v->r->gcs.state != RAYLET_GCS_REGISTERED)
        return;
    Rayc__Envelope env = RAYC__ENVELOPE__INIT;
    Rayc__GetAllNodes req = RAYC__GET_ALL_NODES__INIT;
    env.body_case = RAYC__ENVELOPE__BODY_GET_ALL_NODES;
    env.get_all_nodes = &req;
    v->asking = 1;
    raylet_gcs_call(v->r, &env, nodes_cb, v);
}

static void refresh_cb(uv_timer_t *t)
{
    ask_all(t->data);
}

/* ---------------------------------------------------------------- the NODE channel
 *
 * The GCS answers one connection's requests in order and writes a node's
 * change to its subscribers before it answers anyone else, so a raylet
 * that subscribes and then asks for the table misses nothing: a change
 * published before the table's reply is in the table, one after it comes
 * as a Publish.  `ray status` shows a node only after the GCS published it,
 * so a driver started then finds it in this view. */

static void subscribe_cb(raylet *r, Rayc__Envelope *reply, void *data)
{
    (void)data;
    if (reply == NULL || r->closing)
        return; /* the connection closed: the next registration subscribes again */
    if (reply->body_case != RAYC__ENVELOPE__BODY_SUBSCRIBE_REPLY)
        log_warn("the GCS refused the NODE channel: %s; nodes are seen every %d ms only",
                 reply->body_case == RAYC__ENVELOPE__BODY_ERROR ? reply->error->message : "?",
                 CVIEW_REFRESH_MS);
}

void cview_gcs_registered(raylet *r)
{
    cview *v = raylet_cluster_of(r)->view;
    if (v == NULL)
        return;
    static char *channels[] = {"NODE"};
    Rayc__Envelope env = RAYC__ENVELOPE__INIT;
    Rayc__Subscribe sub = RAYC__SUBSCRIBE__INIT;
    sub.n_channels = 1;
    sub.channels = channels;
    env.body_case = RAYC__ENVELOPE__BODY_SUBSCRIBE;
    env.subscribe = &sub;
    raylet_gcs_call(r, &env, subscribe_cb, NULL);
    /* A table asked before the subscription was answered may miss a change. */
    v->asking = 0;
    ask_all(v);
}

/* Adds a slot for a node the view did not know.  Returns NULL when full. */
static cview_node *append_node(cview *v)
{
    if (v->n >= CVIEW_MAX_NODES) {
        log_warn("cluster view: more than %d nodes; ignoring the others", CVIEW_MAX_NODES);
        return NULL;
    }
    cview_node *nodes = realloc(v->nodes, (v->n + 1) * sizeof *nodes);
    if (nodes == NULL)
        return NULL;
    v->nodes = nodes;
    return &v->nodes[v->n++];
}

void cview_on_publish(raylet *r, const Rayc__Publish *pub)
{
    cview *v = raylet_cluster_of(r)->view;
    if (v == NULL || r->closing || pub->node == NULL || strcmp(pub->channel, "NODE") != 0)
        return;
    cview_node fresh;
    fill_node(r, &fresh, pub->node);
    note_changes(v, &fresh, 1);
    cview_node *n = cview_find(r, fresh.id);
    if (n != NULL)
        fresh.charged_cpu = n->charged_cpu;
    else if ((n = append_node(v)) == NULL)
        return;
    *n = fresh;
    raylet_cluster_view_changed(r);
}

/* ---------------------------------------------------------------- queries */

cview_node *cview_find(raylet *r, const char *id)
{
    cview *v = raylet_cluster_of(r)->view;
    for (size_t i = 0; v != NULL && i < v->n; i++)
        if (strcmp(v->nodes[i].id, id) == 0)
            return &v->nodes[i];
    return NULL;
}

static const cview_res *res_of(const cview_node *n, const char *name)
{
    for (size_t i = 0; i < n->nres; i++)
        if (strcmp(n->res[i].name, name) == 0)
            return &n->res[i];
    return NULL;
}

double cview_total(const cview_node *n, const char *name)
{
    const cview_res *x = res_of(n, name);
    return x ? x->total : 0;
}

double cview_avail(const cview_node *n, const char *name)
{
    const cview_res *x = res_of(n, name);
    double a = x ? x->avail : 0;
    return strcmp(name, "CPU") == 0 ? a - n->charged_cpu : a;
}

void cview_charge(cview_node *n, double cpu)
{
    n->charged_cpu += cpu;
}

/* ---------------------------------------------------------------- open / close */

int cview_open(raylet *r)
{
    cview *v = calloc(1, sizeof *v);
    if (v == NULL)
        return -ENOMEM;
    v->r = r;
    raylet_cluster_of(r)->view = v;
    uv_timer_init(r->loop, &v->timer);
    v->timer.data = v;
    return uv_timer_start(&v->timer, refresh_cb, 100, CVIEW_REFRESH_MS);
}

void cview_close(raylet *r)
{
    cview *v = raylet_cluster_of(r)->view;
    if (v != NULL)
        raylet_close_handle((uv_handle_t *)&v->timer);
}

void cview_free(raylet *r)
{
    cview *v = raylet_cluster_of(r)->view;
    if (v == NULL)
        return;
    free(v->nodes);
    free(v);
    raylet_cluster_of(r)->view = NULL;
}
