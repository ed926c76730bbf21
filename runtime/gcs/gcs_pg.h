/* GCS placement groups: the table, and the reservation of bundles on
 * raylets (Ray's two phases).
 *
 * A group is kept as its PlacementGroupInfo (an owned unpacked copy, edited
 * in place and written through to the store on every state change).  A
 * bundle is placed when its node_id is set.  At most one group is being
 * reserved at a time: gcs_pg_schedule picks the first pending group the
 * resource view can place (gcs_pg_sched.c), sends PrepareBundles to every
 * chosen raylet over its own GCS connection, then CommitBundles when all
 * prepared; a refusal, a lost connection or a removal meanwhile gives the
 * prepared bundles back (ReturnBundles) and the group stays pending.  The
 * retries come from the 1 s tick, node registrations and finished tries.
 *
 * The view is each alive node's last reported available resources, minus
 * the bundles reserved there that no report has shown yet (a bundle counts
 * as shown once a report arrives after its prepare was acknowledged), plus
 * the bundles given back there that a report may still show (until a report
 * arrives after the ReturnBundles was answered). */
#ifndef RAYC_GCS_PG_H
#define RAYC_GCS_PG_H

#include "gcs/gcs_server.h"

#define GCS_PG_ID_LEN 18
#define GCS_PG_MAX_BUNDLES 1000
/* A try not fully answered by then fails (its node hangs). */
#define GCS_PG_TRY_TIMEOUT_MS 10000

/* One try at reserving a group's unplaced bundles. */
typedef struct gcs_pg_try {
    char (*node)[GCS_MAX_ID_LEN + 1];   /* per bundle: the chosen node, "" when not in it */
    int *prepared;                      /* per bundle: its node acknowledged Prepare */
    int phase;                          /* 1 preparing, 2 committing */
    int waiting;                        /* replies still to come */
    int failed;
    int64_t started_ms;                 /* monotonic */
    char why[512];
} gcs_pg_try;

/* A bundle given back to its node (ReturnBundles sent).  Until a report
 * sent after the node answered arrives, its reports may still show the
 * bundle reserved; the placement view gives its resources back meanwhile. */
typedef struct gcs_pg_return {
    size_t index;                       /* the bundle */
    char node[GCS_MAX_ID_LEN + 1];
    uint64_t call_id;                   /* the ReturnBundles request; 0 once answered */
    uint64_t shown_after;               /* the bundle's shown_after when given back */
    uint64_t credited_seq;              /* the node's report_seq when given back */
    uint64_t gone_after;                /* the node's report_seq when it answered */
    struct gcs_pg_return *next;
} gcs_pg_return;

typedef struct gcs_pg {
    Rayc__PlacementGroupInfo *info;     /* owned */
    char hex[2 * GCS_PG_ID_LEN + 1];
    uint64_t *shown_after;              /* per bundle: report_seq of its node once reserved
                                         * (0: already shown in the node's reports) */
    gcs_pg_try *busy;                   /* the try in flight, or NULL */
    gcs_pg_return *returns;             /* bundles being given back */
    int remove_asked;                   /* removed while busy */
    struct gcs_pg *next;                /* creation order */
} gcs_pg;

typedef struct gcs_pgs {
    gcs_pg *head, *tail;
    struct gcs_pg_call *calls;          /* requests sent to raylets */
    int scheduling;                     /* a try is in flight */
} gcs_pgs;

/* A request of the GCS to a raylet; CB gets the reply (NULL: the
 * connection closed first). */
typedef struct gcs_pg_call {
    uint64_t id;
    gcs_client *cl;
    void (*cb)(gcs_server *srv, struct gcs_pg_call *c, const Rayc__Envelope *reply);
    gcs_pg *pg;                         /* may be NULL */
    char node[GCS_MAX_ID_LEN + 1];
    struct gcs_pg_call *next;
} gcs_pg_call;

/* gcs_pg.c */

/* Sends ENV to the raylet on CL as a request of the GCS; CB (may be NULL)
 * gets its reply.  Returns 0 or -ENOMEM / a send error (CB is not called). */
int gcs_pg__request(gcs_server *srv, gcs_client *cl, Rayc__Envelope *env, gcs_pg *pg,
                    const char *node,
                    void (*cb)(gcs_server *srv, gcs_pg_call *c, const Rayc__Envelope *reply));

/* Writes PG's record to the store (failures are logged). */
void gcs_pg__save(gcs_server *srv, gcs_pg *pg);

/* Sets a string field of a record to a copy of V. */
void gcs_pg__set_str(char **field, const char *v);

/* Sends ReturnBundles ENV for PG to the raylet of NODE on CL.  Returns the
 * request's id (0 when it could not be sent); its answer ends the
 * gcs_pg__give_back records made with that id. */
uint64_t gcs_pg__send_return(gcs_server *srv, gcs_client *cl, Rayc__Envelope *env, gcs_pg *pg,
                             const char *node);

/* Bundle I of PG on NODE_ID is being given back by request CALL_ID: the
 * node's view gets the bundle's resources back at once (edited in place
 * until its next report), and the placement view keeps giving them back
 * while the node's reports may predate the return (gcs_pg_return), so that
 * the next group can use them.  Nothing is given back while no report
 * showed the reservation. */
void gcs_pg__give_back(gcs_server *srv, gcs_pg *pg, size_t i, const char *node_id,
                       uint64_t call_id);

/* True when a report of node N sent after it answered return E came in:
 * the reports show the bundle given back. */
int gcs_pg__return_done(const gcs_node *n, const gcs_pg_return *e);

/* Forgets the returns that are done (and those of nodes not in the table);
 * on the 1 s tick. */
void gcs_pg__returns_prune(gcs_server *srv);

/* Forgets PG's requests in flight (their answers will be dropped, and a
 * give-back waiting for one ends). */
void gcs_pg__cancel_calls(gcs_server *srv, gcs_pg *pg);

/* Tells every alive raylet that PG is removed (its bundles go back, its
 * tasks and actors there fail). */
void gcs_pg__broadcast_removed(gcs_server *srv, gcs_pg *pg);

/* gcs_pg_sched.c */

/* Starts reserving the first pending group that fits, unless a try is in
 * flight already. */
void gcs_pg_schedule(gcs_server *srv);

/* Ends PG's try, if any, as failed (its node's connection went away, or it
 * was removed): what was prepared is given back when the replies are in. */
void gcs_pg__try_abort(gcs_server *srv, gcs_pg *pg, const char *why);

#endif
