/* objstore_table: the object store's index from object id to object.
 *
 * A common/htab over objects that carry their own link (objstore_obj.link),
 * so an insert never allocates except when the table doubles.  Not
 * thread-safe. */
#ifndef RAYC_RAYLET_OBJSTORE_TABLE_H
#define RAYC_RAYLET_OBJSTORE_TABLE_H

#include <stddef.h>
#include <stdint.h>

#include "common/htab.h"

typedef struct objstore_obj objstore_obj;

typedef struct objstore_table {
    htab index;             /* objstore_obj.link by oid */
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
