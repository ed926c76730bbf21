/* Task and actor events: a bounded ring of compact records, flushed to the
 * GCS once a second.  Recording costs a clock read and a copy of a few ids;
 * strings are interned (function names) or copied only where rare (task
 * names, errors, actor names). */
#include "raylet/tev_int.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "common/tev_wire.h"
#include "common/util.h"
#include "raylet/actor.h"
#include "raylet/sched.h"
#include "raylet/wpool.h"

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

/* The interned copy of S, or a constant when the table is full. */
static const char *intern(tev *e, const char *s)
{
    const char *copy;
    if (s == NULL)
        return "";
    int rc = strtab_intern(&e->names, s, &copy);
    return rc == 0 ? copy : rc == -E2BIG ? "(too many function names)" : "(out of memory)";
}

/* A free record at the tail of the ring (zeroed), or NULL when full.  A
 * full batch goes at once: the ring stays small (cache-friendly) under
 * load, and nothing is dropped while the GCS keeps up. */
static tev_ev *push(tev *e)
{
    if (e->len >= TEV_BATCH_MAX)
        tev__flush(e);
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
    return ev;
}

void tev__ev_free(tev_ev *ev)
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

/* The buffered record of T's attempt that holds its states so far, or
 * NULL when it was sent (or never made). */
static tev_ev *open_record(tev *e, const sched_task *t)
{
    uint64_t seq = t->tev_seq;
    if (seq < e->seq_head || seq - e->seq_head >= e->len)
        return NULL;
    tev_ev *ev = &e->ring[(e->head + (size_t)(seq - e->seq_head)) % e->cap];
    if (ev->states == 0 || ev->attempt != t->attempt || memcmp(ev->id, t->id.b, IDS_TASK_LEN) != 0)
        return NULL;
    return ev;
}

/* Sets what SUBMITTED_TO_WORKER and RUNNING know (the node, T's worker). */
static void on_worker(tev_ev *ev, const sched_task *t, int state)
{
    if (state != TEV_SUBMITTED_TO_WORKER && state != TEV_RUNNING)
        return;
    ev->on_node = 1;
    if (t->worker != NULL) {
        memcpy(ev->worker, t->worker->id.b, IDS_WORKER_LEN);
        ev->has_worker = 1;
        ev->pid = t->worker->pid;
    }
}

void tev_task(raylet *r, sched_task *t, int state, int status, const char *error)
{
    tev *e = r->tev;
    if (e == NULL || e->interval_ms == 0)
        return;
    const Rayc__TaskSpec *s = t->spec;
    /* A state without text joins the attempt's record while that is still
     * buffered: one record per task, not one per state (tev_wire.h). */
    int named = s->name != NULL && s->name[0] != '\0' && state == TEV_PENDING_ARGS_AVAIL;
    int merge = !named && state != TEV_FAILED && state >= 1 && state <= TEV_WIRE_NSTATES;
    tev_ev *open = merge ? open_record(e, t) : NULL;
    if (open != NULL) {
        uint8_t bit = (uint8_t)(1u << (state - 1));
        if (!(open->states & bit))
            open->times[state - 1] = now_ns();
        open->states |= bit;
        on_worker(open, t, state);
        return;
    }
    tev_ev *ev = push(e);
    if (ev == NULL) {
        e->dropped_tasks++;
        return;
    }
    ev->time_ns = now_ns();
    if (merge) {
        ev->states = (uint8_t)(1u << (state - 1));
        ev->times[state - 1] = ev->time_ns;
        t->tev_seq = e->seq_head + e->len - 1;   /* push may have sent older ones */
    }
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
    on_worker(ev, t, state);
    if (state == TEV_FAILED) {
        ev->status = (uint8_t)status;
        ev->error = strndup(error ? error : "", TEV_TEXT_MAX);
    }
}

/* A new actor event of actor ID in STATE (restart ATTEMPT, class FUNC),
 * or NULL when recording is off or the buffer is full (counted). */
static tev_ev *push_actor(raylet *r, const uint8_t *id, int state, int attempt, const char *func)
{
    tev *e = r->tev;
    if (e == NULL || e->interval_ms == 0)
        return NULL;
    tev_ev *ev = push(e);
    if (ev == NULL) {
        e->dropped_actors++;
        return NULL;
    }
    ev->is_actor = 1;
    ev->time_ns = now_ns();
    memcpy(ev->id, id, IDS_ACTOR_LEN);
    ev->state = (uint8_t)state;
    ev->attempt = attempt;
    ev->func = intern(e, func);
    return ev;
}

