/* The durable job store: one SQLite file (WAL) with every job record. */
#include "jobserver/jobs_store.h"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"

/* Space kept aside next to the database so that a delete, which SQLite must
 * write to the WAL first, still works on a full disk: the delete that finds
 * the disk full releases it and tries once more. */
#define RESERVE_BYTES (256 * 1024)

struct jobs_store {
    sqlite3 *db;
    sqlite3_stmt *insert;
    sqlite3_stmt *update;
    sqlite3_stmt *del;
    char reserve[4096];      /* "<db>.reserve" */
};

/* Makes sure the reserve file exists at its full size; best effort. */
static void reserve_fill(jobs_store *s)
{
    int fd = open(s->reserve, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return;
    int rc = posix_fallocate(fd, 0, RESERVE_BYTES);
    close(fd);
    if (rc != 0)
        unlink(s->reserve);   /* a partial one would only hide the shortage */
}

static const char schema[] =
    "PRAGMA journal_mode=WAL;"
    "PRAGMA synchronous=NORMAL;"
    "CREATE TABLE IF NOT EXISTS jobs ("
    " seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    " submission_id TEXT NOT NULL UNIQUE,"
    " status TEXT NOT NULL, entrypoint TEXT NOT NULL, message TEXT, error_type TEXT,"
    " start_time INTEGER, end_time INTEGER, metadata TEXT, runtime_env TEXT,"
    " job_id TEXT, driver_ip TEXT, driver_pid INTEGER,"
    " driver_agent_http_address TEXT, driver_node_id TEXT, exit_code INTEGER,"
    " num_cpus REAL, num_gpus REAL, memory INTEGER, resources TEXT,"
    " pid INTEGER, proc_start INTEGER, stop_requested INTEGER);"
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);";

/* Column order shared by INSERT, UPDATE and SELECT (after submission_id). */
#define JOB_COLUMNS                                                                    \
    "status, entrypoint, message, error_type, start_time, end_time, metadata, "       \
    "runtime_env, job_id, driver_ip, driver_pid, driver_agent_http_address, "          \
    "driver_node_id, exit_code, num_cpus, num_gpus, memory, resources, pid, "          \
    "proc_start, stop_requested"
#define JOB_NCOLS 21

static const char insert_sql[] =
    "INSERT INTO jobs (submission_id, " JOB_COLUMNS ") VALUES "
    "(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,?20,?21,?22)";
static const char update_sql[] =
    "UPDATE jobs SET (" JOB_COLUMNS ") = "
    "(?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,?20,?21,?22) "
    "WHERE submission_id = ?1";
static const char select_sql[] =
    "SELECT seq, submission_id, " JOB_COLUMNS " FROM jobs ORDER BY seq";

const char *jobs_store_errmsg(const jobs_store *s)
{
    return sqlite3_errmsg(s->db);
}

int jobs_store_open(const char *path, jobs_store **out, char *err, size_t errlen)
{
    jobs_store *s = calloc(1, sizeof *s);
    if (s == NULL)
        return -ENOMEM;
    int rc = fs_private_file(path);
    if (rc != 0) {
        snprintf(err, errlen, "cannot create job store %s: %s", path, strerror(-rc));
        free(s);
        return rc;
    }
    rc = sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_busy_timeout(s->db, 5000);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(s->db, schema, NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(s->db, insert_sql, -1, &s->insert, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(s->db, update_sql, -1, &s->update, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(s->db, "DELETE FROM jobs WHERE submission_id = ?1", -1,
                                &s->del, NULL);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "cannot open job store %s: %s", path,
                 s->db ? sqlite3_errmsg(s->db) : "out of memory");
        jobs_store_close(s);
        return -EIO;
    }
    if (snprintf(s->reserve, sizeof s->reserve, "%s.reserve", path) < (int)sizeof s->reserve)
        reserve_fill(s);
    else
        s->reserve[0] = '\0';
    *out = s;
    return 0;
}

void jobs_store_close(jobs_store *s)
{
    if (s == NULL)
        return;
    sqlite3_finalize(s->insert);
    sqlite3_finalize(s->update);
    sqlite3_finalize(s->del);
    sqlite3_close(s->db);
    free(s);
}

static void bind_text(sqlite3_stmt *st, int i, const char *v)
{
    if (v == NULL)
        sqlite3_bind_null(st, i);
    else
        sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
}

static void bind_ms(sqlite3_stmt *st, int i, int64_t v)
{
    if (v == 0)
        sqlite3_bind_null(st, i);
    else
        sqlite3_bind_int64(st, i, v);
}

/* Binds submission_id to ?1 and the JOB_COLUMNS to ?2.. */
static void bind_job(sqlite3_stmt *st, const jobs_job *j)
{
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    bind_text(st, 1, j->submission_id);
    bind_text(st, 2, jobs_status_name(j->status));
    bind_text(st, 3, j->entrypoint ? j->entrypoint : "");
    bind_text(st, 4, j->message);
    bind_text(st, 5, j->error_type);
    bind_ms(st, 6, j->start_time);
    bind_ms(st, 7, j->end_time);
    bind_text(st, 8, j->metadata_json);
    bind_text(st, 9, j->runtime_env_json);
    bind_text(st, 10, j->job_id);
    bind_text(st, 11, j->driver_ip);
    sqlite3_bind_int(st, 12, j->driver_pid);
    bind_text(st, 13, j->driver_agent_http_address);
    bind_text(st, 14, j->driver_node_id);
    if (j->has_exit_code)
        sqlite3_bind_int(st, 15, j->exit_code);
    sqlite3_bind_double(st, 16, j->num_cpus);
    sqlite3_bind_double(st, 17, j->num_gpus);
    sqlite3_bind_int64(st, 18, j->memory);
    bind_text(st, 19, j->resources_json);
    sqlite3_bind_int(st, 20, j->pid);
    sqlite3_bind_int64(st, 21, j->proc_start);
    sqlite3_bind_int(st, 22, j->stop_requested);
}

int jobs_store_insert(jobs_store *s, jobs_job *j)
{
    bind_job(s->insert, j);
    int rc = sqlite3_step(s->insert);
    sqlite3_reset(s->insert);
    if (rc == SQLITE_CONSTRAINT)
        return -EEXIST;
    if (rc == SQLITE_FULL)
        return -ENOSPC;
    if (rc != SQLITE_DONE)
        return -EIO;
    j->seq = sqlite3_last_insert_rowid(s->db);
    return 0;
}

int jobs_store_update(jobs_store *s, const jobs_job *j)
{
    bind_job(s->update, j);
    int rc = sqlite3_step(s->update);
    sqlite3_reset(s->update);
    if (rc != SQLITE_DONE)
        return -EIO;
    return sqlite3_changes(s->db) == 1 ? 0 : -ENOENT;
}

static int delete_once(jobs_store *s, const char *submission_id)
{
    sqlite3_reset(s->del);
    sqlite3_bind_text(s->del, 1, submission_id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s->del);
    sqlite3_reset(s->del);
    return rc;
}

int jobs_store_delete(jobs_store *s, const char *submission_id)
{
    int rc = delete_once(s, submission_id);
    if (rc == SQLITE_FULL && s->reserve[0] != '\0' && unlink(s->reserve) == 0)
        rc = delete_once(s, submission_id);
    if (rc != SQLITE_DONE)
        return rc == SQLITE_FULL ? -ENOSPC : -EIO;
    int changed = sqlite3_changes(s->db);
    if (s->reserve[0] != '\0')
        reserve_fill(s);
    return changed == 1 ? 0 : -ENOENT;
}

/* Copies text column I of ST into *OUT (NULL stays NULL). */
static int col_text(sqlite3_stmt *st, int i, char **out)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    *out = NULL;
    if (t == NULL)
        return 0;
    *out = strdup((const char *)t);
    return *out ? 0 : -ENOMEM;
}

