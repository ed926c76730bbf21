/* Queries of the event tables: Ray's filter keys, newest first, a limit,
 * and a reply whose arrays come from one allocation. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gcs/gcs_events_int.h"

/* ---------------------------------------------------------------- queries */

static const char *const task_keys[] = {
    "task_id", "attempt_number", "name", "state", "job_id", "actor_id", "type",
    "func_or_class_name", "node_id", "worker_id", "worker_pid", "error_type",
    "placement_group_id", NULL,
};
static const char *const actor_keys[] = {
    "actor_id", "class_name", "state", "job_id", "name", "node_id", "pid", "ray_namespace",
    "placement_group_id", "is_detached", "num_restarts", NULL,
};

static const char *task_type(int kind)
{
    return kind == 1 ? "ACTOR_CREATION_TASK" : kind == 2 ? "ACTOR_TASK" : "NORMAL_TASK";
}

static const char *hex(const uint8_t *b, size_t n, int has, char *buf)
{
    if (!has)
        return "";
    ids_hex(b, n, buf);
    return buf;
}

/* R's field KEY as text in BUF (128 bytes at least) or a stored string. */
static const char *field(const gev_table *t, const gev_rec *r, const char *key, char *buf)
{
    if (strcmp(key, "state") == 0) return gev__state_name(t, r->state);
    if (strcmp(key, "job_id") == 0) return hex(r->job, IDS_JOB_LEN, 1, buf);
    if (strcmp(key, "node_id") == 0) return r->node_id ? r->node_id : "";
    if (strcmp(key, "name") == 0) return r->name ? r->name : r->func ? r->func : "";
    if (strcmp(key, "placement_group_id") == 0) return hex(r->pg, IDS_PG_LEN, r->has_pg, buf);
    if (strcmp(key, "worker_id") == 0)
        return hex(r->worker, IDS_WORKER_LEN, r->has_worker, buf);
    if (t->is_actors) {
        if (strcmp(key, "actor_id") == 0) return hex(r->key, IDS_ACTOR_LEN, 1, buf);
        if (strcmp(key, "class_name") == 0) return r->func ? r->func : "";
        if (strcmp(key, "ray_namespace") == 0) return r->ns ? r->ns : "";
        if (strcmp(key, "is_detached") == 0) return r->detached ? "True" : "False";
        snprintf(buf, 128, "%d", strcmp(key, "pid") == 0 ? r->pid : r->attempt);
        return buf;
    }
    if (strcmp(key, "task_id") == 0) return hex(r->key, IDS_TASK_LEN, 1, buf);
    if (strcmp(key, "actor_id") == 0) return hex(r->actor, IDS_ACTOR_LEN, r->has_actor, buf);
    if (strcmp(key, "type") == 0) return task_type(r->kind);
    if (strcmp(key, "func_or_class_name") == 0) return r->func ? r->func : "";
    if (strcmp(key, "error_type") == 0) return r->error_type ? r->error_type : "";
    snprintf(buf, 128, "%d", strcmp(key, "worker_pid") == 0 ? r->pid : r->attempt);
    return buf;
}

static int key_known(const gev_table *t, const char *key)
{
    for (const char *const *k = t->is_actors ? actor_keys : task_keys; *k != NULL; k++)
        if (strcmp(*k, key) == 0)
            return 1;
    return 0;
}

static int matches(const gev_table *t, const gev_rec *r, const Rayc__GetTaskEvents *q)
{
    char buf[160];
    for (size_t i = 0; i < q->n_filters; i++) {
        const Rayc__StateFilter *f = q->filters[i];
        const char *v = field(t, r, f->key, buf);
        /* Ray compares string values without case ("state=running"). */
        int eq = strcasecmp(v, f->value) == 0;
        if (eq != (strcmp(f->op, "=") == 0))
            return 0;
    }
    return 1;
}

static const char *check_filters(const gev_table *t, const Rayc__GetTaskEvents *q)
{
    for (size_t i = 0; i < q->n_filters; i++) {
        const Rayc__StateFilter *f = q->filters[i];
        if (f->key == NULL || f->value == NULL || f->op == NULL)
            return "a filter without key, predicate or value";
        if (strcmp(f->op, "=") != 0 && strcmp(f->op, "!=") != 0)
            return "Unsupported predicate: only = and != are supported";
        if (!key_known(t, f->key))
            return t->is_actors ? "Given filter column is not supported. Enter filters with one "
                                  "of following columns: actor_id, class_name, state, job_id, "
                                  "name, node_id, pid, ray_namespace, placement_group_id, "
                                  "is_detached, num_restarts"
                                : "Given filter column is not supported. Enter filters with one "
                                  "of following columns: task_id, attempt_number, name, state, "
                                  "job_id, actor_id, type, func_or_class_name, node_id, "
                                  "worker_id, worker_pid, error_type, placement_group_id";
    }
    return NULL;
}

/* One block per reply: the record pointers first (what OUT keeps), then the
 * records, their bodies and their state histories. */
typedef struct block {
    void **ptrs;
    char *recs, *bodies;
    Rayc__StateTime *st;
    Rayc__StateTime **stp;
} block;

static int block_alloc(block *b, size_t n, size_t rec_size, size_t body_size)
{
    size_t sz = n * (sizeof(void *) + rec_size + body_size +
                     GEV_MAX_EVENTS * (sizeof(Rayc__StateTime) + sizeof(void *)));
    char *p = calloc(1, sz ? sz : 1);
    if (p == NULL)
        return -ENOMEM;
    b->ptrs = (void **)p;
    b->stp = (Rayc__StateTime **)(p + n * sizeof(void *));
    b->st = (Rayc__StateTime *)(p + n * sizeof(void *) * (1 + GEV_MAX_EVENTS));
    b->recs = (char *)(b->st + n * GEV_MAX_EVENTS);
    b->bodies = b->recs + n * rec_size;
    return 0;
}

