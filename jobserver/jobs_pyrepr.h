/* Python's repr of JSON values and of Ray's JobDetails, for `ray job list`
 * (which prints pprint.pformat of a list of JobDetails). */
#ifndef RAYC_JOBSERVER_JOBS_PYREPR_H
#define RAYC_JOBSERVER_JOBS_PYREPR_H

#include <jansson.h>

#include "jobserver/jobs_buf.h"

/* Appends repr(V): dicts {'k': v}, lists, 'strings', None, True, False,
 * numbers.  Returns 0 or a jobs_buf error. */
int jobs_pyrepr_value(jobs_buf *b, json_t *v);

/* Appends repr of one JobDetails object (a JSON object from the API). */
int jobs_pyrepr_job(jobs_buf *b, json_t *job);

/* Appends pprint.pformat of a list of JobDetails (JOBS is a JSON array). */
int jobs_pyrepr_job_list(jobs_buf *b, json_t *jobs);

#endif
