/* Task and actor events: a bounded ring of compact records, flushed to the
 * GCS once a second.  Recording costs a clock read and a copy of a few ids;
 * strings are interned (function names) or copied only where rare (task
 * names, errors, actor names). */
#include "raylet/tev.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "common/util.h"
#include "raylet/actor.h"
#include "raylet/sched.h"
#include "raylet/wpool.h"

#define TEV_DEFAULT_INTERVAL_MS 1000
#define TEV_DEFAULT_MAX_BUFFER 100000
#define TEV_BATCH_MAX 5000           /* events per AddTaskEvents (well under the frame cap) */
#define TEV_INTERN_MAX 65536         /* distinct function names kept */
#define TEV_TEXT_MAX 1024            /* bytes of an error kept (the GCS keeps as many) */

typedef struct tev_ev {
    int64_t time_ns;
    const char *func;              /* interned, never freed while the raylet runs */
    char *name;                    /* owned or NULL */
    char *error;                   /* owned or NULL */
    char *ns;                      /* owned or NULL (actors) */
    int32_t attempt;               /* actors: num_restarts */
    int32_t pid;
    uint8_t id[IDS_TASK_LEN];      /* task id, or actor id in the first 16 bytes */
    uint8_t job[IDS_JOB_LEN];
    uint8_t actor[IDS_ACTOR_LEN];
    uint8_t pg[IDS_PG_LEN];
    uint8_t worker[IDS_WORKER_LEN];
    uint8_t is_actor, has_actor, has_pg, has_worker, state, kind, on_node, detached, status;
} tev_ev;

typedef struct tev {
    raylet *r;
    int64_t interval_ms;
    tev_ev *ring;
    size_t cap, max, head, len;
    int64_t dropped_tasks, dropped_actors;
    char **names;                  /* intern table (open addressing) */
    size_t nnames, nslots;
    uv_timer_t timer;
    int timer_open;
} tev;

static const char *const task_states[] = {
    "", "PENDING_ARGS_AVAIL", "PENDING_NODE_ASSIGNMENT", "SUBMITTED_TO_WORKER", "RUNNING",
    "FINISHED", "FAILED",
};
static const char *const actor_states[] = {
    "", "DEPENDENCIES_UNREADY", "PENDING_CREATION", "ALIVE", "RESTARTING", "DEAD",
};

const char *tev_error_type(int status)
{
    switch (status) {
    case RAY_OK: return "";
    case RAY_ERR_TASK: return "TASK_EXECUTION_EXCEPTION";
    case RAY_ERR_WORKER_CRASHED: return "WORKER_DIED";
    case RAY_ERR_ACTOR_DIED: return "ACTOR_DIED";
    case RAY_ERR_OBJECT_LOST: return "OBJECT_LOST";
    case RAY_ERR_OWNER_DIED: return "OWNER_DIED";
    case RAY_ERR_CANCELLED: return "TASK_CANCELLED";
    case RAY_ERR_UNSCHEDULABLE: return "TASK_UNSCHEDULABLE_ERROR";
    case RAY_ERR_NODE_DIED: return "NODE_DIED";
    case RAY_ERR_STORE_FULL: return "OUT_OF_MEMORY";
    default: return "RAY_SYSTEM_ERROR";
    }
}

/* ---------------------------------------------------------------- helpers */

static int64_t env_i64(const char *name, int64_t dflt, int64_t lo, int64_t hi)
{
    const char *v = getenv(name);
    char *end;
    if (v == NULL || *v == '\0')
        return dflt;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (errno != 0 || *end != '\0' || n < lo || n > hi) {
        log_warn("%s=%s is not a number in [%lld, %lld]; using %lld", name, v, (long long)lo,
                 (long long)hi, (long long)dflt);
        return dflt;
    }
    return n;
}

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static uint64_t str_hash(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 1099511628211ull;
    return h;
}

