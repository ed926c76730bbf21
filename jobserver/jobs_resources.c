/* The node's resource ledger for job entrypoints. */
#include "jobserver/jobs_resources.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "common/res_map.h"

int jobs_resources_init(jobs_resources *r, double cpus, double gpus, double memory,
                        const char *custom_json)
{
    memset(r, 0, sizeof *r);
    r->cpus_total = cpus;
    r->gpus_total = gpus;
    r->memory_total = memory;
    if (custom_json == NULL)
        return 0;
    json_t *root = json_loads(custom_json, 0, NULL);
    if (!json_is_object(root)) {
        json_decref(root);
        return -EINVAL;
    }
    const char *key;
    json_t *v;
    int rc = 0;
    json_object_foreach(root, key, v) {
        if (!json_is_number(v) || json_number_value(v) < 0 || r->ncustom == JOBS_RES_MAX) {
            rc = -EINVAL;
            break;
        }
        if ((r->custom_names[r->ncustom] = strdup(key)) == NULL) {
            rc = -ENOMEM;
            break;
        }
        r->custom_total[r->ncustom++] = json_number_value(v);
    }
    json_decref(root);
    return rc;
}

void jobs_resources_free(jobs_resources *r)
{
    for (int i = 0; i < r->ncustom; i++)
        free(r->custom_names[i]);
    r->ncustom = 0;
}

static int custom_index(const jobs_resources *r, const char *name)
{
    for (int i = 0; i < r->ncustom; i++)
        if (strcmp(r->custom_names[i], name) == 0)
            return i;
    return -1;
}

/* Calls the check over REQ's custom resources: returns 0 when every one
 * passes.  MODE 0: free now; 1: fits the total; 2: take; 3: give back. */
static int walk_custom(jobs_resources *r, const char *json, int mode)
{
    if (json == NULL)
        return 0;
    json_t *root = json_loads(json, 0, NULL);
    if (!json_is_object(root)) {
        json_decref(root);
        return -EINVAL;
    }
    const char *key;
    json_t *v;
    int rc = 0;
    json_object_foreach(root, key, v) {
        double want = json_number_value(v);
        int i = custom_index(r, key);
        if (want <= 0)
            continue;
        double total = i < 0 ? 0.0 : r->custom_total[i];
        double used = i < 0 ? 0.0 : r->custom_used[i];
        if (mode <= 1 && !res_fits(mode == 0 ? total - used : total, want)) {
            rc = -EAGAIN;
            break;
        }
        if (i >= 0 && mode == 2)
            r->custom_used[i] += want;
        else if (i >= 0 && mode == 3)
            r->custom_used[i] -= want;
    }
    json_decref(root);
    return rc;
}

int jobs_resources_acquire(jobs_resources *r, const jobs_res_request *req)
{
    if (!res_fits(r->cpus_total - r->cpus_used, req->cpus) ||
        !res_fits(r->gpus_total - r->gpus_used, req->gpus) ||
        !res_fits(r->memory_total - r->memory_used, req->memory))
        return -EAGAIN;
    int rc = walk_custom(r, req->custom_json, 0);
    if (rc != 0)
        return rc;
    walk_custom(r, req->custom_json, 2);
    r->cpus_used += req->cpus;
    r->gpus_used += req->gpus;
    r->memory_used += req->memory;
    return 0;
}

void jobs_resources_release(jobs_resources *r, const jobs_res_request *req)
{
    walk_custom(r, req->custom_json, 3);
    r->cpus_used -= req->cpus;
    r->gpus_used -= req->gpus;
    r->memory_used -= req->memory;
}

int jobs_resources_infeasible(const jobs_resources *r, const jobs_res_request *req)
{
    if (!res_fits(r->cpus_total, req->cpus) || !res_fits(r->gpus_total, req->gpus) ||
        !res_fits(r->memory_total, req->memory))
        return 1;
    return walk_custom((jobs_resources *)r, req->custom_json, 1) != 0;
}
