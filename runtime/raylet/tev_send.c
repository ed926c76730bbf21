/* Task events to the GCS: one AddTaskEvents per batch of up to
 * TEV_BATCH_MAX events, one TaskEvent per task attempt with its states. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/tev_wire.h"
#include "raylet/tev_int.h"

#define TEV_GROUP_SLOTS 16384         /* a power of two >= 2 * TEV_BATCH_MAX */

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

/* The arrays of a batch, sized for TEV_BATCH_MAX events and kept between
 * sends: allocating a megabyte a second made the kernel fault in fresh
 * pages for every batch. */
struct tev_batch {
    Rayc__TaskEvent tm[TEV_BATCH_MAX], *tp[TEV_BATCH_MAX];
    Rayc__ActorEvent am[TEV_BATCH_MAX], *ap[TEV_BATCH_MAX];
    Rayc__StateTime st[TEV_BATCH_MAX], *stp[TEV_BATCH_MAX];
    size_t msg_of[TEV_BATCH_MAX], first_of[TEV_BATCH_MAX], fill[TEV_BATCH_MAX];
    size_t wire_of[TEV_BATCH_MAX], first_wire[TEV_BATCH_MAX];
    tev_wire wires[TEV_BATCH_MAX];
    size_t slots[TEV_GROUP_SLOTS];
    uint8_t packed[TEV_BATCH_MAX * TEV_WIRE_SIZE];
    const char *name_key[TEV_GROUP_SLOTS];   /* interned name -> index in names */
    uint32_t name_idx[TEV_GROUP_SLOTS];
    char *names[TEV_BATCH_MAX];
    size_t nnames;
};

/* Task events without text go packed (tev_wire.h); the others, with a
 * name or an error, as TaskEvent messages. */
static int packable(const tev_ev *ev)
{
    return !ev->is_actor && ev->name == NULL && ev->error == NULL;
}

/* Groups the task events of a batch by attempt: those with text into
 * TaskEvent messages (MSG_OF[i] is the message of event I, FIRST_OF[m] the
 * first event of message M), the others into packed records, one per
 * attempt with all its states (WIRE_OF[i], FIRST_WIRE[k]).  Actor events
 * get SIZE_MAX in both.  SLOTS has room for TEV_GROUP_SLOTS.  Returns how
 * many messages; *NWIRE gets how many records. */
static size_t group(tev *e, size_t n, struct tev_batch *b, size_t *nwire)
{
    size_t nb = 1, nmsg = 0;
    while (nb < 2 * n)
        nb <<= 1;
    *nwire = 0;
    memset(b->slots, 0xff, nb * sizeof *b->slots);
    for (size_t i = 0; i < n; i++) {
        const tev_ev *ev = &e->ring[(e->head + i) % e->cap];
        b->msg_of[i] = b->wire_of[i] = SIZE_MAX;
        if (ev->is_actor)
            continue;
        int pk = packable(ev);
        size_t j = (size_t)((ids_hash(ev->id, IDS_TASK_LEN) ^ (uint64_t)ev->attempt ^
                             (uint64_t)pk) & (nb - 1));
        for (;; j = (j + 1) & (nb - 1)) {
            size_t o_i = b->slots[j];
            if (o_i == SIZE_MAX) {
                b->slots[j] = i;
                if (pk) {
                    b->first_wire[*nwire] = i;
                    b->wire_of[i] = (*nwire)++;
                } else {
                    b->first_of[nmsg] = i;
                    b->msg_of[i] = nmsg++;
                }
                break;
            }
            const tev_ev *o = &e->ring[(e->head + o_i) % e->cap];
            if (o->attempt == ev->attempt && packable(o) == pk &&
                memcmp(o->id, ev->id, IDS_TASK_LEN) == 0) {
                b->msg_of[i] = b->msg_of[o_i];
                b->wire_of[i] = b->wire_of[o_i];
                break;
            }
        }
    }
    return nmsg;
}

