/* One submitted job: status names, Ray's default messages, JobDetails JSON. */
#include "jobserver/jobs_job.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jobserver/jobs_buf.h"

/* JobDetails of one job never comes near this; the cap only guards bugs. */
#define JOB_JSON_MAX (64u << 20)

static const char *const status_names[] = {"PENDING", "RUNNING", "STOPPED", "SUCCEEDED",
                                           "FAILED"};

const char *jobs_status_name(enum jobs_status status)
{
    return status_names[status];
}

int jobs_status_parse(const char *name, enum jobs_status *out)
{
    for (int i = 0; i <= JOBS_FAILED; i++) {
        if (strcmp(name, status_names[i]) == 0) {
            *out = (enum jobs_status)i;
            return 0;
        }
    }
    return -EINVAL;
}

int jobs_status_terminal(enum jobs_status status)
{
    return status == JOBS_STOPPED || status == JOBS_SUCCEEDED || status == JOBS_FAILED;
}

int jobs_job_wants_resources(const jobs_job *j)
{
    return j->num_cpus > 0 || j->num_gpus > 0 || j->memory > 0 ||
           (j->resources_json != NULL && strcmp(j->resources_json, "{}") != 0);
}

void jobs_job_default_message(const jobs_job *j, char *out, size_t outlen)
{
    switch (j->status) {
    case JOBS_PENDING: {
        int res = jobs_job_wants_resources(j);
        int env = j->runtime_env_json != NULL && strcmp(j->runtime_env_json, "{}") != 0;
        snprintf(out, outlen, "Job has not started yet.%s%s",
                 res ? " It may be waiting for resources (CPUs, GPUs, memory, custom "
                       "resources) to become available."
                     : "",
                 env ? " It may be waiting for the runtime environment to be set up." : "");
        break;
    }
    case JOBS_RUNNING: snprintf(out, outlen, "Job is currently running."); break;
    case JOBS_STOPPED: snprintf(out, outlen, "Job was intentionally stopped."); break;
    case JOBS_SUCCEEDED: snprintf(out, outlen, "Job finished successfully."); break;
    case JOBS_FAILED: snprintf(out, outlen, "Job failed."); break;
    }
}

jobs_job *jobs_job_new(void)
{
    jobs_job *j = calloc(1, sizeof *j);
    if (j != NULL)
        j->status = JOBS_PENDING;
    return j;
}

void jobs_job_free(jobs_job *j)
{
    if (j == NULL)
        return;
    free(j->entrypoint);
    free(j->message);
    free(j->error_type);
    free(j->metadata_json);
    free(j->runtime_env_json);
    free(j->job_id);
    free(j->driver_ip);
    free(j->driver_agent_http_address);
    free(j->driver_node_id);
    free(j->resources_json);
    free(j->json);
    free(j);
}

void jobs_job_touch(jobs_job *j)
{
    free(j->json);
    j->json = NULL;
    j->json_len = 0;
}

int jobs_job_set(jobs_job *j, char **field, const char *value)
{
    char *copy = NULL;
    if (value != NULL && (copy = strdup(value)) == NULL)
        return -ENOMEM;
    free(*field);
    *field = copy;
    jobs_job_touch(j);
    return 0;
}

/* Appends "key": value where VALUE is raw JSON text or NULL for null. */
static int put_raw(dbuf *b, const char *key, const char *value)
{
    int rc = dbuf_printf(b, ", \"%s\": ", key);
    return rc ? rc : dbuf_puts(b, value ? value : "null");
}

static int put_str(dbuf *b, const char *key, const char *value)
{
    int rc = dbuf_printf(b, ", \"%s\": ", key);
    return rc ? rc : jobs_buf_json_str_or_null(b, value);
}

static int put_ms(dbuf *b, const char *key, int64_t ms)
{
    if (ms == 0)
        return put_raw(b, key, NULL);
    return dbuf_printf(b, ", \"%s\": %lld", key, (long long)ms);
}

/* driver_info: {"id", "node_ip_address", "pid"} once a driver is known. */
static int put_driver_info(dbuf *b, const jobs_job *j)
{
    if (j->job_id == NULL || j->driver_pid <= 0)
        return put_raw(b, "driver_info", NULL);
    int rc = dbuf_puts(b, ", \"driver_info\": {\"id\": ");
    if (rc == 0)
        rc = jobs_buf_json_str_or_null(b, j->job_id);
    if (rc == 0)
        rc = dbuf_puts(b, ", \"node_ip_address\": ");
    if (rc == 0)
        rc = jobs_buf_json_str_or_null(b, j->driver_ip ? j->driver_ip : "");
    if (rc == 0)
        rc = dbuf_printf(b, ", \"pid\": \"%d\"}", j->driver_pid);
    return rc;
}

/* Ray's JobDetails, fields in Ray's order. */
static int build_json(const jobs_job *j, dbuf *b)
{
    char msg[512];
    const char *message = j->message;
    if (message == NULL) {
        jobs_job_default_message(j, msg, sizeof msg);
        message = msg;
    }
    int rc = dbuf_puts(b, "{\"type\": \"SUBMISSION\"");
    if (rc == 0) rc = put_str(b, "job_id", j->job_id);
    if (rc == 0) rc = put_str(b, "submission_id", j->submission_id);
    if (rc == 0) rc = put_driver_info(b, j);
    if (rc == 0) rc = put_str(b, "status", jobs_status_name(j->status));
    if (rc == 0) rc = put_str(b, "entrypoint", j->entrypoint ? j->entrypoint : "");
    if (rc == 0) rc = put_str(b, "message", message);
    if (rc == 0) rc = put_str(b, "error_type", j->error_type);
    if (rc == 0) rc = put_ms(b, "start_time", j->start_time);
    if (rc == 0) rc = put_ms(b, "end_time", j->end_time);
    if (rc == 0) rc = put_raw(b, "metadata", j->metadata_json);
    if (rc == 0) rc = put_raw(b, "runtime_env", j->runtime_env_json);
    if (rc == 0) rc = put_str(b, "driver_agent_http_address", j->driver_agent_http_address);
    if (rc == 0) rc = put_str(b, "driver_node_id", j->driver_node_id);
    if (rc == 0 && j->has_exit_code)
        rc = dbuf_printf(b, ", \"driver_exit_code\": %d", j->exit_code);
    else if (rc == 0)
        rc = put_raw(b, "driver_exit_code", NULL);
    if (rc == 0)
        rc = dbuf_puts(b, "}");
    return rc;
}

const char *jobs_job_json(jobs_job *j, size_t *len)
{
    if (j->json == NULL) {
        dbuf b;
        dbuf_init(&b, JOB_JSON_MAX);
        if (build_json(j, &b) != 0) {
            dbuf_free(&b);
            return NULL;
        }
        j->json = dbuf_take(&b, &j->json_len);
        if (j->json == NULL)
            return NULL;
    }
    if (len != NULL)
        *len = j->json_len;
    return j->json;
}
