/* The hashes that make `ray up` idempotent.
 *
 * files hash: SHA-256 over every file_mounts entry (sorted by remote path):
 * the remote path, then each included local file's relative path, mode and
 * contents (rsync_exclude / rsync_filter applied, as the sync applies them).
 *
 * runtime hash, per node: SHA-256 over what that node runs (its
 * initialization, setup and start commands, the mounts map, the synced
 * files list, the token path, the head address a worker joins) plus the
 * files hash unless file_mounts_sync_continuously is set (then a files-only
 * change re-syncs files without re-running setup, as in Ray).  A change to
 * worker_setup_commands therefore leaves the head's hash alone. */
#ifndef RAYC_LAUNCHER_UP_HASH_H
#define RAYC_LAUNCHER_UP_HASH_H

#include <stddef.h>

#include "launcher/cfg.h"

#define UP_HASH_HEX 65          /* 64 hex characters and a NUL */

/* Computes the files hash of C's file mounts into OUT.  Returns 0, or a
 * negative errno with ERR set (e.g. a local mount path that does not exist). */
int up_hash_files(const cluster_config *c, char out[UP_HASH_HEX], char *err, size_t errlen);

/* Hashes MIX and then every file under local DIR (a file or directory) into
 * OUT: the workers' files hash with the cluster_synced_files copied from the
 * head.  Returns 0 or a negative errno with ERR set. */
int up_hash_dir(const char *dir, const char *mix, char out[UP_HASH_HEX], char *err,
                size_t errlen);

/* Computes the runtime hash of one node into OUT: IS_HEAD picks the head's
 * or the workers' commands; HEAD_IP is what workers get as RAY_HEAD_IP;
 * FILES_HASH comes from up_hash_files.  Returns 0 or -ENOMEM. */
int up_hash_runtime(const cluster_config *c, int is_head, const char *head_ip,
                    const char *files_hash, char out[UP_HASH_HEX]);

#endif
