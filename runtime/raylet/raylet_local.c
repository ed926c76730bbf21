/* Messages of local clients (drivers and workers) after Hello, routed to
 * the runtime modules; and opening/closing those modules. */
#include "raylet/raylet.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "raylet/actor.h"
#include "raylet/node_state.h"
#include "raylet/otable.h"
#include "raylet/pgroup.h"
#include "raylet/objmgr.h"
#include "raylet/raylet_cluster.h"
#include "raylet/reserve.h"
#include "common/prom_http.h"
#include "raylet/node_stats.h"
#include "raylet/sched.h"
#include "raylet/tev.h"
#include "raylet/sched_remote.h"
#include "raylet/wpool.h"

void raylet_local_error(raylet_client *cl, uint64_t id, int code, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (raylet_client_alive(cl))
        rpc_conn_send_error(cl->conn, id, code, msg);
}

/* Messages a registered client may send. */
static void registered_message(raylet_client *cl, Rayc__Envelope *msg)
{
    uint64_t id = msg->request_id;
    switch (msg->body_case) {
    case RAYC__ENVELOPE__BODY_SUBMIT_TASK: sched_remote_on_submit(cl, msg->submit_task); break;
    case RAYC__ENVELOPE__BODY_TASK_DONE: sched_on_done(cl, msg->task_done); break;
    case RAYC__ENVELOPE__BODY_ADD_TASK_EVENTS: tev_from_worker(cl, msg->add_task_events); break;
    case RAYC__ENVELOPE__BODY_CANCEL_TASK: sched_on_cancel(cl, msg->cancel_task); break;
    case RAYC__ENVELOPE__BODY_WORKER_BLOCKED: sched_on_blocked(cl, msg->worker_blocked); break;
    case RAYC__ENVELOPE__BODY_CREATE_OBJECT: otable_on_create(cl, id, msg->create_object); break;
    case RAYC__ENVELOPE__BODY_SEAL_OBJECT: otable_on_seal(cl, id, msg->seal_object); break;
    case RAYC__ENVELOPE__BODY_ADOPT_OBJECTS: otable_on_adopt(cl, msg->adopt_objects); break;
    case RAYC__ENVELOPE__BODY_LEASE_ENDED: wpool_lease_on_ended(cl, msg->lease_ended); break;
    case RAYC__ENVELOPE__BODY_OBJECT_PENDING: otable_on_pending(cl, msg->object_pending); break;
    case RAYC__ENVELOPE__BODY_OBJECT_VALUE: otable_on_value(cl, msg->object_value); break;
    case RAYC__ENVELOPE__BODY_GET_OBJECT: otable_on_get(cl, id, msg->get_object); break;
    case RAYC__ENVELOPE__BODY_RELEASE_OBJECTS: otable_on_release(cl, msg->release_objects); break;
    case RAYC__ENVELOPE__BODY_GET_ACTOR: actor_on_get(cl, id, msg->get_actor); break;
    case RAYC__ENVELOPE__BODY_KILL_ACTOR: actor_on_kill(cl, id, msg->kill_actor); break;
    case RAYC__ENVELOPE__BODY_ERROR: break;
    default:
        if (pgroup_on_client_request(cl, msg))
            break;
        raylet_local_error(cl, id, RPC_E_INVALID, "the raylet does not handle envelope body %d",
                           (int)msg->body_case);
        break;
    }
}

void raylet_local_message(raylet_client *cl, Rayc__Envelope *msg)
{
    switch (msg->body_case) {
    case RAYC__ENVELOPE__BODY_REGISTER_DRIVER:
        wpool_on_register_driver(cl, msg->request_id, msg->register_driver);
        return;
    case RAYC__ENVELOPE__BODY_REGISTER_WORKER:
        wpool_on_register_worker(cl, msg->request_id, msg->register_worker);
        return;
    case RAYC__ENVELOPE__BODY_PULL_OBJECT: /* another raylet */
        objmgr_on_pull(cl, msg->request_id, msg->pull_object);
        return;
    case RAYC__ENVELOPE__BODY_GET_NODE_STATE: /* the state API */
        nstate_on_get(cl, msg->request_id, msg->get_node_state);
        return;
    case RAYC__ENVELOPE__BODY_KILL_ACTOR: /* another raylet, for any job */
        if (cl->is_peer) {
            actor_on_kill(cl, msg->request_id, msg->kill_actor);
            return;
        }
        break;
    default:
        break;
    }
    if (!cl->is_peer && reserve_on_message(cl, msg))
        return;   /* the node's job server */
    if (cl->kind == RAYLET_CLIENT_NEW) {
        raylet_local_error(cl, msg->request_id, RPC_E_INVALID,
                           "register as a driver or worker first");
        return;
    }
    registered_message(cl, msg);
}

void raylet_local_closed(raylet_client *cl)
{
    raylet *r = cl->r;
    if (cl->kind == RAYLET_CLIENT_DRIVER)
        wpool_driver_gone(r, cl);
    else if (cl->kind == RAYLET_CLIENT_WORKER && cl->worker != NULL)
        wpool_worker_conn_gone(r, cl->worker);
    otable_client_gone(r, cl);
    reserve_client_gone(cl);
    wpool_job_unref(cl->job);
    cl->job = NULL;
}

/* ---------------------------------------------------------------- open / close */

int raylet_runtime_open(raylet *r, char *err, size_t errlen)
{
    int rc = otable_open(r, err, errlen);
    if (rc == 0 && (rc = sched_open(r)) != 0)
        snprintf(err, errlen, "out of memory");
    if (rc == 0 && (rc = actor_open(r)) != 0)
        snprintf(err, errlen, "out of memory");
    if (rc == 0 && (rc = tev_open(r)) != 0)
        snprintf(err, errlen, "out of memory");
    if (rc == 0 && (rc = pgroup_open(r)) != 0)
        snprintf(err, errlen, "out of memory");
    if (rc == 0)
        rc = wpool_open(r, err, errlen);
    if (rc == 0)
        rc = raylet_cluster_open(r, err, errlen);
    if (rc == 0 && (rc = node_stats_open(r)) != 0)
        snprintf(err, errlen, "out of memory");
    if (rc == 0)
        rc = node_stats_serve(r, r->opts->metrics_export_port, err, errlen);
    return rc;
}

void raylet_runtime_close(raylet *r)
{
    prom_http_close(r->metrics);
    r->metrics = NULL;
    raylet_cluster_close(r);
    tev_close(r);
    wpool_close(r);
    otable_close(r);
}

void raylet_runtime_free(raylet *r)
{
    raylet_cluster_free(r);
    node_stats_close(r);
    sched_close(r);
    actor_close(r);
    pgroup_free(r);
    tev_free(r);
    reserve_free_all(r);
    wpool_free(r);
    otable_free(r);
}
