/* node_stats: host, store and task measurements for reports and /metrics,
 * under Ray's metric names (ray_node_*, ray_object_store_memory,
 * ray_tasks{State}, ray_actors{State}, ray_resources{Name,State}). */
#include "raylet/node_stats.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/prom_http.h"
#include "common/util.h"
#include "raylet/actor.h"
#include "objstore/objstore.h"
#include "raylet/sched_int.h"
#include "raylet/sched_remote.h"
#include "raylet/wpool.h"

typedef struct node_stats {
    uint64_t cpu_busy, cpu_total;  /* the previous /proc/stat reading */
    long ncpus;
    Rayc__NodeStats last;
    uint64_t tasks_waiting, tasks_queued;
} node_stats;

/* ---------------------------------------------------------------- /proc */

/* Reads the first line of /proc/stat into BUSY and TOTAL jiffies. */
static int read_cpu(uint64_t *busy, uint64_t *total)
{
    FILE *f = fopen("/proc/stat", "r");
    if (f == NULL)
        return -errno;
    unsigned long long v[8] = {0};
    int n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2],
                   &v[3], &v[4], &v[5], &v[6], &v[7]);
    fclose(f);
    if (n < 4)
        return -EINVAL;
    *total = 0;
    for (int i = 0; i < 8; i++)
        *total += v[i];
    *busy = *total - v[3] - v[4];   /* minus idle and iowait */
    return 0;
}

/* Reads MemTotal and MemAvailable (bytes) from /proc/meminfo. */
static int read_mem(uint64_t *total, uint64_t *avail)
{
    FILE *f = fopen("/proc/meminfo", "r");
    if (f == NULL)
        return -errno;
    char line[256];
    int found = 0;
    while (found < 2 && fgets(line, sizeof line, f) != NULL) {
        unsigned long long kb;
        if (sscanf(line, "MemTotal: %llu kB", &kb) == 1) {
            *total = kb * 1024;
            found++;
        } else if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1) {
            *avail = kb * 1024;
            found++;
        }
    }
    fclose(f);
    return found == 2 ? 0 : -EINVAL;
}

/* ---------------------------------------------------------------- sampling */

static void count_tasks(raylet *r, node_stats *st)
{
    sched *s = r->sched;
    uint64_t n[4] = {0};
    sched_count_by_state(r, n);
    st->tasks_waiting = n[SCHED_WAITING];
    st->tasks_queued = n[SCHED_QUEUED];
    st->last.tasks_pending = (int32_t)(n[SCHED_WAITING] + n[SCHED_QUEUED]);
    st->last.tasks_running = (int32_t)n[SCHED_RUNNING];
    st->last.tasks_finished = s ? s->nfinished : 0;
    st->last.tasks_failed = s ? s->nfailed : 0;
}

int node_stats_open(raylet *r)
{
    node_stats *st = calloc(1, sizeof *st);
    if (st == NULL)
        return -ENOMEM;
    rayc__node_stats__init(&st->last);
    read_cpu(&st->cpu_busy, &st->cpu_total);
    r->stats = st;
    return 0;
}

void node_stats_close(raylet *r)
{
    prom_http_close(r->metrics);
    r->metrics = NULL;
    free(r->stats);
    r->stats = NULL;
}

void node_stats_sample(raylet *r)
{
    node_stats *st = r->stats;
    if (st == NULL)
        return;
    uint64_t busy, total, mtotal = 0, mavail = 0;
    if (read_cpu(&busy, &total) == 0 && total > st->cpu_total) {
        uint64_t db = busy >= st->cpu_busy ? busy - st->cpu_busy : 0;
        st->last.cpu_percent = 100.0 * (double)db / (double)(total - st->cpu_total);
        st->cpu_busy = busy;
        st->cpu_total = total;
    }
    if (read_mem(&mtotal, &mavail) == 0) {
        st->last.mem_total = mtotal;
        st->last.mem_used = mtotal > mavail ? mtotal - mavail : 0;
    }
    if (r->store != NULL) {
        objstore_stats os;
        objstore_get_stats(r->store, &os);
        st->last.object_store_used = os.used;
        st->last.object_store_total = os.capacity;
    }
    count_tasks(r, st);
    st->last.workers = (int32_t)wpool_count(r);
    st->last.actors = (int32_t)actor_count(r);
    st->last.timestamp_ms = time_now_ms();
}

Rayc__NodeStats *node_stats_last(const raylet *r)
{
    return r->stats != NULL ? &r->stats->last : NULL;
}

/* ---------------------------------------------------------------- Prometheus */

/* The labels every sample of this node carries, without braces. */
static void common_labels(const raylet *r, prom_text *t)
{
    prom_text_printf(t, "ip=\"%s\",NodeAddress=\"%s\",SessionName=\"", r->opts->node_ip,
                     r->opts->node_ip);
    prom_text_label(t, r->session_name);
    prom_text_printf(t, "\",IsHeadNode=\"%s\",NodeId=\"%s\"", r->opts->head ? "true" : "false",
                     r->opts->node_id);
}

static void sample(const raylet *r, prom_text *t, const char *name, const char *extra,
                   double v)
{
    prom_text_printf(t, "%s{", name);
    if (extra != NULL)
        prom_text_printf(t, "%s,", extra);
    common_labels(r, t);
    prom_text_printf(t, "} %.17g\n", v);
}

