/* Syncing files and directories between this machine and a node over SFTP,
 * without an rsync binary: directories recursively, rsync_exclude and
 * rsync_filter honoured, only files whose size or modification time differ
 * are sent (rsync's quick check).  Files are never deleted on the far side,
 * as with Ray's rsync (no --delete).  Symbolic links are followed. */
#ifndef RAYC_LAUNCHER_SYNC_TREE_H
#define RAYC_LAUNCHER_SYNC_TREE_H

#include <stddef.h>
#include <stdint.h>

#include "launcher/ssh_conn.h"

/* Directories nested deeper than this are refused (symlink loops). */
#define SYNC_MAX_DEPTH 64

typedef struct sync_spec {
    char *const *exclude;       /* rsync_exclude patterns */
    size_t n_exclude;
    char *const *filter;        /* rsync_filter file names */
    size_t n_filter;
} sync_spec;

typedef struct sync_stats {
    size_t files_sent, files_same, dirs;
    uint64_t bytes_sent;
} sync_stats;

/* Called for every included regular file under SRC, in a stable order:
 * ABS is its local path, REL its path relative to SRC ("" when SRC is a file). */
typedef int (*sync_file_cb)(void *data, const char *abs, const char *rel);

/* Walks local SRC (a file or a directory) with SPEC's filters and calls CB
 * for each file.  Returns 0, CB's non-zero result, or -errno with ERR set
 * (-ENOENT when SRC does not exist). */
int sync_walk(const char *src, const sync_spec *spec, sync_file_cb cb, void *data, char *err,
              size_t errlen);

/* Uploads local SRC to absolute remote DST: a file to the file DST, a
 * directory's contents into the directory DST.  Adds to *ST (may be NULL).
 * Returns 0 or a negative errno with ERR set. */
int sync_up(ssh_conn *c, const char *src, const char *dst, const sync_spec *spec,
            sync_stats *st, char *err, size_t errlen);

/* Downloads absolute remote SRC (file or directory) to local DST the same
 * way; only SPEC's exclude patterns apply.  Returns 0 or a negative errno. */
int sync_down(ssh_conn *c, const char *src, const char *dst, const sync_spec *spec,
              sync_stats *st, char *err, size_t errlen);

#endif
