/* The GCS store: the placement_groups table. */
#include "gcs/gcs_store_int.h"

#include <errno.h>
#include <stdlib.h>

#include "common/ids.h"
#include "common/util.h"

static const char pg_put_sql[] =
    "INSERT INTO placement_groups(id, state, info, created_ms, updated_ms) "
    "VALUES (?1,?2,?3,?4,?5) "
    "ON CONFLICT(id) DO UPDATE SET state=excluded.state, info=excluded.info,"
    " updated_ms=excluded.updated_ms";

static const char *state_name(int state)
{
    switch (state) {
    case RAYC__PLACEMENT_GROUP_INFO__STATE__CREATED: return "CREATED";
    case RAYC__PLACEMENT_GROUP_INFO__STATE__REMOVED: return "REMOVED";
    default: return "PENDING";
    }
}

int gcs_store_pg_put(gcs_store *s, const Rayc__PlacementGroupInfo *pg)
{
    char hex[2 * 64 + 1];
    size_t idlen = pg->pg_id.len < 64 ? pg->pg_id.len : 64;
    ids_hex(pg->pg_id.data, idlen, hex);
    size_t len = rayc__placement_group_info__get_packed_size(pg);
    uint8_t *blob = malloc(len ? len : 1);
    if (blob == NULL)
        return -ENOMEM;
    rayc__placement_group_info__pack(pg, blob);
    sqlite3_stmt *st = gcs_store__stmt(s, GCS_STMT_PG_PUT, pg_put_sql);
    if (st == NULL) {
        free(blob);
        return -EIO;
    }
    sqlite3_bind_text(st, 1, hex, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, state_name(pg->state), -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 3, blob, (int)len, free);
    sqlite3_bind_int64(st, 4, pg->create_time_ms);
    sqlite3_bind_int64(st, 5, time_now_ms());
    int rc = gcs_store__exec(s, st);
    sqlite3_clear_bindings(st);
    return rc;
}

int gcs_store_pgs_load(gcs_store *s, gcs_store_pg_cb cb, void *data)
{
    sqlite3_stmt *st = gcs_store__stmt(s, GCS_STMT_PGS_LOAD,
                                       "SELECT info FROM placement_groups ORDER BY rowid");
    if (st == NULL)
        return -EIO;
    int rc, out = 0;
    while (out == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        Rayc__PlacementGroupInfo *pg = rayc__placement_group_info__unpack(
            NULL, (size_t)sqlite3_column_bytes(st, 0), sqlite3_column_blob(st, 0));
        if (pg != NULL)
            out = cb(pg, data);
    }
    if (out == 0 && rc != SQLITE_DONE)
        out = gcs_store__fail(s);
    sqlite3_reset(st);
    return out;
}
