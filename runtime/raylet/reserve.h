/* reserve: entrypoint resources the node's job server holds for its jobs.
 *
 * The job server (head or agent) connects to its raylet's Unix socket and
 * sends ReserveResources{key = submission id, resources} when a job with
 * entrypoint_num_cpus/gpus/memory/resources starts: the raylet takes them
 * out of its available resources, so tasks cannot use them and the next
 * ReportResources shows them used to the GCS (and so to the head's node
 * choice and `ray status`).  ReleaseResources gives them back when the job
 * ends; a closed connection gives back everything it reserved, so a job
 * server that died leaks nothing (a restarted one reserves its still
 * running jobs again). */
#ifndef RAYC_RAYLET_RESERVE_H
#define RAYC_RAYLET_RESERVE_H

#include "raylet/raylet.h"

/* Handles MSG from client CL when it is a ReserveResources or a
 * ReleaseResources (answered with MSG's request id).  Returns 1 when it
 * was one, 0 otherwise. */
int reserve_on_message(raylet_client *cl, const Rayc__Envelope *msg);

/* Gives back every reservation CL made (CL's connection closed). */
void reserve_client_gone(raylet_client *cl);

/* Frees every reservation (the raylet exits). */
void reserve_free_all(raylet *r);

#endif
