/* Worker side of task events.  Tasks that come straight from their owner
 * (a lease or an actor's channel) never pass the raylet, so the worker
 * records them itself: SUBMITTED_TO_WORKER and RUNNING when one starts,
 * FINISHED or FAILED when it ends.  They go to the worker's raylet in
 * batches (AddTaskEvents) at most a second old, and the raylet passes them
 * on to the GCS with its own (runtime/raylet/tev.c).  Off when
 * RAY_task_events_report_interval_ms is 0, like the raylet's.
 *
 * A task that succeeded is written at once as its packed record
 * (tev_wire.h) with its function name as an index into a table of names
 * this worker keeps: no allocation per task.  A failed one carries its
 * error, so it goes as a TaskEvent message (rare). */
#include "api/api.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/tev_wire.h"
#include "common/util.h"

#define TEV_MAX 10000              /* tasks buffered; more are dropped (counted) */
#define TEV_BATCH 2048             /* a batch goes as soon as it is this big (295 KB
                                    * packed): each batch wakes the raylet, and
                                    * on 2 cores those wake-ups cost more than
                                    * the records (single_client_tasks_async,
                                    * events on against off: batches of 16 cost
                                    * 28 %, of 128 7.7 %, of 2048 3.8 %) */
#define TEV_NAMES_MAX 256          /* distinct function names in one batch */

typedef struct tev_failed {
    uint8_t task[IDS_TASK_LEN];
    uint8_t job[IDS_JOB_LEN];
    uint8_t actor[IDS_ACTOR_LEN];
    int has_actor, kind, attempt, status;
    int64_t start_ns, end_ns;
    uint32_t func;                 /* index into names */
    char *error;                   /* owned */
} tev_failed;

/* All guarded by api_g.mu. */
static uint8_t *packed;            /* npacked records of TEV_WIRE_SIZE bytes */
static size_t npacked;
static tev_failed *failed;         /* nfailed tasks that failed */
static size_t nfailed;
static char *names[TEV_NAMES_MAX]; /* owned; the batch's function names */
static size_t nnames;
static uint32_t last_name;         /* where the last lookup found its name */
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

/* The index of function name F in the batch's table (added when new), or
 * -1 when the table is full or out of memory.  A worker runs few distinct
 * functions, and most often the one it ran last. */
static int64_t name_index(const char *f)
{
    if (last_name < nnames && strcmp(names[last_name], f) == 0)
        return last_name;
    for (size_t i = 0; i < nnames; i++) {
        if (strcmp(names[i], f) == 0) {
            last_name = (uint32_t)i;
            return (int64_t)i;
        }
    }
    if (nnames == TEV_NAMES_MAX || (names[nnames] = strdup(f)) == NULL)
        return -1;
    last_name = (uint32_t)nnames;
    return (int64_t)nnames++;
}

/* One message per failed task: its three states in ST (room for 3),
 * pointed to by STP. */
