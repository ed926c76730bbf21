/* Bringing one node up to date: Ray's seven updater steps over one SSH
 * connection.
 *
 *   [1/7] Waiting for SSH to become available        waiting-for-ssh
 *   [2/7] Processing file mounts                     syncing-files
 *   [3/7] Processing worker file mounts (cluster_synced_files)
 *   [4/7] Running initialization commands            setting-up
 *   [5/7] Installing the cluster token (mode 0600)
 *   [6/7] Running setup commands
 *   [7/7] Starting the Ray runtime                    -> up-to-date / update-failed
 *
 * A node whose runtime hash and files hash match what it last ran, and that
 * is up-to-date, skips steps 2-6 ("[2-6/7] Configuration already up to
 * date").  When only file contents changed under
 * file_mounts_sync_continuously, files are synced and setup is skipped.
 * Step 7 runs on every node, as in Ray, unless --no-restart. */
#ifndef RAYC_LAUNCHER_UP_NODE_H
#define RAYC_LAUNCHER_UP_NODE_H

#include <limits.h>
#include <stdint.h>

#include "launcher/lctx.h"
#include "launcher/up_tls.h"
#include "launcher/ltail.h"
#include "launcher/up_display.h"
#include "launcher/up_hash.h"

/* What every node of one `ray up` shares. */
typedef struct up_plan {
    const lctx *x;
    up_display *disp;
    const char *token;          /* the cluster token */
    const up_tls *tls;          /* the cluster CA, or NULL with `tls: false` */
    const char *head_ip;        /* RAY_HEAD_IP for workers */
    const char *synced_cache;   /* local copy of cluster_synced_files, or NULL */
    const char *log_dir;        /* one log file per node goes here */
    int restart_only, no_restart;
} up_plan;

typedef struct up_job {
    const up_plan *plan;
    size_t line;                /* display line */
    const char *ip;             /* the node's address in the YAML */
    const char *ssh_host;       /* where the launcher connects */
    int is_head;
    char runtime_hash[UP_HASH_HEX];
    char files_hash[UP_HASH_HEX];   /* what the node's files should hash to */

    /* results */
    int ok;                     /* up-to-date at the end */
    int started;                /* the start commands ran */
    int skipped;                /* steps 2-6 were not needed */
    char failed_cmd[1024];      /* the command that failed, or "" */
    int exit_code;              /* its exit status (SSH_EXIT_NONE if killed) */
    char error[1024];           /* why the node failed */
    ltail tail;                 /* last lines of the failed command */
    char log_path[PATH_MAX];
    int64_t elapsed_ms;
} up_job;

/* Runs the seven steps for J.  Never fails as a call: the outcome is in
 * J->ok, J->error, J->failed_cmd / J->exit_code / J->tail, the display and
 * the state database. */
void up_node_update(up_job *j);

#endif
