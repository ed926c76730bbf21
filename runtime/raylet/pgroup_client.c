/* Placement group requests of local clients, passed to the GCS and
 * answered back; and the check that a parked task's group still exists. */
#include "raylet/pgroup.h"

#include <stdio.h>
#include <stdlib.h>

#include "common/log.h"
#include "raylet/sched.h"

/* A client request waiting for the GCS. */
typedef struct pg_call {
    raylet_client *cl;             /* referenced */
    uint64_t id;                   /* the client's request id */
    int body;                      /* the request's envelope body */
} pg_call;

/* Answers C's request with STATUS and MSG in the reply type it expects. */
static void answer_status(pg_call *c, int status, const char *msg)
{
    Rayc__Envelope env = RAYC__ENVELOPE__INIT;
    Rayc__CreatePlacementGroupReply cr = RAYC__CREATE_PLACEMENT_GROUP_REPLY__INIT;
    Rayc__RemovePlacementGroupReply rr = RAYC__REMOVE_PLACEMENT_GROUP_REPLY__INIT;
    Rayc__GetPlacementGroupReply gr = RAYC__GET_PLACEMENT_GROUP_REPLY__INIT;
    cr.status = rr.status = gr.status = status;
    cr.error = rr.error = gr.error = (char *)msg;
    env.request_id = c->id;
    switch (c->body) {
    case RAYC__ENVELOPE__BODY_CREATE_PLACEMENT_GROUP:
        env.body_case = RAYC__ENVELOPE__BODY_CREATE_PLACEMENT_GROUP_REPLY;
        env.create_placement_group_reply = &cr;
        break;
    case RAYC__ENVELOPE__BODY_REMOVE_PLACEMENT_GROUP:
        env.body_case = RAYC__ENVELOPE__BODY_REMOVE_PLACEMENT_GROUP_REPLY;
        env.remove_placement_group_reply = &rr;
        break;
    case RAYC__ENVELOPE__BODY_GET_PLACEMENT_GROUP:
        env.body_case = RAYC__ENVELOPE__BODY_GET_PLACEMENT_GROUP_REPLY;
        env.get_placement_group_reply = &gr;
        break;
    default:
        raylet_local_error(c->cl, c->id, RPC_E_UNAVAILABLE, "%s", msg);
        return;
    }
    raylet_client_send(c->cl, &env);
}

static void gcs_cb(raylet *r, Rayc__Envelope *reply, void *data)
{
    pg_call *c = data;
    char msg[256];
    if (reply == NULL) {
        snprintf(msg, sizeof msg, "the GCS is not reachable from node %s now", r->opts->node_ip);
        answer_status(c, RAY_ERR_CONNECTION, msg);
    } else if (reply->body_case == RAYC__ENVELOPE__BODY_ERROR) {
        answer_status(c, RAY_ERR_CONNECTION, reply->error->message);
    } else {
        reply->request_id = c->id;
        raylet_client_send(c->cl, reply);
    }
    raylet_client_unref(c->cl);
    free(c);
}

int pgroup_on_client_request(raylet_client *cl, Rayc__Envelope *msg)
{
    switch (msg->body_case) {
    case RAYC__ENVELOPE__BODY_CREATE_PLACEMENT_GROUP:
    case RAYC__ENVELOPE__BODY_REMOVE_PLACEMENT_GROUP:
    case RAYC__ENVELOPE__BODY_GET_PLACEMENT_GROUP:
    case RAYC__ENVELOPE__BODY_GET_ALL_PLACEMENT_GROUPS:
        break;
    default:
        return 0;
    }
    pg_call *c = calloc(1, sizeof *c);
    if (c == NULL) {
        raylet_local_error(cl, msg->request_id, RPC_E_INTERNAL, "the raylet is out of memory");
        return 1;
    }
    c->cl = cl;
    c->id = msg->request_id;
    c->body = (int)msg->body_case;
    raylet_client_ref(cl);
    raylet_gcs_call(cl->r, msg, gcs_cb, c); /* MSG is only borrowed */
    return 1;
}

/* ---------------------------------------------------------------- a parked task's group */

static void check_cb(raylet *r, Rayc__Envelope *reply, void *data)
{
    ids_pg *g = data;
    const Rayc__GetPlacementGroupReply *rep =
        reply && reply->body_case == RAYC__ENVELOPE__BODY_GET_PLACEMENT_GROUP_REPLY
            ? reply->get_placement_group_reply : NULL;
    if (rep != NULL && !r->closing &&
        (rep->status == RAY_ERR_NOT_FOUND ||
         (rep->pg && rep->pg->state == RAYC__PLACEMENT_GROUP_INFO__STATE__REMOVED))) {
        char hex[2 * IDS_PG_LEN + 1], reason[200];
        ids_hex(g->b, IDS_PG_LEN, hex);
        snprintf(reason, sizeof reason, "its placement group %s %s", hex,
                 rep->status == RAY_ERR_NOT_FOUND ? "does not exist" : "was removed");
        sched_group_removed(r, g, reason);
    }
    free(g);
}

void pgroup_check_exists(raylet *r, const ids_pg *g)
{
    ids_pg *copy = malloc(sizeof *copy);
    if (copy == NULL)
        return;
    *copy = *g;
    Rayc__Envelope env = RAYC__ENVELOPE__INIT;
    Rayc__GetPlacementGroup m = RAYC__GET_PLACEMENT_GROUP__INIT;
    m.pg_id.data = copy->b;
    m.pg_id.len = IDS_PG_LEN;
    env.body_case = RAYC__ENVELOPE__BODY_GET_PLACEMENT_GROUP;
    env.get_placement_group = &m;
    raylet_gcs_call(r, &env, check_cb, copy);
}
