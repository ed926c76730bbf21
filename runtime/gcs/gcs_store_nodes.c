/* The GCS store: the nodes table. */
#include "gcs/gcs_store_int.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>

#include "common/util.h"

/* Dumps OBJ as compact JSON text and drops it; the caller frees the text.
 * NULL on allocation failure (the column is then stored as NULL). */
static char *json_text(json_t *obj)
{
    char *text = obj ? json_dumps(obj, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(obj);
    return text;
}

static char *total_json(const Rayc__NodeInfo *n)
{
    json_t *obj = json_object();
    for (size_t i = 0; obj != NULL && i < n->n_resources_total; i++)
        json_object_set_new(obj, n->resources_total[i]->key,
                            json_real(n->resources_total[i]->value));
    return json_text(obj);
}

static char *available_json(const Rayc__NodeInfo *n)
{
    json_t *obj = json_object();
    for (size_t i = 0; obj != NULL && i < n->n_resources_available; i++)
        json_object_set_new(obj, n->resources_available[i]->key,
                            json_real(n->resources_available[i]->value));
    return json_text(obj);
}

static char *labels_json(const Rayc__NodeInfo *n)
{
    json_t *obj = json_object();
    for (size_t i = 0; obj != NULL && i < n->n_labels; i++)
        json_object_set_new(obj, n->labels[i]->key, json_string(n->labels[i]->value));
    return json_text(obj);
}

static const char node_put_sql[] =
    "INSERT INTO nodes(node_id, state, address, node_manager_port, hostname, is_head,"
    " start_time_ms, end_time_ms, death_reason, resources_total, resources_available,"
    " labels, updated_ms, info) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14) "
    "ON CONFLICT(node_id) DO UPDATE SET state=excluded.state, address=excluded.address,"
    " node_manager_port=excluded.node_manager_port, hostname=excluded.hostname,"
    " is_head=excluded.is_head, start_time_ms=excluded.start_time_ms,"
    " end_time_ms=excluded.end_time_ms, death_reason=excluded.death_reason,"
    " resources_total=excluded.resources_total,"
    " resources_available=excluded.resources_available, labels=excluded.labels,"
    " updated_ms=excluded.updated_ms, info=excluded.info";

/* Binds the human-readable columns of N to ST. */
static void bind_node_columns(sqlite3_stmt *st, const Rayc__NodeInfo *n)
{
    int dead = n->state == RAYC__NODE_INFO__STATE__DEAD;
    sqlite3_bind_text(st, 1, n->node_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, dead ? "DEAD" : "ALIVE", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, n->address, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 4, n->node_manager_port);
    sqlite3_bind_text(st, 5, n->hostname, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 6, n->is_head ? 1 : 0);
    sqlite3_bind_int64(st, 7, n->start_time_ms);
    sqlite3_bind_int64(st, 8, n->end_time_ms);
    sqlite3_bind_text(st, 9, n->death_reason, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 10, total_json(n), -1, free);
    sqlite3_bind_text(st, 11, available_json(n), -1, free);
    sqlite3_bind_text(st, 12, labels_json(n), -1, free);
    sqlite3_bind_int64(st, 13, time_now_ms());
}

int gcs_store_node_put(gcs_store *s, const Rayc__NodeInfo *n)
{
    size_t len = rayc__node_info__get_packed_size(n);
    uint8_t *blob = malloc(len ? len : 1);
    if (blob == NULL)
        return -ENOMEM;
    rayc__node_info__pack(n, blob);
    sqlite3_stmt *st = gcs_store__stmt(s, GCS_STMT_NODE_PUT, node_put_sql);
    if (st == NULL) {
        free(blob);
        return -EIO;
    }
    bind_node_columns(st, n);
    sqlite3_bind_blob(st, 14, blob, (int)len, free);
    int rc = gcs_store__exec(s, st);
    sqlite3_clear_bindings(st); /* release the JSON texts and the blob now */
    return rc;
}

int gcs_store_nodes_load(gcs_store *s, gcs_store_node_cb cb, void *data)
{
    sqlite3_stmt *st = gcs_store__stmt(s, GCS_STMT_NODES_LOAD,
                                       "SELECT info FROM nodes ORDER BY rowid");
    if (st == NULL)
        return -EIO;
    int rc, out = 0;
    while (out == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        Rayc__NodeInfo *n = rayc__node_info__unpack(NULL, (size_t)sqlite3_column_bytes(st, 0),
                                                     sqlite3_column_blob(st, 0));
        if (n != NULL)
            out = cb(n, data);
    }
    if (out == 0 && rc != SQLITE_DONE)
        out = gcs_store__fail(s);
    sqlite3_reset(st);
    return out;
}