/* The interned copy of S, or a constant when the table is full. */
static const char *intern(tev *e, const char *s)
{
    if (s == NULL)
        return "";
    if (e->nslots == 0 || e->nnames * 2 >= e->nslots) {
        if (e->nnames >= TEV_INTERN_MAX)
            return "(too many function names)";
        size_t n = e->nslots ? e->nslots * 2 : 256;
        char **slots = calloc(n, sizeof *slots);
        if (slots == NULL)
            return "(out of memory)";
        for (size_t i = 0; i < e->nslots; i++) {
            if (e->names[i] == NULL)
                continue;
            size_t j = str_hash(e->names[i]) & (n - 1);
            while (slots[j] != NULL)
                j = (j + 1) & (n - 1);
            slots[j] = e->names[i];
        }
        free(e->names);
        e->names = slots;
        e->nslots = n;
    }
    size_t j = str_hash(s) & (e->nslots - 1);
    while (e->names[j] != NULL) {
        if (strcmp(e->names[j], s) == 0)
            return e->names[j];
        j = (j + 1) & (e->nslots - 1);
    }
    e->names[j] = strdup(s);
    if (e->names[j] == NULL)
        return "(out of memory)";
    e->nnames++;
    return e->names[j];
}

static void flush(tev *e);

/* A free record at the tail of the ring (zeroed), or NULL when full.  A
 * full batch goes at once: the ring stays small (cache-friendly) under
 * load, and nothing is dropped while the GCS keeps up. */
static tev_ev *push(tev *e)
{
    if (e->len >= TEV_BATCH_MAX)
        flush(e);
    if (e->len == e->cap) {
        if (e->cap == e->max)
            return NULL;
        size_t n = e->cap ? e->cap * 2 : 1024;
        if (n > e->max)
            n = e->max;
        tev_ev *ring = malloc(n * sizeof *ring);
        if (ring == NULL)
            return NULL;
        for (size_t i = 0; i < e->len; i++)
            ring[i] = e->ring[(e->head + i) % e->cap];
        free(e->ring);
        e->ring = ring;
        e->cap = n;
        e->head = 0;
    }
    tev_ev *ev = &e->ring[(e->head + e->len) % e->cap];
    memset(ev, 0, sizeof *ev);
    e->len++;
    ev->time_ns = now_ns();
    return ev;
}

static void ev_free(tev_ev *ev)
{
    free(ev->name);
    free(ev->error);
    free(ev->ns);
}

static void copy_bytes(uint8_t *dst, size_t n, const ProtobufCBinaryData *b, uint8_t *flag)
{
    if (b->len != n)
        return;
    memcpy(dst, b->data, n);
    if (flag != NULL)
        *flag = 1;
}

/* ---------------------------------------------------------------- recording */

void tev_task(raylet *r, const sched_task *t, int state, int status, const char *error)
{
    tev *e = r->tev;
    if (e == NULL || e->interval_ms == 0)
        return;
    tev_ev *ev = push(e);
    if (ev == NULL) {
        e->dropped_tasks++;
        return;
    }
    const Rayc__TaskSpec *s = t->spec;
    memcpy(ev->id, t->id.b, IDS_TASK_LEN);
    ev->attempt = t->attempt;
    ev->state = (uint8_t)state;
    ev->kind = (uint8_t)s->kind;
    ev->func = intern(e, s->function);
    if (s->name != NULL && s->name[0] != '\0' && state == TEV_PENDING_ARGS_AVAIL)
        ev->name = strdup(s->name);
    copy_bytes(ev->job, IDS_JOB_LEN, &s->job_id, NULL);
    copy_bytes(ev->actor, IDS_ACTOR_LEN, &s->actor_id, &ev->has_actor);
    copy_bytes(ev->pg, IDS_PG_LEN, &s->placement_group_id, &ev->has_pg);
    if (state == TEV_SUBMITTED_TO_WORKER || state == TEV_RUNNING) {
        ev->on_node = 1;
        if (t->worker != NULL) {
            memcpy(ev->worker, t->worker->id.b, IDS_WORKER_LEN);
            ev->has_worker = 1;
            ev->pid = t->worker->pid;
        }
    }
    if (state == TEV_FAILED) {
        ev->status = (uint8_t)status;
        ev->error = strndup(error ? error : "", TEV_TEXT_MAX);
    }
}