static size_t fill_events(const gev_table *t, const gev_rec *r, block *b, size_t i,
                          Rayc__StateTime ***out)
{
    Rayc__StateTime *st = b->st + i * GEV_MAX_EVENTS;
    Rayc__StateTime **stp = b->stp + i * GEV_MAX_EVENTS;
    for (int k = 0; k < r->nev; k++) {
        rayc__state_time__init(&st[k]);
        st[k].state = (char *)gev__state_name(t, r->ev_state[k]);
        st[k].time_ns = r->ev_time[k];
        stp[k] = &st[k];
    }
    *out = stp;
    return r->nev;
}

#define BIN(field, ptr, n) do { (field).data = (uint8_t *)(ptr); (field).len = (n); } while (0)

static void fill_task(const gev_table *t, const gev_rec *r, block *b, size_t i)
{
    Rayc__TaskRecord *rec = (Rayc__TaskRecord *)b->recs + i;
    Rayc__TaskEvent *m = (Rayc__TaskEvent *)b->bodies + i;
    rayc__task_record__init(rec);
    rayc__task_event__init(m);
    BIN(m->task_id, r->key, IDS_TASK_LEN);
    m->attempt = r->attempt;
    m->state = (char *)gev__state_name(t, r->state);
    BIN(m->job_id, r->job, IDS_JOB_LEN);
    m->func = (char *)(r->func ? r->func : "");
    m->name = r->name ? r->name : "";
    m->kind = r->kind;
    m->node_id = (char *)(r->node_id ? r->node_id : "");
    if (r->has_worker)
        BIN(m->worker_id, r->worker, IDS_WORKER_LEN);
    m->worker_pid = r->pid;
    if (r->has_actor)
        BIN(m->actor_id, r->actor, IDS_ACTOR_LEN);
    if (r->has_pg)
        BIN(m->pg_id, r->pg, IDS_PG_LEN);
    m->error_type = r->error_type ? r->error_type : "";
    m->error = r->error ? r->error : "";
    rec->task = m;
    rec->n_events = fill_events(t, r, b, i, &rec->events);
    b->ptrs[i] = rec;
}

static void fill_actor(const gev_table *t, const gev_rec *r, block *b, size_t i)
{
    Rayc__ActorRecord *rec = (Rayc__ActorRecord *)b->recs + i;
    Rayc__ActorEvent *m = (Rayc__ActorEvent *)b->bodies + i;
    rayc__actor_record__init(rec);
    rayc__actor_event__init(m);
    BIN(m->actor_id, r->key, IDS_ACTOR_LEN);
    m->state = (char *)gev__state_name(t, r->state);
    BIN(m->job_id, r->job, IDS_JOB_LEN);
    m->class_name = (char *)(r->func ? r->func : "");
    m->name = r->name ? r->name : "";
    m->namespace_ = r->ns ? r->ns : "";
    m->node_id = (char *)(r->node_id ? r->node_id : "");
    m->pid = r->pid;
    if (r->has_worker)
        BIN(m->worker_id, r->worker, IDS_WORKER_LEN);
    m->num_restarts = r->attempt;
    m->death_cause = r->error ? r->error : "";
    if (r->has_pg)
        BIN(m->pg_id, r->pg, IDS_PG_LEN);
    m->detached = r->detached;
    rec->actor = m;
    rec->n_events = fill_events(t, r, b, i, &rec->events);
    b->ptrs[i] = rec;
}

int gev_query(gev_table *t, const Rayc__GetTaskEvents *q, Rayc__TaskEventsReply *out)
{
    out->total = (int64_t)t->len;
    out->num_dropped = t->dropped;
    const char *bad = check_filters(t, q);
    if (bad != NULL) {
        out->error = (char *)bad;
        return 0;
    }
    size_t limit = q->limit > 0 && q->limit <= GEV_QUERY_MAX_LIMIT ? (size_t)q->limit
                                                                  : GEV_QUERY_MAX_LIMIT;
    if (limit > t->len)
        limit = t->len;
    block b;
    int rc = t->is_actors
                 ? block_alloc(&b, limit, sizeof(Rayc__ActorRecord), sizeof(Rayc__ActorEvent))
                 : block_alloc(&b, limit, sizeof(Rayc__TaskRecord), sizeof(Rayc__TaskEvent));
    if (rc != 0)
        return rc;
    size_t n = 0;
    int64_t matched = 0;
    for (size_t i = t->len; i-- > 0;) {
        const gev_rec *r = &t->recs[(t->head + i) % t->cap];
        if (!matches(t, r, q))
            continue;
        matched++;
        if (n == limit)
            continue;
        if (t->is_actors)
            fill_actor(t, r, &b, n++);
        else
            fill_task(t, r, &b, n++);
    }
    out->num_filtered = matched;
    if (t->is_actors) {
        out->actors = (Rayc__ActorRecord **)b.ptrs;
        out->n_actors = n;
    } else {
        out->tasks = (Rayc__TaskRecord **)b.ptrs;
        out->n_tasks = n;
    }
    return 0;
}

void gev_reply_release(Rayc__TaskEventsReply *out)
{
    free(out->tasks);
    free(out->actors);
    out->tasks = NULL;
    out->actors = NULL;
    out->n_tasks = out->n_actors = 0;
}
