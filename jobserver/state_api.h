/* Ray's state API (`/api/v0/...`) on the dashboard port: nodes, jobs,
 * actors, tasks, placement groups and workers from the GCS, with Ray's
 * response envelope, filters and limits; task summaries; node logs through
 * each node's job agent. */
#ifndef RAYC_JOBSERVER_STATE_API_H
#define RAYC_JOBSERVER_STATE_API_H

#include "jobserver/jobs_server.h"
#include "ray.pb-c.h"

/* Answers R, whose path is "/api/v0/" followed by REST.  Always responds
 * (404 for an unknown resource, 400 for a bad parameter, 500 with Ray's
 * envelope when the GCS cannot be reached). */
void state_api_handle(jobs_server *srv, http_request *r, const char *rest);

/* Calls the GCS from the loop (blocking, bounded: 1 s to connect, 3 s per
 * call; after a failure the GCS is not tried again for 2 s).  On success
 * *REPLY is the reply (free it with rayc__envelope__free_unpacked) and 0
 * is returned; otherwise a negative code with one line in ERR. */
int state_gcs_call(jobs_server *srv, Rayc__Envelope *req, Rayc__Envelope **reply, char *err,
                   size_t errlen);

#endif
