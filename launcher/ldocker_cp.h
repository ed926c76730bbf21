/* Copies between a node's host and its container, as Ray's
 * DockerCommandRunner does for rsync-up/rsync-down and `ray submit`: the
 * files travel over SFTP to the host's mount directory, and `ENGINE cp`
 * moves them into or out of the container. */
#ifndef RAYC_LAUNCHER_LDOCKER_CP_H
#define RAYC_LAUNCHER_LDOCKER_CP_H

#include <stddef.h>

#include "launcher/lctx.h"
#include "launcher/ssh_conn.h"

/* Copies HOST_PATH on the node's host to TARGET in the cluster's container
 * (a leading "~" is the container user's home), creating TARGET's parent;
 * with IS_DIR the directory's contents go into TARGET.  When the container
 * is not running, the files stay on the host and a note says so on stderr
 * (as Ray, which copies only into a running container).  Returns 0, or -1
 * with ERR set. */
int ldocker_cp_in(lctx *x, ssh_conn *conn, const char *host_path, int is_dir,
                  const char *target, char *err, size_t errlen);

/* Copies SOURCE in the cluster's container (a leading "~" is the container
 * user's home) to HOST_PATH on the node's host, creating its parent; a
 * directory's contents go into HOST_PATH.  Returns 0, or -1 with ERR set. */
int ldocker_cp_out(lctx *x, ssh_conn *conn, const char *source, const char *host_path,
                   char *err, size_t errlen);

#endif
