/* Internals shared by the gcs_store_*.c files: the handle and its cached
 * prepared statements.  Not for use outside the store. */
#ifndef RAYC_GCS_STORE_INT_H
#define RAYC_GCS_STORE_INT_H

#include <sqlite3.h>

#include "gcs/gcs_store.h"

/* One slot per cached statement. */
enum gcs_stmt {
    GCS_STMT_BEGIN,
    GCS_STMT_COMMIT,
    GCS_STMT_ROLLBACK,
    GCS_STMT_META_GET,
    GCS_STMT_META_SET,
    GCS_STMT_JOB_COUNTER,
    GCS_STMT_NODE_PUT,
    GCS_STMT_NODES_LOAD,
    GCS_STMT_JOB_PUT,
    GCS_STMT_JOB_GET,
    GCS_STMT_JOBS_LOAD,
    GCS_STMT_KV_INSERT,
    GCS_STMT_KV_UPDATE,
    GCS_STMT_KV_GET,
    GCS_STMT_KV_DEL,
    GCS_STMT_KV_DEL_RANGE,
    GCS_STMT_KV_DEL_FROM,
    GCS_STMT_KV_KEYS_RANGE,
    GCS_STMT_KV_KEYS_FROM,
    GCS_STMT_PG_PUT,
    GCS_STMT_PGS_LOAD,
    GCS_STMT_COUNT
};

struct gcs_store {
    sqlite3 *db;
    sqlite3_stmt *stmts[GCS_STMT_COUNT];
    char err[256];
};

/* Returns statement ID, preparing it from SQL on first use, reset and with
 * its bindings cleared; NULL on failure (the message is on S). */
sqlite3_stmt *gcs_store__stmt(gcs_store *s, enum gcs_stmt id, const char *sql);

/* Records the database's current error message on S and returns -EIO. */
int gcs_store__fail(gcs_store *s);

/* Steps STMT once expecting SQLITE_DONE, then resets it.  Returns 0 or -EIO. */
int gcs_store__exec(gcs_store *s, sqlite3_stmt *stmt);

/* Binds a byte string as a BLOB (never NULL, even when empty). */
int gcs_store__bind_bytes(sqlite3_stmt *stmt, int col, gcs_bytes b);

#endif
