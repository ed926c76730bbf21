/* objstore_table: the object store's index from object id to object.
 *
 * A chained hash table over objects that carry their own chain link
 * (objstore_obj.hnext), so an insert never allocates except when the table
 * doubles.  Not thread-safe. */
#ifndef RAYC_RAYLET_OBJSTORE_TABLE_H
#define RAYC_RAYLET_OBJSTORE_TABLE_H

#include <stddef.h>
#include <stdint.h>

typedef struct objstore_obj objstore_obj;

typedef struct objstore_table {
    objstore_obj **buckets;
    size_t nbuckets;        /* a power of two */
    uint32_t count;
} objstore_table;

/* Makes T empty.  Returns 0 or -ENOMEM. */
int objstore_table_init(objstore_table *t);

/* Frees T's buckets (not the objects). */
void objstore_table_fini(objstore_table *t);

/* The object with id OID, or NULL. */
objstore_obj *objstore_table_find(const objstore_table *t, const char *oid);

/* Adds O (its id not in T yet).  Never fails: when doubling the table
 * fails for lack of memory the chains just grow longer. */
void objstore_table_insert(objstore_table *t, objstore_obj *o);

/* Removes O, which is in T. */
void objstore_table_remove(objstore_table *t, objstore_obj *o);

/* Calls FN(O, ARG) for every object; FN may remove (and free) the object it
 * is given, but no other. */
void objstore_table_foreach(objstore_table *t, void (*fn)(objstore_obj *, void *), void *arg);

#endif
