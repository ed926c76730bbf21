/* wlog: worker output for drivers on other nodes, as Ray's log monitor
 * brings every worker's prints to the driver.
 *
 * On every worker-pool tick (100 ms, Ray's log monitor interval) the new
 * bytes of the log file of each worker whose Python job has no driver on
 * this node
 * go, at most WLOG_CHUNK per worker and tick, as a WorkerLog message to the
 * connection that registered the job here (another raylet).  A raylet that
 * receives one appends it to NODE_DIR/logs/worker-remote-<ip>-<worker>-<job>.log
 * when the job's driver is on its node, which the Python driver's log
 * monitor follows like its own node's worker logs; otherwise it passes the
 * message on the same way. */
#ifndef RAYC_RAYLET_WLOG_H
#define RAYC_RAYLET_WLOG_H

#include "raylet/raylet.h"
#include "raylet/wpool.h"

#define WLOG_CHUNK (64 * 1024)

/* Sends W's new output to its job's remote driver, if the job has one and
 * W's log grew; what cannot be read now is tried again on the next tick. */
void wlog_forward(raylet *r, wpool_worker *w);

/* Handles a WorkerLog message from another raylet: appends it to this
 * node's file for it or passes it on.  Malformed messages are dropped with
 * a debug line. */
void wlog_receive(raylet *r, const Rayc__WorkerLog *m);

#endif
