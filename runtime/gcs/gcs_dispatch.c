/* Routes each authenticated GCS request to its handler (a flat table). */
#include "gcs/gcs_server.h"

/* Answers a second hello on an authenticated connection. */
static void hello_again(gcs_client *cl, uint64_t id)
{
    Rayc__HelloReply r = RAYC__HELLO_REPLY__INIT;
    r.session_name = cl->srv->session_name;
    r.cluster_id = cl->srv->cluster_id;
    r.gcs_version = GCS_VERSION;
    Rayc__Envelope env = RAYC__ENVELOPE__INIT;
    env.body_case = RAYC__ENVELOPE__BODY_HELLO_REPLY;
    env.hello_reply = &r;
    gcs_reply(cl, id, &env);
}

void gcs_dispatch(gcs_client *cl, const Rayc__Envelope *req)
{
    uint64_t id = req->request_id;
    switch (req->body_case) {
    case RAYC__ENVELOPE__BODY_HELLO: hello_again(cl, id); break;
    case RAYC__ENVELOPE__BODY_REGISTER_NODE: gcs_handle_register_node(cl, id, req->register_node); break;
    case RAYC__ENVELOPE__BODY_REPORT_RESOURCES: gcs_handle_report_resources(cl, id, req->report_resources); break;
    case RAYC__ENVELOPE__BODY_UNREGISTER_NODE: gcs_handle_unregister_node(cl, id, req->unregister_node); break;
    case RAYC__ENVELOPE__BODY_GET_ALL_NODES: gcs_handle_get_all_nodes(cl, id); break;
    case RAYC__ENVELOPE__BODY_KV_PUT: gcs_handle_kv_put(cl, id, req->kv_put); break;
    case RAYC__ENVELOPE__BODY_KV_GET: gcs_handle_kv_get(cl, id, req->kv_get); break;
    case RAYC__ENVELOPE__BODY_KV_DEL: gcs_handle_kv_del(cl, id, req->kv_del); break;
    case RAYC__ENVELOPE__BODY_KV_KEYS: gcs_handle_kv_keys(cl, id, req->kv_keys); break;
    case RAYC__ENVELOPE__BODY_GET_NEXT_JOB_ID: gcs_handle_next_job_id(cl, id); break;
    case RAYC__ENVELOPE__BODY_ADD_JOB: gcs_handle_add_job(cl, id, req->add_job); break;
    case RAYC__ENVELOPE__BODY_MARK_JOB_FINISHED: gcs_handle_mark_job_finished(cl, id, req->mark_job_finished); break;
    case RAYC__ENVELOPE__BODY_GET_ALL_JOBS: gcs_handle_get_all_jobs(cl, id); break;
    case RAYC__ENVELOPE__BODY_SUBSCRIBE: gcs_handle_subscribe(cl, id, req->subscribe); break;
    case RAYC__ENVELOPE__BODY_CREATE_PLACEMENT_GROUP: gcs_handle_create_pg(cl, id, req->create_placement_group); break;
    case RAYC__ENVELOPE__BODY_REMOVE_PLACEMENT_GROUP: gcs_handle_remove_pg(cl, id, req->remove_placement_group); break;
    case RAYC__ENVELOPE__BODY_GET_PLACEMENT_GROUP: gcs_handle_get_pg(cl, id, req->get_placement_group); break;
    case RAYC__ENVELOPE__BODY_GET_ALL_PLACEMENT_GROUPS: gcs_handle_get_all_pgs(cl, id); break;
    case RAYC__ENVELOPE__BODY_ADD_TASK_EVENTS: gcs_handle_add_task_events(cl, id, req->add_task_events); break;
    case RAYC__ENVELOPE__BODY_GET_TASK_EVENTS: gcs_handle_get_task_events(cl, id, req->get_task_events); break;
    case RAYC__ENVELOPE__BODY_PREPARE_BUNDLES_REPLY:
    case RAYC__ENVELOPE__BODY_COMMIT_BUNDLES_REPLY:
    case RAYC__ENVELOPE__BODY_RETURN_BUNDLES_REPLY:
    case RAYC__ENVELOPE__BODY_RELEASE_UNUSED_BUNDLES_REPLY:
        gcs_pg_on_reply(cl, req); /* answers to the GCS's own requests */
        break;
    case RAYC__ENVELOPE__BODY_ERROR:
        gcs_pg_on_reply(cl, req); /* may answer a request of ours; needs no answer */
        break;
    default:
        gcs_reply_error(cl, id, RPC_E_INVALID, "unsupported request (envelope body %d)",
                        (int)req->body_case);
        break;
    }
}
