/* One intrusive hash table for every index in rayc (chained, power-of-two
 * buckets, at most one entry per bucket on average).
 *
 * An entry embeds an htab_node and is found again with htab_entry().  The
 * table owns only its bucket array: entries belong to the caller, who
 * unlinks them before freeing them.  Keys are the caller's: it passes the
 * key's hash (ids_hash or htab_hash_str) and an equality callback. */
#ifndef RAYC_COMMON_HTAB_H
#define RAYC_COMMON_HTAB_H

#include <stddef.h>
#include <stdint.h>

typedef struct htab_node {
    struct htab_node *next;   /* the next entry of the same bucket */
    uint64_t hash;
} htab_node;

typedef struct htab {
    htab_node **buckets;      /* NULL until the first insert */
    size_t nbuckets;          /* 0 or a power of two */
    size_t n;                 /* entries linked */
} htab;

/* Walks a table: see htab_first. */
typedef struct htab_iter {
    const htab *t;
    size_t bucket;
    htab_node *next;          /* fetched ahead, so the current entry may be unlinked */
} htab_iter;

/* True when entry NODE has key KEY. */
typedef int (*htab_eq_fn)(const htab_node *node, const void *key);

/* The entry of type TYPE whose MEMBER is the htab_node PTR. */
#define htab_entry(ptr, type, member) ((type *)(void *)((char *)(ptr) - offsetof(type, member)))

/* An empty table (no allocation); the same as zeroing it. */
void htab_init(htab *t);

/* Frees the bucket array (not the entries) and leaves T empty. */
void htab_free(htab *t);

/* The hash of the NUL-terminated string S (ids_hash over its bytes). */
uint64_t htab_hash_str(const char *s);

/* Links NODE under HASH.  The caller makes sure its key is not linked yet.
 * Returns 0, or -ENOMEM when the bucket array had to grow and could not:
 * then NODE is not linked and the table is unchanged. */
int htab_insert(htab *t, htab_node *node, uint64_t hash);

/* Sizes the bucket array for N entries ahead of time (it only grows).
 * Returns 0, or -ENOMEM with T unchanged. */
int htab_reserve(htab *t, size_t n);

/* Like htab_insert, but when the bucket array cannot grow NODE is linked
 * anyway and the chains just get longer.  T must have buckets already
 * (htab_reserve or an earlier insert). */
void htab_insert_anyway(htab *t, htab_node *node, uint64_t hash);

/* The entry under HASH for which EQ(entry, KEY) is true, or NULL. */
htab_node *htab_find(const htab *t, uint64_t hash, const void *key, htab_eq_fn eq);

/* Unlinks NODE, which must be linked in T.  Never fails. */
void htab_unlink(htab *t, htab_node *node);

/* Unlinks and returns the entry under HASH matching KEY, or NULL. */
htab_node *htab_remove(htab *t, uint64_t hash, const void *key, htab_eq_fn eq);

/* Starts a walk over T in no particular order:
 *     for (htab_node *n = htab_first(t, &it); n; n = htab_next(&it))
 * The current entry may be unlinked (and freed) during the walk; inserting
 * during a walk may skip or repeat entries. */
htab_node *htab_first(const htab *t, htab_iter *it);
htab_node *htab_next(htab_iter *it);

#endif
