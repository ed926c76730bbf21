/* Where this host's nodes keep their files, and the registry `ray stop` reads.
 *
 * Layout under the temp root (--temp-dir, else $RAY_TMPDIR, else /tmp/ray):
 *   session_<time>_<pid>/                 one per cluster (named by the head)
 *     auth_token                          the cluster token (0600), head only
 *     node_<ip>_<port>/                   one per node: logs/ sockets/ pids/ node.info
 *   session_latest -> session_...         the newest session started here
 *   ray_current_cluster                   "ip:port" of the GCS started here
 *   nodes/<ip>_<port> -> node dir         the registry of running nodes */
#ifndef RAYC_CLI_NODE_REGISTRY_H
#define RAYC_CLI_NODE_REGISTRY_H

#include <limits.h>
#include <stddef.h>
#include <sys/types.h>

/* The temp root: FLAG if not NULL, else $RAY_TMPDIR, else /tmp/ray. */
void node_temp_root(const char *flag, char *out, size_t outlen);

typedef struct node_record {
    char dir[PATH_MAX];      /* the node directory */
    char ip[64];
    int port;                /* node manager port */
    int is_head;
    char node_id[64];
    char gcs_address[128];
} node_record;

/* Creates the node directory for IP:PORT in SESSION_DIR with logs/, sockets/
 * and pids/, writes node.info, and fills REC.  Returns 0 or -errno. */
int node_dir_create(const char *session_dir, const char *ip, int port, int is_head,
                    const char *node_id, const char *gcs_address, node_record *rec);

/* Records PID as process NAME of the node (pids/NAME.pid).  Returns 0 or -errno. */
int node_write_pid(const node_record *rec, const char *name, pid_t pid);

/* Adds the node to ROOT/nodes so `ray stop` finds it.  Returns 0 or -errno. */
int node_register(const char *root, const node_record *rec);

/* Removes the node from ROOT/nodes. */
void node_unregister(const char *root, const node_record *rec);

/* Calls FN for every registered node in ROOT (stale entries included).
 * Returns the number of nodes visited. */
int node_each(const char *root, void (*fn)(const node_record *rec, void *data), void *data);

/* Reads a node's node.info from DIR into REC.  Returns 0 or -errno. */
int node_read(const char *dir, node_record *rec);

#endif
