/* The intrusive hash table (see htab.h). */
#include "common/htab.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/ids.h"

#define HTAB_MIN_BUCKETS 16

void htab_init(htab *t)
{
    memset(t, 0, sizeof *t);
}

void htab_free(htab *t)
{
    free(t->buckets);
    htab_init(t);
}

uint64_t htab_hash_str(const char *s)
{
    return ids_hash(s, strlen(s));
}

static size_t bucket_of(const htab *t, uint64_t hash)
{
    return (size_t)(hash ^ (hash >> 32)) & (t->nbuckets - 1);
}

/* Moves every entry into a bucket array of N buckets.  -ENOMEM leaves T as it was. */
static int resize(htab *t, size_t n)
{
    htab_node **b = calloc(n, sizeof *b);
    if (b == NULL)
        return -ENOMEM;
    htab old = *t;
    t->buckets = b;
    t->nbuckets = n;
    for (size_t i = 0; i < old.nbuckets; i++) {
        htab_node *e = old.buckets[i];
        while (e != NULL) {
            htab_node *next = e->next;
            size_t k = bucket_of(t, e->hash);
            e->next = b[k];
            b[k] = e;
            e = next;
        }
    }
    free(old.buckets);
    return 0;
}

int htab_reserve(htab *t, size_t n)
{
    size_t want = t->nbuckets ? t->nbuckets : HTAB_MIN_BUCKETS;
    while (want < n)
        want *= 2;
    return want == t->nbuckets ? 0 : resize(t, want);
}

static void link_node(htab *t, htab_node *node, uint64_t hash)
{
    size_t k = bucket_of(t, hash);
    node->hash = hash;
    node->next = t->buckets[k];
    t->buckets[k] = node;
    t->n++;
}

int htab_insert(htab *t, htab_node *node, uint64_t hash)
{
    if (t->n + 1 > t->nbuckets) {
        int rc = resize(t, t->nbuckets ? 2 * t->nbuckets : HTAB_MIN_BUCKETS);
        if (rc != 0)
            return rc;
    }
    link_node(t, node, hash);
    return 0;
}

void htab_insert_anyway(htab *t, htab_node *node, uint64_t hash)
{
    if (t->n + 1 > t->nbuckets)
        (void)resize(t, 2 * t->nbuckets);
    link_node(t, node, hash);
}

htab_node *htab_find(const htab *t, uint64_t hash, const void *key, htab_eq_fn eq)
{
    if (t->nbuckets == 0)
        return NULL;
    for (htab_node *e = t->buckets[bucket_of(t, hash)]; e != NULL; e = e->next)
        if (e->hash == hash && eq(e, key))
            return e;
    return NULL;
}

void htab_unlink(htab *t, htab_node *node)
{
    for (htab_node **p = &t->buckets[bucket_of(t, node->hash)]; *p != NULL; p = &(*p)->next) {
        if (*p == node) {
            *p = node->next;
            node->next = NULL;
            t->n--;
            return;
        }
    }
}

htab_node *htab_remove(htab *t, uint64_t hash, const void *key, htab_eq_fn eq)
{
    htab_node *e = htab_find(t, hash, key, eq);
    if (e != NULL)
        htab_unlink(t, e);
    return e;
}

/* The first entry in bucket FROM or after, or NULL; sets *AT to its bucket. */
static htab_node *scan(const htab *t, size_t from, size_t *at)
{
    for (size_t i = from; i < t->nbuckets; i++) {
        if (t->buckets[i] != NULL) {
            *at = i;
            return t->buckets[i];
        }
    }
    *at = t->nbuckets;
    return NULL;
}

/* Fetches the entry after CUR (in IT's bucket) into IT->next. */
static void fetch_after(htab_iter *it, htab_node *cur)
{
    it->next = cur->next;
    if (it->next == NULL)
        it->next = scan(it->t, it->bucket + 1, &it->bucket);
}

htab_node *htab_first(const htab *t, htab_iter *it)
{
    it->t = t;
    it->next = NULL;
    htab_node *cur = scan(t, 0, &it->bucket);
    if (cur != NULL)
        fetch_after(it, cur);
    return cur;
}

htab_node *htab_next(htab_iter *it)
{
    htab_node *cur = it->next;
    if (cur != NULL)
        fetch_after(it, cur);
    return cur;
}
