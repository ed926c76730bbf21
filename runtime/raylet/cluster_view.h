/* cluster_view: this raylet's picture of the other nodes of the cluster.
 *
 * Filled from the GCS: GetAllNodes once the node is registered and then
 * every refresh period (the GCS's copy of every node's available resources
 * is at most one report period old); joins and deaths come at once on the
 * GCS's NODE channel, which the raylet subscribes to on registration.  Between refreshes the scheduler
 * charges what it forwarded to a node (cview_charge) so that a burst of
 * submissions does not all land on the node that looked emptiest. */
#ifndef RAYC_RAYLET_CLUSTER_VIEW_H
#define RAYC_RAYLET_CLUSTER_VIEW_H

#include <stddef.h>

#include "raylet/raylet.h"

/* Most nodes the view keeps; more are ignored with a warning. */
#define CVIEW_MAX_NODES 1024
/* Most resources kept per node (placement group bundles add four each). */
#define CVIEW_MAX_RES 256
/* How often the view asks the GCS for every node. */
#define CVIEW_REFRESH_MS 500
/* How long a node whose connection broke counts as dead here (the GCS
 * declares it dead within its health-check timeout, well before). */
#define CVIEW_SUSPECT_MS 60000
#define CVIEW_MAX_SUSPECTS 64

typedef struct cview_res {
    char name[128];               /* a group resource "<R>_group_<i>_<36 hex>" fits */
    double total, avail;
} cview_res;

typedef struct cview_node {
    char id[64];                 /* hex node id */
    char ip[64];
    int port;                    /* node-manager TCP port */
    int alive;
    int self;                    /* this raylet */
    size_t nres;
    cview_res res[CVIEW_MAX_RES];
    double charged_cpu;          /* forwarded here since the last refresh */
} cview_node;

typedef struct cview {
    raylet *r;
    uv_timer_t timer;
    cview_node *nodes;
    size_t n;
    int asking;                  /* a GetAllNodes is in flight */
    int loaded;                  /* at least one answer arrived */
    size_t rr;                   /* SPREAD's round-robin position */
    struct {
        char id[64];
        int64_t until_ms;        /* monotonic */
    } suspects[CVIEW_MAX_SUSPECTS];
} cview;

/* Starts the refresh timer.  Returns 0 or a negative error. */
int cview_open(raylet *r);

/* The raylet (re-)registered with the GCS: subscribes to the GCS's NODE
 * channel and asks for the whole table at once.  Failures are logged; the
 * periodic refresh remains. */
void cview_gcs_registered(raylet *r);

/* A Publish pushed by the GCS: a node's join, change or death is applied to
 * the view at once (parked tasks are placed again).  Other channels are
 * ignored; PUB stays the caller's. */
void cview_on_publish(raylet *r, const Rayc__Publish *pub);

/* Stops the timer (teardown); cview_free frees the view after the loop. */
void cview_close(raylet *r);
void cview_free(raylet *r);

/* The node with hex id ID, or NULL when the view does not know it. */
cview_node *cview_find(raylet *r, const char *id);

/* Quantity of resource NAME on N: total or available (0 when absent). */
double cview_total(const cview_node *n, const char *name);
double cview_avail(const cview_node *n, const char *name);

/* The connection to node ID broke: it counts as dead in the view for
 * CVIEW_SUSPECT_MS, so that nothing is placed there while the GCS has not
 * noticed yet. */
void cview_suspect(raylet *r, const char *id);

/* Records that a task of CPU cpus was forwarded to N. */
void cview_charge(cview_node *n, double cpu);

#endif
