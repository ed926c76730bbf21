/* The GCS's in-memory node table: registration order plus a hash index. */
#include "gcs/gcs_server.h"

#include <stdlib.h>
#include <string.h>

/* FNV-1a over the node id. */
static size_t id_hash(const char *id)
{
    uint64_t h = 1469598103934665603ull;
    for (; *id; id++)
        h = (h ^ (unsigned char)*id) * 1099511628211ull;
    return (size_t)h;
}

/* The slot holding ID, or the empty slot where it would go. */
static size_t slot_of(gcs_node *const *slots, size_t nslots, const char *id)
{
    size_t i = id_hash(id) & (nslots - 1);
    while (slots[i] != NULL && strcmp(slots[i]->info->node_id, id) != 0)
        i = (i + 1) & (nslots - 1);
    return i;
}

gcs_node *gcs_node_table_find(const gcs_node_table *t, const char *id)
{
    if (t->nslots == 0)
        return NULL;
    return t->slots[slot_of(t->slots, t->nslots, id)];
}

/* Rebuilds the index with NSLOTS slots (a power of two). */
static int rehash(gcs_node_table *t, size_t nslots)
{
    gcs_node **slots = calloc(nslots, sizeof *slots);
    if (slots == NULL)
        return -1;
    for (size_t i = 0; i < t->n; i++)
        slots[slot_of(slots, nslots, t->list[i]->info->node_id)] = t->list[i];
    free(t->slots);
    t->slots = slots;
    t->nslots = nslots;
    return 0;
}

/* Makes room for one more node in the list and keeps the index at most half full. */
static int reserve_one(gcs_node_table *t)
{
    if (t->n == t->alloc) {
        size_t n = t->alloc ? 2 * t->alloc : 64;
        gcs_node **list = realloc(t->list, n * sizeof *list);
        if (list == NULL)
            return -1;
        t->list = list;
        t->alloc = n;
    }
    if (2 * (t->n + 1) > t->nslots)
        return rehash(t, t->nslots ? 2 * t->nslots : 128);
    return 0;
}

gcs_node *gcs_node_table_add(gcs_node_table *t, Rayc__NodeInfo *info)
{
    gcs_node *n = calloc(1, sizeof *n);
    if (n == NULL || reserve_one(t) != 0) {
        free(n);
        return NULL;
    }
    n->info = info;
    t->list[t->n++] = n;
    t->slots[slot_of(t->slots, t->nslots, info->node_id)] = n;
    return n;
}

void gcs_node_set_info(gcs_node *n, Rayc__NodeInfo *info)
{
    rayc__node_info__free_unpacked(n->info, NULL);
    n->info = info;
}

void gcs_node_table_free(gcs_node_table *t)
{
    for (size_t i = 0; i < t->n; i++) {
        rayc__node_info__free_unpacked(t->list[i]->info, NULL);
        free(t->list[i]);
    }
    free(t->list);
    free(t->slots);
    memset(t, 0, sizeof *t);
}
