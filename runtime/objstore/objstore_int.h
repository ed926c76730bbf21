/* objstore internals shared by the objstore_*.c files; nothing outside the
 * object store includes this.
 *
 *   objstore.c        open/close, queries (contains, stats, locate)
 *   objstore_obj.c    an object's life: create, seal, abort, get, release, delete
 *   objstore_lru.c    the LRU list of spillable objects, pins
 *   objstore_spill.c  spill, restore, and making room for a new range
 *   objstore_files.c  file names, leftovers, the arena file, range copies
 *   objstore_table.c  the id -> object hash table
 *   objstore_alloc.c  ranges of the arena
 */
#ifndef RAYC_RAYLET_OBJSTORE_INT_H
#define RAYC_RAYLET_OBJSTORE_INT_H

#include <limits.h>
#include <stdint.h>

#include "objstore/objstore.h"
#include "objstore/objstore_alloc.h"
#include "objstore/objstore_table.h"

enum objstore_state {
    OBJSTORE_CREATING,  /* reserved, the creator is writing it */
    OBJSTORE_SEALED,    /* complete, in the arena */
    OBJSTORE_SPILLED,   /* complete, in its spill file only */
};

struct objstore_obj {
    char oid[OBJSTORE_ID_MAX + 1];
    char job[OBJSTORE_ID_MAX + 1];
    uint64_t size;
    enum objstore_state state;
    objstore_block *blk;            /* its arena range; NULL if spilled or size 0 */
    uint32_t pins;                  /* readers holding it (objstore_get calls) */
    int deleted;                    /* the owner freed it; goes at the last pin/seal */
    int in_lru;
    htab_node link;                 /* in objstore_table */
    objstore_obj *lprev, *lnext;    /* LRU list, least recent first */
};

struct objstore {
    char shm_dir[PATH_MAX];
    char spill_dir[PATH_MAX];
    char prefix[OBJSTORE_PREFIX_MAX + 1];
    char arena_path[PATH_MAX];
    int arena_fd;
    uint64_t max_object_size;
    objstore_alloc *alloc;
    objstore_table table;
    objstore_obj *lru_head, *lru_tail;
    uint64_t lru_bytes;             /* arena bytes of the objects on the LRU list */
    uint64_t pinned_bytes;          /* arena bytes of objects with pins */
    uint64_t spilled_bytes, restored_bytes, spill_dir_bytes;
    uint32_t spilled_objects;
};

/* Arena bytes held by O (its size rounded up), 0 when not in the arena. */
static inline uint64_t objstore__held(const objstore_obj *o)
{
    return o->blk != NULL ? o->blk->size : 0;
}

/* objstore_lru.c.  The LRU list holds exactly the sealed, in-memory,
 * non-empty, unpinned, undeleted objects: the ones spilling may take. */
void objstore__lru_touch(objstore *s, objstore_obj *o);  /* (re)insert as most recent if eligible */
void objstore__lru_remove(objstore *s, objstore_obj *o);
void objstore__pin(objstore *s, objstore_obj *o);
/* Drops one pin; the last one of a deleted object removes it. */
void objstore__unpin(objstore *s, objstore_obj *o);

/* objstore_obj.c: forgets O and frees its range or spill file. */
void objstore__remove(objstore *s, objstore_obj *o);

/* objstore_spill.c */
/* Takes SIZE (> 0) bytes of arena, spilling LRU objects while they do not
 * fit.  Returns 0, -ENOSPC (even spilling all would not do, or a spill
 * failed) or -ENOMEM. */
int objstore__make_room(objstore *s, uint64_t size, objstore_block **out);
/* Brings spilled O back into the arena.  0, -ENOSPC, -EIO, -ENOMEM. */
int objstore__restore(objstore *s, objstore_obj *o);

/* objstore_files.c */
/* PATH = <dir>/<prefix><name>.  0 or -ENAMETOOLONG. */
int objstore__file_path(const objstore *s, const char *dir, const char *name, char *path, size_t len);
/* Unlinks every regular file of DIR whose name starts with PREFIX. */
int objstore__remove_leftovers(const char *dir, const char *prefix);
/* Creates the arena file of SIZE bytes (allocated when PREFAULT); *FD. */
int objstore__arena_create(const char *path, uint64_t size, int prefault, int *fd);
/* Copies N bytes from IN at IN_OFF to OUT at OUT_OFF.  0 or -errno (-EIO
 * when IN ends early). */
int objstore__copy_range(int in, uint64_t in_off, int out, uint64_t out_off, uint64_t n);

#endif
