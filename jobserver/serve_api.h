/* serve_api: Ray Serve's REST API on the dashboard port (GET, PUT and DELETE
 * /api/serve/applications/).  Serve is Python, so each request runs a
 * short-lived driver (python3 -m ray.serve._private.rest_api) started with
 * jobs_child.c; the HTTP answer is deferred until that driver has ended
 * (http_request_defer) and is what it wrote to its result file. */
#ifndef RAYC_JOBSERVER_SERVE_API_H
#define RAYC_JOBSERVER_SERVE_API_H

#include "jobserver/http_server.h"
#include "jobserver/jobs_server.h"

#define SERVE_API_PATH "/api/serve/applications/"
#define SERVE_API_MAX_BODY (4u << 20)      /* a PUT config: 4 MiB */
#define SERVE_API_MAX_RESULT (64u << 20)   /* what a driver may answer */
#define SERVE_API_MAX_RUNNING 8            /* drivers at once; more get 503 */
#define SERVE_API_TIMEOUT_S 300            /* default of RAYC_SERVE_REST_TIMEOUT_S */

/* Whether PATH is the Serve REST API's. */
int serve_api_path(const char *path);

/* Whether METHOD is served on it (GET, HEAD, PUT, DELETE). */
int serve_api_method_allowed(const char *method);

/* From the headers callback: caps R's body at SERVE_API_MAX_BODY (a larger
 * one gets 413). */
void serve_api_limit_body(http_request *r);

/* Answers R: at once on an error, else once its driver has ended.  Never
 * fails: every problem is an answer (413 body too large, 503 no GCS or too
 * many at once, 500 the driver could not start or gave no answer, 504 it
 * ran past RAYC_SERVE_REST_TIMEOUT_S and was killed). */
void serve_api_handle(jobs_server *srv, http_request *r);

/* Kills every running driver and answers its request 503 (called when
 * shutdown starts, so the answers still go out, and again before the HTTP
 * server closes: no request may stay suspended then).  The drivers' records
 * are freed from the loop once they have exited; requests that come later
 * get 503 too. */
void serve_api_stop(jobs_server *srv);

#endif
