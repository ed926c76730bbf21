/* One submitted job: status names, Ray's default messages, JobDetails JSON. */
#include "jobserver/jobs_job.h"

#include <errno.h>
#include <jansson.h>
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

/* S as a JSON string, its bytes that are not UTF-8 replaced by U+FFFD (a
 * job's entrypoint and messages are the user's bytes), or null for NULL. */
static json_t *str_value(const char *s)
{
    if (s == NULL)
        return json_null();
    dbuf b;
    dbuf_init(&b, JOB_JSON_MAX);
    json_t *v = jobs_buf_append_utf8(&b, s, strlen(s)) == 0
                    ? json_stringn(dbuf_str(&b), strlen(dbuf_str(&b)))
                    : NULL;
    dbuf_free(&b);
    return v;
}

/* TEXT, JSON the job server stored (metadata, runtime_env), as a value, or
 * null for NULL. */
static json_t *raw_value(const char *text)
{
    return text == NULL ? json_null() : json_loads(text, JSON_DECODE_ANY, NULL);
}

static json_t *ms_value(int64_t ms)
{
    return ms == 0 ? json_null() : json_integer(ms);
}

/* driver_info: {"id", "node_ip_address", "pid"} once a driver is known. */
static json_t *driver_info(const jobs_job *j)
{
    if (j->job_id == NULL || j->driver_pid <= 0)
        return json_null();
    char pid[16];
    snprintf(pid, sizeof pid, "%d", j->driver_pid);
    return json_pack("{s:o, s:o, s:s}", "id", str_value(j->job_id), "node_ip_address",
                     str_value(j->driver_ip ? j->driver_ip : ""), "pid", pid);
}

/* Ray's JobDetails, fields in Ray's order (jansson keeps insertion order).
 * Returns the object (caller decrefs) or NULL when memory ran out. */
static json_t *build_json(const jobs_job *j)
{
    char msg[512];
    const char *message = j->message;
    if (message == NULL) {
        jobs_job_default_message(j, msg, sizeof msg);
        message = msg;
    }
    return json_pack("{s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
                     "type", "SUBMISSION", "job_id", str_value(j->job_id),
                     "submission_id", str_value(j->submission_id),
                     "driver_info", driver_info(j),
                     "status", str_value(jobs_status_name(j->status)),
                     "entrypoint", str_value(j->entrypoint ? j->entrypoint : ""),
                     "message", str_value(message), "error_type", str_value(j->error_type),
                     "start_time", ms_value(j->start_time), "end_time", ms_value(j->end_time),
                     "metadata", raw_value(j->metadata_json),
                     "runtime_env", raw_value(j->runtime_env_json),
                     "driver_agent_http_address", str_value(j->driver_agent_http_address),
                     "driver_node_id", str_value(j->driver_node_id),
                     "driver_exit_code",
                     j->has_exit_code ? json_integer(j->exit_code) : json_null());
}

const char *jobs_job_json(jobs_job *j, size_t *len)
{
    if (j->json == NULL) {
        json_t *o = build_json(j);
        char *text = o != NULL ? json_dumps(o, JSON_PRESERVE_ORDER) : NULL;
        json_decref(o);
        if (text == NULL || strlen(text) > JOB_JSON_MAX) {
            free(text);
            return NULL;
        }
        j->json = text;
        j->json_len = strlen(text);
    }
    if (len != NULL)
        *len = j->json_len;
    return j->json;
}
