/* A bump allocator for protobuf-c unpacking (see pb_arena.h). */
#include "common/pb_arena.h"

#include <stdint.h>
#include <stdlib.h>

#define PB_CHUNK_MIN (64 * 1024)

struct pb_chunk {
    pb_chunk *next;
    size_t size, used;             /* bytes of data[] */
    _Alignas(16) unsigned char data[];
};

static void *arena_alloc(void *data, size_t size)
{
    pb_arena *a = data;
    size = (size + 15) & ~(size_t)15;
    pb_chunk *c = a->chunks;
    if (c == NULL || c->size - c->used < size) {
        size_t n = size > PB_CHUNK_MIN ? size : PB_CHUNK_MIN;
        if (c != NULL && n < c->size * 2 && size <= SIZE_MAX / 4)
            n = c->size * 2;    /* a big message needs few chunks */
        pb_chunk *nc = malloc(sizeof *nc + n);
        if (nc == NULL)
            return NULL;
        nc->next = c;
        nc->size = n;
        nc->used = 0;
        a->chunks = c = nc;
    }
    void *p = c->data + c->used;
    c->used += size;
    return p;
}

static void arena_free(void *data, void *p)
{
    (void)data;
    (void)p; /* everything goes at reset */
}

void pb_arena_init(pb_arena *a, size_t max_kept)
{
    a->alloc.alloc = arena_alloc;
    a->alloc.free = arena_free;
    a->alloc.allocator_data = a;
    a->chunks = NULL;
    a->kept = 0;
    a->max_kept = max_kept;
}

void pb_arena_reset(pb_arena *a)
{
    /* Keep one chunk as big as the last message needed in all (when that
     * is at most max_kept): the next message of the same kind fits in it
     * without a malloc. */
    size_t total = 0, n = 0;
    for (pb_chunk *c = a->chunks; c != NULL; c = c->next, n++)
        total += c->size;
    pb_chunk *keep = n == 1 && total <= a->max_kept ? a->chunks : NULL;
    pb_chunk *c = a->chunks;
    while (c != NULL) {
        pb_chunk *next = c->next;
        if (c != keep)
            free(c);
        c = next;
    }
    if (keep == NULL && n > 1 && total <= a->max_kept && (keep = malloc(sizeof *keep + total)))
        keep->size = total;
    if (keep != NULL) {
        keep->next = NULL;
        keep->used = 0;
    }
    a->chunks = keep;
    a->kept = keep ? keep->size : 0;
}

void pb_arena_free(pb_arena *a)
{
    a->max_kept = 0;
    pb_arena_reset(a);
}
