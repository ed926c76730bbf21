/* Cleaning up after a raylet of this host that died, so that `ray start`
 * brings the node back under a fresh node id (cli_revive.h). */
#include "cli/cli_revive.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli_proc.h"
#include "common/net.h"
#include "common/node_files.h"
#include "common/rpc_client.h"
#include "common/token.h"
#include "common/util.h"

#define REVIVE_MAX_NODES 128
#define REVIVE_MAX_PIDS 16
#define REVIVE_GRACE_MS 5000

/* ---------------------------------------------------------------- a node's processes */

/* The pid in REC's pids/NAME, or 0 when the file is absent or unreadable. */
static pid_t recorded_pid(const node_record *rec, const char *name)
{
    char path[PATH_MAX + 64], *text = NULL;
    snprintf(path, sizeof path, "%s/pids/%s", rec->dir, name);
    if (fs_read_file(path, 64, &text, NULL) != 0)
        return 0;
    long pid = 0;
    text[strcspn(text, "\n")] = '\0';
    if (parse_long(text, 1, INT_MAX, &pid) != 0)
        pid = 0;
    free(text);
    return (pid_t)pid;
}

/* The pid of REC's process NAME while it still runs as this node's (pids
 * get reused: its command line must name the node directory), else 0. */
static pid_t live_pid(const node_record *rec, const char *name)
{
    pid_t pid = recorded_pid(rec, name);
    return pid > 0 && proc_alive(pid) && proc_cmdline_has(pid, rec->dir) ? pid : 0;
}

/* True when REC's raylet was started and is gone. */
static int raylet_dead(const node_record *rec)
{
    return recorded_pid(rec, "raylet.pid") > 0 && live_pid(rec, "raylet.pid") == 0;
}

static int gcs_port_of(const node_record *rec)
{
    char host[256];
    int port = 0;
    if (net_parse_hostport(rec->gcs_address, 6379, host, sizeof host, &port) != 0)
        return 0;
    return port;
}

/* The session directory holding node directory DIR, into OUT.  Returns 0,
 * or -EINVAL when DIR has no parent. */
static int session_of(const char *dir, char *out, size_t outlen)
{
    const char *slash = strrchr(dir, '/');
    if (slash == NULL || slash == dir)
        return -EINVAL;
    snprintf(out, outlen, "%.*s", (int)(slash - dir), dir);
    return 0;
}

/* ---------------------------------------------------------------- the GCS */

/* Tells the GCS that REC's node is dead, so `ray status` and every raylet
 * know at once rather than after the health-check timeout.  Best effort:
 * a GCS that is gone or refuses changes nothing here. */
static void tell_gcs(const node_record *rec)
{
    char path[PATH_MAX + 32], dir[PATH_MAX], token[TOKEN_MAX + 1], host[256];
    int port;
    /* A head's token copy is in its session dir, a joined node's in its node dir. */
    if (rec->is_head && session_of(rec->dir, dir, sizeof dir) != 0)
        return;
    snprintf(path, sizeof path, "%s/auth_token", rec->is_head ? dir : rec->dir);
    if (token_read_file(path, token, sizeof token) != 0 ||
        net_parse_hostport(rec->gcs_address, 6379, host, sizeof host, &port) != 0)
        return;
    rpc_client *c = NULL;
    if (rpc_client_connect(host, port, token, "cli", 1000, &c, NULL, 0) != 0)
        return;
    Rayc__Envelope req = RAYC__ENVELOPE__INIT, *reply = NULL;
    Rayc__UnregisterNode un = RAYC__UNREGISTER_NODE__INIT;
    un.node_id = (char *)rec->node_id;
    un.reason = "the raylet died (its host restarted the node with ray start)";
    req.body_case = RAYC__ENVELOPE__BODY_UNREGISTER_NODE;
    req.unregister_node = &un;
    if (rpc_client_call(c, &req, 2000, &reply, NULL, 0) == 0)
        rayc__envelope__free_unpacked(reply, NULL);
    rpc_client_close(c);
}

