/* Leases: workers lent to an owner, which sends them its tasks directly
 * (see wpool.h).  The raylet keeps the lease's resources taken and learns
 * nothing of the tasks; the worker ends the lease when idle. */
#include "raylet/wpool.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "raylet/sched.h"
#include "raylet/wpool_int.h"

/* Leases one owner may hold at once: its CPUs' worth. */
static size_t max_leases(raylet *r)
{
    double n = r->wpool->ncpus;
    return n < 1 ? 1 : n > 64 ? 64 : (size_t)n;
}

static size_t leases_of(raylet *r, const raylet_client *owner)
{
    size_t n = 0;
    for (wpool_worker *w = r->wpool->workers; w != NULL; w = w->next)
        n += w->state == WPOOL_LEASED && w->lease_owner == owner;
    return n;
}

static void lease_path(raylet *r, const wpool_worker *w, char *out, size_t outlen)
{
    const char *slash = strrchr(r->socket_path, '/');
    snprintf(out, outlen, "%.*s/worker-%s", slash ? (int)(slash - r->socket_path) : 0,
             r->socket_path, w->hex);
}

static void push_grant(raylet *r, sched_task *t, wpool_worker *w)
{
    char path[4300];
    lease_path(r, w, path, sizeof path);
    Rayc__Envelope env = RAYC__ENVELOPE__INIT;
    Rayc__LeaseGranted g = RAYC__LEASE_GRANTED__INIT;
    g.worker_id.data = w->id.b;
    g.worker_id.len = IDS_WORKER_LEN;
    g.socket = path;
    g.pid = w->pid;
    g.task_id.data = t->id.b;
    g.task_id.len = IDS_TASK_LEN;
    g.resources = t->spec->resources;
    g.n_resources = t->spec->n_resources;
    env.body_case = RAYC__ENVELOPE__BODY_LEASE_GRANTED;
    env.lease_granted = &g;
    raylet_client_send(w->client, &env); /* the worker first: it times the lease */
    raylet_client_send(t->owner, &env);
}

void wpool_lease_unlink(raylet *r, const wpool_worker *w)
{
    char path[4300];
    lease_path(r, w, path, sizeof path);
    unlink(path);
}

int wpool_lease_grant(raylet *r, sched_task *t, wpool_worker *w)
{
    if (!t->spec->want_lease || t->cancel || t->blocked || t->ngpus > 0 || w == NULL ||
        w->stopping || w->state != WPOOL_BUSY || !raylet_client_alive(t->owner) ||
        !raylet_client_alive(w->client) || !wpool_job_active(w->job) || sched_queued(r) > 0 ||
        leases_of(r, t->owner) >= max_leases(r))
        return 0;
    sched_res *req = malloc(sizeof *req);
    if (req == NULL)
        return 0;
    *req = t->req;
    w->lease_req = req;
    w->lease_owner = t->owner;
    raylet_client_ref(t->owner);
    w->state = WPOOL_LEASED;
    w->task = NULL;
    push_grant(r, t, w);
    return 1;
}

/* Gives the lease's resources back (W stays LEASED until the caller moves it). */
static void drop_lease(raylet *r, wpool_worker *w)
{
    if (w->lease_req != NULL) {
        if (w->lease_blocked) {
            sched_res cpu = *w->lease_req; /* blocked: its CPU is back already */
            for (int i = 0; i < cpu.n; i++)
                if (strcmp(r->total.items[cpu.idx[i]].name, "CPU") == 0)
                    cpu.qty[i] = 0;
            sched_res_release(r, &cpu);
        } else {
            sched_res_release(r, w->lease_req);
        }
        free(w->lease_req);
        w->lease_req = NULL;
    }
    w->lease_blocked = 0;
    raylet_client_unref(w->lease_owner);
    w->lease_owner = NULL;
}

void wpool_lease_release(raylet *r, wpool_worker *w)
{
    drop_lease(r, w);
}

void wpool_lease_on_ended(raylet_client *cl, const Rayc__LeaseEnded *m)
{
    raylet *r = cl->r;
    wpool_worker *w = cl->worker;
    (void)m;
    if (w == NULL || w->state != WPOOL_LEASED)
        return;
    drop_lease(r, w);
    w->state = WPOOL_BUSY; /* wpool_worker_idle makes it IDLE */
    wpool_worker_idle(r, w);
    sched_dispatch(r);
}

int wpool_lease_blocked(raylet *r, wpool_worker *w, int blocked)
{
    if (w == NULL || w->state != WPOOL_LEASED || w->lease_req == NULL)
        return w != NULL && w->state == WPOOL_LEASED;
    if ((blocked != 0) == (w->lease_blocked != 0))
        return 1;
    sched_res cpu = *w->lease_req;
    cpu.n = 0;
    for (int i = 0; i < w->lease_req->n; i++) {
        if (strcmp(r->total.items[w->lease_req->idx[i]].name, "CPU") == 0) {
            cpu.idx[0] = w->lease_req->idx[i];
            cpu.qty[0] = w->lease_req->qty[i];
            cpu.n = 1;
        }
    }
    w->lease_blocked = blocked != 0;
    if (blocked) {
        sched_res_release(r, &cpu);
        sched_dispatch(r);
    } else {
        sched_res_acquire(r, &cpu);
    }
    return 1;
}

int wpool_lease_cancel(raylet_client *cl, const Rayc__CancelTask *m)
{
    raylet *r = cl->r;
    if (!m->force || m->worker_id.len != IDS_WORKER_LEN)
        return 0;
    for (wpool_worker *w = r->wpool->workers; w != NULL; w = w->next) {
        if (memcmp(w->id.b, m->worker_id.data, IDS_WORKER_LEN) == 0 &&
            w->state == WPOOL_LEASED && w->lease_owner == cl) {
            log_info("cancelling a task on worker %s (pid %d) leased to its owner: killing it",
                     w->hex, w->pid);
            wpool_worker_kill(r, w, 1, "its task was cancelled with force");
            return 1;
        }
    }
    return 0;
}
