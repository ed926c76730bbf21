/* A node's resource totals and labels: detection results, command-line
 * overrides and the user's --resources / --labels JSON (parsed by
 * common/res_json), merged like Ray's ResourceSpec. */
#ifndef RAYC_RAYLET_RES_SPEC_H
#define RAYC_RAYLET_RES_SPEC_H

#include <stddef.h>
#include <stdint.h>

#include "common/res_map.h"
#include "raylet/res_detect.h"

/* What the command line asked for; -1 means "detect". */
typedef struct res_request {
    long num_cpus;
    long num_gpus;
    int64_t memory;                /* bytes */
    int64_t object_store_memory;   /* bytes */
    const char *node_ip;           /* gives the node:<ip> resource */
    int is_head;                   /* adds node:__internal_head__ */
} res_request;

/* Adds Ray's default labels (ray.io/node-id = NODE_ID) to L.
 * Returns 0 or a negative res_labels_set error. */
int res_default_labels(res_labels *l, const char *node_id);

/* Builds the node's totals into OUT (which must be empty):
 *   CPU                  REQ->num_cpus, else DET->cpus
 *   GPU                  REQ->num_gpus, else DET->gpus
 *   memory               REQ->memory, else res_default_memory(DET->mem_total)
 *   object_store_memory  REQ->object_store_memory, else
 *                        res_default_object_store(DET->mem_available, shm)
 *   node:<ip>            1;  node:__internal_head__ 1 on the head
 *   CUSTOM               every entry (may be NULL)
 * Entries whose quantity is 0 are left out, as a zero-capacity resource is
 * the same as none to the scheduler.  Returns 0 or -ENOMEM / -E2BIG. */
int res_build_totals(const res_request *req, const res_detected *det,
                     const res_map *custom, res_map *out);

#endif