void tev_actor(raylet *r, const actor *a, int state, const char *cause)
{
    tev *e = r->tev;
    if (e == NULL || e->interval_ms == 0)
        return;
    tev_ev *ev = push(e);
    if (ev == NULL) {
        e->dropped_actors++;
        return;
    }
    ev->is_actor = 1;
    memcpy(ev->id, a->id.b, IDS_ACTOR_LEN);
    ev->state = (uint8_t)state;
    ev->attempt = a->num_restarts;
    ev->func = intern(e, a->class_name);
    ev->detached = (uint8_t)a->detached;
    ev->on_node = 1;
    if (a->name != NULL && a->name[0] != '\0')
        ev->name = strdup(a->name);
    if (a->ns != NULL)
        ev->ns = strdup(a->ns);
    if (a->create != NULL) {
        copy_bytes(ev->job, IDS_JOB_LEN, &a->create->spec->job_id, NULL);
        copy_bytes(ev->pg, IDS_PG_LEN, &a->create->spec->placement_group_id, &ev->has_pg);
    } else if (a->job != NULL) {
        memcpy(ev->job, a->job->id.b, IDS_JOB_LEN);
    }
    if (a->worker != NULL && state != TEV_DEAD && state != TEV_RESTARTING) {
        memcpy(ev->worker, a->worker->id.b, IDS_WORKER_LEN);
        ev->has_worker = 1;
        ev->pid = a->worker->pid;
    }
    if (state == TEV_DEAD)
        ev->error = strndup(cause ? cause : "", TEV_TEXT_MAX);
}

void tev_actor_remote(raylet *r, const uint8_t *actor_id, const Rayc__TaskSpec *spec, int state,
                      int num_restarts, const char *cause)
{
    tev *e = r->tev;
    if (e == NULL || e->interval_ms == 0)
        return;
    tev_ev *ev = push(e);
    if (ev == NULL) {
        e->dropped_actors++;
        return;
    }
    ev->is_actor = 1;
    memcpy(ev->id, actor_id, IDS_ACTOR_LEN);
    ev->state = (uint8_t)state;
    ev->attempt = num_restarts;
    ev->func = intern(e, spec ? spec->function : "");
    if (spec != NULL) {
        copy_bytes(ev->job, IDS_JOB_LEN, &spec->job_id, NULL);
        copy_bytes(ev->pg, IDS_PG_LEN, &spec->placement_group_id, &ev->has_pg);
        ev->detached = (uint8_t)(spec->actor != NULL && spec->actor->detached);
    }
    if (state == TEV_DEAD)
        ev->error = strndup(cause ? cause : "", TEV_TEXT_MAX);
}

/* ---------------------------------------------------------------- flushing */

/* Starts the message of EV's task attempt (its states go in m->states). */
static void fill_task(Rayc__TaskEvent *m, const tev_ev *ev)
{
    rayc__task_event__init(m);
    m->task_id.data = (uint8_t *)ev->id;
    m->task_id.len = IDS_TASK_LEN;
    m->attempt = ev->attempt;
    m->state = "";
    m->job_id.data = (uint8_t *)ev->job;
    m->job_id.len = IDS_JOB_LEN;
    m->func = "";
    m->kind = ev->kind;
    if (ev->has_actor) {
        m->actor_id.data = (uint8_t *)ev->actor;
        m->actor_id.len = IDS_ACTOR_LEN;
    }
    if (ev->has_pg) {
        m->pg_id.data = (uint8_t *)ev->pg;
        m->pg_id.len = IDS_PG_LEN;
    }
}

/* Adds what EV knows to M, the message of its attempt. */
static void merge_task(Rayc__TaskEvent *m, const tev_ev *ev, char *node_id)
{
    /* The GCS keeps what it got first: the name travels with the first and
     * the last state only. */
    if (ev->state == TEV_PENDING_ARGS_AVAIL || ev->state >= TEV_FINISHED)
        m->func = (char *)ev->func;
    if (ev->name != NULL)
        m->name = ev->name;
    if (ev->on_node)
        m->node_id = node_id;
    if (ev->has_worker) {
        m->worker_id.data = (uint8_t *)ev->worker;
        m->worker_id.len = IDS_WORKER_LEN;
        m->worker_pid = ev->pid;
    }
    if (ev->state == TEV_FAILED) {
        m->error_type = (char *)tev_error_type(ev->status);
        m->error = ev->error ? ev->error : "";
    }
}

