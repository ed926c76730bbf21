/* One submitted job: the record kept in SQLite and in memory, Ray's status
 * names and default messages, and its JobDetails JSON. */
#ifndef RAYC_JOBSERVER_JOBS_JOB_H
#define RAYC_JOBSERVER_JOBS_JOB_H

#include <stddef.h>
#include <stdint.h>

#include "jobserver/jobs_id.h"

enum jobs_status {
    JOBS_PENDING = 0,
    JOBS_RUNNING,
    JOBS_STOPPED,
    JOBS_SUCCEEDED,
    JOBS_FAILED,
};

/* Ray's JobErrorType values used by rayc. */
#define JOBS_ERR_ENTRYPOINT "JOB_ENTRYPOINT_COMMAND_ERROR"
#define JOBS_ERR_START "JOB_ENTRYPOINT_COMMAND_START_ERROR"
#define JOBS_ERR_RUNTIME_ENV "RUNTIME_ENV_SETUP_FAILURE"
#define JOBS_ERR_START_TIMEOUT "JOB_SUPERVISOR_ACTOR_START_TIMEOUT"
#define JOBS_ERR_SUPERVISOR_DIED "JOB_SUPERVISOR_ACTOR_DIED"

/* Ray's texts: RuntimeEnvSetupError's first line, and the driver log's
 * first line, written at submission. */
#define JOBS_MSG_RENV_FAILED "Failed to set up runtime environment."
#define JOBS_MSG_RENV_SETTING_UP "Runtime env is setting up."

struct jobs_run; /* supervisor state of a live job (jobs_supervisor.c) */

typedef struct jobs_job {
    char submission_id[JOBS_ID_MAX + 1];
    int64_t seq;                 /* insertion order, the store's row id */
    enum jobs_status status;
    char *entrypoint;
    char *message;               /* NULL: Ray's default for the status */
    char *error_type;            /* NULL: null */
    int64_t start_time;          /* Unix ms; 0: null */
    int64_t end_time;            /* Unix ms; 0: null */
    char *metadata_json;         /* compact JSON object text, NULL: null */
    char *runtime_env_json;      /* compact JSON object text, NULL: null */
    char *job_id;                /* the driver's job id (hex) from the GCS, NULL: null */
    char *driver_ip;             /* driver_info.node_ip_address */
    int driver_pid;              /* driver_info.pid (0: no driver yet) */
    char *driver_agent_http_address;
    char *driver_node_id;
    int has_exit_code;
    int exit_code;
    /* entrypoint resources (0 / NULL when not requested) */
    double num_cpus;
    double num_gpus;
    int64_t memory;
    char *resources_json;        /* {"name": amount, ...} */
    /* process bookkeeping for restart recovery */
    int pid;                     /* the job wrapper: session leader and pgid */
    int64_t proc_start;          /* its start time in clock ticks since boot */
    int stop_requested;
    /* memory only */
    char *json;                  /* cached JobDetails, NULL when stale */
    size_t json_len;
    struct jobs_run *run;
} jobs_job;

/* Ray's spelling of STATUS ("PENDING", ...). */
const char *jobs_status_name(enum jobs_status status);

/* Parses a status name; returns 0 or -EINVAL. */
int jobs_status_parse(const char *name, enum jobs_status *out);

/* True for STOPPED, SUCCEEDED and FAILED: statuses that never change. */
int jobs_status_terminal(enum jobs_status status);

/* True when the job asked for entrypoint resources (Ray's any(...) test). */
int jobs_job_wants_resources(const jobs_job *j);

/* Writes Ray's default message for J's status into OUT (used when
 * J->message is NULL). */
void jobs_job_default_message(const jobs_job *j, char *out, size_t outlen);

/* Allocates an empty PENDING job.  Returns NULL when out of memory. */
jobs_job *jobs_job_new(void);

/* Frees J and everything it owns (not J->run).  NULL is fine. */
void jobs_job_free(jobs_job *j);

/* Replaces the string at *FIELD with a copy of VALUE (NULL clears it) and
 * marks the cached JSON stale.  Returns 0 or -ENOMEM (field unchanged). */
int jobs_job_set(jobs_job *j, char **field, const char *value);

/* Returns J's JobDetails JSON (owned by J, valid until J changes), building
 * it when stale.  Returns NULL when out of memory. */
const char *jobs_job_json(jobs_job *j, size_t *len);

/* Marks the cached JSON stale after a direct field change. */
void jobs_job_touch(jobs_job *j);

#endif
