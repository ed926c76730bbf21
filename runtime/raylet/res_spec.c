/* A node's resource totals and labels, merged like Ray's ResourceSpec. */
#include "raylet/res_spec.h"

#include <stdio.h>

int res_default_labels(res_labels *l, const char *node_id)
{
    return res_labels_set(l, "ray.io/node-id", node_id);
}

/* ---------------------------------------------------------------- totals */

/* Sets NAME to QTY unless QTY is 0. */
static int set_nonzero(res_map *m, const char *name, double qty)
{
    return qty > 0 ? res_map_set(m, name, qty) : 0;
}

/* The detected-or-requested quantities of the four standard resources. */
static int build_standard(const res_request *req, const res_detected *det, res_map *out)
{
    uint64_t mem = req->memory >= 0 ? (uint64_t)req->memory : res_default_memory(det->mem_total);
    uint64_t store = req->object_store_memory >= 0
                         ? (uint64_t)req->object_store_memory
                         : res_default_object_store(det->mem_available, det->shm_free,
                                                    det->shm_known);
    int rc = set_nonzero(out, "CPU", (double)(req->num_cpus >= 0 ? req->num_cpus : det->cpus));
    if (rc == 0)
        rc = set_nonzero(out, "GPU", (double)(req->num_gpus >= 0 ? req->num_gpus : det->gpus));
    if (rc == 0)
        rc = set_nonzero(out, "memory", (double)mem);
    if (rc == 0)
        rc = set_nonzero(out, "object_store_memory", (double)store);
    return rc;
}

int res_build_totals(const res_request *req, const res_detected *det,
                     const res_map *custom, res_map *out)
{
    int rc = build_standard(req, det, out);
    char name[RES_NAME_MAX + 1];
    if (rc == 0 && req->node_ip != NULL) {
        snprintf(name, sizeof name, "node:%s", req->node_ip);
        rc = res_map_set(out, name, 1);
    }
    if (rc == 0 && req->is_head)
        rc = res_map_set(out, "node:__internal_head__", 1);
    for (size_t i = 0; rc == 0 && custom != NULL && i < custom->len; i++)
        rc = set_nonzero(out, custom->items[i].name, custom->items[i].qty);
    return rc;
}
