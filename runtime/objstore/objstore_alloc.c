/* objstore_alloc: address-ordered blocks with size-binned free lists. */
#include "objstore/objstore_alloc.h"

#include <errno.h>
#include <stdlib.h>

#define BINS 64
/* How many blocks of the request's own bin are tried before a bigger bin
 * (whose blocks all fit) is used; bounds the cost of a take. */
#define BIN_SCAN 16

struct objstore_alloc {
    uint64_t total, free_bytes, align;
    uint64_t nonempty;              /* bit i: bins[i] has a block */
    objstore_block *bins[BINS];     /* bin i: free sizes in [2^i, 2^(i+1)) */
    objstore_block *first;          /* lowest address */
};

/* ---------------------------------------------------------------- bins */

static int bin_of(uint64_t size)
{
    return 63 - __builtin_clzll(size);
}

static void bin_insert(objstore_alloc *a, objstore_block *b)
{
    b->free = 1;
    b->bin = bin_of(b->size);
    b->fprev = NULL;
    b->fnext = a->bins[b->bin];
    if (b->fnext != NULL)
        b->fnext->fprev = b;
    a->bins[b->bin] = b;
    a->nonempty |= 1ull << b->bin;
}

static void bin_remove(objstore_alloc *a, objstore_block *b)
{
    if (b->fprev != NULL)
        b->fprev->fnext = b->fnext;
    else
        a->bins[b->bin] = b->fnext;
    if (b->fnext != NULL)
        b->fnext->fprev = b->fprev;
    if (a->bins[b->bin] == NULL)
        a->nonempty &= ~(1ull << b->bin);
    b->fprev = b->fnext = NULL;
    b->free = 0;
}

/* First block of bin BIN that holds NEED bytes, looking at most at LIMIT. */
static objstore_block *bin_scan(const objstore_alloc *a, int bin, uint64_t need, unsigned limit)
{
    for (objstore_block *b = a->bins[bin]; b != NULL && limit > 0; b = b->fnext, limit--)
        if (b->size >= need)
            return b;
    return NULL;
}

/* A free block of at least NEED bytes, or NULL. */
static objstore_block *find_fit(const objstore_alloc *a, uint64_t need)
{
    int bin = bin_of(need);
    objstore_block *b = bin_scan(a, bin, need, BIN_SCAN);
    if (b != NULL)
        return b;
    uint64_t bigger = bin == 63 ? 0 : a->nonempty & ~((2ull << bin) - 1);
    if (bigger != 0)
        return a->bins[__builtin_ctzll(bigger)];
    return bin_scan(a, bin, need, ~0u);
}

/* ---------------------------------------------------------------- the API */

objstore_alloc *objstore_alloc_new(uint64_t size, uint64_t align)
{
    if (align == 0 || (align & (align - 1)) != 0 || size < align)
        return NULL;
    objstore_alloc *a = calloc(1, sizeof *a);
    objstore_block *b = calloc(1, sizeof *b);
    if (a == NULL || b == NULL) {
        free(a);
        free(b);
        return NULL;
    }
    a->align = align;
    a->total = a->free_bytes = size & ~(align - 1);
    b->size = a->total;
    a->first = b;
    bin_insert(a, b);
    return a;
}

void objstore_alloc_free(objstore_alloc *a)
{
    if (a == NULL)
        return;
    for (objstore_block *b = a->first, *next; b != NULL; b = next) {
        next = b->next;
        free(b);
    }
    free(a);
}

uint64_t objstore_alloc_round(const objstore_alloc *a, uint64_t size)
{
    if (size > UINT64_MAX - (a->align - 1))
        return 0;
    return (size + a->align - 1) & ~(a->align - 1);
}

int objstore_alloc_take(objstore_alloc *a, uint64_t size, objstore_block **out)
{
    uint64_t need = objstore_alloc_round(a, size);
    if (need == 0 || need > a->free_bytes)
        return -ENOSPC;
    objstore_block *b = find_fit(a, need);
    if (b == NULL)
        return -ENOSPC;
    if (b->size > need) {
        objstore_block *rest = calloc(1, sizeof *rest);
        if (rest == NULL)
            return -ENOMEM;
        bin_remove(a, b);
        rest->off = b->off + need;
        rest->size = b->size - need;
        rest->prev = b;
        rest->next = b->next;
        if (b->next != NULL)
            b->next->prev = rest;
        b->next = rest;
        b->size = need;
        bin_insert(a, rest);
    } else {
        bin_remove(a, b);
    }
    a->free_bytes -= need;
    *out = b;
    return 0;
}

/* Removes B's address-order successor (out of any bin already) from the
 * list and gives its bytes to B. */
static void merge_next(objstore_block *b)
{
    objstore_block *n = b->next;
    b->size += n->size;
    b->next = n->next;
    if (n->next != NULL)
        n->next->prev = b;
    free(n);
}

void objstore_alloc_put(objstore_alloc *a, objstore_block *b)
{
    a->free_bytes += b->size;
    if (b->next != NULL && b->next->free) {
        bin_remove(a, b->next);
        merge_next(b);
    }
    if (b->prev != NULL && b->prev->free) {
        b = b->prev;
        bin_remove(a, b);
        merge_next(b);
    }
    bin_insert(a, b);
}

uint64_t objstore_alloc_total(const objstore_alloc *a)
{
    return a->total;
}

uint64_t objstore_alloc_free_bytes(const objstore_alloc *a)
{
    return a->free_bytes;
}

uint64_t objstore_alloc_largest(const objstore_alloc *a)
{
    if (a->nonempty == 0)
        return 0;
    uint64_t best = 0;
    int bin = 63 - __builtin_clzll(a->nonempty);
    for (const objstore_block *b = a->bins[bin]; b != NULL; b = b->fnext)
        if (b->size > best)
            best = b->size;
    return best;
}
