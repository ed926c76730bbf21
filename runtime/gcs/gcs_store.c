/* The GCS store: opening the SQLite file, the schema, transactions and meta. */
#include "gcs/gcs_store_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

#define GCS_SCHEMA_VERSION 1
#define GCS_BUSY_TIMEOUT_MS 5000

/* Tables hold the whole record as a packed protobuf (the truth, so new proto
 * fields need no migration) next to plain columns that sqlite3(1) users can
 * read and query. */
static const char schema_sql[] =
    "PRAGMA journal_mode=WAL;"
    "PRAGMA synchronous=NORMAL;"
    "CREATE TABLE IF NOT EXISTS meta ("
    "  key TEXT PRIMARY KEY, value);"
    "INSERT OR IGNORE INTO meta(key, value) VALUES ('job_counter', 0);"
    "CREATE TABLE IF NOT EXISTS nodes ("
    "  node_id TEXT PRIMARY KEY, state TEXT NOT NULL, address TEXT,"
    "  node_manager_port INTEGER, hostname TEXT, is_head INTEGER,"
    "  start_time_ms INTEGER, end_time_ms INTEGER, death_reason TEXT,"
    "  resources_total TEXT, resources_available TEXT, labels TEXT,"
    "  updated_ms INTEGER, info BLOB NOT NULL);"
    "CREATE TABLE IF NOT EXISTS jobs ("
    "  job_id TEXT PRIMARY KEY, state TEXT NOT NULL, submission_id TEXT,"
    "  entrypoint TEXT, start_time_ms INTEGER, end_time_ms INTEGER,"
    "  info BLOB NOT NULL);"
    "CREATE TABLE IF NOT EXISTS actors ("
    "  id TEXT PRIMARY KEY, state TEXT NOT NULL, info BLOB,"
    "  created_ms INTEGER, updated_ms INTEGER);"
    "CREATE TABLE IF NOT EXISTS placement_groups ("
    "  id TEXT PRIMARY KEY, state TEXT NOT NULL, info BLOB,"
    "  created_ms INTEGER, updated_ms INTEGER);"
    "CREATE TABLE IF NOT EXISTS kv ("
    "  ns TEXT NOT NULL, key BLOB NOT NULL, value BLOB NOT NULL,"
    "  PRIMARY KEY (ns, key)) WITHOUT ROWID;";

int gcs_store__fail(gcs_store *s)
{
    snprintf(s->err, sizeof s->err, "%s", sqlite3_errmsg(s->db));
    return -EIO;
}

sqlite3_stmt *gcs_store__stmt(gcs_store *s, enum gcs_stmt id, const char *sql)
{
    sqlite3_stmt *st = s->stmts[id];
    if (st == NULL) {
        if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK) {
            gcs_store__fail(s);
            return NULL;
        }
        s->stmts[id] = st;
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return st;
}

int gcs_store__exec(gcs_store *s, sqlite3_stmt *stmt)
{
    int rc = sqlite3_step(stmt);
    int out = rc == SQLITE_DONE ? 0 : gcs_store__fail(s);
    sqlite3_reset(stmt);
    return out;
}

int gcs_store__bind_bytes(sqlite3_stmt *stmt, int col, gcs_bytes b)
{
    static const uint8_t empty[1];
    return sqlite3_bind_blob(stmt, col, b.len ? (const void *)b.data : (const void *)empty,
                             (int)b.len, SQLITE_STATIC);
}

