/* objstore_table: id -> object, chained through the objects. */
#include "objstore/objstore_table.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "objstore/objstore_int.h"

#define INITIAL_BUCKETS 1024

static int oid_eq(const htab_node *link, const void *oid)
{
    return strcmp(htab_entry(link, objstore_obj, link)->oid, oid) == 0;
}

int objstore_table_init(objstore_table *t)
{
    htab_init(&t->index);
    return htab_reserve(&t->index, INITIAL_BUCKETS);
}

void objstore_table_fini(objstore_table *t)
{
    htab_free(&t->index);
}

objstore_obj *objstore_table_find(const objstore_table *t, const char *oid)
{
    htab_node *link = htab_find(&t->index, htab_hash_str(oid), oid, oid_eq);
    return link ? htab_entry(link, objstore_obj, link) : NULL;
}

void objstore_table_insert(objstore_table *t, objstore_obj *o)
{
    htab_insert_anyway(&t->index, &o->link, htab_hash_str(o->oid));
}

void objstore_table_remove(objstore_table *t, objstore_obj *o)
{
    if (objstore_table_find(t, o->oid) == o)
        htab_unlink(&t->index, &o->link);
}

void objstore_table_foreach(objstore_table *t, void (*fn)(objstore_obj *, void *), void *arg)
{
    htab_iter it;
    for (htab_node *e = htab_first(&t->index, &it); e != NULL; e = htab_next(&it))
        fn(htab_entry(e, objstore_obj, link), arg);
}
