/* The worker pool: worker records, registration, idle workers, deaths,
 * kills and the periodic tick (idle timeouts, register timeouts, SIGKILL
 * deadlines, freeing records). */
#include "raylet/wpool.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "raylet/actor.h"
#include "raylet/sched.h"
#include "raylet/wlog.h"
#include "raylet/wpool_int.h"

/* ---------------------------------------------------------------- idle list */

void wpool__unidle(wpool_worker *w)
{
    wpool_job *job = w->job;
    if (job == NULL)
        return;
    for (wpool_worker **p = &job->idle; *p != NULL; p = &(*p)->idle_next) {
        if (*p == w) {
            *p = w->idle_next;
            w->idle_next = NULL;
            return;
        }
    }
}

wpool_worker *wpool_take_idle(raylet *r, wpool_job *job)
{
    (void)r;
    wpool_worker *w = job->idle;
    if (w == NULL)
        return NULL;
    job->idle = w->idle_next;
    w->idle_next = NULL;
    return w;
}

void wpool_worker_idle(raylet *r, wpool_worker *w)
{
    if (w->state == WPOOL_DEAD || w->lost || w->stopping)
        return;
    if (!wpool_job_active(w->job)) {
        wpool_worker_kill(r, w, 0, "its job ended");
        return;
    }
    w->state = WPOOL_IDLE;
    w->task = NULL;
    w->idle_since_ms = time_mono_ms();
    w->idle_next = w->job->idle;
    w->job->idle = w;
    sched_dispatch(r);
}

/* ---------------------------------------------------------------- starting */

void wpool_want(raylet *r, wpool_job *job, size_t want)
{
    wpool *p = r->wpool;
    char err[512];
    if (!wpool_job_active(job))
        return;
    while (want > job->nstarting && p->nstarting < WPOOL_MAX_STARTING &&
           job->ntask_workers < WPOOL_MAX_TASK_WORKERS) {
        if (p->spawned_this_tick >= WPOOL_SPAWNS_PER_TICK) {
            p->want_deferred = 1;
            return;
        }
        p->spawned_this_tick++;
        wpool_worker *w = wpool__spawn(r, job, err, sizeof err);
        if (w == NULL) {
            log_error("job %s: %s", job->hex, err);
            return;
        }
        w->task_worker = 1;
        job->nstarting++;
        job->ntask_workers++;
    }
}

void wpool__prestart(raylet *r, wpool_job *job)
{
    wpool *p = r->wpool;
    job->nprestart = p->ncpus > 0 ? (size_t)p->ncpus : 1;
    if (job->nprestart > 64)
        job->nprestart = 64;
    wpool_want(r, job, job->nprestart);
}

wpool_worker *wpool_worker_for_actor(raylet *r, wpool_job *job, struct actor *a, char *err,
                                     size_t errlen)
{
    wpool_worker *w = job->idle;
    if (w != NULL) {
        wpool_take_idle(r, job);
        job->ntask_workers--;
        job->nactor_workers++;
        w->task_worker = 0;
        w->state = WPOOL_ACTOR;
        w->actor = a;
        wpool_want(r, job, job->nprestart > job->ntask_workers ? 1 : 0);
        return w;
    }
    w = wpool__spawn(r, job, err, errlen);
    if (w != NULL)
        w->actor = a;
    return w;
}

/* ---------------------------------------------------------------- registering */

static wpool_worker *find_worker(raylet *r, const ProtobufCBinaryData *id)
{
    if (id->len != IDS_WORKER_LEN)
        return NULL;
    for (wpool_worker *w = r->wpool->workers; w != NULL; w = w->next)
        if (memcmp(w->id.b, id->data, IDS_WORKER_LEN) == 0)
            return w;
    return NULL;
}

