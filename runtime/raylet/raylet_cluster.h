/* The multi-node parts of a raylet, hung off raylet.cluster:
 *
 *   cluster_view.c   the other nodes and their resources (from the GCS)
 *   peer.c           outgoing connections to other raylets
 *   objmgr_*.c       pulling objects from other nodes, serving pulls
 *   sched_remote.c   forwarding tasks to other nodes, their results
 *
 * raylet_cluster.c opens and closes them together and passes events
 * between them. */
#ifndef RAYC_RAYLET_RAYLET_CLUSTER_H
#define RAYC_RAYLET_RAYLET_CLUSTER_H

#include "raylet/raylet.h"

struct cview;
struct peer;
struct objmgr;
struct sched_remote;

typedef struct raylet_cluster {
    struct cview *view;
    struct peer *peers;            /* live outgoing connections */
    struct objmgr *om;
    struct sched_remote *sr;
    struct ractor_table *ra;       /* actor_remote.c: actors of other nodes */
} raylet_cluster;

/* R's cluster state (never NULL after raylet_cluster_open). */
raylet_cluster *raylet_cluster_of(raylet *r);

/* Opens every multi-node module.  Returns 0 or a negative error with ERR set. */
int raylet_cluster_open(raylet *r, char *err, size_t errlen);

/* Closes their handles and connections (teardown), then frees them. */
void raylet_cluster_close(raylet *r);
void raylet_cluster_free(raylet *r);

/* The view got a fresh node table. */
void raylet_cluster_view_changed(raylet *r);

/* Outgoing connection P closed (REASON); its calls were failed already. */
void raylet_cluster_peer_closed(raylet *r, struct peer *p, const char *reason);

#endif
