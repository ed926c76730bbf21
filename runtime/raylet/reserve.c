/* Entrypoint resources reserved by the node's job server (reserve.h). */
#include "raylet/reserve.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "raylet/sched.h"

#define RESERVE_KEY_MAX 128
#define RESERVE_MAX 4096      /* reservations held at once, all clients */

struct raylet_reservation {
    char key[RESERVE_KEY_MAX + 1];
    raylet_client *owner;
    sched_res res;
    struct raylet_reservation *next;
};

static size_t reserve_count(raylet *r)
{
    size_t n = 0;
    for (raylet_reservation *v = r->reservations; v != NULL; v = v->next)
        n++;
    return n;
}

static raylet_reservation *find(raylet *r, const char *key)
{
    for (raylet_reservation *v = r->reservations; v != NULL; v = v->next)
        if (strcmp(v->key, key) == 0)
            return v;
    return NULL;
}

/* Unlinks V, gives its resources back and frees it. */
static void drop(raylet *r, raylet_reservation *v)
{
    for (raylet_reservation **p = &r->reservations; *p != NULL; p = &(*p)->next) {
        if (*p == v) {
            *p = v->next;
            break;
        }
    }
    sched_res_release(r, &v->res);
    free(v);
}

/* Takes M's resources under its key for CL.  Returns 0 or -1 with ERR set. */
static int take(raylet_client *cl, const Rayc__ReserveResources *m, char *err, size_t errlen)
{
    raylet *r = cl->r;
    char why[512];
    const char *key = m->key ? m->key : "";
    if (*key == '\0' || strlen(key) > RESERVE_KEY_MAX) {
        snprintf(err, errlen, "a reservation needs a key of 1 to %d bytes", RESERVE_KEY_MAX);
        return -1;
    }
    raylet_reservation *old = find(r, key);
    if (old != NULL) {
        old->owner = cl;   /* a reconnected job server takes over its own */
        return 0;
    }
    if (reserve_count(r) >= RESERVE_MAX) {
        snprintf(err, errlen, "node %s holds %d reservations already", r->opts->node_id,
                 RESERVE_MAX);
        return -1;
    }
    raylet_reservation *v = calloc(1, sizeof *v);
    if (v == NULL) {
        snprintf(err, errlen, "the raylet is out of memory");
        return -1;
    }
    if (sched_res_parse(r, (const Rayc__Resource *const *)m->resources, m->n_resources,
                        &v->res, why, sizeof why) != 0) {
        snprintf(err, errlen, "node %s can never hold them: %s", r->opts->node_id, why);
        free(v);
        return -1;
    }
    if (!sched_res_fits(r, &v->res)) {
        snprintf(err, errlen, "they are not free on node %s now", r->opts->node_id);
        free(v);
        return -1;
    }
    sched_res_acquire(r, &v->res);
    str_copy(v->key, sizeof v->key, key);
    v->owner = cl;
    v->next = r->reservations;
    r->reservations = v;
    return 0;
}

static void on_reserve(raylet_client *cl, uint64_t id, const Rayc__ReserveResources *m)
{
    Rayc__ReserveResourcesReply rep = RAYC__RESERVE_RESOURCES_REPLY__INIT;
    char err[700] = "";
    int rc = take(cl, m, err, sizeof err);
    if (rc == 0)
        log_info("entrypoint resources reserved for job %s", m->key);
    rep.ok = rc == 0;
    rep.error = err;
    Rayc__Envelope env = RAYC__ENVELOPE__INIT;
    env.request_id = id;
    env.body_case = RAYC__ENVELOPE__BODY_RESERVE_RESOURCES_REPLY;
    env.reserve_resources_reply = &rep;
    raylet_client_send(cl, &env);
}

static void on_release(raylet_client *cl, uint64_t id, const Rayc__ReleaseResources *m)
{
    raylet *r = cl->r;
    raylet_reservation *v = m->key ? find(r, m->key) : NULL;
    if (v != NULL) {
        drop(r, v);
        log_info("entrypoint resources of job %s released", m->key);
    }
    Rayc__ReleaseResourcesReply rep = RAYC__RELEASE_RESOURCES_REPLY__INIT;
    Rayc__Envelope env = RAYC__ENVELOPE__INIT;
    env.request_id = id;
    env.body_case = RAYC__ENVELOPE__BODY_RELEASE_RESOURCES_REPLY;
    env.release_resources_reply = &rep;
    raylet_client_send(cl, &env);
    if (v != NULL)
        sched_dispatch(r);
}

int reserve_on_message(raylet_client *cl, const Rayc__Envelope *msg)
{
    switch (msg->body_case) {
    case RAYC__ENVELOPE__BODY_RESERVE_RESOURCES:
        on_reserve(cl, msg->request_id, msg->reserve_resources);
        return 1;
    case RAYC__ENVELOPE__BODY_RELEASE_RESOURCES:
        on_release(cl, msg->request_id, msg->release_resources);
        return 1;
    default:
        return 0;
    }
}

void reserve_client_gone(raylet_client *cl)
{
    raylet *r = cl->r;
    size_t n = 0;
    for (raylet_reservation *v = r->reservations, *next; v != NULL; v = next) {
        next = v->next;
        if (v->owner == cl) {
            drop(r, v);
            n++;
        }
    }
    if (n > 0) {
        log_info("the job server's connection closed: %zu entrypoint reservations released", n);
        if (!r->closing)
            sched_dispatch(r);
    }
}

void reserve_free_all(raylet *r)
{
    while (r->reservations != NULL) {
        raylet_reservation *v = r->reservations;
        r->reservations = v->next;
        free(v);
    }
}