/* Builds a job from the current row of a select_sql statement. */
static int row_to_job(sqlite3_stmt *st, jobs_job *j)
{
    j->seq = sqlite3_column_int64(st, 0);
    str_copy(j->submission_id, sizeof j->submission_id,
             (const char *)sqlite3_column_text(st, 1));
    if (jobs_status_parse((const char *)sqlite3_column_text(st, 2), &j->status) != 0)
        j->status = JOBS_FAILED;
    int rc = col_text(st, 3, &j->entrypoint);
    rc |= col_text(st, 4, &j->message);
    rc |= col_text(st, 5, &j->error_type);
    j->start_time = sqlite3_column_int64(st, 6);
    j->end_time = sqlite3_column_int64(st, 7);
    rc |= col_text(st, 8, &j->metadata_json);
    rc |= col_text(st, 9, &j->runtime_env_json);
    rc |= col_text(st, 10, &j->job_id);
    rc |= col_text(st, 11, &j->driver_ip);
    j->driver_pid = sqlite3_column_int(st, 12);
    rc |= col_text(st, 13, &j->driver_agent_http_address);
    rc |= col_text(st, 14, &j->driver_node_id);
    j->has_exit_code = sqlite3_column_type(st, 15) != SQLITE_NULL;
    j->exit_code = sqlite3_column_int(st, 15);
    j->num_cpus = sqlite3_column_double(st, 16);
    j->num_gpus = sqlite3_column_double(st, 17);
    j->memory = sqlite3_column_int64(st, 18);
    rc |= col_text(st, 19, &j->resources_json);
    j->pid = sqlite3_column_int(st, 20);
    j->proc_start = sqlite3_column_int64(st, 21);
    j->stop_requested = sqlite3_column_int(st, 22);
    return rc ? -ENOMEM : 0;
}

int jobs_store_load(jobs_store *s, int (*cb)(void *arg, jobs_job *j), void *arg)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, select_sql, -1, &st, NULL) != SQLITE_OK)
        return -EIO;
    int rc = 0, step;
    while (rc == 0 && (step = sqlite3_step(st)) == SQLITE_ROW) {
        jobs_job *j = jobs_job_new();
        if (j == NULL || row_to_job(st, j) != 0) {
            jobs_job_free(j);
            rc = -ENOMEM;
            break;
        }
        rc = cb(arg, j);
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = -EIO;
    sqlite3_finalize(st);
    return rc;
}

int jobs_store_meta_get(jobs_store *s, const char *key, char *out, size_t outlen)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, "SELECT value FROM meta WHERE key = ?1", -1, &st, NULL) !=
        SQLITE_OK)
        return -EIO;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && sqlite3_column_text(st, 0) != NULL)
        rc = str_copy(out, outlen, (const char *)sqlite3_column_text(st, 0));
    else
        rc = rc == SQLITE_DONE || rc == SQLITE_ROW ? -ENOENT : -EIO;
    sqlite3_finalize(st);
    return rc;
}

int jobs_store_meta_set(jobs_store *s, const char *key, const char *value)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, "INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)",
                           -1, &st, NULL) != SQLITE_OK)
        return -EIO;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -EIO;
    sqlite3_finalize(st);
    return rc;
}
