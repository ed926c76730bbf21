/* The launcher's state, one SQLite file per user (~/.ray/launcher.db):
 * clusters (name, config file, head, the cluster token) and their nodes
 * (address, head or worker, status, runtime and files hashes, last message,
 * timestamps).  Plus the per-cluster lock that keeps two `ray up` of the same
 * cluster from running at once.
 *
 * A handle may be used from several threads (SQLite's serialized mode).
 * Node statuses are Ray's: uninitialized, waiting-for-ssh, syncing-files,
 * setting-up, up-to-date, update-failed; `ray down` sets terminated. */
#ifndef RAYC_LAUNCHER_LSTATE_H
#define RAYC_LAUNCHER_LSTATE_H

#include <stddef.h>
#include <stdint.h>

#define LSTATE_UP_TO_DATE "up-to-date"
#define LSTATE_FAILED "update-failed"
#define LSTATE_TERMINATED "terminated"

typedef struct lstate lstate;

typedef struct lstate_node {
    char ip[256];
    char kind[8];               /* "head" or "worker" */
    char status[32];
    char runtime_hash[72];
    char files_hash[72];
    char message[1024];
    int64_t updated_ms;
    int started;                /* this cluster ran its start commands here, not
                                   stopped since: what `ray down` may undo */
} lstate_node;

/* The launcher's directory, $HOME/.ray, into OUT.  Returns 0 or -ENAMETOOLONG. */
int lstate_dir(char *out, size_t outlen);

/* Opens (creating if needed) the state database at PATH, or at
 * ~/.ray/launcher.db when PATH is NULL.  Returns 0 with *OUT set, or a
 * negative errno with ERR set. */
int lstate_open(const char *path, lstate **out, char *err, size_t errlen);

/* Closes S (NULL is fine). */
void lstate_close(lstate *s);

/* Records cluster NAME (config file CONFIG, head HEAD_IP) and returns its
 * token in TOKEN (at least 65 bytes), making a new random token the first
 * time.  *CREATED (may be NULL) says whether the cluster was new.
 * Returns 0 or a negative errno with ERR set. */
int lstate_cluster_ensure(lstate *s, const char *name, const char *config, const char *head_ip,
                          char *token, size_t tokenlen, int *created, char *err,
                          size_t errlen);

/* Copies the token of cluster NAME into TOKEN.  Returns 0 or -ENOENT. */
int lstate_cluster_token(lstate *s, const char *name, char *token, size_t tokenlen);

/* Reads node IP of CLUSTER.  Returns 0 or -ENOENT. */
int lstate_node_get(lstate *s, const char *cluster, const char *ip, lstate_node *out);

/* Sets the status (and MESSAGE, may be NULL) of node IP, creating the row
 * with KIND when it is new.  Returns 0 or -EIO. */
int lstate_node_status(lstate *s, const char *cluster, const char *ip, const char *kind,
                       const char *status, const char *message);

/* Records that this cluster's start commands are about to run on node IP
 * (the row exists: lstate_node_status made it).  Setting a node's status to
 * terminated clears the mark.  `ray down` stops only marked nodes, so it
 * never runs `ray stop` on a host another cluster set up.  Returns 0 or -EIO. */
int lstate_node_started(lstate *s, const char *cluster, const char *ip);

/* Marks node IP up-to-date with the hashes it now runs.  Returns 0 or -EIO. */
int lstate_node_done(lstate *s, const char *cluster, const char *ip, const char *runtime_hash,
                     const char *files_hash);

/* Forgets the hashes of every node of CLUSTER (forces a full update). */
int lstate_forget_hashes(lstate *s, const char *cluster);

/* All nodes of CLUSTER, head first, then workers by address.  *OUT is a new
 * array (free it), *N its length.  Returns 0 or -EIO / -ENOMEM. */
int lstate_nodes(lstate *s, const char *cluster, lstate_node **out, size_t *n);

/* Takes the exclusive lock of cluster NAME (~/.ray/launcher/NAME.lock)
 * without waiting.  Returns the lock's file descriptor (keep it open while
 * working; closing it releases the lock), -EBUSY with "pid N since TIME" of
 * the holder in ERR, or another negative errno. */
int lstate_lock(const char *name, char *err, size_t errlen);

#endif
