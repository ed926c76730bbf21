/* Where this host's nodes keep their files, and the registry every `ray stop`,
 * `ray status` and driver of the host reads.
 *
 * Layout under the temp root (--temp-dir, else $RAY_TMPDIR, else /tmp/ray):
 *   session_<time>_<pid>/                 one per cluster (named by the head)
 *     auth_token                          the cluster token (0600), head only
 *     node_<ip>_<port>/                   one per node: logs/ sockets/ pids/ node.info
 *                                         (a joined node keeps its token copy here)
 *   session_latest -> session_...         the newest session started here
 *   ray_current_cluster                   "ip:port" of the GCS started here
 *
 * The registry does not live under the temp root, so a node started with any
 * --temp-dir is found by a plain `ray stop`: it is one directory per user,
 * $RAYC_NODE_REGISTRY, else /tmp/ray_nodes_<uid> (mode 0700, owned by the
 * user, never a symlink), holding <ip>_<port> -> node dir for every node
 * started.  Hosts that share a filesystem (network namespaces) share it;
 * readers keep the nodes whose IP is an address of their namespace. */
#ifndef RAYC_COMMON_NODE_REGISTRY_H
#define RAYC_COMMON_NODE_REGISTRY_H

#include <limits.h>
#include <stddef.h>
#include <sys/types.h>

/* The temp root: FLAG if not NULL, else $RAY_TMPDIR, else /tmp/ray. */
void node_temp_root(const char *flag, char *out, size_t outlen);

/* The registry directory in OUT ($RAYC_NODE_REGISTRY, else
 * /tmp/ray_nodes_<uid>).  With CREATE it is made (0700, parents too) when
 * missing.  Returns 0; -ENOENT when it is missing and not CREATE; -EPERM
 * when it is a symlink, not a directory, owned by another user or writable
 * by group or others (refused: another user could plant entries); another
 * -errno when it cannot be made. */
int node_registry_dir(char *out, size_t outlen, int create);

typedef struct node_record {
    char dir[PATH_MAX];      /* the node directory */
    char ip[64];
    int port;                /* node manager port */
    int is_head;
    char node_id[64];
    char gcs_address[128];
    char shm_dir[PATH_MAX];  /* --plasma-directory: the arena's dir, "" = default */
    char spill_dir[PATH_MAX];/* --object-spilling-directory, "" = DIR/spill */
} node_record;

/* Creates the node directory for IP:PORT in SESSION_DIR with logs/, sockets/
 * and pids/, writes node.info, and fills REC.  REC's shm_dir and spill_dir
 * are kept as the caller set them.  Returns 0 or -errno. */
int node_dir_create(const char *session_dir, const char *ip, int port, int is_head,
                    const char *node_id, const char *gcs_address, node_record *rec);

/* Records PID as process NAME of the node (pids/NAME.pid).  Returns 0 or -errno. */
int node_write_pid(const node_record *rec, const char *name, pid_t pid);

/* Adds the node to the registry so `ray stop` finds it.  Returns 0 or -errno
 * (see node_registry_dir). */
int node_register(const node_record *rec);

/* Removes the node from the registry. */
void node_unregister(const node_record *rec);

/* Calls FN for every registered node (stale entries included; entries whose
 * node directory is gone are removed).  Returns the number of nodes visited. */
int node_each(void (*fn)(const node_record *rec, void *data), void *data);

/* Reads a node's node.info from DIR into REC.  Returns 0 or -errno. */
int node_read(const char *dir, node_record *rec);

/* True when one of the processes recorded in REC's pids/ still runs as
 * that node's (its command line names the node directory). */
int node_running(const node_record *rec);

/* Finds the running node of this host (this network namespace) a client
 * should talk to: the most recently registered head, else the most recently
 * registered other node.  Fills REC and returns 0, or -ENOENT. */
int node_find_local(node_record *rec);

/* The path of the token copy the node's daemons read (a head's in its
 * session directory, a joined node's in its node directory), in OUT. */
void node_token_path(const node_record *rec, char *out, size_t outlen);

/* Where a client of this host finds the cluster when no address is given:
 * the GCS address of node_find_local()'s node, else the contents of
 * ROOT/ray_current_cluster (ROOT NULL: node_temp_root(NULL)).  Fills OUT and
 * returns 0, or -ENOENT when there is neither. */
int node_current_gcs(const char *root, char *out, size_t outlen);

/* The token file a client of this host falls back to after the environment
 * and ~/.ray/auth_token: node_find_local()'s node's token copy, else
 * ROOT/session_latest/auth_token (ROOT NULL: node_temp_root(NULL)). */
void node_token_fallback(const char *root, char *out, size_t outlen);

#endif
