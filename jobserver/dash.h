/* dash: the dashboard web UI of the head's job server — static pages, Ray's
 * `/nodes?view=summary`, an hour of per-node samples for the Metrics page,
 * and Ray's Prometheus service-discovery file.  Knows the job server only
 * through jobs_server.h and http_server.h. */
#ifndef RAYC_JOBSERVER_DASH_H
#define RAYC_JOBSERVER_DASH_H

#include "jobserver/http_server.h"
#include "jobserver/jobs_server.h"

#define DASH_POLL_MS 1000          /* GetAllNodes period */
#define DASH_SAMPLE_MS 5000        /* one Metrics sample per node per 5 s ... */
#define DASH_RING 720              /* ... for an hour */
#define DASH_SD_FILE "prom_metrics_service_discovery.json"

/* Whether PATH is the dashboard's (pages, static files, its data routes). */
int dash_path(const char *path);

/* Whether PATH is served without the token: the page shell and its static
 * files, which hold no cluster data (the data routes need the cookie). */
int dash_public(const char *path);

/* Answers R (a GET of a dash_path).  Never fails: errors are answered. */
void dash_handle(jobs_server *srv, http_request *r);

/* Starts polling the GCS (head role with a GCS address only; otherwise the
 * node routes answer 503).  Never fails: problems are logged. */
void dash_start(jobs_server *srv);

/* Stops the timer; a poll in flight finishes on the thread pool and is
 * dropped.  Safe to call when dash_start did nothing. */
void dash_stop(jobs_server *srv);

/* dash_static.c: serves FILE under the dashboard directory (found once:
 * $RAYC_DASHBOARD_DIR, else EXE/../share/rayc/dashboard, else
 * EXE/../dashboard) and /static/chart.js from Debian's libjs-chart.js. */
void dash_static(jobs_server *srv, http_request *r, const char *path);

#endif
