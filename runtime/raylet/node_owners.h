/* The small objects this node's drivers and workers own (node_owners.c). */
#ifndef RAYC_RAYLET_NODE_OWNERS_H
#define RAYC_RAYLET_NODE_OWNERS_H

#include "raylet/raylet.h"

typedef struct nowners_query nowners_query;

/* Called once with what the owners answered (REPLIES) and one line per
 * owner that did not (WARNINGS); both are freed after it returns.  CL may
 * be closed by then (raylet_client_alive tells). */
typedef void (*nowners_done_fn)(raylet_client *cl, uint64_t req_id, int32_t limit,
                                Rayc__OwnedObjectsReply **replies, size_t nreplies,
                                char **warnings, size_t nwarnings);

/* Asks every alive driver and worker of CL's raylet for up to LIMIT owned
 * objects and calls DONE (from here when there is nobody to ask, else from
 * the loop within NOWNERS_TIMEOUT_MS).  CL stays referenced until then.
 * Returns 0, or -ENOMEM with DONE never called. */
int nowners_ask(raylet_client *cl, uint64_t req_id, int32_t limit, nowners_done_fn done);

#endif
