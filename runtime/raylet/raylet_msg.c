/* Building the NodeInfo and ReportResources messages a raylet sends.
 *
 * protobuf-c gives every map field its own entry type, so each map has a
 * small builder below.  Entries point at the names in the raylet's maps (no
 * copies); only the arrays are allocated, in one block per map. */
#include "raylet/raylet.h"
#include "raylet/node_stats.h"
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

/* Fills one protobuf map from M, skipping free slots (empty names).  Each
 * map entry type has the layout {base, key, value}; INIT initialises one.
 * Returns the number of entries in *N and the array (NULL when none), or
 * -ENOMEM. */
#define MAP_ENTRIES(TYPE, INIT, m, out, n)                                             \
    do {                                                                               \
        unsigned char *e_;                                                             \
        TYPE **v_ = (TYPE **)entry_block((m)->len, sizeof(TYPE), &e_);                 \
        *(n) = 0;                                                                      \
        *(out) = NULL;                                                                 \
        if (v_ == NULL && (m)->len > 0)                                                \
            return -ENOMEM;                                                            \
        for (size_t i_ = 0; i_ < (m)->len; i_++) {                                     \
            if ((m)->items[i_].name[0] == '\0')                                        \
                continue;                                                              \
            TYPE *x_ = (void *)(e_ + *(n) * sizeof *x_);                                 \
            INIT(x_);                                                                  \
            x_->key = (m)->items[i_].name;                                             \
            x_->value = (m)->items[i_].qty;                                            \
            v_[(*(n))++] = x_;                                                         \
        }                                                                              \
        *(out) = v_;                                                                   \
    } while (0)

static int total_entries(const res_map *m, Rayc__NodeInfo *info)
{
    MAP_ENTRIES(Rayc__NodeInfo__ResourcesTotalEntry, rayc__node_info__resources_total_entry__init,
                m, &info->resources_total, &info->n_resources_total);
    return 0;
}

static int available_entries(const res_map *m, Rayc__NodeInfo *info)
{
    MAP_ENTRIES(Rayc__NodeInfo__ResourcesAvailableEntry,
                rayc__node_info__resources_available_entry__init, m,
                &info->resources_available, &info->n_resources_available);
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
    info->agent_port = o->agent_port;
    info->metrics_export_port = r->metrics_port;
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

static int report_available(const res_map *m, Rayc__ReportResources *rep)
{
    MAP_ENTRIES(Rayc__ReportResources__AvailableEntry,
                rayc__report_resources__available_entry__init, m, &rep->available,
                &rep->n_available);
    return 0;
}

/* The totals travel with every report: placement group bundles change them. */
static int report_total(const res_map *m, Rayc__ReportResources *rep)
{
    MAP_ENTRIES(Rayc__ReportResources__TotalEntry, rayc__report_resources__total_entry__init, m,
                &rep->total, &rep->n_total);
    return 0;
}

int raylet_msg_report(const raylet *r, Rayc__ReportResources *rep)
{
    rep->node_id = (char *)r->opts->node_id;
    rep->stats = node_stats_last(r);
    int rc = report_available(&r->available, rep);
    if (rc == 0)
        rc = report_total(&r->total, rep);
    if (rc != 0)
        return rc;
    return r->sched ? sched_demands((raylet *)r, &rep->demands, &rep->n_demands) : 0;
}

void raylet_msg_report_clear(Rayc__ReportResources *rep)
{
    free(rep->available);
    rep->available = NULL;
    rep->n_available = 0;
    free(rep->total);
    rep->total = NULL;
    rep->n_total = 0;
    sched_demands_clear(rep->demands, rep->n_demands);
    rep->demands = NULL;
    rep->n_demands = 0;
}
