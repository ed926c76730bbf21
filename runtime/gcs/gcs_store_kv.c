/* The GCS store: the internal key-value table (namespaced byte strings). */
#include "gcs/gcs_store_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int gcs_store_kv_put(gcs_store *s, const char *ns, gcs_bytes key, gcs_bytes value,
                     int overwrite, int *added)
{
    sqlite3_stmt *st = gcs_store__stmt(s, GCS_STMT_KV_INSERT,
                                       "INSERT OR IGNORE INTO kv(ns, key, value) VALUES (?1, ?2, ?3)");
    if (st == NULL)
        return -EIO;
    sqlite3_bind_text(st, 1, ns, -1, SQLITE_STATIC);
    gcs_store__bind_bytes(st, 2, key);
    gcs_store__bind_bytes(st, 3, value);
    int rc = gcs_store__exec(s, st);
    if (rc != 0)
        return rc;
    int is_new = sqlite3_changes(s->db) > 0;
    if (added != NULL)
        *added = is_new;
    if (is_new || !overwrite)
        return 0;
    st = gcs_store__stmt(s, GCS_STMT_KV_UPDATE,
                         "UPDATE kv SET value = ?3 WHERE ns = ?1 AND key = ?2");
    if (st == NULL)
        return -EIO;
    sqlite3_bind_text(st, 1, ns, -1, SQLITE_STATIC);
    gcs_store__bind_bytes(st, 2, key);
    gcs_store__bind_bytes(st, 3, value);
    return gcs_store__exec(s, st);
}

int gcs_store_kv_get(gcs_store *s, const char *ns, gcs_bytes key,
                     uint8_t **value, size_t *len)
{
    sqlite3_stmt *st = gcs_store__stmt(s, GCS_STMT_KV_GET,
                                       "SELECT value FROM kv WHERE ns = ?1 AND key = ?2");
    if (st == NULL)
        return -EIO;
    sqlite3_bind_text(st, 1, ns, -1, SQLITE_STATIC);
    gcs_store__bind_bytes(st, 2, key);
    int rc = sqlite3_step(st);
    int out = 0;
    if (rc == SQLITE_ROW) {
        const void *v = sqlite3_column_blob(st, 0);
        size_t n = (size_t)sqlite3_column_bytes(st, 0);
        uint8_t *copy = malloc(n ? n : 1);
        if (copy == NULL) {
            out = -ENOMEM;
        } else {
            if (n)
                memcpy(copy, v, n);
            *value = copy;
            *len = n;
        }
    } else {
        out = rc == SQLITE_DONE ? -ENOENT : gcs_store__fail(s);
    }
    sqlite3_reset(st);
    return out;
}

/* Computes the smallest byte string greater than every string starting with
 * PREFIX into UPPER (a copy of PREFIX with its last non-0xff byte raised and
 * what follows dropped).  Returns 0 when there is none (PREFIX is empty or all
 * 0xff: the range is open), 1 when UPPER is set (caller frees UPPER->data),
 * or -ENOMEM. */
static int prefix_upper(gcs_bytes prefix, gcs_bytes *upper)
{
    size_t n = prefix.len;
    while (n > 0 && prefix.data[n - 1] == 0xff)
        n--;
    if (n == 0)
        return 0;
    uint8_t *u = malloc(n);
    if (u == NULL)
        return -ENOMEM;
    memcpy(u, prefix.data, n);
    u[n - 1]++;
    upper->data = u;
    upper->len = n;
    return 1;
}

/* Prepares the statement for the key range [PREFIX, UPPER) of NS; OPEN_ID
 * and OPEN_SQL serve an open range, RANGE_ID and RANGE_SQL a closed one. */
static sqlite3_stmt *range_stmt(gcs_store *s, const char *ns, gcs_bytes prefix,
                                const gcs_bytes *upper, enum gcs_stmt range_id,
                                const char *range_sql, enum gcs_stmt open_id,
                                const char *open_sql)
{
    sqlite3_stmt *st = upper ? gcs_store__stmt(s, range_id, range_sql)
                             : gcs_store__stmt(s, open_id, open_sql);
    if (st == NULL)
        return NULL;
    sqlite3_bind_text(st, 1, ns, -1, SQLITE_STATIC);
    gcs_store__bind_bytes(st, 2, prefix);
    if (upper != NULL)
        gcs_store__bind_bytes(st, 3, *upper);
    return st;
}

