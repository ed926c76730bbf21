/* Internals shared by the actor_*.c files. */
#ifndef RAYC_RAYLET_ACTOR_INT_H
#define RAYC_RAYLET_ACTOR_INT_H

#include "raylet/actor.h"

typedef struct actor_table {
    htab index;                    /* actor.link by id */
    size_t nlive;
    actor *all;                    /* every record (all_next) */
    actor **pending;               /* PENDING actors waiting for resources */
    size_t npending, apending;
} actor_table;

/* Tries to start A (PENDING): resources, then a worker.  Returns 1 when it
 * got its resources (it is on its way), 0 when it must wait. */
int actor__start(raylet *r, actor *a);

/* A dies for good with STATUS and REASON: calls fail, resources and name go,
 * its worker is stopped. */
void actor__die(raylet *r, actor *a, int status, const char *reason);

/* Sends the calls at the head of A's queue whose arguments are ready. */
void actor__pump(raylet *r, actor *a);

/* Fails every queued and sent call of A with STATUS and MSG. */
void actor__fail_calls(raylet *r, actor *a, int status, const char *msg);

/* Moves A's sent calls back to its queue (or fails those out of retries)
 * after its worker died. */
void actor__requeue_sent(raylet *r, actor *a, const char *why);

/* Finds a live (not DEAD) actor of namespace NS named NAME. */
actor *actor__find_named(raylet *r, const char *ns, const char *name);

/* Registers A's name at the GCS; continues with actor__named. */
void actor__name_register(raylet *r, actor *a);

/* The name of A is settled: OK (registered or kept local), or taken. */
void actor__named(raylet *r, actor *a, int ok, const ids_actor *existing, const char *error);

/* Removes A's name from the GCS. */
void actor__name_remove(raylet *r, actor *a);

/* Pushes the creation result of A to its creator: the actor's id (or
 * EXISTING's for get_if_exists), or an error. */
void actor__push_created(raylet *r, actor *a, const ids_actor *id, int status, const char *msg);

#endif