/* Groups the task events of a batch by attempt: MSG_OF[i] is the message
 * of event I (SIZE_MAX for actors); returns how many messages. */
static size_t group(tev *e, size_t n, size_t *msg_of, size_t *first_of)
{
    size_t nb = 1, nmsg = 0;
    while (nb < 2 * n)
        nb <<= 1;
    size_t *slots = malloc(nb * sizeof *slots);
    if (slots == NULL)
        return SIZE_MAX;
    memset(slots, 0xff, nb * sizeof *slots);
    for (size_t i = 0; i < n; i++) {
        const tev_ev *ev = &e->ring[(e->head + i) % e->cap];
        msg_of[i] = SIZE_MAX;
        if (ev->is_actor)
            continue;
        size_t j = (size_t)((ids_hash(ev->id, IDS_TASK_LEN) ^ (uint64_t)ev->attempt) & (nb - 1));
        for (;; j = (j + 1) & (nb - 1)) {
            if (slots[j] == SIZE_MAX) {
                slots[j] = i;
                first_of[nmsg] = i;
                msg_of[i] = nmsg++;
                break;
            }
            const tev_ev *o = &e->ring[(e->head + slots[j]) % e->cap];
            if (o->attempt == ev->attempt && memcmp(o->id, ev->id, IDS_TASK_LEN) == 0) {
                msg_of[i] = msg_of[slots[j]];
                break;
            }
        }
    }
    free(slots);
    return nmsg;
}

static void fill_actor(Rayc__ActorEvent *m, const tev_ev *ev, char *node_id)
{
    rayc__actor_event__init(m);
    m->actor_id.data = (uint8_t *)ev->id;
    m->actor_id.len = IDS_ACTOR_LEN;
    m->state = (char *)actor_states[ev->state];
    m->time_ns = ev->time_ns;
    m->job_id.data = (uint8_t *)ev->job;
    m->job_id.len = IDS_JOB_LEN;
    m->class_name = (char *)ev->func;
    m->name = ev->name ? ev->name : "";
    m->namespace_ = ev->ns ? ev->ns : "";
    m->node_id = ev->on_node ? node_id : "";
    m->pid = ev->pid;
    if (ev->has_worker) {
        m->worker_id.data = (uint8_t *)ev->worker;
        m->worker_id.len = IDS_WORKER_LEN;
    }
    m->num_restarts = ev->attempt;
    m->death_cause = ev->error ? ev->error : "";
    if (ev->has_pg) {
        m->pg_id.data = (uint8_t *)ev->pg;
        m->pg_id.len = IDS_PG_LEN;
    }
    m->detached = ev->detached;
}

/* A batch the GCS did not take is counted as dropped. */
static void sent_cb(raylet *r, Rayc__Envelope *reply, void *data)
{
    uintptr_t n = (uintptr_t)data;
    if (reply == NULL && r->tev != NULL) {
        r->tev->dropped_tasks += (int64_t)(n >> 32);
        r->tev->dropped_actors += (int64_t)(n & 0xffffffffu);
    }
}

/* The batch's arrays, one allocation each. */
typedef struct batch {
    Rayc__TaskEvent *tm, **tp;
    Rayc__ActorEvent *am, **ap;
    Rayc__StateTime *st, **stp;
    size_t *msg_of, *first_of, *fill;
} batch;

static void batch_free(batch *b)
{
    free(b->tm), free(b->tp), free(b->am), free(b->ap), free(b->st), free(b->stp);
    free(b->msg_of), free(b->first_of), free(b->fill);
}

/* Fills ADD with N events from the head of the ring: one TaskEvent per task
 * attempt (its states in order), one ActorEvent per actor event.  Returns
 * 0 or -ENOMEM. */
