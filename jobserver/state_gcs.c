/* The state API's link to the GCS: one blocking rpc_client used from the
 * loop.  Queries are answered from the GCS's memory in microseconds, so a
 * bounded blocking call costs less than a thread hand-off; a GCS that does
 * not answer is skipped for a while so the loop is not held again. */
#include <errno.h>
#include <stdio.h>

#include "common/net.h"
#include "common/rpc_client.h"
#include "common/util.h"
#include "jobserver/state_api.h"

#define STATE_GCS_CONNECT_MS 1000
#define STATE_GCS_CALL_MS 3000
#define STATE_GCS_BACKOFF_MS 2000

static rpc_client *client;         /* the loop's only; NULL until the first call */
static int64_t down_until;         /* monotonic ms */

static int connect_gcs(jobs_server *srv, char *err, size_t errlen)
{
    char host[256];
    int port;
    if (client != NULL)
        return 0;
    if (srv->gcs_address[0] == '\0') {
        snprintf(err, errlen, "this job server was started without --gcs-address");
        return -ENOTCONN;
    }
    if (time_mono_ms() < down_until) {
        snprintf(err, errlen, "the GCS at %s did not answer a moment ago", srv->gcs_address);
        return -EAGAIN;
    }
    if (net_parse_hostport(srv->gcs_address, 6379, host, sizeof host, &port) != 0) {
        snprintf(err, errlen, "invalid GCS address %s", srv->gcs_address);
        return -EINVAL;
    }
    int rc = rpc_client_connect(host, port, srv->token, "jobserver", STATE_GCS_CONNECT_MS,
                                &client, err, errlen);
    if (rc != 0)
        down_until = time_mono_ms() + STATE_GCS_BACKOFF_MS;
    return rc;
}

int state_gcs_call(jobs_server *srv, Rayc__Envelope *req, Rayc__Envelope **reply, char *err,
                   size_t errlen)
{
    int rc = connect_gcs(srv, err, errlen);
    if (rc != 0)
        return rc;
    rc = rpc_client_call(client, req, STATE_GCS_CALL_MS, reply, err, errlen);
    if (rc != 0 && rc != -EREMOTEIO) {
        /* A broken or slow connection: start afresh next time. */
        rpc_client_close(client);
        client = NULL;
        down_until = time_mono_ms() + STATE_GCS_BACKOFF_MS;
    }
    return rc;
}