static void fill_actor(Rayc__ActorEvent *m, const tev_ev *ev, char *node_id)
{
    rayc__actor_event__init(m);
    m->actor_id.data = (uint8_t *)ev->id;
    m->actor_id.len = IDS_ACTOR_LEN;
    m->state = (char *)tev_wire_actor_states[ev->state];
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


/* The index of interned name F in B's names (added when new). */
static uint32_t name_index(struct tev_batch *b, const char *f)
{
    size_t j = (size_t)(((uintptr_t)f >> 4) * 0x9E3779B97F4A7C15ull) & (TEV_GROUP_SLOTS - 1);
    while (b->name_key[j] != NULL && b->name_key[j] != f)
        j = (j + 1) & (TEV_GROUP_SLOTS - 1);
    if (b->name_key[j] == NULL) {
        b->name_key[j] = f;
        b->name_idx[j] = (uint32_t)b->nnames;
        b->names[b->nnames++] = (char *)f;
    }
    return b->name_idx[j];
}

/* Starts W, the packed record of EV's attempt (its states are added by
 * wire_merge). */
static void wire_start(struct tev_batch *b, tev_wire *w, const tev_ev *ev)
{
    memset(w, 0, sizeof *w);
    memcpy(w->task, ev->id, IDS_TASK_LEN);
    memcpy(w->job, ev->job, IDS_JOB_LEN);
    w->attempt = ev->attempt;
    w->kind = ev->kind;
    w->func = name_index(b, ev->func);
    if (ev->has_actor) {
        memcpy(w->actor, ev->actor, IDS_ACTOR_LEN);
        w->flags |= TEV_WIRE_ACTOR;
    }
    if (ev->has_pg) {
        memcpy(w->pg, ev->pg, IDS_PG_LEN);
        w->flags |= TEV_WIRE_PG;
    }
}

/* Adds what task event EV knows to W, the record of its attempt. */
static void wire_merge(tev_wire *w, const tev_ev *ev)
{
    if (ev->states == 0)
        tev_wire_add_state(w, ev->state, ev->time_ns);
    for (int s = 1; ev->states != 0 && s <= TEV_WIRE_NSTATES; s++)
        if (ev->states & (1u << (s - 1)))
            tev_wire_add_state(w, s, ev->times[s - 1]);
    if (ev->has_worker) {
        memcpy(w->worker, ev->worker, IDS_WORKER_LEN);
        w->pid = ev->pid;
        w->flags |= TEV_WIRE_WORKER;
    }
    if (ev->on_node)
        w->flags |= TEV_WIRE_ON_NODE;
}

void tev__batch_free(tev *e)
{
    free(e->batch);
    e->batch = NULL;
}

/* Fills ADD with N (<= TEV_BATCH_MAX) events from the head of the ring:
 * one TaskEvent per task attempt (its states in order), one ActorEvent per
 * actor event.  Returns 0 or -ENOMEM. */
static int build(tev *e, size_t n, Rayc__AddTaskEvents *add)
{
    if (e->batch == NULL && (e->batch = malloc(sizeof *e->batch)) == NULL)
        return -ENOMEM;
    struct tev_batch *b = e->batch;
    size_t nwire;
    size_t nmsg = group(e, n, b, &nwire);
    char *node_id = (char *)e->r->opts->node_id;
    for (size_t m = 0; m < nmsg; m++) {
        fill_task(&b->tm[m], &e->ring[(e->head + b->first_of[m]) % e->cap]);
        b->tp[m] = &b->tm[m];
        b->fill[m] = 0;
    }
    for (size_t i = 0; i < n; i++)          /* states per message */
        if (b->msg_of[i] != SIZE_MAX)
            b->tm[b->msg_of[i]].n_states++;
    size_t off = 0;
    for (size_t m = 0; m < nmsg; m++) {
        b->tm[m].states = b->stp + off;
        off += b->tm[m].n_states;
    }
    b->nnames = 0;
    memset(b->name_key, 0, sizeof b->name_key);
    for (size_t k = 0; k < nwire; k++)
        wire_start(b, &b->wires[k], &e->ring[(e->head + b->first_wire[k]) % e->cap]);
    for (size_t i = 0; i < n; i++) {
        const tev_ev *ev = &e->ring[(e->head + i) % e->cap];
        size_t m = b->msg_of[i];
        if (packable(ev)) {
            wire_merge(&b->wires[b->wire_of[i]], ev);
            continue;
        }
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
    add->packed.data = b->packed;
    for (size_t k = 0; k < nwire; k++)
        tev_wire_put(b->packed + k * TEV_WIRE_SIZE, &b->wires[k]);
    add->packed.len = nwire * TEV_WIRE_SIZE;
    add->names = b->names;
    add->n_names = b->nnames;
    add->node_id = node_id;
    return 0;
}

/* Sends up to TEV_BATCH_MAX events from the head of the ring. */
static void send_batch(tev *e)
{
    raylet *r = e->r;
    size_t n = e->len < TEV_BATCH_MAX ? e->len : TEV_BATCH_MAX;
    Rayc__AddTaskEvents add = RAYC__ADD_TASK_EVENTS__INIT;
    if (build(e, n, &add) != 0)
        return; /* the next tick tries again */
    add.dropped_tasks = e->dropped_tasks;
    add.dropped_actors = e->dropped_actors;
    e->dropped_tasks = e->dropped_actors = 0;
    Rayc__Envelope env = RAYC__ENVELOPE__INIT;
    env.body_case = RAYC__ENVELOPE__BODY_ADD_TASK_EVENTS;
    env.add_task_events = &add;
    uintptr_t counts = ((uintptr_t)(n - add.n_actors) << 32) | (uintptr_t)add.n_actors;
    raylet_gcs_call(r, &env, sent_cb, (void *)counts);
    for (size_t i = 0; i < n; i++)
        tev__ev_free(&e->ring[(e->head + i) % e->cap]);
    e->head = (e->head + n) % e->cap;
    e->len -= n;
    e->seq_head += n;
}

static int gcs_there(const tev *e)
{
    return e->r->gcs.state == RAYLET_GCS_REGISTERED && !e->r->closing;
}

/* Sends N passed-on records from FIRST, their names indexed anew. */
static void send_pass_batch(tev *e, size_t first, size_t n)
{
    struct tev_batch *b = e->batch;
    b->nnames = 0;
    memset(b->name_key, 0, sizeof b->name_key);
    uint8_t *recs = e->pass + first * TEV_WIRE_SIZE;
    for (size_t k = 0; k < n; k++)
        tev_wire_set_func(recs + k * TEV_WIRE_SIZE, name_index(b, e->pass_func[first + k]));
    Rayc__AddTaskEvents add = RAYC__ADD_TASK_EVENTS__INIT;
    add.packed.data = recs;
    add.packed.len = n * TEV_WIRE_SIZE;
    add.names = b->names;
    add.n_names = b->nnames;
    add.node_id = (char *)e->r->opts->node_id;
    Rayc__Envelope env = RAYC__ENVELOPE__INIT;
    env.body_case = RAYC__ENVELOPE__BODY_ADD_TASK_EVENTS;
    env.add_task_events = &add;
    raylet_gcs_call(e->r, &env, sent_cb, (void *)((uintptr_t)n << 32));
}

void tev__send_pass(tev *e)
{
    if (e->npass == 0 || !gcs_there(e))
        return;
    if (e->batch == NULL && (e->batch = malloc(sizeof *e->batch)) == NULL)
        return;
    for (size_t first = 0; first < e->npass; first += TEV_BATCH_MAX)
        send_pass_batch(e, first, e->npass - first < TEV_BATCH_MAX ? e->npass - first
                                                                   : TEV_BATCH_MAX);
    e->npass = 0;
}

void tev__flush(tev *e)
{
    /* Events wait in the buffer (bounded) while the GCS is away. */
    while (e->len > 0 && gcs_there(e))
        send_batch(e);
    tev__send_pass(e);
}

void tev__tick_cb(uv_timer_t *h)
{
    tev__flush(h->data);
}

