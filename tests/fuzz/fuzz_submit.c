/* libFuzzer target: the job-submission body (POST /api/jobs/) on arbitrary
 * bytes, as the job server parses it before anything else sees it.
 *
 * fuzz-srcs: jobserver/jobs_request.c jobserver/jobs_id.c */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "jobserver/jobs_request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    jobs_submit_req req;
    char err[512];
    err[0] = '\0';
    int rc = jobs_request_parse_submit((const char *)data, size, &req, err, sizeof err);
    if (rc == 0) {
        /* What the server then relies on. */
        if (req.entrypoint == NULL || strlen(req.entrypoint) > JOBS_MAX_ENTRYPOINT)
            __builtin_trap();
        if (req.metadata_json != NULL && strlen(req.metadata_json) > JOBS_MAX_METADATA)
            __builtin_trap();
        if (strlen(req.submission_id) > JOBS_ID_MAX)
            __builtin_trap();
        jobs_submit_req_free(&req);
    } else if (err[0] == '\0' && rc != -ENOMEM) {
        __builtin_trap(); /* every refusal says why */
    }
    return 0;
}
