/* The GCS's in-memory node table: registration order plus a hash index. */
#include "gcs/gcs_server.h"

#include <stdlib.h>
#include <string.h>

static int node_eq(const htab_node *link, const void *id)
{
    return strcmp(htab_entry(link, gcs_node, link)->info->node_id, id) == 0;
}

gcs_node *gcs_node_table_find(const gcs_node_table *t, const char *id)
{
    htab_node *link = htab_find(&t->index, htab_hash_str(id), id, node_eq);
    return link ? htab_entry(link, gcs_node, link) : NULL;
}

/* Makes room for one more node in the list. */
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
    return 0;
}

gcs_node *gcs_node_table_add(gcs_node_table *t, Rayc__NodeInfo *info)
{
    gcs_node *n = calloc(1, sizeof *n);
    if (n == NULL || reserve_one(t) != 0 ||
        htab_insert(&t->index, &n->link, htab_hash_str(info->node_id)) != 0) {
        free(n);
        return NULL;
    }
    n->info = info;
    t->list[t->n++] = n;
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
    htab_free(&t->index);
    memset(t, 0, sizeof *t);
}
