/* The GCS's durable tables in one SQLite file: meta, nodes, jobs, actors,
 * placement groups and the internal KV.
 *
 * Every function returns 0 or a negative errno-style code: -ENOENT when a
 * row is missing, -EIO for an SQLite failure (gcs_store_errmsg says why),
 * -ENOMEM.  Nothing here logs; the daemon does.  The store is used from one
 * thread only. */
#ifndef RAYC_GCS_STORE_H
#define RAYC_GCS_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "ray.pb-c.h"

typedef struct gcs_store gcs_store;

/* ---------------------------------------------------------------- lifecycle */

/* Opens (creating when missing) the database at PATH in WAL mode with
 * synchronous=NORMAL and a busy timeout, and creates the schema.  On success
 * stores the handle in *OUT and returns 0; on failure returns -EIO (or
 * -ENOMEM) with one line in ERR and *OUT untouched. */
int gcs_store_open(const char *path, gcs_store **out, char *err, size_t errlen);

/* Finalizes every statement and closes the database (NULL is fine). */
void gcs_store_close(gcs_store *s);

/* The last SQLite error message, valid until the next call on S. */
const char *gcs_store_errmsg(gcs_store *s);

/* Groups writes in one transaction.  Returns 0 or -EIO; after a failed
 * commit the transaction is rolled back. */
int gcs_store_begin(gcs_store *s);
int gcs_store_commit(gcs_store *s);

/* ---------------------------------------------------------------- meta */

/* Copies the text value of meta KEY into OUT.  Returns 0, -ENOENT, or
 * -ENAMETOOLONG when it does not fit (OUT then holds a truncated copy). */
int gcs_store_meta_get(gcs_store *s, const char *key, char *out, size_t outlen);

/* Sets meta KEY to the text VALUE.  Returns 0 or -EIO. */
int gcs_store_meta_set(gcs_store *s, const char *key, const char *value);

/* Allocates the next job number (1, 2, ...) from a durable counter.
 * Returns 0, -EIO, or -EOVERFLOW once 32 bits are used up. */
int gcs_store_next_job_number(gcs_store *s, uint32_t *out);

/* ---------------------------------------------------------------- nodes */

/* Inserts or replaces the row of N (keyed by node_id).  Returns 0 or -EIO. */
int gcs_store_node_put(gcs_store *s, const Rayc__NodeInfo *n);

/* Receives one stored node; CB takes ownership of N (free it with
 * rayc__node_info__free_unpacked).  A non-zero result stops the scan. */
typedef int (*gcs_store_node_cb)(Rayc__NodeInfo *n, void *data);

/* Calls CB for every stored node in insertion order.  Rows that cannot be
 * decoded are skipped.  Returns 0, -EIO, or CB's non-zero result. */
int gcs_store_nodes_load(gcs_store *s, gcs_store_node_cb cb, void *data);

/* ---------------------------------------------------------------- jobs */

/* Inserts or replaces the row of J (keyed by job_id).  Returns 0 or -EIO. */
int gcs_store_job_put(gcs_store *s, const Rayc__JobInfo *j);

/* Loads job JOB_ID into *OUT (caller frees with rayc__job_info__free_unpacked).
 * Returns 0, -ENOENT, -EIO or -EPROTO for an undecodable row. */
int gcs_store_job_get(gcs_store *s, const char *job_id, Rayc__JobInfo **out);

/* Receives one stored job; CB takes ownership of J. */
typedef int (*gcs_store_job_cb)(Rayc__JobInfo *j, void *data);

/* Calls CB for every stored job in insertion order.  Returns 0, -EIO, or
 * CB's non-zero result. */
int gcs_store_jobs_load(gcs_store *s, gcs_store_job_cb cb, void *data);

/* ---------------------------------------------------------------- placement groups */

/* Inserts or replaces the row of PG (keyed by its id in hex).  Returns 0,
 * -ENOMEM or -EIO. */
int gcs_store_pg_put(gcs_store *s, const Rayc__PlacementGroupInfo *pg);

/* Receives one stored group; CB takes ownership of PG (free it with
 * rayc__placement_group_info__free_unpacked). */
typedef int (*gcs_store_pg_cb)(Rayc__PlacementGroupInfo *pg, void *data);

/* Calls CB for every stored group in insertion order; undecodable rows are
 * skipped.  Returns 0, -EIO, or CB's non-zero result. */
int gcs_store_pgs_load(gcs_store *s, gcs_store_pg_cb cb, void *data);

/* ---------------------------------------------------------------- internal KV */

/* Keys and values are byte strings; an empty key is allowed. */
typedef struct gcs_bytes {
    const uint8_t *data;
    size_t len;
} gcs_bytes;

/* Stores VALUE under (NS, KEY).  When the key exists it is replaced only if
 * OVERWRITE is set.  *ADDED (may be NULL) is 1 when the key was new.
 * Returns 0 or -EIO. */
int gcs_store_kv_put(gcs_store *s, const char *ns, gcs_bytes key, gcs_bytes value,
                     int overwrite, int *added);

/* Copies the value of (NS, KEY) into a new buffer *VALUE of *LEN bytes
 * (caller frees; never NULL on success).  Returns 0, -ENOENT or -EIO. */
int gcs_store_kv_get(gcs_store *s, const char *ns, gcs_bytes key,
                     uint8_t **value, size_t *len);

/* Deletes (NS, KEY), or every key of NS starting with KEY when BY_PREFIX is
 * set.  *DELETED (may be NULL) gets the number of rows removed.
 * Returns 0 or -EIO. */
int gcs_store_kv_del(gcs_store *s, const char *ns, gcs_bytes key, int by_prefix,
                     int64_t *deleted);

/* A list of owned byte strings. */
typedef struct gcs_key_list {
    ProtobufCBinaryData *items;
    size_t n;
    size_t alloc;
    size_t bytes;            /* sum of the items' lengths */
} gcs_key_list;

/* Appends the keys of NS that start with PREFIX, in byte order, to OUT
 * (initialised to zeros by the caller; free with gcs_key_list_free), stopping
 * with -EMSGSIZE once their total size would pass MAX_BYTES.
 * Returns 0, -EMSGSIZE, -ENOMEM or -EIO. */
int gcs_store_kv_keys(gcs_store *s, const char *ns, gcs_bytes prefix,
                      size_t max_bytes, gcs_key_list *out);

/* Frees the items of L and empties it. */
void gcs_key_list_free(gcs_key_list *l);

#endif
