/* Internal to the supervisor (jobs_supervisor.c, jobs_spawn.c,
 * jobs_recover.c): the state of one live job. */
#ifndef RAYC_JOBSERVER_JOBS_RUN_H
#define RAYC_JOBSERVER_JOBS_RUN_H

#include <uv.h>

#include "jobserver/jobs_child.h"
#include "jobserver/jobs_resources.h"
#include "jobserver/jobs_server.h"
#include "jobserver/renv_setup.h"
#include "jobserver/renv_spec.h"

enum run_phase {
    RUN_RESOURCES,   /* waiting for entrypoint resources */
    RUN_SETUP,       /* runtime_env being set up */
    RUN_JOB_ID,      /* asking the GCS for a job id */
    RUN_RUNNING,     /* the entrypoint runs */
    RUN_REMOTE,      /* forwarded to another node's job agent; followed from here */
    RUN_ENDED,       /* finished; handles closing */
};

typedef struct jobs_run {
    jobs_server *srv;
    jobs_job *job;
    enum run_phase phase;
    struct jobs_run *next_waiting;   /* srv->waiting queue */
    int holds_resources;             /* the ledger's; with a raylet, reserved or asked */
    int reserving;                   /* the raylet's answer is awaited */
    jobs_res_request req;
    renv_spec spec;
    renv_setup *setup;
    const renv_result *env;          /* valid while SETUP lives */
    jobs_child proc;                 /* the job wrapper, our child */
    int proc_live;                   /* proc initialised and not yet closed */
    int adopted;                     /* found running after a restart: polled */
    uv_timer_t start_timer;          /* start timeout, then the SIGKILL escalation */
    uv_timer_t aux_timer;            /* setup timeout, then polling an adopted job */
    int open_handles;
    struct remote_op *remote_op;     /* forwarding or refresh under way (jobs_remote.c) */
    int wait_logged;                 /* "no node has them free" was logged */
    int remote_failures;             /* refreshes in a row the agent did not answer */
} jobs_run;

/* Creates the run of J (timers initialised).  Returns NULL when out of memory. */
jobs_run *jobs__run_new(jobs_server *srv, jobs_job *j);

/* Lets waiting runs take resources that may be free now, oldest first. */
void jobs__waiting_retry(jobs_server *srv);

/* The raylet's answer to the reservation of job KEY (jobs_reserve.c): the
 * run goes on, or waits again when OK is 0 (ERR says why). */
void jobs__reserve_answer(jobs_server *srv, const char *key, int ok, const char *err);

/* The raylet link closed: runs whose reservation was asked wait again. */
void jobs__reserve_link_lost(jobs_server *srv);

/* Takes RUN out of the queue of runs waiting for resources (no-op when absent). */
void jobs__waiting_remove(jobs_server *srv, jobs_run *run);

/* Lets go of a run that leaves this server without ending its job (a
 * forwarded job on shutdown): the row keeps its status for the next server. */
void jobs__run_detach(jobs_run *run);

/* Starts or restarts a PENDING run from the beginning. */
void jobs__run_begin(jobs_run *run);

/* Ends the run with STATUS, writing the job; MESSAGE / ERROR_TYPE may be NULL
 * (Ray's defaults); HAS_CODE tells whether CODE is the driver exit code. */
void jobs__run_finish(jobs_run *run, enum jobs_status status, const char *message,
                      const char *error_type, int has_code, int code);

/* Ends a run whose entrypoint exited with CODE (or whose wrapper vanished:
 * HAVE_CODE 0), choosing STOPPED / SUCCEEDED / FAILED as Ray does. */
void jobs__run_exited(jobs_run *run, int have_code, long code);

/* Starts the entrypoint of RUN (phase RUN_RUNNING on success). */
void jobs__spawn(jobs_run *run);

/* Sends the stop signal to the job's process group and arms the SIGKILL. */
void jobs__signal_stop(jobs_run *run);

/* Paths of the per-job state files. */
void jobs__pid_path(const jobs_server *srv, const char *id, char *out, size_t outlen);
void jobs__exit_path(const jobs_server *srv, const char *id, char *out, size_t outlen);

/* Starts polling an adopted process (RUN->job->pid). */
void jobs__adopt(jobs_run *run);

#endif
