/* Parsing the --resources and --labels JSON objects into resource maps and
 * labels; the raylet and `ray start` read them, the checks are Ray's. */
#ifndef RAYC_COMMON_RES_JSON_H
#define RAYC_COMMON_RES_JSON_H

#include <stddef.h>

#include "common/res_map.h"

/* Longest --resources or --labels text accepted, in bytes. */
#define RES_JSON_MAX (64 * 1024)

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

#endif
