/* Leased workers: a normal task submitted with want_lease leaves its worker
 * lent to us when it succeeds (the raylet says LeaseGranted); our next
 * tasks of that shape go straight to it and come back on the same
 * connection: two hops instead of four.  Up to API_LEASE_DEPTH of them are
 * in flight on one lease (the least loaded one gets the next), so the
 * worker reads them in batches and never waits for us between tasks.  A
 * worker that blocks in ray_get/ray_wait inside a task hands its queued
 * tasks back (API_LEASE_ENDED): they go through the raylet, which gives the
 * blocked worker's CPU to others, so nested tasks cannot deadlock.  The
 * worker ends the lease after API_LEASE_IDLE_MS without a task
 * (LeaseEnded); a task that reaches it later is answered API_LEASE_ENDED
 * and we send it through the raylet.  When the worker dies, the task it was
 * running goes to the raylet marked lost (its max_retries decide) and the
 * ones queued behind it go as new.
 *
 * Only tasks whose arguments are all inline, without GPUs, retries of
 * application errors or a scheduling strategy are sent this way (the rest
 * needs the raylet: dependencies, device ids, placement). */
#include "api/api.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/uds.h"
#include "common/util.h"
#include "api/api_chan_int.h"

static size_t lease_inflight;      /* worker side: lease tasks queued or running */
static int lease_news;             /* worker side: a grant to wake the main loop for */

/* ---------------------------------------------------------------- owner side */

static int eligible(const Rayc__TaskSpec *spec, int inline_args)
{
    /* A placement group's task holds bundle resources, which its group's
     * removal must take back at the raylet: never lent out. */
    if (!api_g.direct || !inline_args || spec->retry_exceptions ||
        spec->strategy != RAY_STRATEGY_DEFAULT || spec->placement_group_id.len != 0)
        return 0;
    for (size_t i = 0; i < spec->n_resources; i++)
        if (strcmp(spec->resources[i]->name, "GPU") == 0)
            return 0;
    return 1;
}

static int same_shape(const api_chan *ch, const Rayc__TaskSpec *spec)
{
    if (ch->nshape != spec->n_resources)
        return 0;
    for (size_t i = 0; i < ch->nshape; i++)
        if (strcmp(ch->shape[i]->name, spec->resources[i]->name) != 0 ||
            ch->shape[i]->qty != spec->resources[i]->qty)
            return 0;
    return 1;
}

static size_t max_leases(void)
{
    return api_g.num_cpus < 1 ? 1 : api_g.num_cpus > 64 ? 64 : (size_t)api_g.num_cpus;
}

/* The lease of SPEC's shape with the fewest calls in flight (mu held), or
 * NULL; *NSHAPE gets how many leases of that shape we hold.  Lapsed leases
 * are freed on the way. */
static api_chan *least_loaded(const Rayc__TaskSpec *spec, size_t *nshape)
{
    api_chan *best = NULL, *next;
    *nshape = 0;
    for (api_chan *ch = api_g.chans; ch != NULL; ch = next) {
        next = ch->next;
        if (ch->out && ch->lease && ch->ended && ch->ncalls == 0 && ch->fd < 0) {
            api_chan__free(ch); /* a lease that lapsed */
            continue;
        }
        if (!ch->out || !ch->lease || ch->ended || !same_shape(ch, spec))
            continue;
        (*nshape)++;
        if (ch->state != CHAN_CONNECTING && !ch->sending &&
            (best == NULL || ch->ncalls < best->ncalls))
            best = ch;
    }
    return best;
}

int api_lease_submit(Rayc__TaskSpec *spec, int inline_args)
{
    ids_task id;
    if (!eligible(spec, inline_args))
        return 0;
    ids_from_bytes(id.b, IDS_TASK_LEN, spec->task_id.data, spec->task_id.len);
    pthread_mutex_lock(&api_g.mu);
    if (api_g.broken) { /* the raylet is gone: the submission fails as such */
        pthread_mutex_unlock(&api_g.mu);
        return 0;
    }
    size_t nshape;
    api_chan *best = least_loaded(spec, &nshape);
    /* While every lease is busy and the node may lend us more, one task at
     * a time goes through the raylet, which runs it on a free CPU and may
     * lend that worker to us too; the others queue on the leases. */
    int grow = nshape < max_leases() &&
               (best == NULL || (best->ncalls > 0 && api_g.raylet_tasks == 0));
    int sent = 0;
    if (!grow && best != NULL && best->ncalls < API_LEASE_DEPTH) {
        if (!api_chan__open(best))
            best->ended = 1; /* unreachable: let it lapse */
        else if (!best->ended && best->ncalls < API_LEASE_DEPTH)
            sent = api_chan__send_call(best, spec, &id) == 0 || best->ncalls > 0;
    }
    if (!sent)
        spec->want_lease = nshape < max_leases();
    pthread_mutex_unlock(&api_g.mu);
    return sent;
}

