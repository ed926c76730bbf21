/* node_stats: what the raylet measures on its node — host CPU and memory,
 * object store use, tasks by state, workers, actors — for the periodic
 * report to the GCS (NodeStats) and the node's Prometheus endpoint. */
#ifndef RAYC_RAYLET_NODE_STATS_H
#define RAYC_RAYLET_NODE_STATS_H

#include "raylet/raylet.h"

/* Allocates R's stats state and takes a first CPU reading.  Returns 0 or
 * -ENOMEM. */
int node_stats_open(raylet *r);
void node_stats_close(raylet *r);

/* Measures now: CPU use since the previous sample (from /proc/stat),
 * memory (/proc/meminfo), store and task counts.  A /proc file that cannot
 * be read leaves its fields at their last value.  Never fails. */
void node_stats_sample(raylet *r);

/* The last sample, owned by R (valid until node_stats_close); NULL before
 * node_stats_open. */
Rayc__NodeStats *node_stats_last(const raylet *r);

/* Starts the Prometheus endpoint on the node's IP at PORT (0: a free
 * port); r->metrics_port is the bound port.  Returns 0 or a libuv error
 * with one line in ERR. */
int node_stats_serve(raylet *r, int port, char *err, size_t errlen);

#endif