void wpool_on_register_worker(raylet_client *cl, uint64_t req_id, const Rayc__RegisterWorker *m)
{
    raylet *r = cl->r;
    wpool_worker *w = find_worker(r, &m->worker_id);
    if (cl->kind != RAYLET_CLIENT_NEW || w == NULL || w->state != WPOOL_STARTING ||
        w->client != NULL || m->pid != w->pid || w->stopping) {
        wpool__reply_register(cl, req_id, RAY_ERR_INVALID, w && w->stopping ? "the worker is stopping"
                                                                      : "unknown worker");
        raylet_client_close(cl, "unknown or stopping worker");
        return;
    }
    cl->kind = RAYLET_CLIENT_WORKER;
    cl->job = w->job;
    wpool_job_ref(w->job);
    cl->worker = w;
    w->client = cl;
    raylet_client_ref(cl);
    r->wpool->nstarting--;
    if (w->task_worker)
        w->job->nstarting--;
    wpool__reply_register(cl, req_id, RAY_OK, NULL);
    if (w->actor != NULL) {
        w->state = WPOOL_ACTOR;
        w->job->nactor_workers++;
        actor_worker_ready(r, w->actor, w);
        return;
    }
    w->state = WPOOL_IDLE;
    wpool_worker_idle(r, w);
}

/* ---------------------------------------------------------------- deaths */

void wpool__worker_lost(raylet *r, wpool_worker *w, const char *why)
{
    wpool *p = r->wpool;
    if (w->lost)
        return;
    w->lost = 1;
    int was = w->state;
    w->state = WPOOL_DEAD;
    wpool__unidle(w);
    p->nalive--;
    if (was == WPOOL_STARTING)
        p->nstarting--;
    if (w->job != NULL) {
        w->job->nworkers--;
        if (was == WPOOL_STARTING && w->task_worker)
            w->job->nstarting--;
        if (w->task_worker)
            w->job->ntask_workers--;
        if (w->stopping && w->task_worker && w->job->nstopping > 0)
            w->job->nstopping--;
        if (was == WPOOL_ACTOR && w->job->nactor_workers > 0)
            w->job->nactor_workers--;
    }
    if (w->client != NULL)
        raylet_client_close(w->client, "worker exited");
    if (was == WPOOL_LEASED)
        wpool_lease_release(r, w);
    log_debug("worker %s (pid %d) gone: %s", w->hex, w->pid, why);
    if (w->task != NULL) {
        struct sched_task *t = w->task;
        w->task = NULL;
        sched_worker_died(r, t, why);
    }
    if (w->actor != NULL) {
        struct actor *a = w->actor;
        w->actor = NULL;
        actor_worker_died(r, a, why);
    }
    sched_dispatch(r);
}

void wpool_worker_conn_gone(raylet *r, wpool_worker *w)
{
    /* The process exit (exit_cb) handles the death with its status; a
     * process that closed its socket but lingers is killed soon. */
    if (w->proc_running && w->kill_at_ms == 0)
        w->kill_at_ms = time_mono_ms() + 500;
    (void)r;
}

void wpool_worker_kill(raylet *r, wpool_worker *w, int force, const char *why)
{
    (void)r;
    if (w->death[0] == '\0')
        snprintf(w->death, sizeof w->death, "the worker was stopped: %s", why);
    wpool__unidle(w);
    if (!w->stopping && w->task_worker && w->job != NULL)
        w->job->nstopping++;
    w->stopping = 1;
    if (w->client != NULL && !force && w->proc_running) {
        /* It sends the task events it holds and leaves by itself; the
         * grace timer below kills it otherwise. */
        Rayc__Envelope env = RAYC__ENVELOPE__INIT;
        Rayc__WorkerExit ex = RAYC__WORKER_EXIT__INIT;
        ex.reason = (char *)why;
        env.body_case = RAYC__ENVELOPE__BODY_WORKER_EXIT;
        env.worker_exit = &ex;
        if (raylet_client_send(w->client, &env) != 0)
            raylet_client_close(w->client, why);
    } else if (w->client != NULL) {
        raylet_client_close(w->client, why);
    }
    if (!w->proc_running)
        return;
    if (force)
        uv_process_kill(&w->proc, SIGKILL);
    else if (w->kill_at_ms == 0)
        w->kill_at_ms = time_mono_ms() + WPOOL_EXIT_GRACE_MS;
}

/* ---------------------------------------------------------------- freeing */

static void unlink_worker(wpool *p, wpool_worker *w)
{
    if (w->prev != NULL)
        w->prev->next = w->next;
    else
        p->workers = w->next;
    if (w->next != NULL)
        w->next->prev = w->prev;
}

void wpool__maybe_free(raylet *r, wpool_worker *w)
{
    if (!w->proc_closed || (w->client != NULL && raylet_client_alive(w->client)))
        return;
    unlink_worker(r->wpool, w);
    wpool_job_unref(w->job);
    wpool_lease_unlink(r, w); /* its socket, if it died without removing it */
    if (w->client != NULL) {
        w->client->worker = NULL;
        raylet_client_unref(w->client);
    }
    free(w);
}

