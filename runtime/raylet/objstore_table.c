/* objstore_table: id -> object, chained through the objects. */
#include "raylet/objstore_table.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "raylet/objstore_int.h"

#define INITIAL_BUCKETS 1024
/* The table stops doubling here; chains grow instead. */
#define MAX_BUCKETS ((size_t)OBJSTORE_MAX_OBJECTS)

/* FNV-1a over the id's characters. */
static uint64_t hash_id(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s != '\0'; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ull;
    }
    return h;
}

int objstore_table_init(objstore_table *t)
{
    t->buckets = calloc(INITIAL_BUCKETS, sizeof *t->buckets);
    if (t->buckets == NULL)
        return -ENOMEM;
    t->nbuckets = INITIAL_BUCKETS;
    t->count = 0;
    return 0;
}

void objstore_table_fini(objstore_table *t)
{
    free(t->buckets);
    t->buckets = NULL;
    t->nbuckets = 0;
    t->count = 0;
}

objstore_obj *objstore_table_find(const objstore_table *t, const char *oid)
{
    objstore_obj *o = t->buckets[hash_id(oid) & (t->nbuckets - 1)];
    while (o != NULL && strcmp(o->oid, oid) != 0)
        o = o->hnext;
    return o;
}

/* Doubles the bucket array, rehashing every object; keeps the old one when
 * memory is short. */
static void grow(objstore_table *t)
{
    size_t n = t->nbuckets * 2;
    objstore_obj **b = calloc(n, sizeof *b);
    if (b == NULL)
        return;
    for (size_t i = 0; i < t->nbuckets; i++) {
        for (objstore_obj *o = t->buckets[i], *next; o != NULL; o = next) {
            next = o->hnext;
            size_t k = hash_id(o->oid) & (n - 1);
            o->hnext = b[k];
            b[k] = o;
        }
    }
    free(t->buckets);
    t->buckets = b;
    t->nbuckets = n;
}

void objstore_table_insert(objstore_table *t, objstore_obj *o)
{
    if (t->count >= t->nbuckets && t->nbuckets < MAX_BUCKETS)
        grow(t);
    size_t k = hash_id(o->oid) & (t->nbuckets - 1);
    o->hnext = t->buckets[k];
    t->buckets[k] = o;
    t->count++;
}

void objstore_table_remove(objstore_table *t, objstore_obj *o)
{
    objstore_obj **p = &t->buckets[hash_id(o->oid) & (t->nbuckets - 1)];
    while (*p != NULL && *p != o)
        p = &(*p)->hnext;
    if (*p == NULL)
        return;
    *p = o->hnext;
    o->hnext = NULL;
    t->count--;
}

void objstore_table_foreach(objstore_table *t, void (*fn)(objstore_obj *, void *), void *arg)
{
    for (size_t i = 0; i < t->nbuckets; i++) {
        for (objstore_obj *o = t->buckets[i], *next; o != NULL; o = next) {
            next = o->hnext;
            fn(o, arg);
        }
    }
}
