/* Building the NodeInfo and ReportResources messages a raylet sends.
 *
 * protobuf-c gives every map field its own entry type, so each map has a
 * small builder below.  Entries point at the names in the raylet's maps (no
 * copies); only the arrays are allocated, in one block per map. */
#include "raylet/raylet.h"
#include "raylet/sched.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

/* Allocates N entry pointers followed by N entries of SIZE bytes in one
 * block; *ENTRIES points at the first entry.  NULL on failure or N == 0. */
static void **entry_block(size_t n, size_t size, unsigned char **entries)
{
    if (n == 0)
        return NULL;
    void **ptrs = calloc(1, n * (sizeof *ptrs + size));
    if (ptrs != NULL)
        *entries = (unsigned char *)(ptrs + n);
    return ptrs;
}

static int total_entries(const res_map *m, Rayc__NodeInfo *info)
{
    unsigned char *e;
    Rayc__NodeInfo__ResourcesTotalEntry **v =
        (Rayc__NodeInfo__ResourcesTotalEntry **)entry_block(m->len, sizeof **v, &e);
    if (v == NULL)
        return m->len ? -ENOMEM : 0;
    for (size_t i = 0; i < m->len; i++) {
        Rayc__NodeInfo__ResourcesTotalEntry *x = (void *)(e + i * sizeof *x);
        rayc__node_info__resources_total_entry__init(x);
        x->key = m->items[i].name;
        x->value = m->items[i].qty;
        v[i] = x;
    }
    info->resources_total = v;
    info->n_resources_total = m->len;
    return 0;
}

static int available_entries(const res_map *m, Rayc__NodeInfo *info)
{
    unsigned char *e;
    Rayc__NodeInfo__ResourcesAvailableEntry **v =
        (Rayc__NodeInfo__ResourcesAvailableEntry **)entry_block(m->len, sizeof **v, &e);
    if (v == NULL)
        return m->len ? -ENOMEM : 0;
    for (size_t i = 0; i < m->len; i++) {
        Rayc__NodeInfo__ResourcesAvailableEntry *x = (void *)(e + i * sizeof *x);
        rayc__node_info__resources_available_entry__init(x);
        x->key = m->items[i].name;
        x->value = m->items[i].qty;
        v[i] = x;
    }
    info->resources_available = v;
    info->n_resources_available = m->len;
    return 0;
}

static int label_entries(const res_labels *l, Rayc__NodeInfo *info)
{
    unsigned char *e;
    Rayc__NodeInfo__LabelsEntry **v =
        (Rayc__NodeInfo__LabelsEntry **)entry_block(l->len, sizeof **v, &e);
    if (v == NULL)
        return l->len ? -ENOMEM : 0;
    for (size_t i = 0; i < l->len; i++) {
        Rayc__NodeInfo__LabelsEntry *x = (void *)(e + i * sizeof *x);
        rayc__node_info__labels_entry__init(x);
        x->key = l->items[i].key;
        x->value = l->items[i].value;
        v[i] = x;
    }
    info->labels = v;
    info->n_labels = l->len;
    return 0;
}

int raylet_msg_node_info(const raylet *r, Rayc__NodeInfo *info)
{
    const raylet_opts *o = r->opts;
    info->node_id = (char *)o->node_id;
    info->address = (char *)o->node_ip;
    info->node_manager_port = r->node_manager_port;
    info->object_manager_port = 0;
    info->node_dir = (char *)o->node_dir;
    info->hostname = (char *)r->hostname;
    info->is_head = o->head != 0;
    info->state = RAYC__NODE_INFO__STATE__ALIVE;
    info->start_time_ms = r->start_time_ms;
    info->raylet_pid = (int32_t)getpid();
    int rc = total_entries(&r->total, info);
    if (rc == 0)
        rc = available_entries(&r->available, info);
    if (rc == 0)
        rc = label_entries(&r->labels, info);
    return rc;
}

void raylet_msg_node_info_clear(Rayc__NodeInfo *info)
{
    free(info->resources_total);
    free(info->resources_available);
    free(info->labels);
    info->resources_total = NULL;
    info->resources_available = NULL;
    info->labels = NULL;
    info->n_resources_total = info->n_resources_available = info->n_labels = 0;
}

int raylet_msg_report(const raylet *r, Rayc__ReportResources *rep)
{
    const res_map *m = &r->available;
    unsigned char *e;
    rep->node_id = (char *)r->opts->node_id;
    Rayc__ReportResources__AvailableEntry **v =
        (Rayc__ReportResources__AvailableEntry **)entry_block(m->len, sizeof **v, &e);
    if (v == NULL)
        return m->len ? -ENOMEM : 0;
    for (size_t i = 0; i < m->len; i++) {
        Rayc__ReportResources__AvailableEntry *x = (void *)(e + i * sizeof *x);
        rayc__report_resources__available_entry__init(x);
        x->key = m->items[i].name;
        x->value = m->items[i].qty;
        v[i] = x;
    }
    rep->available = v;
    rep->n_available = m->len;
    return r->sched ? sched_demands((raylet *)r, &rep->demands, &rep->n_demands) : 0;
}

void raylet_msg_report_clear(Rayc__ReportResources *rep)
{
    free(rep->available);
    rep->available = NULL;
    rep->n_available = 0;
    sched_demands_clear(rep->demands, rep->n_demands);
    rep->demands = NULL;
    rep->n_demands = 0;
}
