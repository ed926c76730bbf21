/* GCS pubsub: Subscribe requests and pushes of node and job changes. */
#include "gcs/gcs_server.h"

#include <string.h>

/* The GCS_CH_* bit of channel NAME, or 0 when unknown. */
static unsigned channel_bit(const char *name)
{
    if (strcmp(name, "NODE") == 0)
        return GCS_CH_NODE;
    if (strcmp(name, "JOB") == 0)
        return GCS_CH_JOB;
    return 0;
}

void gcs_handle_subscribe(gcs_client *cl, uint64_t id, const Rayc__Subscribe *req)
{
    unsigned bits = 0;
    if (req->n_channels > GCS_MAX_CHANNELS) {
        gcs_reply_error(cl, id, RPC_E_INVALID, "subscribe: more than %d channels", GCS_MAX_CHANNELS);
        return;
    }
    for (size_t i = 0; i < req->n_channels; i++) {
        unsigned bit = channel_bit(req->channels[i]);
        if (bit == 0) {
            gcs_reply_error(cl, id, RPC_E_INVALID, "subscribe: unknown channel '%.64s'",
                            req->channels[i]);
            return;
        }
        bits |= bit;
    }
    cl->channels |= bits;
    Rayc__SubscribeReply r = RAYC__SUBSCRIBE_REPLY__INIT;
    Rayc__Envelope env = RAYC__ENVELOPE__INIT;
    env.body_case = RAYC__ENVELOPE__BODY_SUBSCRIBE_REPLY;
    env.subscribe_reply = &r;
    gcs_reply(cl, id, &env);
}

/* Sends PUB to every open client subscribed to BIT.  A client closed on the
 * way stays valid until the reaper runs, so the walk is safe. */
static void publish(gcs_server *srv, unsigned bit, Rayc__Publish *pub)
{
    Rayc__Envelope env = RAYC__ENVELOPE__INIT;
    env.request_id = 0;
    env.body_case = RAYC__ENVELOPE__BODY_PUBLISH;
    env.publish = pub;
    gcs_client *next;
    for (gcs_client *cl = srv->clients; cl != NULL; cl = next) {
        next = cl->next;
        if (cl->authed && (cl->channels & bit))
            gcs_send(cl, &env);
    }
}

void gcs_publish_node(gcs_server *srv, const Rayc__NodeInfo *node)
{
    Rayc__Publish pub = RAYC__PUBLISH__INIT;
    pub.channel = "NODE";
    pub.node = (Rayc__NodeInfo *)node;
    publish(srv, GCS_CH_NODE, &pub);
}

void gcs_publish_job(gcs_server *srv, const Rayc__JobInfo *job)
{
    Rayc__Publish pub = RAYC__PUBLISH__INIT;
    pub.channel = "JOB";
    pub.job = (Rayc__JobInfo *)job;
    publish(srv, GCS_CH_JOB, &pub);
}