static int build(tev *e, size_t n, batch *b, Rayc__AddTaskEvents *add)
{
    memset(b, 0, sizeof *b);
    b->tm = calloc(n, sizeof *b->tm), b->tp = calloc(n, sizeof *b->tp);
    b->am = calloc(n, sizeof *b->am), b->ap = calloc(n, sizeof *b->ap);
    b->st = calloc(n, sizeof *b->st), b->stp = calloc(n, sizeof *b->stp);
    b->msg_of = calloc(n, sizeof *b->msg_of), b->first_of = calloc(n, sizeof *b->first_of);
    b->fill = calloc(n, sizeof *b->fill);
    if (!b->tm || !b->tp || !b->am || !b->ap || !b->st || !b->stp || !b->msg_of ||
        !b->first_of || !b->fill)
        return -ENOMEM;
    size_t nmsg = group(e, n, b->msg_of, b->first_of);
    if (nmsg == SIZE_MAX)
        return -ENOMEM;
    char *node_id = (char *)e->r->opts->node_id;
    for (size_t m = 0; m < nmsg; m++) {
        fill_task(&b->tm[m], &e->ring[(e->head + b->first_of[m]) % e->cap]);
        b->tp[m] = &b->tm[m];
    }
    for (size_t i = 0; i < n; i++)          /* states per message */
        if (b->msg_of[i] != SIZE_MAX)
            b->tm[b->msg_of[i]].n_states++;
    size_t off = 0;
    for (size_t m = 0; m < nmsg; m++) {
        b->tm[m].states = b->stp + off;
        off += b->tm[m].n_states;
    }
    for (size_t i = 0; i < n; i++) {
        const tev_ev *ev = &e->ring[(e->head + i) % e->cap];
        size_t m = b->msg_of[i];
        if (ev->is_actor) {
            fill_actor(&b->am[add->n_actors], ev, node_id);
            b->ap[add->n_actors] = &b->am[add->n_actors];
            add->n_actors++;
            continue;
        }
        merge_task(&b->tm[m], ev, node_id);
        rayc__state_time__init(&b->st[i]);
        b->st[i].code = ev->state;         /* TEV_* follow the proto's codes */
        b->st[i].time_ns = ev->time_ns;
        b->tm[m].states[b->fill[m]++] = &b->st[i];
    }
    add->tasks = b->tp;
    add->n_tasks = nmsg;
    add->actors = b->ap;
    return 0;
}

/* Sends up to TEV_BATCH_MAX events from the head of the ring. */
static void send_batch(tev *e)
{
    raylet *r = e->r;
    size_t n = e->len < TEV_BATCH_MAX ? e->len : TEV_BATCH_MAX;
    batch b;
    Rayc__AddTaskEvents add = RAYC__ADD_TASK_EVENTS__INIT;
    if (build(e, n, &b, &add) != 0) {
        batch_free(&b);
        return; /* the next tick tries again */
    }
    add.dropped_tasks = e->dropped_tasks;
    add.dropped_actors = e->dropped_actors;
    e->dropped_tasks = e->dropped_actors = 0;
    Rayc__Envelope env = RAYC__ENVELOPE__INIT;
    env.body_case = RAYC__ENVELOPE__BODY_ADD_TASK_EVENTS;
    env.add_task_events = &add;
    uintptr_t counts = ((uintptr_t)(n - add.n_actors) << 32) | (uintptr_t)add.n_actors;
    raylet_gcs_call(r, &env, sent_cb, (void *)counts);
    for (size_t i = 0; i < n; i++)
        ev_free(&e->ring[(e->head + i) % e->cap]);
    e->head = (e->head + n) % e->cap;
    e->len -= n;
    batch_free(&b);
}

static void flush(tev *e)
{
    /* Events wait in the buffer (bounded) while the GCS is away. */
    while (e->len > 0 && e->r->gcs.state == RAYLET_GCS_REGISTERED && !e->r->closing)
        send_batch(e);
}

static void tick_cb(uv_timer_t *h)
{
    flush(h->data);
}

