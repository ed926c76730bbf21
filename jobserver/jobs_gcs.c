/* The job server's optional link to the GCS: job ids for drivers (GetNextJobId)
 * and the driver job table (AddJob, MarkJobFinished).  The blocking RPC
 * client runs in libuv's thread pool, one call at a time per lane (job ids
 * have their own connection), so a slow or dead
 * GCS never stalls the HTTP loop; without a GCS every call fails fast.  A job
 * started while the GCS was down runs without an id (logged with the reason)
 * and gets one, with its AddJob, once the GCS answers again. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/net.h"
#include "common/rpc_client.h"
#include "common/util.h"
#include "jobserver/jobs_remote.h"
#include "jobserver/jobs_server.h"

#define GCS_CONNECT_TIMEOUT_MS 1000
#define GCS_CALL_TIMEOUT_MS 2000
#define GCS_RETRY_MS 5000

enum gcs_op_kind { OP_NEXT_ID, OP_ADD_JOB, OP_FINISHED };

typedef struct gcs_op {
    uv_work_t work;
    struct jobs_gcs *gcs;
    struct gcs_lane *lane;
    enum gcs_op_kind kind;
    char submission_id[JOBS_ID_MAX + 1];
    char job_id[32];                 /* in: for ADD/FINISHED; out: for NEXT_ID */
    char *entrypoint;
    char driver_address[64];
    int driver_pid;
    int64_t start_ms;
    void (*cb)(jobs_server *srv, const char *submission_id, const char *job_id);
    char err[200];                   /* out: why no reply came */
    struct gcs_op *next;
} gcs_op;

/* One connection and its queue, one call at a time.  Job ids have a lane
 * of their own, so that a job about to start never waits behind the
 * fire-and-forget AddJob and MarkJobFinished calls of other jobs. */
enum { LANE_IDS, LANE_TABLE, LANES };

typedef struct gcs_lane {
    rpc_client *client;              /* touched only by the op in flight */
    int64_t down_until;              /* monotonic ms; same */
    gcs_op *head, *tail;
    int busy;
} gcs_lane;

typedef struct jobs_gcs {
    jobs_server *srv;
    char host[256];
    int port;
    char token[TOKEN_MAX + 1];
    gcs_lane lanes[LANES];
    int stopping;
    uv_timer_t *late;                /* asks ids for jobs that started without one */
    int late_busy;                   /* a late GetNextJobId is queued or in flight */
} jobs_gcs;

static void gcs_kick(jobs_gcs *g, gcs_lane *l);
static void late_tick(uv_timer_t *t);
static void late_id_cb(jobs_server *srv, const char *submission_id, const char *job_id);

/* ---------------------------------------------------------------- thread pool side */

static int gcs_connect(jobs_gcs *g, gcs_lane *l, char *err, size_t errlen)
{
    if (l->client != NULL)
        return 0;
    if (time_mono_ms() < l->down_until) {
        str_printf(err, errlen, "the GCS at %s:%d did not answer a moment ago", g->host, g->port);
        return -EAGAIN;
    }
    int rc = rpc_client_connect(g->host, g->port, g->token, "jobserver", GCS_CONNECT_TIMEOUT_MS,
                                &l->client, err, errlen);
    if (rc != 0)
        l->down_until = time_mono_ms() + GCS_RETRY_MS;
    return rc;
}

static void fill_request(gcs_op *op, Rayc__Envelope *env, Rayc__GetNextJobId *next,
                         Rayc__AddJob *add, Rayc__JobInfo *info, Rayc__MarkJobFinished *fin)
{
    switch (op->kind) {
    case OP_NEXT_ID:
        env->body_case = RAYC__ENVELOPE__BODY_GET_NEXT_JOB_ID;
        env->get_next_job_id = next;
        break;
    case OP_ADD_JOB:
        info->job_id = op->job_id;
        info->submission_id = op->submission_id;
        info->entrypoint = op->entrypoint ? op->entrypoint : "";
        info->driver_address = op->driver_address;
        info->driver_pid = op->driver_pid;
        info->start_time_ms = op->start_ms;
        add->job = info;
        env->body_case = RAYC__ENVELOPE__BODY_ADD_JOB;
        env->add_job = add;
        break;
    case OP_FINISHED:
        fin->job_id = op->job_id;
        env->body_case = RAYC__ENVELOPE__BODY_MARK_JOB_FINISHED;
        env->mark_job_finished = fin;
        break;
    }
}

