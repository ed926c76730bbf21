/* Worker side of task events.  Tasks that come straight from their owner
 * (a lease or an actor's channel) never pass the raylet, so the worker
 * records them itself: SUBMITTED_TO_WORKER and RUNNING when one starts,
 * FINISHED or FAILED when it ends.  They go to the worker's raylet in
 * batches (AddTaskEvents) at most a second old, and the raylet sends them
 * on to the GCS with its own (runtime/raylet/tev.c).  Off when
 * RAY_task_events_report_interval_ms is 0, like the raylet's. */
#include "api/api.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/tev_wire.h"
#include "common/util.h"

#define TEV_MAX 10000              /* tasks buffered; more are dropped (counted) */
#define TEV_BATCH 128              /* a batch goes as soon as it is this big: 40 KB
                                    * packed, under a socket buffer, so the
                                    * worker never waits for its raylet to read */

typedef struct tev_rec {
    uint8_t task[IDS_TASK_LEN];
    uint8_t job[IDS_JOB_LEN];
    uint8_t actor[IDS_ACTOR_LEN];
    int has_actor, kind, attempt, status;
    int64_t start_ns, end_ns;
    char *func, *error;            /* owned */
} tev_rec;

static tev_rec *recs;              /* guarded by api_g.mu */
static size_t nrecs;
static int64_t oldest_ms = -1;     /* monotonic: when the oldest record was made */
static int64_t dropped;
static int enabled = -1;           /* -1: not read yet */
static int64_t interval_ms = 1000;

static int on(void)
{
    if (enabled < 0) {
        const char *v = getenv("RAY_task_events_report_interval_ms");
        long n;
        enabled = 1;
        if (v != NULL && parse_long(v, 0, 3600000, &n) == 0) {
            enabled = n != 0;
            interval_ms = n;
        }
    }
    return enabled;
}

int64_t api_tev_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* One message per task: its three states in ST (room for 3), pointed to by STP. */
static void fill(Rayc__TaskEvent *m, const tev_rec *r, Rayc__StateTime *st,
                 Rayc__StateTime **stp)
{
    /* StateTime codes (cheaper for the raylet than names): 3
     * SUBMITTED_TO_WORKER, 4 RUNNING, 5 FINISHED, 6 FAILED. */
    rayc__task_event__init(m);
    for (int i = 0; i < 3; i++) {
        rayc__state_time__init(&st[i]);
        st[i].code = i < 2 ? 3 + i : r->status == RAY_OK ? 5 : 6;
        st[i].time_ns = i < 2 ? r->start_ns : r->end_ns;
        stp[i] = &st[i];
    }
    m->states = stp;
    m->n_states = 3;
    m->task_id.data = (uint8_t *)r->task;
    m->task_id.len = IDS_TASK_LEN;
    m->attempt = r->attempt;
    m->job_id.data = (uint8_t *)r->job;
    m->job_id.len = IDS_JOB_LEN;
    m->func = r->func ? r->func : "";
    m->kind = r->kind;
    if (r->has_actor) {
        m->actor_id.data = (uint8_t *)r->actor;
        m->actor_id.len = IDS_ACTOR_LEN;
    }
    m->worker_pid = (int32_t)getpid();
}

/* The index of function name F in NAMES (added when new; the last few are
 * compared, a repeat further back is merely sent twice). */
static uint32_t name_index(char **names, size_t *n, char *f)
{
    for (size_t i = *n; i > 0 && *n - i < 8; i--)
        if (strcmp(names[i - 1], f) == 0)
            return (uint32_t)(i - 1);
    names[*n] = f;
    return (uint32_t)(*n)++;
}

/* Appends R, a task that succeeded, with its three states to PACKED
 * (tev_wire.h; the raylet adds the worker and the node). */
static void pack_rec(const tev_rec *r, uint8_t *packed, size_t *npacked, char **names,
                     size_t *nnames)
{
    tev_wire w;
    memset(&w, 0, sizeof w);
    memcpy(w.task, r->task, IDS_TASK_LEN);
    memcpy(w.job, r->job, IDS_JOB_LEN);
    if (r->has_actor) {
        memcpy(w.actor, r->actor, IDS_ACTOR_LEN);
        w.flags = TEV_WIRE_ACTOR;
    }
    w.attempt = r->attempt;
    w.kind = (uint8_t)r->kind;
    w.func = name_index(names, nnames, r->func ? r->func : "");
    tev_wire_add_state(&w, 3, r->start_ns);      /* SUBMITTED_TO_WORKER */
    tev_wire_add_state(&w, 4, r->start_ns);      /* RUNNING */
    tev_wire_add_state(&w, 5, r->end_ns);        /* FINISHED */
    tev_wire_put(packed + (*npacked)++ * TEV_WIRE_SIZE, &w);
}