/* Keeps the resource list of a grant (the shape of the tasks it takes). */
static int copy_shape(api_chan *ch, const Rayc__LeaseGranted *g)
{
    ch->shape = calloc(g->n_resources + 1, sizeof *ch->shape);
    if (ch->shape == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < g->n_resources; i++) {
        Rayc__Resource *r = malloc(sizeof *r);
        if (r == NULL)
            return -ENOMEM;
        rayc__resource__init(r);
        r->name = strdup(g->resources[i]->name);
        r->qty = g->resources[i]->qty;
        ch->shape[ch->nshape++] = r;
        if (r->name == NULL)
            return -ENOMEM;
    }
    return 0;
}

/* Our lease record of worker ID, if any (mu held). */
static api_chan *find_lease(const ProtobufCBinaryData *id)
{
    for (api_chan *ch = api_g.chans; ch != NULL; ch = ch->next)
        if (ch->out && ch->lease && memcmp(ch->actor.b, id->data, IDS_WORKER_LEN) == 0)
            return ch;
    return NULL;
}

/* A lease of ours on another worker (mu held): connected on first use.  A
 * worker lent to us again keeps its record (and connection). */
static void owner_granted(const Rayc__LeaseGranted *g)
{
    if (g->worker_id.len != IDS_WORKER_LEN || g->socket == NULL || strlen(g->socket) > 4096)
        return; /* unused, it lapses on the worker's side */
    api_chan *ch = find_lease(&g->worker_id);
    if (ch != NULL) {
        ch->ended = ch->doomed = 0;
        return;
    }
    ch = calloc(1, sizeof *ch);
    if (ch == NULL || (ch->path = strdup(g->socket)) == NULL) {
        free(ch);
        return;
    }
    ch->fd = -1;
    ch->out = 1;
    ch->lease = 1;
    ch->pid = g->pid;
    memcpy(ch->actor.b, g->worker_id.data, IDS_WORKER_LEN);
    ch->next = api_g.chans;
    api_g.chans = ch;
    if (copy_shape(ch, g) != 0)
        ch->ended = 1;
}

void api_lease__result_done(api_chan *ch)
{
    if (ch->ended && ch->ncalls == 0)
        ch->doomed = 1; /* closed and freed once the reader is done with it */
}

/* ---------------------------------------------------------------- worker side */

void api_lease_on_granted(const Rayc__LeaseGranted *g)
{
    if (api_g.is_worker && g->worker_id.len == IDS_WORKER_LEN &&
        memcmp(g->worker_id.data, api_g.worker_id.b, IDS_WORKER_LEN) == 0) {
        api_g.leased = 1;
        api_g.lease_last_ms = time_mono_ms();
        lease_news = 1;
        api_notify();
        return;
    }
    if (api_g.direct)
        owner_granted(g);
}

int api_lease__accepts(void)
{
    return api_g.leased && api_g.blocked_depth == 0;
}

void api_lease__task_started(void)
{
    lease_inflight++;
    api_g.lease_last_ms = time_mono_ms();
}

void api_lease_task_done(void)
{
    if (lease_inflight > 0)
        lease_inflight--;
    api_g.lease_last_ms = time_mono_ms();
}

int64_t api_lease_deadline(void)
{
    lease_news = 0;
    if (!api_g.leased || lease_inflight > 0)
        return -1;
    return api_g.lease_last_ms + API_LEASE_IDLE_MS;
}

int api_lease_news(void)
{
    return lease_news;
}

/* Ends the lease: the raylet gets the worker back, the owners are told. */
static void end_lease(void)
{
    Rayc__Envelope env = RAYC__ENVELOPE__INIT;
    Rayc__LeaseEnded e = RAYC__LEASE_ENDED__INIT;
    e.worker_id.data = api_g.worker_id.b;
    e.worker_id.len = IDS_WORKER_LEN;
    env.body_case = RAYC__ENVELOPE__BODY_LEASE_ENDED;
    env.lease_ended = &e;
    api_g.leased = 0;
    for (api_chan *ch = api_g.chans; ch != NULL; ch = ch->next)
        if (!ch->out && ch->lease && ch->state == CHAN_OPEN)
            api_chan_send(ch, &env);
    api_send_mu(&env);
}

void api_lease_tick(void)
{
    if (api_g.leased && lease_inflight == 0 &&
        time_mono_ms() >= api_g.lease_last_ms + API_LEASE_IDLE_MS)
        end_lease();
}

void api_lease_listen(void)
{
    char path[4200], hex[2 * IDS_WORKER_LEN + 1];
    if (!api_g.direct || api_g.sock_dir[0] == '\0')
        return;
    ids_hex(api_g.worker_id.b, IDS_WORKER_LEN, hex);
    snprintf(path, sizeof path, "%s/worker-%s", api_g.sock_dir, hex);
    int fd = uds_listen(path, 128);
    if (fd < 0)
        return; /* owners cannot connect: its leases lapse unused */
    pthread_mutex_lock(&api_g.mu);
    api_g.lease_fd = fd;
    str_copy(api_g.lease_path, sizeof api_g.lease_path, path);
    pthread_mutex_unlock(&api_g.mu);
}