static void fill_failed(Rayc__TaskEvent *m, const tev_failed *r, Rayc__StateTime *st,
                        Rayc__StateTime **stp)
{
    /* StateTime codes (cheaper for the raylet than names): 3
     * SUBMITTED_TO_WORKER, 4 RUNNING, 6 FAILED. */
    rayc__task_event__init(m);
    for (int i = 0; i < 3; i++) {
        rayc__state_time__init(&st[i]);
        st[i].code = i < 2 ? 3 + i : 6;
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
    m->func = names[r->func];
    m->kind = r->kind;
    if (r->has_actor) {
        m->actor_id.data = (uint8_t *)r->actor;
        m->actor_id.len = IDS_ACTOR_LEN;
    }
    m->worker_pid = (int32_t)getpid();
    m->error = r->error ? r->error : "";
    m->error_type = (char *)(r->status == RAY_ERR_TASK ? "TASK_EXECUTION_EXCEPTION"
                                                       : ray_status_name(r->status));
}

/* Forgets the batch: records, failures and names. */
static void batch_reset(void)
{
    for (size_t i = 0; i < nfailed; i++)
        free(failed[i].error);
    for (size_t i = 0; i < nnames; i++)
        free(names[i]);
    npacked = nfailed = nnames = 0;
    last_name = 0;
    dropped = 0;
    oldest_ms = -1;
}

void api_tev_flush(void)
{
    if (npacked == 0 && nfailed == 0 && dropped == 0)
        return;
    Rayc__TaskEvent *ev = calloc(nfailed + 1, sizeof *ev);
    Rayc__TaskEvent **evp = calloc(nfailed + 1, sizeof *evp);
    Rayc__StateTime *st = calloc(3 * nfailed + 1, sizeof *st);
    Rayc__StateTime **stp = calloc(3 * nfailed + 1, sizeof *stp);
    size_t n = 0;
    for (size_t i = 0; ev && evp && st && stp && i < nfailed; i++) {
        fill_failed(&ev[n], &failed[i], st + 3 * i, stp + 3 * i);
        evp[n] = &ev[n];
        n++;
    }
    Rayc__AddTaskEvents add = RAYC__ADD_TASK_EVENTS__INIT;
    add.tasks = evp;
    add.n_tasks = n;
    add.packed.data = packed;
    add.packed.len = npacked * TEV_WIRE_SIZE;
    add.names = names;
    add.n_names = nnames;
    add.dropped_tasks = dropped + (int64_t)(nfailed - n);
    Rayc__Envelope env = RAYC__ENVELOPE__INIT;
    env.body_case = RAYC__ENVELOPE__BODY_ADD_TASK_EVENTS;
    env.add_task_events = &add;
    api_send_mu(&env);             /* a broken connection loses them with the worker */
    free(ev);
    free(evp);
    free(st);
    free(stp);
    batch_reset();
}

/* Appends the packed record of SPEC's attempt, which succeeded: ran from
 * START_NS to END_NS, function name FUNC (an index into names). */
static void pack_ok(const Rayc__TaskSpec *spec, uint32_t func, int64_t start_ns, int64_t end_ns)
{
    tev_wire w;
    memset(&w, 0, sizeof w);
    memcpy(w.task, spec->task_id.data, IDS_TASK_LEN);
    if (spec->job_id.len == IDS_JOB_LEN)
        memcpy(w.job, spec->job_id.data, IDS_JOB_LEN);
    if (spec->actor_id.len == IDS_ACTOR_LEN) {
        memcpy(w.actor, spec->actor_id.data, IDS_ACTOR_LEN);
        w.flags = TEV_WIRE_ACTOR;
    }
    w.attempt = spec->attempt;
    w.kind = (uint8_t)spec->kind;
    w.func = func;
    tev_wire_add_state(&w, 3, start_ns);         /* SUBMITTED_TO_WORKER */
    tev_wire_add_state(&w, 4, start_ns);         /* RUNNING */
    tev_wire_add_state(&w, 5, end_ns);           /* FINISHED (the raylet adds the worker) */
    tev_wire_put(packed + npacked++ * TEV_WIRE_SIZE, &w);
}

/* Keeps SPEC's attempt, which failed with STATUS and ERROR. */
static void keep_failed(const Rayc__TaskSpec *spec, uint32_t func, int64_t start_ns,
                        int64_t end_ns, int status, const char *error)
{
    tev_failed *r = &failed[nfailed++];
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
    r->end_ns = end_ns;
    r->func = func;
    r->error = strndup(error ? error : "", 1024);   /* what the GCS keeps */
}

void api_tev_record(const Rayc__TaskSpec *spec, int64_t start_ns, int status, const char *error)
{
    if (!on() || spec->task_id.len != IDS_TASK_LEN)
        return;
    if (packed == NULL) {
        packed = malloc((size_t)TEV_MAX * TEV_WIRE_SIZE);
        failed = calloc(TEV_MAX, sizeof *failed);
        if (packed == NULL || failed == NULL) {
            free(packed);
            free(failed);
            packed = NULL;
            failed = NULL;
        }
    }
    int64_t func = packed != NULL ? name_index(spec->function ? spec->function : "") : -1;
    if (func < 0 && packed != NULL && nnames == TEV_NAMES_MAX) {
        api_tev_flush();           /* a new batch starts with an empty table */
        func = name_index(spec->function ? spec->function : "");
    }
    if (func < 0 || npacked + nfailed >= TEV_MAX) {
        dropped++;
        return;
    }
    int64_t end_ns = api_tev_now_ns();
    if (status == RAY_OK)
        pack_ok(spec, (uint32_t)func, start_ns, end_ns);
    else
        keep_failed(spec, (uint32_t)func, start_ns, end_ns, status, error);
    if (oldest_ms < 0)
        oldest_ms = time_mono_ms();
    if (npacked + nfailed >= TEV_BATCH)
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
