/* Opens and closes the multi-node modules together and passes events
 * between them (raylet_cluster.h). */
#include "raylet/raylet_cluster.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "raylet/actor_remote.h"
#include "raylet/cluster_view.h"
#include "raylet/objmgr.h"
#include "raylet/peer.h"
#include "raylet/sched_remote.h"

/* In sched_remote.c: forwarded tasks of a closed peer are retried or fail. */
void sched_remote_peer_closed(raylet *r, peer *p, const char *reason);

raylet_cluster *raylet_cluster_of(raylet *r)
{
    return r->cluster;
}

int raylet_cluster_open(raylet *r, char *err, size_t errlen)
{
    r->cluster = calloc(1, sizeof *r->cluster);
    int rc = r->cluster ? 0 : -ENOMEM;
    if (rc == 0)
        rc = objmgr_open(r);
    if (rc == 0)
        rc = sched_remote_open(r);
    if (rc == 0)
        rc = cview_open(r);
    if (rc != 0)
        snprintf(err, errlen, "cannot open the cluster modules: %s", rc == -ENOMEM
                 ? "out of memory" : uv_strerror(rc));
    return rc;
}

void raylet_cluster_close(raylet *r)
{
    if (r->cluster == NULL)
        return;
    cview_close(r);
    actor_remote_close(r);
    peer_close_all(r);
}

void raylet_cluster_free(raylet *r)
{
    if (r->cluster == NULL)
        return;
    cview_free(r);
    objmgr_free(r);
    sched_remote_free(r);
    actor_remote_free(r);
    free(r->cluster);
    r->cluster = NULL;
}

void raylet_cluster_view_changed(raylet *r)
{
    /* Forwarded tasks notice a dead node through their connection; tasks
     * no node could run may fit one that joined, and tasks parked for a
     * placement group's bundle may see it now. */
    sched_park_retry(r);
}

void raylet_cluster_peer_closed(raylet *r, peer *p, const char *reason)
{
    cview *v = raylet_cluster_of(r)->view;
    /* A node that accepted the connection and then refused the handshake
     * (a Hello deadline missed while our loop was busy, a wrong token) is
     * alive: only a lost working connection or a refused connect makes it
     * suspect until the GCS says more. */
    int evidence = !p->closed_here && !p->closed_in_hello;
    for (size_t i = 0; evidence && !r->stopping && v != NULL && i < v->n; i++)
        if (v->nodes[i].port == p->port && strcmp(v->nodes[i].ip, p->ip) == 0)
            cview_suspect(r, v->nodes[i].id);
    sched_remote_peer_closed(r, p, reason);
}
