/* GCS node health: the silent-node check, the periodic write of available
 * resources, and loading the node table at startup. */
#include "gcs/gcs_server.h"

#include <inttypes.h>
#include <stdio.h>

#include "common/log.h"
#include "common/util.h"

void gcs_health_check(gcs_server *srv)
{
    int64_t now = time_mono_ms();
    for (size_t i = 0; i < srv->nodes.n; i++) {
        gcs_node *n = srv->nodes.list[i];
        int64_t silent = now - n->last_seen_ms;
        if (n->info->state == RAYC__NODE_INFO__STATE__DEAD || silent <= srv->cfg.health_timeout_ms)
            continue;
        char reason[128];
        snprintf(reason, sizeof reason,
                 "health check failed: no report for %" PRId64 " ms (timeout %" PRId64 " ms)",
                 silent, srv->cfg.health_timeout_ms);
        gcs_node_mark_dead(srv, n, reason);
    }
}

int gcs_health_flush(gcs_server *srv)
{
    size_t dirty = 0;
    for (size_t i = 0; i < srv->nodes.n; i++)
        dirty += srv->nodes.list[i]->dirty != 0;
    if (dirty == 0)
        return 0;
    int rc = gcs_store_begin(srv->store);
    if (rc == 0) {
        for (size_t i = 0; rc == 0 && i < srv->nodes.n; i++) {
            gcs_node *n = srv->nodes.list[i];
            if (n->dirty)
                rc = gcs_store_node_put(srv->store, n->info);
        }
        /* Commit even after a failed row: what was written stays written. */
        int crc = gcs_store_commit(srv->store);
        rc = rc ? rc : crc;
    }
    if (rc != 0) {
        log_error("cannot write available resources of %zu nodes: %s", dirty,
                  gcs_store_errmsg(srv->store));
        return rc; /* the nodes stay dirty: the next flush retries */
    }
    for (size_t i = 0; i < srv->nodes.n; i++)
        srv->nodes.list[i]->dirty = 0;
    return 0;
}

/* Adds one stored node to the table. */
static int load_one(Rayc__NodeInfo *info, void *data)
{
    gcs_server *srv = data;
    if (!gcs_valid_id(info->node_id) || gcs_node_table_find(&srv->nodes, info->node_id)) {
        rayc__node_info__free_unpacked(info, NULL);
        return 0;
    }
    gcs_node *n = gcs_node_table_add(&srv->nodes, info);
    if (n == NULL) {
        rayc__node_info__free_unpacked(info, NULL);
        return -1;
    }
    /* Raylets need time to find the restarted GCS: count from now. */
    n->last_seen_ms = time_mono_ms();
    return 0;
}

int gcs_health_load(gcs_server *srv)
{
    int rc = gcs_store_nodes_load(srv->store, load_one, srv);
    if (rc != 0)
        return rc;
    size_t alive = 0;
    for (size_t i = 0; i < srv->nodes.n; i++)
        alive += srv->nodes.list[i]->info->state == RAYC__NODE_INFO__STATE__ALIVE;
    log_info("loaded %zu nodes from the store (%zu alive, %zu dead)", srv->nodes.n, alive,
             srv->nodes.n - alive);
    return 0;
}
