/* A node's resource totals and labels: detection results, command-line
 * overrides and the user's --resources / --labels JSON, merged like Ray's
 * ResourceSpec. */
#ifndef RAYC_RAYLET_RES_SPEC_H
#define RAYC_RAYLET_RES_SPEC_H

#include <stddef.h>
#include <stdint.h>

#include "raylet/res_detect.h"
#include "raylet/res_map.h"

/* Longest --resources or --labels text accepted, in bytes. */
#define RES_JSON_MAX (64 * 1024)

/* What the command line asked for; -1 means "detect". */
typedef struct res_request {
    long num_cpus;
    long num_gpus;
    int64_t memory;                /* bytes */
    int64_t object_store_memory;   /* bytes */
    const char *node_ip;           /* gives the node:<ip> resource */
    int is_head;                   /* adds node:__internal_head__ */
} res_request;

/* Parses --resources: a JSON object of non-negative finite numbers, e.g.
 * {"accel": 2, "disk_ssd": 0.5}.  CPU, GPU, memory and object_store_memory
 * are refused (they have their own flags, as in Ray), as are names starting
 * with "node:" (set by the raylet itself).  Entries are added to OUT.
 * Returns 0, or -EINVAL with one line in ERR; OUT may then hold part of the
 * entries and must be freed by the caller either way. */
int res_parse_resources_json(const char *json, res_map *out, char *err, size_t errlen);

/* Parses --labels: a JSON object of strings, e.g. {"zone": "us-east-1a"}.
 * Keys starting with "ray.io/" are reserved for Ray's own labels and refused.
 * Same return and ownership rules as res_parse_resources_json. */
int res_parse_labels_json(const char *json, res_labels *out, char *err, size_t errlen);

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

/* Writes "CPU=4 memory=1.2e+10 ..." into OUT for log lines. */
void res_map_format(const res_map *m, char *out, size_t outlen);

#endif
