/* The GCS's task and actor event requests: raylets add batches, the job
 * server's state API queries them. */
#include <errno.h>

#include "gcs/gcs_events.h"
#include "gcs/gcs_server.h"

#define GEV_MAX_FILTERS 32

int gcs_events_open(gcs_server *srv)
{
    srv->task_events = gev_table_new(srv->cfg.task_events_max, 0);
    srv->actor_events = gev_table_new(srv->cfg.task_events_max, 1);
    return srv->task_events && srv->actor_events ? 0 : -ENOMEM;
}

void gcs_events_free(gcs_server *srv)
{
    gev_table_free(srv->task_events);
    gev_table_free(srv->actor_events);
    srv->task_events = srv->actor_events = NULL;
}

void gcs_handle_add_task_events(gcs_client *cl, uint64_t id, const Rayc__AddTaskEvents *req)
{
    gcs_server *srv = cl->srv;
    for (size_t i = 0; i < req->n_tasks; i++)
        gev_add_task(srv->task_events, req->tasks[i]);
    for (size_t i = 0; i < req->n_actors; i++)
        gev_add_actor(srv->actor_events, req->actors[i]);
    gev_add_packed(srv->task_events, req);
    gev_note_dropped(srv->task_events, req->dropped_tasks);
    gev_note_dropped(srv->actor_events, req->dropped_actors);
    Rayc__AddTaskEventsReply r = RAYC__ADD_TASK_EVENTS_REPLY__INIT;
    Rayc__Envelope env = RAYC__ENVELOPE__INIT;
    env.body_case = RAYC__ENVELOPE__BODY_ADD_TASK_EVENTS_REPLY;
    env.add_task_events_reply = &r;
    gcs_reply(cl, id, &env);
}

void gcs_handle_get_task_events(gcs_client *cl, uint64_t id, const Rayc__GetTaskEvents *req)
{
    gcs_server *srv = cl->srv;
    if (req->n_filters > GEV_MAX_FILTERS) {
        gcs_reply_error(cl, id, RPC_E_INVALID, "at most %d filters", GEV_MAX_FILTERS);
        return;
    }
    Rayc__TaskEventsReply r = RAYC__TASK_EVENTS_REPLY__INIT;
    gev_table *t = req->actors ? srv->actor_events : srv->task_events;
    if (gev_query(t, req, &r) != 0) {
        gcs_reply_error(cl, id, RPC_E_INVALID, "the GCS is out of memory");
        return;
    }
    Rayc__Envelope env = RAYC__ENVELOPE__INIT;
    env.body_case = RAYC__ENVELOPE__BODY_TASK_EVENTS_REPLY;
    env.task_events_reply = &r;
    gcs_reply(cl, id, &env);
    gev_reply_release(&r);
}
