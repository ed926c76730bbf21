/* The GCS store: the jobs table. */
#include "gcs/gcs_store_int.h"

#include <errno.h>
#include <stdlib.h>

static const char job_put_sql[] =
    "INSERT INTO jobs(job_id, state, submission_id, entrypoint, start_time_ms,"
    " end_time_ms, info) VALUES (?1,?2,?3,?4,?5,?6,?7) "
    "ON CONFLICT(job_id) DO UPDATE SET state=excluded.state,"
    " submission_id=excluded.submission_id, entrypoint=excluded.entrypoint,"
    " start_time_ms=excluded.start_time_ms, end_time_ms=excluded.end_time_ms,"
    " info=excluded.info";

int gcs_store_job_put(gcs_store *s, const Rayc__JobInfo *j)
{
    size_t len = rayc__job_info__get_packed_size(j);
    uint8_t *blob = malloc(len ? len : 1);
    if (blob == NULL)
        return -ENOMEM;
    rayc__job_info__pack(j, blob);
    sqlite3_stmt *st = gcs_store__stmt(s, GCS_STMT_JOB_PUT, job_put_sql);
    if (st == NULL) {
        free(blob);
        return -EIO;
    }
    sqlite3_bind_text(st, 1, j->job_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, j->is_dead ? "FINISHED" : "RUNNING", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, j->submission_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, j->entrypoint, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, j->start_time_ms);
    sqlite3_bind_int64(st, 6, j->end_time_ms);
    sqlite3_bind_blob(st, 7, blob, (int)len, free);
    int rc = gcs_store__exec(s, st);
    sqlite3_clear_bindings(st);
    return rc;
}

/* Unpacks the info blob in column 0 of the current row of ST. */
static Rayc__JobInfo *job_from_row(sqlite3_stmt *st)
{
    return rayc__job_info__unpack(NULL, (size_t)sqlite3_column_bytes(st, 0),
                                  sqlite3_column_blob(st, 0));
}

int gcs_store_job_get(gcs_store *s, const char *job_id, Rayc__JobInfo **out)
{
    sqlite3_stmt *st = gcs_store__stmt(s, GCS_STMT_JOB_GET,
                                       "SELECT info FROM jobs WHERE job_id = ?1");
    if (st == NULL)
        return -EIO;
    sqlite3_bind_text(st, 1, job_id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    int out_rc = 0;
    if (rc == SQLITE_ROW) {
        *out = job_from_row(st);
        out_rc = *out ? 0 : -EPROTO;
    } else {
        out_rc = rc == SQLITE_DONE ? -ENOENT : gcs_store__fail(s);
    }
    sqlite3_reset(st);
    return out_rc;
}

int gcs_store_jobs_load(gcs_store *s, gcs_store_job_cb cb, void *data)
{
    sqlite3_stmt *st = gcs_store__stmt(s, GCS_STMT_JOBS_LOAD,
                                       "SELECT info FROM jobs ORDER BY rowid");
    if (st == NULL)
        return -EIO;
    int rc, out = 0;
    while (out == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        Rayc__JobInfo *j = job_from_row(st);
        if (j != NULL)
            out = cb(j, data);
    }
    if (out == 0 && rc != SQLITE_DONE)
        out = gcs_store__fail(s);
    sqlite3_reset(st);
    return out;
}
