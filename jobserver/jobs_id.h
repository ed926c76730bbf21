/* Submission ids: generation in Ray's format and the safety check applied to
 * every id that reaches a file name. */
#ifndef RAYC_JOBSERVER_JOBS_ID_H
#define RAYC_JOBSERVER_JOBS_ID_H

#include <stddef.h>

#define JOBS_ID_MAX 128                 /* longest submission id accepted */
#define JOBS_ID_PREFIX "raysubmit_"
#define JOBS_ID_RANDOM_LEN 16

/* Writes "raysubmit_" + 16 characters drawn from Ray's alphabet (letters and
 * digits without I, l, o, O, 0) into OUT (at least 27 bytes).  Returns 0, or
 * -EIO when no randomness is available. */
int jobs_id_generate(char *out, size_t outlen);

/* Checks that ID can name a job and its log file: 1..JOBS_ID_MAX characters
 * from [A-Za-z0-9._-], not starting with '.'.  Returns 0 or -EINVAL with a
 * one-line reason in ERR. */
int jobs_id_check(const char *id, char *err, size_t errlen);

#endif
