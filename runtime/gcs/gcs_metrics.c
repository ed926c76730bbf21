/* gcs_metrics: the GCS's Prometheus endpoint — nodes alive and dead,
 * placement groups by state, connected clients. */
#include "gcs/gcs_server.h"

#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/prom_http.h"
#include "common/util.h"
#include "gcs/gcs_pg.h"

#define PORT_FILE "gcs_metrics.port"

static void labels(const gcs_server *srv, prom_text *t, const char *extra)
{
    prom_text_printf(t, "{%s%sComponent=\"gcs_server\",SessionName=\"", extra ? extra : "",
                     extra ? "," : "");
    prom_text_label(t, srv->session_name);
    prom_text_printf(t, "\"}");
}

static void render_cb(void *arg, prom_text *t)
{
    gcs_server *srv = arg;
    long alive[2] = {0, 0}, dead = 0;
    for (size_t i = 0; i < srv->nodes.n; i++) {
        const Rayc__NodeInfo *ni = srv->nodes.list[i]->info;
        if (ni->state == RAYC__NODE_INFO__STATE__ALIVE)
            alive[ni->is_head ? 0 : 1]++;
        else
            dead++;
    }
    prom_text_gauge(t, "ray_cluster_active_nodes", "Alive nodes by type.");
    prom_text_printf(t, "ray_cluster_active_nodes");
    labels(srv, t, "NodeType=\"head\"");
    prom_text_printf(t, " %ld\nray_cluster_active_nodes", alive[0]);
    labels(srv, t, "NodeType=\"worker\"");
    prom_text_printf(t, " %ld\n", alive[1]);
    prom_text_gauge(t, "ray_cluster_failed_nodes", "Nodes the GCS has marked dead.");
    prom_text_printf(t, "ray_cluster_failed_nodes");
    labels(srv, t, NULL);
    prom_text_printf(t, " %ld\n", dead);
    long pg[3] = {0, 0, 0};
    for (const gcs_pg *g = srv->pgs ? srv->pgs->head : NULL; g != NULL; g = g->next)
        if ((int)g->info->state >= 0 && (int)g->info->state < 3)
            pg[g->info->state]++;
    static const char *const names[] = {"PENDING", "CREATED", "REMOVED"};
    prom_text_gauge(t, "ray_gcs_placement_group_count", "Placement groups by state.");
    for (int i = 0; i < 3; i++) {
        char extra[32];
        snprintf(extra, sizeof extra, "State=\"%s\"", names[i]);
        prom_text_printf(t, "ray_gcs_placement_group_count");
        labels(srv, t, extra);
        prom_text_printf(t, " %ld\n", pg[i]);
    }
    prom_text_gauge(t, "ray_gcs_connected_clients", "Open connections to the GCS.");
    prom_text_printf(t, "ray_gcs_connected_clients");
    labels(srv, t, NULL);
    prom_text_printf(t, " %zu\n", srv->nclients);
}

void gcs_metrics_start(gcs_server *srv)
{
    char err[256], dir[PATH_MAX], path[PATH_MAX + 32], text[16];
    int port = 0;
    if (prom_http_start(srv->loop, "0.0.0.0", srv->cfg.metrics_port, render_cb, srv,
                        &srv->metrics, &port, err, sizeof err) != 0) {
        log_warn("no GCS metrics: %s", err);
        return;
    }
    str_copy(dir, sizeof dir, srv->cfg.db_path);
    snprintf(path, sizeof path, "%s/" PORT_FILE, dirname(dir));
    int n = snprintf(text, sizeof text, "%d\n", port);
    if (fs_write_file(path, text, (size_t)n, 0644) != 0)
        log_warn("cannot write %s", path);
    log_info("serving Prometheus metrics on port %d", port);
}

void gcs_metrics_stop(gcs_server *srv)
{
    prom_http_close(srv->metrics);
    srv->metrics = NULL;
}
