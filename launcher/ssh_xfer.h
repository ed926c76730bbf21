/* File transfer over SFTP: stat, list, mkdir -p, and whole-file upload and
 * download that land atomically (temporary name, then rename) and keep the
 * mode and modification time, so a later sync can compare size + mtime.
 * Remote paths given here are absolute (see ssh_conn_expand). */
#ifndef RAYC_LAUNCHER_SSH_XFER_H
#define RAYC_LAUNCHER_SSH_XFER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "launcher/ssh_conn.h"

/* At most this many entries are read from one remote directory. */
#define SSH_XFER_MAX_DIR_ENTRIES 1000000

typedef struct ssh_xfer_stat {
    int exists;
    int is_dir;
    int is_file;
    uint64_t size;
    int64_t mtime;              /* seconds */
    unsigned int mode;          /* permission bits */
} ssh_xfer_stat;

/* Called for every entry of a listed directory but "." and "..". */
typedef void (*ssh_xfer_entry_cb)(void *data, const char *name, const ssh_xfer_stat *st);

/* Stats remote PATH (following links).  A missing path gives 0 with
 * ST->exists = 0.  Returns 0 or -EIO with ERR set. */
int ssh_xfer_stat_path(ssh_conn *c, const char *path, ssh_xfer_stat *st, char *err,
                       size_t errlen);

/* Calls CB for each entry of remote directory DIR (a missing DIR lists
 * nothing).  Returns 0, -E2BIG past SSH_XFER_MAX_DIR_ENTRIES, or -EIO. */
int ssh_xfer_list(ssh_conn *c, const char *dir, ssh_xfer_entry_cb cb, void *data, char *err,
                  size_t errlen);

/* Creates remote directory DIR (mode 0755) whose parent exists; an existing
 * directory is fine.  Returns 0 or -EIO with ERR set. */
int ssh_xfer_mkdir(ssh_conn *c, const char *dir, char *err, size_t errlen);

/* Creates remote directory DIR and its missing parents (mode 0755).
 * Returns 0 or -EIO with ERR set. */
int ssh_xfer_mkdirs(ssh_conn *c, const char *dir, char *err, size_t errlen);

/* Creates the remote directory that PATH is in, with its missing parents
 * (nothing for a path directly under "/" or without a '/').  Returns 0 or
 * -EIO with ERR set. */
int ssh_xfer_mkparent(ssh_conn *c, const char *path, char *err, size_t errlen);

/* Uploads local file LOCAL to remote REMOTE (parent directories created),
 * with LOCAL's mode and mtime.  REMOTE is replaced atomically.  Returns 0,
 * -errno for the local file, or -EIO with ERR set. */
int ssh_xfer_put(ssh_conn *c, const char *local, const char *remote, char *err,
                 size_t errlen);

/* Writes LEN bytes of DATA to remote REMOTE with MODE (parents created,
 * atomic replace).  Returns 0 or -EIO with ERR set. */
int ssh_xfer_put_data(ssh_conn *c, const void *data, size_t len, const char *remote,
                      unsigned int mode, char *err, size_t errlen);

/* Downloads remote file REMOTE to local LOCAL (parents created, atomic
 * replace), keeping its mode and mtime.  Returns 0, -ENOENT when REMOTE
 * does not exist, -errno for the local side, or -EIO. */
int ssh_xfer_get(ssh_conn *c, const char *remote, const char *local, char *err,
                 size_t errlen);

#endif
