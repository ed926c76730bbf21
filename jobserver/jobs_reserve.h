/* The job server's link to its node's raylet, which holds the entrypoint
 * resources of the jobs that run here (ReserveResources / ReleaseResources
 * in ray.proto, runtime/raylet/reserve.h), so that tasks cannot take them
 * and the GCS view (the head's node choice, `ray status`) counts them.
 *
 * The link is a Unix-socket connection to the raylet's socket
 * (--raylet-socket, which `ray start` passes; a job server without one keeps
 * only its own ledger).  The raylet may start after the job server (a
 * joined node starts its agent first); jobs wait PENDING until it answers.  It reconnects every second; on every (re)connect
 * it reserves again what the server's running jobs hold, since the raylet
 * gives everything back when a connection closes. */
#ifndef RAYC_JOBSERVER_JOBS_RESERVE_H
#define RAYC_JOBSERVER_JOBS_RESERVE_H

#include "jobserver/jobs_resources.h"
#include "jobserver/jobs_server.h"

/* Opens the link when SRV->raylet_socket is set.  Never fails: without one
 * (or out of memory, logged) the link stays off. */
void jobs_reserve_start(jobs_server *srv);

/* Closes the link (shutdown). */
void jobs_reserve_stop(jobs_server *srv);

/* True when SRV reserves through a raylet. */
int jobs_reserve_enabled(const jobs_server *srv);

/* Asks the raylet to reserve REQ for job KEY.  Returns 0 when sent (the
 * answer comes to jobs__reserve_answer), -ENOTCONN when the raylet is not
 * connected now (nothing is sent; try again later). */
int jobs_reserve_take(jobs_server *srv, const char *key, const jobs_res_request *req);

/* Gives back what KEY holds (no answer awaited; a dropped link gives back
 * everything anyway). */
void jobs_reserve_give(jobs_server *srv, const char *key);

#endif
