/* objstore_alloc: hands out ranges of the object store's arena.
 *
 * A range allocator with no knowledge of objects: every range (free or
 * taken) is a block in one address-ordered list, so freeing merges with the
 * neighbours in O(1); free blocks also sit in power-of-two size bins with a
 * bitmap of non-empty bins, so taking is good-fit and near O(1).  It never
 * touches the arena's bytes.  Not thread-safe. */
#ifndef RAYC_RAYLET_OBJSTORE_ALLOC_H
#define RAYC_RAYLET_OBJSTORE_ALLOC_H

#include <stdint.h>

typedef struct objstore_alloc objstore_alloc;

/* One range of the arena.  Callers read OFF and SIZE; the rest is the
 * allocator's. */
typedef struct objstore_block {
    uint64_t off, size;
    struct objstore_block *prev, *next;     /* neighbours in address order */
    struct objstore_block *fprev, *fnext;   /* bin list, while free */
    int free;
    int bin;
} objstore_block;

/* Makes an allocator for [0, SIZE) handing out multiples of ALIGN (a power
 * of two; SIZE is rounded down to it).  Returns NULL when out of memory or
 * SIZE < ALIGN.  The caller frees it with objstore_alloc_free. */
objstore_alloc *objstore_alloc_new(uint64_t size, uint64_t align);

/* Frees A and every block (taken ones too).  NULL is fine. */
void objstore_alloc_free(objstore_alloc *a);

/* Takes a range of SIZE bytes (rounded up to the alignment; SIZE > 0) and
 * stores its block in *OUT, owned by the allocator and valid until
 * objstore_alloc_put.  Returns 0, -ENOSPC when no free range is big
 * enough, or -ENOMEM. */
int objstore_alloc_take(objstore_alloc *a, uint64_t size, objstore_block **out);

/* Gives block B (from objstore_alloc_take) back; B is invalid afterwards. */
void objstore_alloc_put(objstore_alloc *a, objstore_block *b);

/* SIZE rounded up to A's alignment (0 if that overflows). */
uint64_t objstore_alloc_round(const objstore_alloc *a, uint64_t size);

/* Bytes managed, bytes free now, and the biggest free range. */
uint64_t objstore_alloc_total(const objstore_alloc *a);
uint64_t objstore_alloc_free_bytes(const objstore_alloc *a);
uint64_t objstore_alloc_largest(const objstore_alloc *a);

#endif
