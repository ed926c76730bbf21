/* Validation of a POST /api/jobs/ body (Ray's JobSubmitRequest). */
#ifndef RAYC_JOBSERVER_JOBS_REQUEST_H
#define RAYC_JOBSERVER_JOBS_REQUEST_H

#include <stddef.h>
#include <stdint.h>

#include "jobserver/jobs_id.h"

/* The entrypoint becomes one argument of /bin/sh -c, and Linux refuses any
 * single argument or environment string over 128 KiB (MAX_ARG_STRLEN, with
 * its NUL) with "argument list too long". */
#define JOBS_MAX_ENTRYPOINT (128u * 1024u - 1u)
/* Metadata travels in RAY_JOB_CONFIG_JSON_ENV_VAR (the same 128 KiB limit,
 * shared with runtime_env) and in every JobDetails answer. */
#define JOBS_MAX_METADATA (64u * 1024u)

typedef struct jobs_submit_req {
    char submission_id[JOBS_ID_MAX + 1]; /* "" when the server must make one */
    char *entrypoint;
    char *runtime_env_json;   /* JSON object text or NULL */
    char *metadata_json;      /* JSON object of strings or NULL */
    double num_cpus;
    double num_gpus;
    int64_t memory;
    char *resources_json;     /* JSON object of numbers or NULL */
} jobs_submit_req;

/* Parses and validates BODY (LEN bytes).  A field whose value is null counts
 * as absent; submission_id wins over its deprecated alias job_id.  On success
 * fills OUT (free with jobs_submit_req_free) and returns 0.  On a bad body
 * (including an entrypoint over JOBS_MAX_ENTRYPOINT bytes or metadata over
 * JOBS_MAX_METADATA bytes of JSON, the limit named in ERR)
 * returns -EINVAL with a one-line reason naming the field in ERR and leaves
 * OUT empty; -ENOMEM when out of memory. */
int jobs_request_parse_submit(const char *body, size_t len, jobs_submit_req *out,
                              char *err, size_t errlen);

/* Frees what OUT owns and empties it. */
void jobs_submit_req_free(jobs_submit_req *r);

#endif
