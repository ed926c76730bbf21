/* The in-memory job table: every job by submission id, in insertion order.
 * Reads (GET /api/jobs/...) are served from here; the store is written
 * through on every change. */
#ifndef RAYC_JOBSERVER_JOBS_TABLE_H
#define RAYC_JOBSERVER_JOBS_TABLE_H

#include <stddef.h>

#include "jobserver/jobs_job.h"

typedef struct jobs_table jobs_table;

/* Returns a new empty table, or NULL when out of memory. */
jobs_table *jobs_table_new(void);

/* Frees the table and every job in it (NULL is fine). */
void jobs_table_free(jobs_table *t);

/* Adds J (the table takes ownership) after all others.  Returns 0, -EEXIST
 * when its submission id is present (J is not taken) or -ENOMEM. */
int jobs_table_add(jobs_table *t, jobs_job *j);

/* Finds a job by submission id, or NULL. */
jobs_job *jobs_table_get(const jobs_table *t, const char *submission_id);

/* Finds a job by submission id or, failing that, by driver job id. */
jobs_job *jobs_table_find(const jobs_table *t, const char *id);

/* Removes J from the table without freeing it. */
void jobs_table_remove(jobs_table *t, jobs_job *j);

/* Number of jobs. */
size_t jobs_table_count(const jobs_table *t);

/* Iteration in insertion order: first job, or the one after J; NULL at the end. */
jobs_job *jobs_table_first(const jobs_table *t);
jobs_job *jobs_table_next(const jobs_table *t, const jobs_job *j);

#endif
