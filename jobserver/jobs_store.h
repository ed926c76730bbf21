/* The durable job store: one SQLite file (WAL) holding every job record and a
 * few key/value settings.  Every write is committed before it returns. */
#ifndef RAYC_JOBSERVER_JOBS_STORE_H
#define RAYC_JOBSERVER_JOBS_STORE_H

#include <stddef.h>

#include "jobserver/jobs_job.h"

typedef struct jobs_store jobs_store;

/* Opens (creating when missing) the store at PATH.  On success *OUT is the
 * store and 0 is returned; on failure -EIO with one line in ERR. */
int jobs_store_open(const char *path, jobs_store **out, char *err, size_t errlen);

/* Closes the store (NULL is fine). */
void jobs_store_close(jobs_store *s);

/* Inserts J and sets J->seq.  Returns 0, -EEXIST when the submission id is
 * taken, or -EIO. */
int jobs_store_insert(jobs_store *s, jobs_job *j);

/* Rewrites every field of the row of J.  Returns 0, -ENOENT or -EIO. */
int jobs_store_update(jobs_store *s, const jobs_job *j);

/* Deletes the job SUBMISSION_ID.  Returns 0, -ENOENT or -EIO. */
int jobs_store_delete(jobs_store *s, const char *submission_id);

/* Calls CB for every job in insertion order with a new jobs_job that CB now
 * owns.  Stops early when CB returns non-zero and returns that value;
 * returns 0 when all were visited, -EIO on a read error. */
int jobs_store_load(jobs_store *s, int (*cb)(void *arg, jobs_job *j), void *arg);

/* Reads setting KEY into OUT.  Returns 0, -ENOENT or -EIO. */
int jobs_store_meta_get(jobs_store *s, const char *key, char *out, size_t outlen);

/* Writes setting KEY.  Returns 0 or -EIO. */
int jobs_store_meta_set(jobs_store *s, const char *key, const char *value);

/* The last SQLite error message of S. */
const char *jobs_store_errmsg(const jobs_store *s);

#endif