/* ---------------------------------------------------------------- cleaning */

/* Removes what REC's raylet would have removed on a graceful stop, and its
 * pid files but KEEP (a gcs_server pid file that must stay). */
static void remove_files(const node_record *rec, const char *keep)
{
    static const char *subdirs[] = {"sockets", "spill"};
    static const char *pidfiles[] = {"raylet.pid", "ray_jobserver.pid", "gcs_server.pid"};
    char path[PATH_MAX + 32];
    node_shm_remove(rec->shm_dir, rec->node_id);
    if (rec->spill_dir[0] != '\0')
        node_shm_remove(rec->spill_dir, rec->node_id);
    for (size_t i = 0; i < sizeof subdirs / sizeof subdirs[0]; i++) {
        if (fs_path_join(path, sizeof path, rec->dir, subdirs[i]) == 0)
            fs_rm_rf(path);
    }
    snprintf(path, sizeof path, "%s/raylet.ready", rec->dir);
    unlink(path);
    for (size_t i = 0; i < sizeof pidfiles / sizeof pidfiles[0]; i++) {
        if (keep != NULL && strcmp(pidfiles[i], keep) == 0)
            continue;
        snprintf(path, sizeof path, "%s/pids/%s", rec->dir, pidfiles[i]);
        unlink(path);
    }
}

/* Cleans one dead node; a live GCS (KEEP_GCS) and the entry naming it stay. */
static void clean_node(const node_record *rec, int keep_gcs)
{
    pid_t pid = live_pid(rec, "ray_jobserver.pid");
    if (pid > 0)
        proc_stop_all(&pid, 1, SIGTERM, REVIVE_GRACE_MS);
    tell_gcs(rec);
    remove_files(rec, keep_gcs ? "gcs_server.pid" : NULL);
    if (!keep_gcs)
        node_unregister(rec);
    printf("Cleaned up node %.16s... of %s: its raylet had died; a new node takes its "
           "place.\n", rec->node_id, rec->ip);
}

typedef struct scan {
    int head_port;
    node_record found[REVIVE_MAX_NODES];
    size_t n;
} scan;

static void scan_node(const node_record *rec, void *data)
{
    scan *s = data;
    if (s->n < REVIVE_MAX_NODES && net_is_local_ipv4(rec->ip) && raylet_dead(rec))
        s->found[s->n++] = *rec;
}

int revive_clean(int head_port)
{
    scan *s = calloc(1, sizeof *s);
    if (s == NULL)
        return 0;
    node_each(scan_node, s);
    int cleaned = 0;
    for (size_t i = 0; i < s->n; i++) {
        const node_record *rec = &s->found[i];
        int gcs_alive = rec->is_head && live_pid(rec, "gcs_server.pid") > 0;
        if (gcs_alive && (head_port == 0 || gcs_port_of(rec) != head_port))
            continue; /* a cluster this start is not about */
        clean_node(rec, gcs_alive);
        cleaned++;
    }
    free(s);
    return cleaned;
}

/* ---------------------------------------------------------------- a head to revive */

typedef struct head_scan {
    int port;
    int found;
    int live_raylet;             /* a head raylet of that GCS runs here already */
    node_record rec;
} head_scan;

static void scan_head(const node_record *rec, void *data)
{
    head_scan *h = data;
    if (!rec->is_head || !net_is_local_ipv4(rec->ip) || gcs_port_of(rec) != h->port)
        return;
    if (live_pid(rec, "raylet.pid") > 0) {
        h->live_raylet = 1;
    } else if (!h->found && live_pid(rec, "gcs_server.pid") > 0) {
        h->rec = *rec;
        h->found = 1;
    }
}

int revive_find_head(int port, node_record *rec, char *session_dir,
                     size_t session_len)
{
    head_scan h = {.port = port};
    node_each(scan_head, &h);
    if (!h.found || h.live_raylet || session_of(h.rec.dir, session_dir, session_len) != 0)
        return 0;
    *rec = h.rec;
    return 1;
}
