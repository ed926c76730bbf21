/* Internal to the supervisor: running a job on another node's job agent.
 *
 * The head forwards a job whose entrypoint resources do not fit its own
 * ledger to the agent of a node that has them free (as the GCS reports), then
 * follows it there.  Every network call (the GCS, libcurl to the agent) runs
 * on libuv's thread pool in jobs_remote_io.c; jobs_remote.c applies the
 * results on the loop.  An op carries copies of what it needs and finds its
 * job again by submission id, so a job stopped or deleted meanwhile is safe. */
#ifndef RAYC_JOBSERVER_JOBS_REMOTE_H
#define RAYC_JOBSERVER_JOBS_REMOTE_H

#include <stdint.h>
#include <uv.h>

#include "common/token.h"
#include "jobserver/jobs_run.h"

#define REMOTE_POLL_MS 1000          /* how often a forwarded job is refreshed */
#define REMOTE_PLACE_RETRY_MS 1000   /* how often a pending job looks for a node */
#define REMOTE_LOST_AFTER 60         /* failed refreshes in a row before giving up */
#define REMOTE_MAX_JOB_JSON (4u << 20)
#define REMOTE_MAX_PACKAGES 64

/* Where an agent listens, and the token it wants. */
typedef struct remote_target {
    char host[256];
    int port;
    char token[TOKEN_MAX + 1];
} remote_target;

enum remote_kind { REMOTE_PLACE, REMOTE_POLL, REMOTE_STOP, REMOTE_DELETE };

typedef struct remote_op {
    uv_work_t work;
    jobs_server *srv;
    enum remote_kind kind;
    char id[JOBS_ID_MAX + 1];
    remote_target agent;             /* PLACE: out; others: in */
    char err[512];                   /* out: one line when something failed */

    /* PLACE in: the request, the GCS, the packages to copy, the body to send */
    char gcs_host[256];
    int gcs_port;
    char self_node[NODE_ID_HEX_LEN + 1];
    double cpus, gpus, memory;
    char *custom_json;
    char *submit_body;
    char packages_dir[PATH_MAX];
    char *packages[REMOTE_MAX_PACKAGES];
    size_t npackages;
    /* PLACE out: 1 placed, 0 no node fits now, -1 the agent refused (err) */
    int placed;
    char node_id[NODE_ID_HEX_LEN + 1];
    char node_ip[64];

    /* POLL in: the head's copy of the driver log */
    char log_path[PATH_MAX];
    /* POLL out: 0 with the fields below, -ENOENT the agent does not know the
     * job, another -errno when the agent did not answer */
    int rc;
    enum jobs_status status;
    char *message, *error_type, *job_id;
    int64_t start_time, end_time;
    int has_code, code;
    int driver_pid;
} remote_op;

/* ---------------------------------------------------------------- thread pool (jobs_remote_io.c) */

/* Does OP's blocking part.  Touches only OP (and, for POLL, the log copy at
 * OP->log_path, which nothing else writes while the job is remote). */
void jobs__remote_work(uv_work_t *w);

/* Parses "http://HOST:PORT" into T (token untouched).  Returns 0 or -EINVAL. */
int jobs__remote_parse_address(const char *address, remote_target *t);

/* ---------------------------------------------------------------- loop (jobs_remote.c) */

/* True when this server forwards jobs (a head with a GCS). */
int jobs__remote_enabled(const jobs_server *srv);

/* True when J was forwarded to another node's agent. */
int jobs__remote_is(const jobs_server *srv, const jobs_job *j);

/* Looks for a node that can run RUN (in phase RUN_RESOURCES) now and
 * forwards it there; tries again every REMOTE_PLACE_RETRY_MS until the run
 * starts here, there, or ends.  Does nothing when one attempt is under way. */
void jobs__remote_place(jobs_run *run);

/* Follows a forwarded RUN (phase RUN_REMOTE) until the agent reports a
 * terminal status, which ends the run. */
void jobs__remote_follow(jobs_run *run);

/* Asks J's agent to stop J (fire and forget; the refresh sees the result). */
void jobs__remote_stop(jobs_server *srv, const jobs_job *j);

/* Asks J's agent to delete J (fire and forget). */
void jobs__remote_delete(jobs_server *srv, const jobs_job *j);

#endif
