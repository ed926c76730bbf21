/* ray_serve_proxy: Serve's HTTP proxy of one node, in C.
 *
 * It is a libray driver in namespace "serve".  A table thread asks the
 * Serve controller (a Python actor) for the routes and their running
 * replicas every SP_TABLE_PERIOD_MS; libmicrohttpd's connection threads
 * match a request's path to the longest route prefix, pick a replica by
 * power of two choices on this proxy's calls in flight (never more than
 * the deployment's max_ongoing_requests to one replica) and call the
 * replica's handle_http_raw method with plain str/bytes arguments (the
 * Python worker's raw-call convention, ray._private.worker.RAW_CALL).
 * The answer is bytes: "STATUS\n", "name: value\n" lines, "\n", body. */
#ifndef RAYC_SERVE_SP_H
#define RAYC_SERVE_SP_H

#include <pthread.h>
#include <stddef.h>

#include "ray/ray.h"

#define SP_TABLE_PERIOD_MS 100
#define SP_MAX_ROUTES 256
#define SP_MAX_REPLICAS 1024       /* per route */
#define SP_MAX_TABLE (4u << 20)    /* the controller's answer */
#define SP_MAX_BODY (100u << 20)   /* a request body */
#define SP_MAX_HEADERS (64u << 10) /* a request's header block */
#define SP_RAW_MARK "rayc:raw"

/* One replica actor.  Owned by the table; a request thread holds a
 * reference (refs) while it calls it, so a replica dropped from the table
 * is freed by the last user. */
typedef struct sp_replica {
    char *name;
    ray_actor *actor;     /* NULL until looked up */
    int inflight;         /* this proxy's calls in flight */
    int dead;             /* a call found the actor dead: not chosen again */
    int refs;             /* the table's (1 while listed) + request threads' */
} sp_replica;

typedef struct sp_route {
    char *prefix, *app, *ingress;
    int max_ongoing;
    sp_replica **replicas;
    size_t n_replicas;
} sp_route;

/* ---------------------------------------------------------------- sp_table.c */

/* Starts the table thread (controller polls) for node NODE_ID.  Returns 0,
 * or -1 with a message in ERR. */
int sp_table_start(const char *node_id, char *err, size_t errlen);

/* Picks a replica for PATH: sets *PREFIX (a malloc'd copy of the matched
 * route prefix; the caller frees it) and returns a replica with a reference
 * and one call in flight counted, waiting while all replicas are busy or
 * none runs yet (up to WAIT_S seconds).  Returns NULL with *STATUS 404 (no
 * route) or 503 (no replica in time). */
sp_replica *sp_table_pick(const char *path, double wait_s, char **prefix, int *status);

/* Ends a call to R: one call fewer in flight, DIED marks R dead; drops the
 * reference sp_table_pick gave. */
void sp_table_done(sp_replica *r, int died);

/* The route table as JSON ({"prefix": "app"}) for /-/routes; malloc'd. */
char *sp_table_routes_json(void);

/* The table's version (the controller's), -1 before the first answer. */
long sp_table_version(void);

/* ---------------------------------------------------------------- sp_http.c */

/* Serves HTTP on HOST:PORT with libmicrohttpd's threads.  Returns 0, or -1
 * with a message in ERR. */
int sp_http_start(const char *host, int port, char *err, size_t errlen);
void sp_http_stop(void);

#endif
