/* `ray start` after a raylet of this host died (kill -9, a crash).
 *
 * The GCS marks such a node dead and never takes its node id back, so the
 * node comes back as a new one: before starting, `ray start` cleans every
 * node of this host (this network namespace) whose recorded raylet is no
 * longer running -- it stops the node's remaining processes (a job agent,
 * a head's job server), tells the GCS the node is dead, removes its shared
 * memory arena, sockets, spill dir and pid files, and forgets it.  The one
 * exception is a head whose gcs_server still runs: the cluster lives on in
 * it, so its entry and GCS are kept, and `ray start --head` on that port
 * starts a fresh head raylet and job server against it (revive_find_head). */
#ifndef RAYC_CLI_CLI_REVIVE_H
#define RAYC_CLI_CLI_REVIVE_H

#include <limits.h>

#include "common/node_registry.h"

/* Cleans this host's dead nodes in the node registry as above.  A head
 * whose gcs_server still runs is cleaned too (raylet files and job server;
 * GCS and entry kept) only when HEAD_PORT is its GCS port, i.e. when the
 * caller is about to start a head there; HEAD_PORT 0 leaves such heads
 * alone.  Prints one line per node cleaned.  Returns how many were. */
int revive_clean(int head_port);

/* A head of this host whose raylet is gone while its gcs_server still runs
 * on the GCS port PORT: fills *REC with its record and SESSION_DIR with its
 * session directory and returns 1; returns 0 when there is none. */
int revive_find_head(int port, node_record *rec, char *session_dir,
                     size_t session_len);

#endif
