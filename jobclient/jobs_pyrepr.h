/* Python's repr of JSON values and of Ray's JobDetails, for `ray job list`
 * (which prints pprint.pformat of a list of JobDetails). */
#ifndef RAYC_JOBCLIENT_JOBS_PYREPR_H
#define RAYC_JOBCLIENT_JOBS_PYREPR_H

#include <jansson.h>

#include "common/dbuf.h"

/* Appends repr(V): dicts {'k': v}, lists, 'strings', None, True, False,
 * numbers.  Returns 0 or a dbuf error. */
int jobs_pyrepr_value(dbuf *b, json_t *v);

/* Appends repr of one JobDetails object (a JSON object from the API). */
int jobs_pyrepr_job(dbuf *b, json_t *job);

/* Appends pprint.pformat of a list of JobDetails (JOBS is a JSON array). */
int jobs_pyrepr_job_list(dbuf *b, json_t *jobs);

#endif
