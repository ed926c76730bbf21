/* ray_jobserver: the daemon-wide state, in one struct, and the entry points
 * of its parts (HTTP routes, supervisor, log tails, GCS link). */
#ifndef RAYC_JOBSERVER_JOBS_SERVER_H
#define RAYC_JOBSERVER_JOBS_SERVER_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "common/token.h"
#include "common/util.h"
#include "jobserver/http_server.h"
#include "jobserver/jobs_job.h"
#include "jobserver/jobs_request.h"
#include "jobserver/jobs_resources.h"
#include "jobserver/jobs_store.h"
#include "jobserver/jobs_table.h"
#include "jobserver/renv_setup.h"

#define JOBS_DEFAULT_PORT 8265
#define JOBS_DEFAULT_MAX_BODY (100u * 1024 * 1024)
#define JOBS_RAY_VERSION "2.52.0"     /* the Ray release whose API rayc speaks */
#define JOBS_API_VERSION "4"

struct jobs_gcs;

typedef struct jobs_server {
    uv_loop_t *loop;

    /* ------------------------------------------------------------ configuration */
    char host[64];
    int port;
    char token[TOKEN_MAX + 1];
    char token_file[PATH_MAX];
    char node_dir[PATH_MAX];
    char logs_dir[PATH_MAX];
    char state_dir[PATH_MAX];        /* per-job pid and exit files */
    char resources_dir[PATH_MAX];    /* runtime_resources: packages, URI cache, venvs */
    char packages_dir[PATH_MAX];
    char gcs_address[256];           /* "" when not given */
    char raylet_socket[PATH_MAX];    /* the node's raylet, for reservations; "" when none */
    char session_name[128];
    char node_id[NODE_ID_HEX_LEN + 1];
    char node_ip[64];
    char self_exe[PATH_MAX];         /* this binary, run as the job wrapper */
    size_t max_body;
    int stop_wait_ms;                /* RAY_JOB_STOP_WAIT_TIME_S */
    int stop_signal;                 /* RAY_JOB_STOP_SIGNAL */
    int start_timeout_ms;            /* RAY_JOB_START_TIMEOUT_SECONDS */
    int is_agent;                    /* --role agent: a joined node's job agent (never forwards) */

    /* ------------------------------------------------------------ state */
    http_server *http;
    jobs_store *store;
    jobs_table *table;
    jobs_resources res;
    renv_ctx *renv;
    struct jobs_gcs *gcs;
    struct dash *dash;               /* the dashboard's node view (dash.h), or NULL */
    struct jobs_reserve *reserve;    /* link to the node's raylet (jobs_reserve.c), or NULL */
    struct jobs_run *waiting;        /* runs queued for resources, oldest first */
    struct serve_op *serve_ops;      /* Serve REST API drivers running (serve_api.c) */
    /* The next jobs' wrappers, started ahead (jobs_spare.c); two, so that
     * one is ready when jobs come back to back while the other starts. */
#define JOBS_SPARES 2
    struct jobs_spare *spares[JOBS_SPARES];
    int live_runs;                   /* runs not yet released */
    int tails;                       /* WebSocket log tails still open */
    int64_t shutdown_started;        /* monotonic ms */
    uv_signal_t sig_term;
    uv_signal_t sig_int;
    uv_timer_t shutdown_timer;
    void (*shutdown_done)(struct jobs_server *srv);
    int shutting_down;
} jobs_server;

/* ---------------------------------------------------------------- HTTP (jobs_api.c) */

/* Starts serving the API on SRV->host:port.  Returns 0 or -errno (-EADDRINUSE
 * when the port is taken) with one line in ERR. */
int jobs_api_start(jobs_server *srv, char *err, size_t errlen);

/* ---------------------------------------------------------------- supervisor (jobs_supervisor.c) */

/* Records a new job from REQ (PENDING, written to the store) and starts it.
 * On success *OUT is the job and 0 is returned; -EEXIST when the submission
 * id is taken, -EIO when the store fails, -ENOMEM. */
int jobs_sup_submit(jobs_server *srv, jobs_submit_req *req, jobs_job **out);

/* Asks J to stop.  Returns 1 when J was pending or running (it will end
 * STOPPED), 0 when it had already ended. */
int jobs_sup_stop(jobs_server *srv, jobs_job *j);

/* Deletes a terminal job from the store and the table.  Returns 0, -EBUSY
 * when J has not ended, -EIO. */
int jobs_sup_delete(jobs_server *srv, jobs_job *j);

/* Loads the store into the table and settles every job that was pending or
 * running when the last server stopped (re-adopt, finish, or restart).
 * Returns 0 or -errno. */
int jobs_sup_recover(jobs_server *srv);

/* Stops every live job (SIGTERM, then SIGKILL after the stop wait), marks them
 * STOPPED and calls DONE once all have ended. */
void jobs_sup_shutdown(jobs_server *srv, void (*done)(jobs_server *srv));

/* Writes J's current fields to the store and refreshes its cached JSON.
 * Returns 0 or -EIO (logged). */
int jobs_sup_save(jobs_server *srv, jobs_job *j);

/* ---------------------------------------------------------------- log tail (jobs_tail.c) */

/* Serves GET /api/jobs/{id}/logs/tail on R for J over WebSocket. */
void jobs_tail_start(jobs_server *srv, http_request *r, jobs_job *j);

/* ---------------------------------------------------------------- GCS link (jobs_gcs.c) */

/* Connects to the GCS at SRV->gcs_address when one is given.  Never fails:
 * without a GCS the job server works alone. */
void jobs_gcs_start(jobs_server *srv);

/* Asks the GCS for a job id for J before it starts; CB runs on the loop with
 * the id ("" when no GCS answered in time). */
void jobs_gcs_next_job_id(jobs_server *srv, jobs_job *j,
                          void (*cb)(jobs_server *srv, const char *submission_id,
                                     const char *job_id));

/* Tells the GCS that J's driver started (AddJob) or ended (MarkJobFinished).
 * Fire and forget. */
void jobs_gcs_job_started(jobs_server *srv, const jobs_job *j);
void jobs_gcs_job_finished(jobs_server *srv, const jobs_job *j);

/* Closes the GCS link (pending callbacks do not run). */
void jobs_gcs_stop(jobs_server *srv);

#endif
