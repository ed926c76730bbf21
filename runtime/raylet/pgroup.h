/* pgroup: placement group bundles on this node.
 *
 * The GCS reserves a group's bundles in two phases on its raylet
 * connection (ray.proto, "placement groups"): PrepareBundles takes the
 * bundles' resources out of the node's plain pool (or is refused when they
 * do not fit), CommitBundles turns a prepared bundle I of group G into the
 * node resources "R_group_I_G" and "R_group_G" (plus the markers
 * "bundle_group_I_G" and "bundle_group_G", 1000 each), and ReturnBundles
 * gives them back.  Tasks and actors of G ask for those names (the client
 * library rewrites their requests), so the ordinary scheduler places them.
 *
 * The scheduler keeps resources by index in raylet.total, so group
 * resources are appended to total and available in step, and a returned
 * one becomes a free slot (empty name) that the next group reuses.
 *
 * Drivers' and workers' placement group requests (create, remove, get) are
 * passed to the GCS and its answers back (pgroup_client.c). */
#ifndef RAYC_RAYLET_PGROUP_H
#define RAYC_RAYLET_PGROUP_H

#include "common/ids.h"
#include "raylet/raylet.h"

/* Opens / frees the bundle table.  pgroup_open returns 0 or -ENOMEM. */
int pgroup_open(raylet *r);
void pgroup_free(raylet *r);

/* A request of the GCS (PrepareBundles, CommitBundles, ReturnBundles,
 * ReleaseUnusedBundles): handled and answered with MSG's request id.
 * Returns 1 when MSG was one, 0 otherwise. */
int pgroup_on_gcs_request(raylet *r, const Rayc__Envelope *msg);

/* A placement group request of a local client (CreatePlacementGroup,
 * RemovePlacementGroup, GetPlacementGroup, GetAllPlacementGroups): passed
 * to the GCS; the client gets its answer, or a reply with
 * RAY_ERR_CONNECTION when the GCS is not there.  Returns 1 when MSG was
 * one, 0 otherwise. */
int pgroup_on_client_request(raylet_client *cl, Rayc__Envelope *msg);

/* Asks the GCS whether group G still exists; when it was removed (or
 * never was), every task of G here fails (sched_group_removed).  For tasks
 * parked until some node shows their group's resources. */
void pgroup_check_exists(raylet *r, const ids_pg *g);

/* Number of bundles of group G held here (prepared or committed), for
 * logs and tests. */
size_t pgroup_bundles_of(raylet *r, const ids_pg *g);

/* True when the placement group id P (binary, from a TaskSpec) is G. */
int pgroup_id_eq(const ProtobufCBinaryData *p, const ids_pg *g);

/* The group of SPEC's placement group id in *G.  Returns 1 when SPEC
 * belongs to a group, 0 otherwise. */
int pgroup_of_spec(const Rayc__TaskSpec *spec, ids_pg *g);

#endif
