/* The node's resource ledger for job entrypoints: what this node has and what
 * running entrypoints hold (entrypoint_num_cpus/gpus/memory/resources). */
#ifndef RAYC_JOBSERVER_JOBS_RESOURCES_H
#define RAYC_JOBSERVER_JOBS_RESOURCES_H

#include <stddef.h>
#include <stdint.h>

#define JOBS_RES_MAX 32        /* distinct custom resources tracked */

typedef struct jobs_resources {
    double cpus_total, cpus_used;
    double gpus_total, gpus_used;
    double memory_total, memory_used;     /* bytes */
    int ncustom;
    char *custom_names[JOBS_RES_MAX];
    double custom_total[JOBS_RES_MAX];
    double custom_used[JOBS_RES_MAX];
} jobs_resources;

typedef struct jobs_res_request {
    double cpus;
    double gpus;
    double memory;
    const char *custom_json;   /* {"name": amount} or NULL */
} jobs_res_request;

/* Sets the totals: CPUS, GPUS, MEMORY (bytes) and CUSTOM_JSON ({"name":
 * amount}, may be NULL).  Returns 0, -EINVAL for bad JSON, -ENOMEM. */
int jobs_resources_init(jobs_resources *r, double cpus, double gpus, double memory,
                        const char *custom_json);

/* Frees what R holds. */
void jobs_resources_free(jobs_resources *r);

/* Takes REQ from the free amounts when all of it is free now.  Returns 0, or
 * -EAGAIN when something is short (nothing is taken), -EINVAL for bad JSON. */
int jobs_resources_acquire(jobs_resources *r, const jobs_res_request *req);

/* Gives back what an earlier successful acquire of REQ took. */
void jobs_resources_release(jobs_resources *r, const jobs_res_request *req);

/* True when REQ can never fit this node, even when idle. */
int jobs_resources_infeasible(const jobs_resources *r, const jobs_res_request *req);

#endif