static void op_work(uv_work_t *w)
{
    gcs_op *op = w->data;
    jobs_gcs *g = op->gcs;
    gcs_lane *l = op->lane;
    op->job_id[op->kind == OP_NEXT_ID ? 0 : sizeof op->job_id - 1] = '\0';
    if (gcs_connect(g, l, op->err, sizeof op->err) != 0)
        return;
    Rayc__Envelope env = RAYC__ENVELOPE__INIT, *reply = NULL;
    Rayc__GetNextJobId next = RAYC__GET_NEXT_JOB_ID__INIT;
    Rayc__AddJob add = RAYC__ADD_JOB__INIT;
    Rayc__JobInfo info = RAYC__JOB_INFO__INIT;
    Rayc__MarkJobFinished fin = RAYC__MARK_JOB_FINISHED__INIT;
    fill_request(op, &env, &next, &add, &info, &fin);
    int rc = rpc_client_call(l->client, &env, GCS_CALL_TIMEOUT_MS, &reply, op->err,
                             sizeof op->err);
    if (rc == 0 && op->kind == OP_NEXT_ID &&
        reply->body_case == RAYC__ENVELOPE__BODY_GET_NEXT_JOB_ID_REPLY &&
        reply->get_next_job_id_reply->job_id != NULL)
        str_copy(op->job_id, sizeof op->job_id, reply->get_next_job_id_reply->job_id);
    if (reply != NULL)
        rayc__envelope__free_unpacked(reply, NULL);
    if (rc != 0 && rc != -EREMOTEIO) {
        rpc_client_close(l->client);
        l->client = NULL;
        l->down_until = time_mono_ms() + GCS_RETRY_MS;
    }
}

/* ---------------------------------------------------------------- loop side */

/* Frees G (stopping) once no lane has a call in flight. */
static void gcs_free_if_idle(jobs_gcs *g)
{
    for (int i = 0; i < LANES; i++)
        if (g->lanes[i].busy)
            return;
    for (int i = 0; i < LANES; i++)
        rpc_client_close(g->lanes[i].client);
    free(g);
}

static void op_done(uv_work_t *w, int status)
{
    gcs_op *op = w->data;
    jobs_gcs *g = op->gcs;
    gcs_lane *l = op->lane;
    l->busy = 0;
    if (!g->stopping && op->kind == OP_NEXT_ID && op->cb != NULL) {
        if ((status != 0 || op->job_id[0] == '\0') && op->cb != late_id_cb)
            log_warn("job %s: no job id from the GCS (%s); it runs without one for now and "
                     "gets one when the GCS answers again", op->submission_id,
                     op->err[0] ? op->err : "no reply");
        op->cb(g->srv, op->submission_id, status == 0 ? op->job_id : "");
    }
    free(op->entrypoint);
    free(op);
    if (g->stopping) {
        gcs_free_if_idle(g);
        return;
    }
    gcs_kick(g, l);
}

static void gcs_kick(jobs_gcs *g, gcs_lane *l)
{
    if (l->busy || l->head == NULL)
        return;
    gcs_op *op = l->head;
    l->head = op->next;
    if (l->head == NULL)
        l->tail = NULL;
    l->busy = 1;
    op->work.data = op;
    if (uv_queue_work(g->srv->loop, &op->work, op_work, op_done) != 0) {
        op->job_id[0] = '\0';
        op_done(&op->work, -1);
    }
}

static gcs_op *op_new(jobs_server *srv, enum gcs_op_kind kind, const jobs_job *j)
{
    gcs_op *op = calloc(1, sizeof *op);
    if (op == NULL)
        return NULL;
    op->gcs = srv->gcs;
    op->kind = kind;
    op->lane = &srv->gcs->lanes[kind == OP_NEXT_ID ? LANE_IDS : LANE_TABLE];
    str_copy(op->submission_id, sizeof op->submission_id, j->submission_id);
    if (j->job_id != NULL)
        str_copy(op->job_id, sizeof op->job_id, j->job_id);
    return op;
}

static void op_enqueue(jobs_gcs *g, gcs_op *op)
{
    gcs_lane *l = op->lane;
    if (l->tail != NULL)
        l->tail->next = op;
    else
        l->head = op;
    l->tail = op;
    gcs_kick(g, l);
}

/* Runs CB on the next loop turn when there is no GCS to ask. */
typedef struct deferred {
    uv_timer_t timer;
    jobs_server *srv;
    char submission_id[JOBS_ID_MAX + 1];
    void (*cb)(jobs_server *srv, const char *submission_id, const char *job_id);
} deferred;

static void deferred_closed(uv_handle_t *h)
{
    free(h->data);
}

static void deferred_cb(uv_timer_t *t)
{
    deferred *d = t->data;
    d->cb(d->srv, d->submission_id, "");
    uv_close((uv_handle_t *)t, deferred_closed);
}