void tev_actor(raylet *r, const actor *a, int state, const char *cause)
{
    tev_ev *ev = push_actor(r, a->id.b, state, a->num_restarts, a->class_name);
    if (ev == NULL)
        return;
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
    tev_ev *ev = push_actor(r, actor_id, state, num_restarts, spec ? spec->function : "");
    if (ev == NULL)
        return;
    if (spec != NULL) {
        copy_bytes(ev->job, IDS_JOB_LEN, &spec->job_id, NULL);
        copy_bytes(ev->pg, IDS_PG_LEN, &spec->placement_group_id, &ev->has_pg);
        ev->detached = (uint8_t)(spec->actor != NULL && spec->actor->detached);
    }
    if (state == TEV_DEAD)
        ev->error = strndup(cause ? cause : "", TEV_TEXT_MAX);
}

/* ---------------------------------------------------------------- open / close */

int tev_open(raylet *r)
{
    tev *e = calloc(1, sizeof *e);
    if (e == NULL)
        return -ENOMEM;
    e->r = r;
    e->seq_head = 1;                 /* 0 in a task: no record */
    strtab_init(&e->names, TEV_INTERN_MAX, SIZE_MAX);
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
    uv_timer_start(&e->timer, tev__tick_cb, (uint64_t)e->interval_ms, (uint64_t)e->interval_ms);
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
        tev__ev_free(&e->ring[(e->head + i) % e->cap]);
    strtab_free(&e->names);
    free(e->ring);
    free(e->pass);
    free(e->pass_func);
    tev__batch_free(e);
    free(e);
    r->tev = NULL;
}

/* ---------------------------------------------------------------- workers' events */

#define WORKER_NAMES_MAX 256         /* names of a worker's batch interned up front */

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

/* Room for one more passed-on record, or NULL when there is none: a full
 * batch goes at once, and while the GCS is away they wait, up to
 * RAY_task_events_max_buffer_size. */
static uint8_t *pass_slot(tev *e)
{
    if (e->npass >= TEV_BATCH_MAX)
        tev__send_pass(e);
    if (e->npass == e->pass_cap) {
        if (e->pass_cap >= e->max)
            return NULL;
        size_t cap = e->pass_cap ? e->pass_cap * 2 : 1024;
        if (cap > e->max)
            cap = e->max;
        uint8_t *pass = realloc(e->pass, cap * TEV_WIRE_SIZE);
        if (pass == NULL)
            return NULL;
        e->pass = pass;
        const char **func = realloc(e->pass_func, cap * sizeof *func);
        if (func == NULL)
            return NULL;
        e->pass_func = func;
        e->pass_cap = cap;
    }
    return e->pass + e->npass * TEV_WIRE_SIZE;
}

/* Passes on packed record IN (FUNC: its interned function name) of a task
 * worker W ran, as it came but for the worker, its pid and the node: a
 * record per task and no decoding, so a worker's tasks cost this raylet
 * a copy. */
static void pass_record(tev *e, const wpool_worker *w, const uint8_t *in, const char *func)
{
    uint8_t *rec = pass_slot(e);
    if (rec == NULL) {
        e->dropped_tasks++;
        return;
    }
    memcpy(rec, in, TEV_WIRE_SIZE);
    if (tev_wire_keep_states(rec, (uint8_t)((1u << TEV_FAILED) - 1)) == 0)
        return;                       /* FAILED comes with its error, as a TaskEvent */
    tev_wire_set_runner(rec, w->id.b, w->pid);
    e->pass_func[e->npass++] = func;
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
            const Rayc__StateTime *st = k == 0 ? NULL : in->states[k - 1];
            int code = st != NULL && st->code >= 1 && st->code <= TEV_FAILED ? st->code : 0;
            const char *name = st != NULL ? st->state : in->state;
            int state = code ? code : tev_wire_state_code(tev_wire_task_states, name);
            worker_event(e, w, in, state, st != NULL ? st->time_ns : in->time_ns);
        }
    }
    if (m->packed.len % TEV_WIRE_SIZE != 0)
        return;
    /* The batch's names are interned once, not once per record. */
    const char *funcs[WORKER_NAMES_MAX];
    size_t nf = m->n_names < WORKER_NAMES_MAX ? m->n_names : WORKER_NAMES_MAX;
    for (size_t i = 0; i < nf; i++)
        funcs[i] = intern(e, m->names[i]);
    for (size_t off = 0; off < m->packed.len; off += TEV_WIRE_SIZE) {
        const uint8_t *in = m->packed.data + off;
        uint32_t fi = tev_wire_func(in);
        const char *f = fi < nf ? funcs[fi] : intern(e, fi < m->n_names ? m->names[fi] : "");
        pass_record(e, w, in, f);
    }
}

