/* Internals shared by otable.c and otable_store.c. */
#ifndef RAYC_RAYLET_OTABLE_INT_H
#define RAYC_RAYLET_OTABLE_INT_H

#include <uv.h>

#include "raylet/otable.h"

/* A CreateObject that found the store full, retried until its deadline. */
typedef struct otable_parked {
    raylet_client *cl;             /* referenced */
    uint64_t req_id;
    ids_object id;
    uint64_t size;
    int64_t deadline_ms;
    struct otable_parked *next;
} otable_parked;

typedef struct otable {
    htab objs;                     /* otable_obj.link by id */
    otable_parked *parked;
    uv_timer_t retry_timer;
    int64_t full_grace_ms;
} otable;

/* Frees every record (teardown). */
void otable__free_all(raylet *r);

/* Releases every object owned by CL. */
void otable__release_owned(raylet *r, raylet_client *cl);

/* Store memory may have been freed: retry parked creates soon. */
void otable__store_changed(raylet *r);

#endif