void api_tev_flush(void)
{
    if (nrecs == 0 && dropped == 0)
        return;
    Rayc__TaskEvent *ev = calloc(nrecs + 1, sizeof *ev);
    Rayc__TaskEvent **evp = calloc(nrecs + 1, sizeof *evp);
    Rayc__StateTime *st = calloc(3 * nrecs + 1, sizeof *st);
    Rayc__StateTime **stp = calloc(3 * nrecs + 1, sizeof *stp);
    uint8_t *packed = malloc(nrecs * TEV_WIRE_SIZE + 1);
    char **names = calloc(nrecs + 1, sizeof *names);
    size_t n = 0, npacked = 0, nnames = 0;
    for (size_t i = 0; ev && evp && st && stp && i < nrecs; i++) {
        const tev_rec *r = &recs[i];
        if (r->status == RAY_OK && packed != NULL && names != NULL) {
            pack_rec(r, packed, &npacked, names, &nnames);
            continue;
        }
        fill(&ev[n], r, st + 3 * i, stp + 3 * i);
        if (r->status != RAY_OK) {
            ev[n].error = r->error ? r->error : "";
            ev[n].error_type = (char *)(r->status == RAY_ERR_TASK ? "TASK_EXECUTION_EXCEPTION"
                                                                  : ray_status_name(r->status));
        }
        n++;
    }
    for (size_t i = 0; i < n; i++)
        evp[i] = &ev[i];
    Rayc__AddTaskEvents add = RAYC__ADD_TASK_EVENTS__INIT;
    add.tasks = evp;
    add.n_tasks = n;
    add.packed.data = packed;
    add.packed.len = npacked * TEV_WIRE_SIZE;
    add.names = names;
    add.n_names = nnames;
    size_t sent = n + npacked;         /* one packed record per task */
    add.dropped_tasks = dropped + (sent < nrecs ? (int64_t)(nrecs - sent) : 0);
    Rayc__Envelope env = RAYC__ENVELOPE__INIT;
    env.body_case = RAYC__ENVELOPE__BODY_ADD_TASK_EVENTS;
    env.add_task_events = &add;
    api_send_mu(&env);             /* a broken connection loses them with the worker */
    for (size_t i = 0; i < nrecs; i++) {
        free(recs[i].func);
        free(recs[i].error);
    }
    free(ev);
    free(evp);
    free(st);
    free(stp);
    free(packed);
    free(names);
    nrecs = 0;
    dropped = 0;
    oldest_ms = -1;
}

void api_tev_record(const Rayc__TaskSpec *spec, int64_t start_ns, int status, const char *error)
{
    if (!on() || spec->task_id.len != IDS_TASK_LEN)
        return;
    if (recs == NULL)
        recs = calloc(TEV_MAX, sizeof *recs);
    if (recs == NULL || nrecs == TEV_MAX) {
        dropped++;
        return;
    }
    tev_rec *r = &recs[nrecs++];
    memset(r, 0, sizeof *r);
    memcpy(r->task, spec->task_id.data, IDS_TASK_LEN);
    if (spec->job_id.len == IDS_JOB_LEN)
        memcpy(r->job, spec->job_id.data, IDS_JOB_LEN);
    if (spec->actor_id.len == IDS_ACTOR_LEN) {
        memcpy(r->actor, spec->actor_id.data, IDS_ACTOR_LEN);
        r->has_actor = 1;
    }
    r->kind = spec->kind;
    r->attempt = spec->attempt;
    r->status = status;
    r->start_ns = start_ns;
    r->end_ns = api_tev_now_ns();
    r->func = strdup(spec->function ? spec->function : "");
    if (status != RAY_OK)
        r->error = strndup(error ? error : "", 1024);   /* what the GCS keeps */
    if (oldest_ms < 0)
        oldest_ms = time_mono_ms();
    if (nrecs >= TEV_BATCH)
        api_tev_flush();
}

int64_t api_tev_deadline(void)
{
    return oldest_ms < 0 ? -1 : oldest_ms + interval_ms;
}

void api_tev_tick(void)
{
    int64_t d = api_tev_deadline();
    if (d >= 0 && time_mono_ms() >= d)
        api_tev_flush();
}