/* Creates the schema and records its version. */
static int store_init_schema(gcs_store *s)
{
    char *msg = NULL;
    if (sqlite3_exec(s->db, schema_sql, NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(s->err, sizeof s->err, "%s", msg ? msg : "schema failed");
        sqlite3_free(msg);
        return -EIO;
    }
    char pragma[64];
    snprintf(pragma, sizeof pragma, "PRAGMA user_version=%d;", GCS_SCHEMA_VERSION);
    if (sqlite3_exec(s->db, pragma, NULL, NULL, NULL) != SQLITE_OK)
        return gcs_store__fail(s);
    return 0;
}

int gcs_store_open(const char *path, gcs_store **out, char *err, size_t errlen)
{
    gcs_store *s = calloc(1, sizeof *s);
    if (s == NULL) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    /* Owner only; SQLite gives the WAL and shm files the database's mode. */
    int prc = path[0] != '\0' && path[0] != ':' ? fs_private_file(path) : 0;
    if (prc != 0) {
        snprintf(err, errlen, "cannot create %s: %s", path, strerror(-prc));
        free(s);
        return -EIO;
    }
    int rc = sqlite3_open_v2(path, &s->db, flags, NULL) == SQLITE_OK ? 0 : gcs_store__fail(s);
    if (rc == 0) {
        sqlite3_busy_timeout(s->db, GCS_BUSY_TIMEOUT_MS);
        rc = store_init_schema(s);
    }
    if (rc != 0) {
        snprintf(err, errlen, "%s: %s", path, s->err);
        gcs_store_close(s);
        return rc;
    }
    *out = s;
    return 0;
}

void gcs_store_close(gcs_store *s)
{
    if (s == NULL)
        return;
    for (int i = 0; i < GCS_STMT_COUNT; i++)
        sqlite3_finalize(s->stmts[i]);
    sqlite3_close(s->db);
    free(s);
}

const char *gcs_store_errmsg(gcs_store *s) { return s->err; }

int gcs_store_begin(gcs_store *s)
{
    sqlite3_stmt *st = gcs_store__stmt(s, GCS_STMT_BEGIN, "BEGIN");
    return st ? gcs_store__exec(s, st) : -EIO;
}

int gcs_store_commit(gcs_store *s)
{
    sqlite3_stmt *st = gcs_store__stmt(s, GCS_STMT_COMMIT, "COMMIT");
    int rc = st ? gcs_store__exec(s, st) : -EIO;
    if (rc != 0 && !sqlite3_get_autocommit(s->db)) {
        sqlite3_stmt *rb = gcs_store__stmt(s, GCS_STMT_ROLLBACK, "ROLLBACK");
        if (rb != NULL)
            gcs_store__exec(s, rb);
        snprintf(s->err, sizeof s->err, "commit failed, rolled back");
    }
    return rc;
}

/* ---------------------------------------------------------------- meta */

int gcs_store_meta_get(gcs_store *s, const char *key, char *out, size_t outlen)
{
    sqlite3_stmt *st = gcs_store__stmt(s, GCS_STMT_META_GET,
                                       "SELECT CAST(value AS TEXT) FROM meta WHERE key = ?1");
    if (st == NULL)
        return -EIO;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    int out_rc;
    if (rc == SQLITE_ROW) {
        const char *v = (const char *)sqlite3_column_text(st, 0);
        out_rc = str_copy(out, outlen, v ? v : "");
    } else {
        out_rc = rc == SQLITE_DONE ? -ENOENT : gcs_store__fail(s);
    }
    sqlite3_reset(st);
    return out_rc;
}

int gcs_store_meta_set(gcs_store *s, const char *key, const char *value)
{
    sqlite3_stmt *st = gcs_store__stmt(s, GCS_STMT_META_SET,
                                       "INSERT INTO meta(key, value) VALUES (?1, ?2) "
                                       "ON CONFLICT(key) DO UPDATE SET value = excluded.value");
    if (st == NULL)
        return -EIO;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
    return gcs_store__exec(s, st);
}

int gcs_store_next_job_number(gcs_store *s, uint32_t *out)
{
    sqlite3_stmt *st = gcs_store__stmt(s, GCS_STMT_JOB_COUNTER,
                                       "UPDATE meta SET value = value + 1 "
                                       "WHERE key = 'job_counter' AND value < 4294967295 "
                                       "RETURNING value");
    if (st == NULL)
        return -EIO;
    int rc = sqlite3_step(st);
    int out_rc = 0;
    if (rc == SQLITE_ROW)
        *out = (uint32_t)sqlite3_column_int64(st, 0);
    else
        out_rc = rc == SQLITE_DONE ? -EOVERFLOW : gcs_store__fail(s);
    /* RETURNING writes happen when the statement finishes: run it to the end. */
    while (rc == SQLITE_ROW)
        rc = sqlite3_step(st);
    if (rc != SQLITE_DONE && out_rc == 0)
        out_rc = gcs_store__fail(s);
    sqlite3_reset(st);
    return out_rc;
}