/* Deletes the single key (NS, KEY). */
static int kv_del_one(gcs_store *s, const char *ns, gcs_bytes key)
{
    sqlite3_stmt *st = gcs_store__stmt(s, GCS_STMT_KV_DEL,
                                       "DELETE FROM kv WHERE ns = ?1 AND key = ?2");
    if (st == NULL)
        return -EIO;
    sqlite3_bind_text(st, 1, ns, -1, SQLITE_STATIC);
    gcs_store__bind_bytes(st, 2, key);
    return gcs_store__exec(s, st);
}

int gcs_store_kv_del(gcs_store *s, const char *ns, gcs_bytes key, int by_prefix,
                     int64_t *deleted)
{
    int rc;
    if (!by_prefix) {
        rc = kv_del_one(s, ns, key);
    } else {
        gcs_bytes upper = {0};
        int has_upper = prefix_upper(key, &upper);
        if (has_upper < 0)
            return has_upper;
        sqlite3_stmt *st = range_stmt(
            s, ns, key, has_upper ? &upper : NULL,
            GCS_STMT_KV_DEL_RANGE, "DELETE FROM kv WHERE ns = ?1 AND key >= ?2 AND key < ?3",
            GCS_STMT_KV_DEL_FROM, "DELETE FROM kv WHERE ns = ?1 AND key >= ?2");
        rc = st ? gcs_store__exec(s, st) : -EIO;
        free((void *)upper.data);
    }
    if (rc == 0 && deleted != NULL)
        *deleted = sqlite3_changes(s->db);
    return rc;
}

/* Appends a copy of (DATA, LEN) to L unless that would pass MAX_BYTES. */
static int key_list_add(gcs_key_list *l, const void *data, size_t len, size_t max_bytes)
{
    if (l->bytes + len > max_bytes)
        return -EMSGSIZE;
    if (l->n == l->alloc) {
        size_t n = l->alloc ? 2 * l->alloc : 16;
        ProtobufCBinaryData *p = realloc(l->items, n * sizeof *p);
        if (p == NULL)
            return -ENOMEM;
        l->items = p;
        l->alloc = n;
    }
    uint8_t *copy = malloc(len ? len : 1);
    if (copy == NULL)
        return -ENOMEM;
    if (len)
        memcpy(copy, data, len);
    l->items[l->n].data = copy;
    l->items[l->n].len = len;
    l->n++;
    l->bytes += len;
    return 0;
}

/* Steps ST collecting column 0 of each row into OUT. */
static int collect_keys(gcs_store *s, sqlite3_stmt *st, size_t max_bytes, gcs_key_list *out)
{
    int rc, out_rc = 0;
    while (out_rc == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW)
        out_rc = key_list_add(out, sqlite3_column_blob(st, 0),
                              (size_t)sqlite3_column_bytes(st, 0), max_bytes);
    if (out_rc == 0 && rc != SQLITE_DONE)
        out_rc = gcs_store__fail(s);
    sqlite3_reset(st);
    return out_rc;
}

int gcs_store_kv_keys(gcs_store *s, const char *ns, gcs_bytes prefix,
                      size_t max_bytes, gcs_key_list *out)
{
    gcs_bytes upper = {0};
    int has_upper = prefix_upper(prefix, &upper);
    if (has_upper < 0)
        return has_upper;
    sqlite3_stmt *st = range_stmt(
        s, ns, prefix, has_upper ? &upper : NULL,
        GCS_STMT_KV_KEYS_RANGE, "SELECT key FROM kv WHERE ns = ?1 AND key >= ?2 AND key < ?3 ORDER BY key",
        GCS_STMT_KV_KEYS_FROM, "SELECT key FROM kv WHERE ns = ?1 AND key >= ?2 ORDER BY key");
    int rc = st ? collect_keys(s, st, max_bytes, out) : -EIO;
    if (st != NULL)
        sqlite3_clear_bindings(st); /* UPPER is bound without a copy */
    free((void *)upper.data);
    return rc;
}

void gcs_key_list_free(gcs_key_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->items[i].data);
    free(l->items);
    memset(l, 0, sizeof *l);
}