void jobs_gcs_next_job_id(jobs_server *srv, jobs_job *j,
                          void (*cb)(jobs_server *srv, const char *submission_id,
                                     const char *job_id))
{
    if (srv->gcs != NULL) {
        gcs_op *op = op_new(srv, OP_NEXT_ID, j);
        if (op != NULL) {
            op->cb = cb;
            op_enqueue(srv->gcs, op);
            return;
        }
    }
    deferred *d = calloc(1, sizeof *d);
    if (d == NULL) {
        cb(srv, j->submission_id, "");
        return;
    }
    d->srv = srv;
    d->cb = cb;
    str_copy(d->submission_id, sizeof d->submission_id, j->submission_id);
    uv_timer_init(srv->loop, &d->timer);
    d->timer.data = d;
    uv_timer_start(&d->timer, deferred_cb, 0, 0);
}

void jobs_gcs_job_started(jobs_server *srv, const jobs_job *j)
{
    if (srv->gcs == NULL)
        return;
    gcs_op *op = op_new(srv, OP_ADD_JOB, j);
    if (op == NULL)
        return;
    op->entrypoint = strdup(j->entrypoint ? j->entrypoint : "");
    str_copy(op->driver_address, sizeof op->driver_address, srv->node_ip);
    op->driver_pid = j->driver_pid;
    op->start_ms = j->start_time;
    op_enqueue(srv->gcs, op);
}

void jobs_gcs_job_finished(jobs_server *srv, const jobs_job *j)
{
    if (srv->gcs == NULL)
        return;
    gcs_op *op = op_new(srv, OP_FINISHED, j);
    if (op != NULL)
        op_enqueue(srv->gcs, op);
}

/* ---------------------------------------------------------------- late ids */

/* True when J was started (it has a process group) without a job id here. */
static int wants_late_id(jobs_server *srv, const jobs_job *j)
{
    return j->job_id == NULL && j->pid > 0 && j->status != JOBS_PENDING &&
           !jobs__remote_is(srv, j);
}

static void late_id_cb(jobs_server *srv, const char *submission_id, const char *job_id)
{
    jobs_gcs *g = srv->gcs;
    if (g == NULL)
        return;
    g->late_busy = 0;
    jobs_job *j = jobs_table_get(srv->table, submission_id);
    if (j == NULL || *job_id == '\0' || !wants_late_id(srv, j))
        return;
    jobs_job_set(j, &j->job_id, job_id);
    jobs_sup_save(srv, j);
    log_info("job %s: got job id %s from the GCS (it was unreachable when the job started)",
             submission_id, job_id);
    jobs_gcs_job_started(srv, j);
    if (jobs_status_terminal(j->status))
        jobs_gcs_job_finished(srv, j);
    if (g->late != NULL)
        late_tick(g->late);   /* the next one, if any, at once */
}

/* Every GCS_RETRY_MS: asks an id for the first job that started without one. */
static void late_tick(uv_timer_t *t)
{
    jobs_gcs *g = t->data;
    if (g == NULL || g->stopping || g->late_busy)
        return;
    jobs_server *srv = g->srv;
    for (jobs_job *j = jobs_table_first(srv->table); j != NULL; j = jobs_table_next(srv->table, j)) {
        if (!wants_late_id(srv, j))
            continue;
        gcs_op *op = op_new(srv, OP_NEXT_ID, j);
        if (op == NULL)
            return;
        op->cb = late_id_cb;
        g->late_busy = 1;
        op_enqueue(g, op);
        return;
    }
}

static void late_closed(uv_handle_t *h)
{
    free(h);
}

void jobs_gcs_start(jobs_server *srv)
{
    if (srv->gcs_address[0] == '\0')
        return;
    jobs_gcs *g = calloc(1, sizeof *g);
    if (g == NULL)
        return;
    if (net_parse_hostport(srv->gcs_address, 6379, g->host, sizeof g->host, &g->port) != 0) {
        log_warn("invalid --gcs-address %s; running without the GCS", srv->gcs_address);
        free(g);
        return;
    }
    g->srv = srv;
    str_copy(g->token, sizeof g->token, srv->token);
    g->late = calloc(1, sizeof *g->late);
    if (g->late != NULL) {
        uv_timer_init(srv->loop, g->late);
        g->late->data = g;
        uv_timer_start(g->late, late_tick, GCS_RETRY_MS, GCS_RETRY_MS);
    }
    srv->gcs = g;
}

void jobs_gcs_stop(jobs_server *srv)
{
    jobs_gcs *g = srv->gcs;
    if (g == NULL)
        return;
    srv->gcs = NULL;
    g->stopping = 1;
    if (g->late != NULL) {
        g->late->data = NULL;
        uv_close((uv_handle_t *)g->late, late_closed);
        g->late = NULL;
    }
    for (int i = 0; i < LANES; i++) {
        gcs_lane *l = &g->lanes[i];
        while (l->head != NULL) {
            gcs_op *op = l->head;
            l->head = op->next;
            free(op->entrypoint);
            free(op);
        }
        l->tail = NULL;
    }
    gcs_free_if_idle(g);
}
