/* The node's objects and workers for Ray's state API (node_state.c). */
#ifndef RAYC_RAYLET_NODE_STATE_H
#define RAYC_RAYLET_NODE_STATE_H

#include "raylet/raylet.h"

/* Answers GetNodeState REQ_ID on CL (any client past Hello: the job
 * server asks) with up to REQ->limit objects of the object table and of
 * the node's drivers and workers (unless REQ->no_owned_objects; asked
 * first, node_owners.c: the answer
 * comes from the loop once they answered or timed out, those that did not
 * named in its warnings) and every worker record and driver of the node.
 * Sends an Error frame when out of memory. */
void nstate_on_get(raylet_client *cl, uint64_t req_id, const Rayc__GetNodeState *req);

#endif