static void render_node(const raylet *r, prom_text *t, const Rayc__NodeStats *s)
{
    prom_text_gauge(t, "ray_node_cpu_utilization", "Total CPU usage on the node, in percent.");
    sample(r, t, "ray_node_cpu_utilization", NULL, s->cpu_percent);
    double ncpu = 0;
    res_map_get(&r->total, "CPU", &ncpu);
    prom_text_gauge(t, "ray_node_cpu_count", "CPUs of the node (the CPU resource).");
    sample(r, t, "ray_node_cpu_count", NULL, ncpu);
    prom_text_gauge(t, "ray_node_mem_used", "Memory used on the node, in bytes.");
    sample(r, t, "ray_node_mem_used", NULL, (double)s->mem_used);
    prom_text_gauge(t, "ray_node_mem_total", "Total memory of the node, in bytes.");
    sample(r, t, "ray_node_mem_total", NULL, (double)s->mem_total);
    prom_text_gauge(t, "ray_node_mem_available", "Memory available on the node, in bytes.");
    sample(r, t, "ray_node_mem_available", NULL, (double)(s->mem_total - s->mem_used));
    prom_text_gauge(t, "ray_object_store_memory", "Object store memory by location, in bytes.");
    sample(r, t, "ray_object_store_memory", "Location=\"MMAP_SHM\"", (double)s->object_store_used);
    prom_text_gauge(t, "ray_object_store_available_memory",
                    "Object store memory free, in bytes.");
    sample(r, t, "ray_object_store_available_memory", NULL,
           (double)(s->object_store_total - s->object_store_used));
    prom_text_gauge(t, "ray_node_workers", "Worker processes of the node.");
    sample(r, t, "ray_node_workers", NULL, s->workers);
}

/* ray_actors{State} with Ray's ActorState names, every state listed (0
 * included).  Waiting for a name or arguments is DEPENDENCIES_UNREADY;
 * waiting for resources or running the constructor is PENDING_CREATION. */
static void render_actors(const raylet *r, prom_text *t)
{
    static const char *const names[] = {"DEPENDENCIES_UNREADY", "PENDING_CREATION", "ALIVE",
                                        "RESTARTING", "DEAD"};
    static const int ray_state[ACTOR_DEAD + 1] = {
        [ACTOR_NAMING] = 0, [ACTOR_PENDING] = 1, [ACTOR_CREATING] = 1,
        [ACTOR_ALIVE] = 2,  [ACTOR_RESTARTING] = 3, [ACTOR_DEAD] = 4,
    };
    size_t counts[ACTOR_DEAD + 1], by_name[5] = {0};
    actor_count_states(r, counts);
    for (int st = 0; st <= ACTOR_DEAD; st++)
        by_name[ray_state[st]] += counts[st];
    prom_text_gauge(t, "ray_actors", "Actors of this node by state (DEAD: since the raylet "
                                     "started).");
    for (int i = 0; i < 5; i++) {
        char label[64];
        snprintf(label, sizeof label, "State=\"%s\"", names[i]);
        sample(r, t, "ray_actors", label, (double)by_name[i]);
    }
}

static void render_tasks(const raylet *r, prom_text *t, const Rayc__NodeStats *s)
{
    const node_stats *st = r->stats;
    prom_text_gauge(t, "ray_tasks", "Tasks of this node by state (FINISHED and FAILED since the "
                                    "raylet started).");
    sample(r, t, "ray_tasks", "State=\"PENDING_ARGS_AVAIL\"", (double)st->tasks_waiting);
    sample(r, t, "ray_tasks", "State=\"PENDING_NODE_ASSIGNMENT\"", (double)st->tasks_queued);
    sample(r, t, "ray_tasks", "State=\"RUNNING\"", s->tasks_running);
    sample(r, t, "ray_tasks", "State=\"FINISHED\"", (double)s->tasks_finished);
    sample(r, t, "ray_tasks", "State=\"FAILED\"", (double)s->tasks_failed);
    render_actors(r, t);
}

static void render_resources(const raylet *r, prom_text *t)
{
    prom_text_gauge(t, "ray_resources", "Logical resources of the node by state.");
    for (size_t i = 0; i < r->total.len; i++) {
        const char *name = r->total.items[i].name;
        if (strncmp(name, "bundle_group_", 13) == 0 || strncmp(name, "node:", 5) == 0)
            continue;
        double total = r->total.items[i].qty, avail = 0;
        res_map_get(&r->available, name, &avail);
        for (int used = 0; used < 2; used++) {
            prom_text_printf(t, "ray_resources{Name=\"");
            prom_text_label(t, name);
            prom_text_printf(t, "\",State=\"%s\",", used ? "USED" : "AVAILABLE");
            common_labels(r, t);
            prom_text_printf(t, "} %.17g\n", used ? total - avail : avail);
        }
    }
}

static void render_cb(void *arg, prom_text *t)
{
    raylet *r = arg;
    count_tasks(r, r->stats);
    Rayc__NodeStats *s = &r->stats->last;
    s->workers = (int32_t)wpool_count(r);
    s->actors = (int32_t)actor_count(r);
    render_node(r, t, s);
    render_tasks(r, t, s);
    render_resources(r, t);
}

int node_stats_serve(raylet *r, int port, char *err, size_t errlen)
{
    return prom_http_start(r->loop, r->opts->node_ip, port, render_cb, r, &r->metrics,
                           &r->metrics_port, err, errlen);
}