/* ---------------------------------------------------------------- open / close */

int tev_open(raylet *r)
{
    tev *e = calloc(1, sizeof *e);
    if (e == NULL)
        return -ENOMEM;
    e->r = r;
    e->interval_ms = env_i64("RAY_task_events_report_interval_ms", TEV_DEFAULT_INTERVAL_MS, 0,
                             3600000);
    e->max = (size_t)env_i64("RAY_task_events_max_buffer_size", TEV_DEFAULT_MAX_BUFFER, 1,
                             100000000);
    r->tev = e;
    if (e->interval_ms == 0)
        return 0;
    if (uv_timer_init(r->loop, &e->timer) != 0)
        return -ENOMEM;
    e->timer.data = e;
    e->timer_open = 1;
    uv_timer_start(&e->timer, tick_cb, (uint64_t)e->interval_ms, (uint64_t)e->interval_ms);
    return 0;
}

void tev_close(raylet *r)
{
    tev *e = r->tev;
    if (e == NULL)
        return;
    if (e->timer_open) {
        uv_timer_stop(&e->timer);
        raylet_close_handle((uv_handle_t *)&e->timer);
        e->timer_open = 0;
    }
}

void tev_free(raylet *r)
{
    tev *e = r->tev;
    if (e == NULL)
        return;
    for (size_t i = 0; i < e->len; i++)
        ev_free(&e->ring[(e->head + i) % e->cap]);
    for (size_t i = 0; i < e->nslots; i++)
        free(e->names[i]);
    free(e->names);
    free(e->ring);
    free(e);
    r->tev = NULL;
}

/* ---------------------------------------------------------------- workers' events */

static int task_state_of(const char *name)
{
    for (int i = 1; i <= TEV_FAILED; i++)
        if (name != NULL && strcmp(task_states[i], name) == 0)
            return i;
    return 0;
}

/* Buffers STATE (0: none) of IN, a task worker W ran, at time T. */
static void worker_event(tev *e, const wpool_worker *w, const Rayc__TaskEvent *in, int state,
                         int64_t t)
{
    if (state == 0)
        return;
    tev_ev *ev = push(e);
    if (ev == NULL) {
        e->dropped_tasks++;
        return;
    }
    ev->time_ns = t;
    memcpy(ev->id, in->task_id.data, IDS_TASK_LEN);
    ev->attempt = in->attempt;
    ev->state = (uint8_t)state;
    ev->kind = (uint8_t)in->kind;
    ev->func = intern(e, in->func);
    copy_bytes(ev->job, IDS_JOB_LEN, &in->job_id, NULL);
    copy_bytes(ev->actor, IDS_ACTOR_LEN, &in->actor_id, &ev->has_actor);
    ev->on_node = 1;
    memcpy(ev->worker, w->id.b, IDS_WORKER_LEN);
    ev->has_worker = 1;
    ev->pid = w->pid;
    if (state == TEV_FAILED) {
        ev->status = RAY_ERR_TASK;
        ev->error = strndup(in->error ? in->error : "", TEV_TEXT_MAX);
    }
}

void tev_from_worker(raylet_client *cl, const Rayc__AddTaskEvents *m)
{
    raylet *r = cl->r;
    tev *e = r->tev;
    wpool_worker *w = cl->worker;
    if (e == NULL || e->interval_ms == 0 || w == NULL)
        return;
    e->dropped_tasks += m->dropped_tasks > 0 ? m->dropped_tasks : 0;
    for (size_t i = 0; i < m->n_tasks; i++) {
        const Rayc__TaskEvent *in = m->tasks[i];
        if (in->task_id.len != IDS_TASK_LEN || in->n_states > 64)
            continue;
        /* The attempt's state, then each of its states. */
        for (size_t k = 0; k <= in->n_states; k++) {
            const char *name = k == 0 ? in->state : in->states[k - 1]->state;
            int64_t t = k == 0 ? in->time_ns : in->states[k - 1]->time_ns;
            worker_event(e, w, in, task_state_of(name), t);
        }
    }
}
