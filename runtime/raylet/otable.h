/* The raylet's object table: every object of the node that a task result,
 * a store put or a pending task refers to, and the node's object store.
 *
 * An object is PENDING until its task ends (or, for a put, until sealed),
 * then READY (an inline value, or in the store) or FAILED (the task's error).
 * Its owner is the client that submitted the task or put it; the object is
 * freed when the owner released it (or is gone) and no pending task uses it.
 * Tasks waiting for a PENDING object are woken by sched_dep_done. */
#ifndef RAYC_RAYLET_OTABLE_H
#define RAYC_RAYLET_OTABLE_H

#include <stdint.h>

#include "common/htab.h"
#include "common/ids.h"
#include "raylet/raylet.h"

enum otable_state { OTABLE_PENDING = 0, OTABLE_READY = 1, OTABLE_FAILED = 2 };

struct sched_task;

typedef struct otable_obj {
    ids_object id;
    htab_node link;                /* in the table, by id */
    uint8_t state;                 /* otable_state */
    uint8_t type;                  /* ray_type */
    uint8_t in_store;              /* the value is in the store (size bytes) */
    uint8_t released;              /* the owner dropped it */
    uint8_t store_created;         /* a store object exists (maybe unsealed) */
    uint8_t store_sealed;
    uint64_t size;
    uint8_t *data;                 /* inline value */
    size_t len;
    int status;                    /* OTABLE_FAILED */
    char *error;
    uint32_t uses;                 /* pending tasks and actors that need it */
    raylet_client *owner;          /* referenced; may be dead */
    struct sched_task **waiters;   /* tasks waiting for it to leave PENDING */
    uint32_t nwaiters, awaiters;
} otable_obj;

/* A pin a client holds on a store object (GetObject), released by
 * ReleaseObjects{unpin} or when the client goes. */
typedef struct otable_pin {
    ids_object id;
    struct otable_pin *next;
} otable_pin;

/* Opens the table and the node's object store (capacity: the node's
 * object_store_memory).  Returns 0 or a negative error with ERR set. */
int otable_open(raylet *r, char *err, size_t errlen);

/* Closes the table's handles (teardown), then (after the loop) frees every
 * record and closes the store, removing its files. */
void otable_close(raylet *r);
void otable_free(raylet *r);

otable_obj *otable_find(raylet *r, const ids_object *id);

/* Adds a PENDING object owned by OWNER.  Returns it, or NULL when out of
 * memory.  An existing record is returned as is. */
otable_obj *otable_add(raylet *r, const ids_object *id, raylet_client *owner);

/* Marks O READY with an inline value (copied) or a store object of SIZE;
 * wakes its waiters.  Returns 0 or -ENOMEM (then O is FAILED). */
int otable_set_inline(raylet *r, otable_obj *o, int type, const void *data, size_t len);
void otable_set_store(raylet *r, otable_obj *o, int type, uint64_t size);

/* Marks O FAILED with STATUS and MSG; wakes its waiters. */
void otable_set_failed(raylet *r, otable_obj *o, int status, const char *msg);

/* A pending task starts or stops needing O.  The last unuse of a released
 * object frees it. */
void otable_use(otable_obj *o);
void otable_unuse(raylet *r, otable_obj *o);

/* TASK waits for O to leave PENDING.  Returns 0 or -ENOMEM. */
int otable_wait(otable_obj *o, struct sched_task *task);
/* Forgets TASK as a waiter of O (it was cancelled). */
void otable_unwait(otable_obj *o, struct sched_task *task);

/* The owner released O: freed now unless a task still needs it. */
void otable_release(raylet *r, otable_obj *o);

/* Drops a store object that a failed task created for O (not sealed as a
 * result): O keeps its state. */
void otable_drop_store(raylet *r, otable_obj *o);

/* Pins O's store object for a task: fills PATH.  Returns 0 or a ray_status
 * with MSG set. */
int otable_pin_for_task(raylet *r, otable_obj *o, char *path, size_t pathlen, char *msg,
                        size_t msglen);
void otable_unpin_for_task(raylet *r, const ids_object *id);

/* Client requests (raylet_local.c routes them here). */
void otable_on_create(raylet_client *cl, uint64_t req_id, const Rayc__CreateObject *m);
void otable_on_seal(raylet_client *cl, uint64_t req_id, const Rayc__SealObject *m);
void otable_on_adopt(raylet_client *cl, const Rayc__AdoptObjects *m);
void otable_on_pending(raylet_client *cl, const Rayc__ObjectPending *m);
void otable_on_value(raylet_client *cl, const Rayc__ObjectValue *m);
void otable_on_get(raylet_client *cl, uint64_t req_id, const Rayc__GetObject *m);
void otable_on_release(raylet_client *cl, const Rayc__ReleaseObjects *m);

/* CL is gone: its pins are released, the objects it owns released. */
void otable_client_gone(raylet *r, raylet_client *cl);

/* Number of objects in the table. */
size_t otable_count(raylet *r);

/* Calls FN for every object of the table; FN must not add or free any. */
void otable_foreach(raylet *r, void (*fn)(otable_obj *o, void *arg), void *arg);

/* Sets the node's available object_store_memory from the store's use
 * (for the resource report). */
void otable_report_usage(raylet *r);

/* Periodic work (every second): retries creates parked on a full store. */
void otable_tick(raylet *r);

#endif