/* ---------------------------------------------------------------- the tick */

static void check_worker(raylet *r, wpool_worker *w, int64_t now)
{
    if (w->proc_running && w->kill_at_ms != 0 && now >= w->kill_at_ms) {
        uv_process_kill(&w->proc, SIGKILL);
        w->kill_at_ms = 0;
    }
    if (w->state == WPOOL_STARTING && w->proc_running &&
        now - w->started_ms > WPOOL_REGISTER_TIMEOUT_MS)
        wpool_worker_kill(r, w, 1, "it did not register in time");
    if (w->state == WPOOL_IDLE && !w->stopping && !wpool_job_active(w->job))
        wpool_worker_kill(r, w, 0, "its job ended");
    if (w->state == WPOOL_IDLE && !w->stopping && w->job != NULL &&
        now - w->idle_since_ms > WPOOL_IDLE_TIMEOUT_MS &&
        w->job->ntask_workers - w->job->nstopping > w->job->nprestart)
        wpool_worker_kill(r, w, 0, "idle timeout");
}

static void tick_cb(uv_timer_t *t)
{
    raylet *r = t->data;
    int64_t now = time_mono_ms();
    wpool_worker *next;
    for (wpool_worker *w = r->wpool->workers; w != NULL; w = next) {
        next = w->next;
        if (!w->lost)
            check_worker(r, w, now);
        wlog_forward(r, w); /* before a dead worker is freed: its last output too */
        wpool__maybe_free(r, w);
    }
    wpool__reap_jobs(r);
    r->wpool->spawned_this_tick = 0;
    if (r->wpool->want_deferred) {
        r->wpool->want_deferred = 0;
        sched_dispatch(r); /* asks for the workers the cap held back */
    }
}

/* ---------------------------------------------------------------- open / close */

void wpool_foreach_worker(raylet *r, void (*fn)(wpool_worker *w, void *arg), void *arg)
{
    for (wpool_worker *w = r->wpool ? r->wpool->workers : NULL; w != NULL; w = w->next)
        fn(w, arg);
}

int wpool_open(raylet *r, char *err, size_t errlen)
{
    wpool *p = calloc(1, sizeof *p);
    if (p == NULL)
        return -ENOMEM;
    r->wpool = p;
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    exe[n > 0 ? n : 0] = '\0';
    char *slash = strrchr(exe, '/');
    if (slash != NULL)
        *slash = '\0';
    const char *env = getenv("RAY_WORKER_BIN");
    if (env != NULL && *env != '\0')
        snprintf(p->worker_bin, sizeof p->worker_bin, "%s", env);
    else
        fs_path_join(p->worker_bin, sizeof p->worker_bin, exe, "ray_worker"); /* "" fails below */
    if (access(p->worker_bin, X_OK) != 0) {
        snprintf(err, errlen, "no worker program at %s: %s", p->worker_bin, strerror(errno));
        return -ENOENT;
    }
    res_map_get(&r->total, "CPU", &p->ncpus);
    uv_timer_init(r->loop, &p->tick);
    p->tick.data = r;
    return uv_timer_start(&p->tick, tick_cb, WPOOL_TICK_MS, WPOOL_TICK_MS);
}

void wpool_close(raylet *r)
{
    wpool *p = r->wpool;
    if (p == NULL)
        return;
    raylet_close_handle((uv_handle_t *)&p->tick);
    for (wpool_worker *w = p->workers; w != NULL; w = w->next) {
        if (w->proc_running)
            uv_process_kill(&w->proc, SIGKILL);
        if (!uv_is_closing((uv_handle_t *)&w->proc))
            uv_close((uv_handle_t *)&w->proc, NULL);
    }
}

void wpool_free(raylet *r)
{
    wpool *p = r->wpool;
    if (p == NULL)
        return;
    while (p->workers != NULL) {
        wpool_worker *w = p->workers;
        p->workers = w->next;
        free(w->lease_req);
        free(w);
    }
    while (p->jobs != NULL) {
        wpool_job *j = p->jobs;
        p->jobs = j->next;
        wpool__job_free(j);
    }
    free(p);
    r->wpool = NULL;
}

size_t wpool_count(raylet *r)
{
    return r->wpool ? r->wpool->nalive : 0;
}
