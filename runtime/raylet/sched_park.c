/* Infeasible tasks: parked until some node can run them.
 *
 * Ray keeps a task or actor whose resources no node has (yet) pending,
 * warns its driver, and shows it under "Demands" in `ray status`; it runs
 * once a node that fits joins.  The parked list holds such tasks here (in
 * state WAITING, dependencies registered); every change of the cluster view
 * places them again. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "raylet/sched_int.h"
#include "raylet/tev.h"

/* "{CPU: 1, unicorn: 2}" for the non-zero resources of S. */
static void shape_text(const Rayc__TaskSpec *s, char *out, size_t outlen)
{
    size_t used = (size_t)snprintf(out, outlen, "{");
    for (size_t i = 0; i < s->n_resources && used < outlen; i++) {
        if (s->resources[i]->qty <= 0)
            continue;
        used += (size_t)snprintf(out + used, outlen - used, "%s%.100s: %g", used > 1 ? ", " : "",
                                 s->resources[i]->name, s->resources[i]->qty);
    }
    if (used < outlen)
        snprintf(out + used, outlen - used, "}");
}

/* True when A and B ask for the same resources in the same order. */
static int same_shape(const Rayc__TaskSpec *a, const Rayc__TaskSpec *b)
{
    if (a->n_resources != b->n_resources)
        return 0;
    for (size_t i = 0; i < a->n_resources; i++)
        if (strcmp(a->resources[i]->name, b->resources[i]->name) != 0 ||
            a->resources[i]->qty != b->resources[i]->qty)
            return 0;
    return 1;
}

static void warn_owner(raylet *r, sched_task *t, const char *why)
{
    char shape[512], text[1400];
    shape_text(t->spec, shape, sizeof shape);
    snprintf(text, sizeof text,
             "Warning: the %s %s cannot be scheduled right now: it requires %s for placement "
             "(%s), and no node of the cluster can provide it. It stays pending until a node "
             "that can run it joins; otherwise consider reducing its resource requirements.",
             t->spec->kind == RAYC__TASK_SPEC__KIND__ACTOR_CREATE ? "actor" : "task",
             sched__fname(t), shape, why);
    log_warn("%s", text);
    Rayc__Envelope env = RAYC__ENVELOPE__INIT;
    Rayc__Warning w = RAYC__WARNING__INIT;
    w.message = text;
    env.body_case = RAYC__ENVELOPE__BODY_WARNING;
    env.warning = &w;
    raylet_client_send(t->owner, &env);
}

void sched_park(raylet *r, sched_task *t, const char *why)
{
    sched *s = r->sched;
    /* A placement group's task waits for its bundle to show: no warning. */
    int warned = t->park_warned || t->spec->placement_group_id.len != 0;
    for (sched_task *p = s->parked; p != NULL && !warned; p = p->next)
        warned = p->owner == t->owner && same_shape(p->spec, t->spec);
    if (!warned)
        warn_owner(r, t, why);
    t->park_warned = 1;
    if (t->deps_left == 0)
        tev_task(r, t, TEV_PENDING_NODE_ASSIGNMENT, 0, NULL);
    t->parked = 1;
    t->state = SCHED_WAITING;
    t->prev = NULL;
    t->next = s->parked;
    if (s->parked != NULL)
        s->parked->prev = t;
    s->parked = t;
    s->nparked++;
}

void sched_park_unlink(raylet *r, sched_task *t)
{
    sched *s = r->sched;
    if (!t->parked)
        return;
    if (t->prev != NULL)
        t->prev->next = t->next;
    else
        s->parked = t->next;
    if (t->next != NULL)
        t->next->prev = t->prev;
    t->prev = t->next = NULL;
    t->parked = 0;
    s->nparked--;
}

void sched_park_retry(raylet *r)
{
    sched *s = r->sched;
    if (s == NULL || s->nparked == 0)
        return;
    /* Placing one task can fail or free others (through their arguments),
     * so work from a copy of the ids. */
    size_t n = s->nparked;
    ids_task *ids = malloc(n * sizeof *ids);
    if (ids == NULL)
        return;
    size_t k = 0;
    for (sched_task *t = s->parked; t != NULL && k < n; t = t->next)
        ids[k++] = t->id;
    for (size_t i = 0; i < k; i++) {
        sched_task *t = sched_find(r, &ids[i]);
        if (t == NULL || !t->parked)
            continue;
        char msg[1024] = "";
        t->remote = 0;
        int rc = sched__placement(r, t, msg, sizeof msg);
        if (rc == SCHED__PARK)
            continue;
        sched_park_unlink(r, t);
        log_info("task %s is schedulable now", sched__fname(t));
        if (rc != RAY_OK)
            sched_fail(r, t, rc, msg);
        else
            sched__proceed(r, t);
    }
    free(ids);
}

size_t sched_park_count(raylet *r)
{
    return r->sched ? r->sched->nparked : 0;
}

/* A demand entry for T's shape, count 1.  NULL when out of memory or T
 * asks for nothing (it would not be parked then). */
static Rayc__ResourceDemand *demand_new(const sched_task *t)
{
    const Rayc__TaskSpec *s = t->spec;
    Rayc__ResourceDemand *x = calloc(1, sizeof *x);
    Rayc__ResourceDemand__ShapeEntry **e = calloc(s->n_resources + 1, sizeof *e);
    Rayc__ResourceDemand__ShapeEntry *es = calloc(s->n_resources + 1, sizeof *es);
    if (x == NULL || e == NULL || es == NULL) {
        free(x), free(e), free(es);
        return NULL;
    }
    rayc__resource_demand__init(x);
    size_t m = 0;
    for (size_t j = 0; j < s->n_resources; j++) {
        if (s->resources[j]->qty <= 0)
            continue;
        rayc__resource_demand__shape_entry__init(&es[m]);
        es[m].key = s->resources[j]->name;
        es[m].value = s->resources[j]->qty;
        e[m] = &es[m];
        m++;
    }
    if (m == 0) {
        free(x), free(e), free(es);
        return NULL;
    }
    x->shape = e;
    x->n_shape = m;
    x->count = 1;
    return x;
}

size_t sched_park_demands(raylet *r, Rayc__ResourceDemand **d, size_t n, size_t cap)
{
    size_t first = n;
    const sched_task *shape_of[64];
    for (sched_task *t = r->sched->parked; t != NULL && n < cap; t = t->next) {
        size_t i;
        if (t->spec->placement_group_id.len != 0)
            continue; /* its bundle exists: not a demand on the cluster */
        for (i = first; i < n; i++) {
            if (i - first < 64 && same_shape(shape_of[i - first]->spec, t->spec))
                break;
        }
        if (i < n) {
            d[i]->count++;
            continue;
        }
        if (n - first >= 64)
            continue; /* 64 distinct shapes are plenty for a report */
        if ((d[n] = demand_new(t)) == NULL)
            continue;
        shape_of[n - first] = t;
        n++;
    }
    return n;
}
