/* objstore_lru: which objects spilling may take, least recently used
 * first, and the reader pins that keep objects off that list. */
#include "objstore/objstore_int.h"

#include <stddef.h>

static int spillable(const objstore_obj *o)
{
    return o->state == OBJSTORE_SEALED && o->blk != NULL && o->pins == 0 && !o->deleted;
}

void objstore__lru_remove(objstore *s, objstore_obj *o)
{
    if (!o->in_lru)
        return;
    if (o->lprev != NULL)
        o->lprev->lnext = o->lnext;
    else
        s->lru_head = o->lnext;
    if (o->lnext != NULL)
        o->lnext->lprev = o->lprev;
    else
        s->lru_tail = o->lprev;
    o->lprev = o->lnext = NULL;
    o->in_lru = 0;
    s->lru_bytes -= objstore__held(o);
}

void objstore__lru_touch(objstore *s, objstore_obj *o)
{
    objstore__lru_remove(s, o);
    if (!spillable(o))
        return;
    o->lprev = s->lru_tail;
    o->lnext = NULL;
    if (s->lru_tail != NULL)
        s->lru_tail->lnext = o;
    else
        s->lru_head = o;
    s->lru_tail = o;
    o->in_lru = 1;
    s->lru_bytes += objstore__held(o);
}

void objstore__pin(objstore *s, objstore_obj *o)
{
    if (o->pins++ == 0) {
        objstore__lru_remove(s, o);
        s->pinned_bytes += objstore__held(o);
    }
}

void objstore__unpin(objstore *s, objstore_obj *o)
{
    if (o->pins == 0 || --o->pins > 0)
        return;
    s->pinned_bytes -= objstore__held(o);
    if (o->deleted)
        objstore__remove(s, o);
    else
        objstore__lru_touch(s, o);
}
