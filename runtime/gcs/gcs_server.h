/* gcs_server: the head node's control store.
 *
 * One single-threaded libuv loop serves every connection.  Daemon-wide state
 * lives in one gcs_server; the live node view is kept in memory (the hot
 * ReportResources path touches no disk) and every registration and state
 * change is written to the SQLite store before it is acknowledged or
 * published.  This header is shared by the gcs_*.c files of the daemon. */
#ifndef RAYC_GCS_SERVER_H
#define RAYC_GCS_SERVER_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "common/conn_guard.h"
#include "common/htab.h"
#include "common/rpc.h"
#include "common/token.h"
#include "gcs/gcs_store.h"
#include "ray.pb-c.h"

/* ---------------------------------------------------------------- limits */

#define GCS_VERSION "rayc-gcs 0.1"
#define GCS_TICK_MS 1000             /* health checks and housekeeping */
#define GCS_FLUSH_PERIOD_MS 5000     /* available resources to SQLite */
#define GCS_HELLO_TIMEOUT_MS GUARD_HELLO_TIMEOUT_MS /* a connection must say hello by then */
#define GCS_MAX_CLIENTS 16384
#define GCS_MAX_NODES 100000
#define GCS_MAX_ID_LEN 128           /* node and job ids */
#define GCS_MAX_NS_LEN 256           /* KV namespace */
#define GCS_MAX_KEY_LEN (64 * 1024)  /* KV key */
#define GCS_MAX_RESOURCES 4096       /* entries of one resource map */
#define GCS_MAX_DEMANDS 10000        /* demand shapes in one report */
#define GCS_MAX_CHANNELS 16          /* channels in one Subscribe */
#define GCS_MAX_BACKLOG (64u * 1024u * 1024u) /* unsent bytes per connection */

/* ---------------------------------------------------------------- config */

typedef struct gcs_config {
    const char *host;            /* bind address */
    int port;
    const char *token_file;
    const char *session_name;
    const char *db_path;
    const char *log_file;        /* NULL: stderr */
    int64_t health_timeout_ms;
    size_t max_frame;
    int metrics_port;            /* --metrics-export-port, 0: a free port */
    size_t task_events_max;      /* task attempts (and actors) kept: gcs_events.h */
} gcs_config;

/* What gcs_config_parse found. */
enum { GCS_CONFIG_OK = 0, GCS_CONFIG_HELP = 1 };

/* Fills CFG from the command line (long options only, "--name=value" or
 * "--name value") and the RAY_health_check_* environment.  Returns
 * GCS_CONFIG_OK, GCS_CONFIG_HELP for --help, or -EINVAL with one line in ERR.
 * CFG points into ARGV afterwards. */
int gcs_config_parse(int argc, char **argv, gcs_config *cfg, char *err, size_t errlen);

/* The usage text printed for --help. */
const char *gcs_config_usage(void);

/* ---------------------------------------------------------------- nodes */

struct gcs_client;

typedef struct gcs_node {
    Rayc__NodeInfo *info;        /* owned: an unpacked copy, replaced whole */
    int64_t last_seen_ms;        /* monotonic time of the last report */
    int dirty;                   /* available resources newer than the store */
    struct gcs_client *conn;     /* the raylet's connection (NULL while it has none) */
    uint64_t report_seq;         /* reports and registrations received */
    int reported;                /* a resource report came since the last registration */
    htab_node link;              /* in gcs_node_table.index */
} gcs_node;

/* Every node ever registered, in registration order, indexed by node_id.
 * Nodes are never removed: dead ones are the cluster's history. */
typedef struct gcs_node_table {
    gcs_node **list;
    size_t n;
    size_t alloc;
    htab index;                  /* gcs_node.link by node_id */
} gcs_node_table;

/* Finds the node with ID, or NULL. */
gcs_node *gcs_node_table_find(const gcs_node_table *t, const char *id);

/* Adds a node owning INFO (its node_id must not be in T yet).  Returns the
 * node, or NULL on allocation failure (INFO is then still the caller's). */
gcs_node *gcs_node_table_add(gcs_node_table *t, Rayc__NodeInfo *info);

/* Replaces N's record by INFO (owned from now on; it must carry N's node_id,
 * which indexes the table) and frees the old one. */
void gcs_node_set_info(gcs_node *n, Rayc__NodeInfo *info);

/* Frees every node and the table's arrays; T is empty afterwards. */
void gcs_node_table_free(gcs_node_table *t);

/* ---------------------------------------------------------------- connections */

enum { GCS_CH_NODE = 1u << 0, GCS_CH_JOB = 1u << 1 };

typedef struct gcs_server gcs_server;

typedef struct gcs_client {
    gcs_server *srv;
    rpc_conn *conn;
    struct gcs_client *prev, *next;  /* in srv->clients, then srv->closed */
    int64_t accepted_ms;             /* monotonic */
    int hello_grace;            /* one more sweep past the Hello deadline used */
    unsigned channels;               /* GCS_CH_* subscribed to */
    int authed;
    int guarded;                     /* counted in srv->guard (before hello) */
    int refused;                     /* closed for a bad or missing hello */
    int closed;
} gcs_client;

/* ---------------------------------------------------------------- the daemon */

struct gcs_server {
    uv_loop_t *loop;
    gcs_config cfg;
    char token[TOKEN_MAX + 1];
    char session_name[256];
    char cluster_id[65];
    gcs_store *store;
    gcs_node_table nodes;
    uv_tcp_t listener;
    uv_timer_t tick;
    uv_check_t reaper;               /* frees closed clients after each loop turn */
    uv_signal_t sigterm, sigint;
    gcs_client *clients;             /* open connections */
    gcs_client *closed;              /* closed, waiting to be freed */
    size_t nclients;
    conn_guard guard;                /* connections that have not said hello */
    int64_t last_flush_ms;
    int listening;
    int stopping;
    struct gcs_pgs *pgs;             /* placement groups: gcs_pg.h */
    struct gev_table *task_events;   /* task and actor events: gcs_events.h */
    struct gev_table *actor_events;
    uint64_t next_request_id;        /* requests the GCS sends to raylets */
    struct prom_http *metrics;       /* Prometheus endpoint: gcs_metrics.c */
};

/* Reads the token file, binds and listens on cfg->host:port.  Returns 0;
 * -EADDRINUSE when the port is taken; another negative code with one line in
 * ERR otherwise.  Nothing is served before gcs_server_open succeeds. */
int gcs_server_listen(gcs_server *srv, uv_loop_t *loop, const gcs_config *cfg,
                      char *err, size_t errlen);

/* Opens the store, settles the session name and cluster id, loads the nodes
 * (alive ones get a fresh grace period) and starts the timers and signal
 * handlers.  Returns 0 or a negative code with one line in ERR. */
int gcs_server_open(gcs_server *srv, char *err, size_t errlen);

/* Stops accepting, closes every connection and handle, and writes pending
 * node state; uv_run returns once the handles are closed.  Idempotent. */
void gcs_server_stop(gcs_server *srv);

/* Frees what gcs_server_stop left (call after uv_run has returned). */
void gcs_server_free(gcs_server *srv);

/* ---------------------------------------------------------------- gcs_metrics.c */

/* Serves the GCS's Prometheus metrics on all interfaces at
 * cfg.metrics_port (0: a free port) and writes the bound port to
 * gcs_metrics.port next to the database, where the head's job server finds
 * it for the service-discovery file.  Failures are logged, never fatal. */
void gcs_metrics_start(gcs_server *srv);
void gcs_metrics_stop(gcs_server *srv);

/* ---------------------------------------------------------------- gcs_conn.c */

/* Starts accepting on the bound listener.  Returns 0 or a libuv error. */
int gcs_conn_start(gcs_server *srv);

/* Closes connections that have not said hello in time. */
void gcs_conn_sweep(gcs_server *srv);

/* Closes every connection (shutdown). */
void gcs_conn_close_all(gcs_server *srv, const char *reason);

/* Frees the clients whose connections have closed. */
void gcs_conn_reap(gcs_server *srv);

/* Sends ENV to CL.  A connection whose unsent backlog passes GCS_MAX_BACKLOG
 * is closed instead.  Returns 0 or a negative code (the caller may ignore it:
 * a failed connection closes itself). */
int gcs_send(gcs_client *cl, Rayc__Envelope *env);

/* Sends ENV as the reply to REQUEST_ID; a reply over the frame cap becomes an
 * Error (RPC_E_INTERNAL) instead. */
void gcs_reply(gcs_client *cl, uint64_t request_id, Rayc__Envelope *env);

/* Sends an Error reply with CODE and a formatted message. */
void gcs_reply_error(gcs_client *cl, uint64_t request_id, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* ---------------------------------------------------------------- handlers
 *
 * Every gcs_handle_* answers request ID on CL exactly once: with its reply
 * envelope, or with an Error (RPC_E_INVALID naming the bad field or the
 * missing node or job; RPC_E_INTERNAL when the store fails).  The request is
 * only borrowed; nothing in it is kept after the handler returns. */

/* gcs_dispatch.c: routes one authenticated request to its handler; an
 * unknown body gets RPC_E_INVALID, a peer's Error gets nothing. */
void gcs_dispatch(gcs_client *cl, const Rayc__Envelope *req);

/* gcs_nodes.c: register (new or alive node: stored synchronously, ALIVE,
 * published; a DEAD id is refused), report (memory only, written later by
 * gcs_health_flush; replies node_dead), unregister (DEAD with the reason),
 * list (every node, alive and dead). */
void gcs_handle_register_node(gcs_client *cl, uint64_t id, const Rayc__RegisterNode *req);
void gcs_handle_report_resources(gcs_client *cl, uint64_t id, const Rayc__ReportResources *req);
void gcs_handle_unregister_node(gcs_client *cl, uint64_t id, const Rayc__UnregisterNode *req);
void gcs_handle_get_all_nodes(gcs_client *cl, uint64_t id);

/* Marks N dead with REASON: written to the store, logged and published. */
void gcs_node_mark_dead(gcs_server *srv, gcs_node *n, const char *reason);

/* gcs_health.c */

/* Marks dead every alive node silent for longer than the health timeout. */
void gcs_health_check(gcs_server *srv);

/* Writes the available resources of nodes changed since the last flush in
 * one transaction.  Returns 0 or -EIO (logged). */
int gcs_health_flush(gcs_server *srv);

/* Loads the stored nodes into the table; alive ones get a fresh grace period.
 * Returns 0 or a negative code. */
int gcs_health_load(gcs_server *srv);

/* gcs_kv.c: namespaced byte keys and values, written through to the store. */
void gcs_handle_kv_put(gcs_client *cl, uint64_t id, const Rayc__KvPut *req);
void gcs_handle_kv_get(gcs_client *cl, uint64_t id, const Rayc__KvGet *req);
void gcs_handle_kv_del(gcs_client *cl, uint64_t id, const Rayc__KvDel *req);
void gcs_handle_kv_keys(gcs_client *cl, uint64_t id, const Rayc__KvKeys *req);

/* gcs_jobs.c: a durable job counter and the jobs table (published on JOB). */
void gcs_handle_next_job_id(gcs_client *cl, uint64_t id);
void gcs_handle_add_job(gcs_client *cl, uint64_t id, const Rayc__AddJob *req);
void gcs_handle_mark_job_finished(gcs_client *cl, uint64_t id, const Rayc__MarkJobFinished *req);
void gcs_handle_get_all_jobs(gcs_client *cl, uint64_t id);

/* Formats job number NUM as Ray's 4-byte JobID in hex: the bytes of NUM in
 * little-endian order, so 1 is "01000000".  OUT must hold 9 bytes. */
void gcs_job_id_format(uint32_t num, char out[9]);

/* gcs_pubsub.c: Subscribe adds channels ("NODE", "JOB") to CL; the publish
 * functions push Publish{channel, record} with request_id 0 to every
 * authenticated subscriber of that channel.  Closed clients are skipped. */
void gcs_handle_subscribe(gcs_client *cl, uint64_t id, const Rayc__Subscribe *req);
void gcs_publish_node(gcs_server *srv, const Rayc__NodeInfo *node);
void gcs_publish_job(gcs_server *srv, const Rayc__JobInfo *job);

/* gcs_pg.c: placement groups (gcs_pg.h).  Create answers at once and the
 * reservation goes on in the background; remove gives the bundles back and
 * tells every raylet; get finds one by id or by name; get-all lists them.
 * Replies of raylets to the GCS's own requests come in through
 * gcs_pg_on_reply. */
void gcs_handle_create_pg(gcs_client *cl, uint64_t id, const Rayc__CreatePlacementGroup *req);
void gcs_handle_remove_pg(gcs_client *cl, uint64_t id, const Rayc__RemovePlacementGroup *req);
void gcs_handle_get_pg(gcs_client *cl, uint64_t id, const Rayc__GetPlacementGroup *req);
void gcs_handle_get_all_pgs(gcs_client *cl, uint64_t id);
void gcs_pg_on_reply(gcs_client *cl, const Rayc__Envelope *reply);

/* gcs_events_api.c: task and actor events (gcs_events.h).  AddTaskEvents
 * merges a raylet's batch; GetTaskEvents answers a filtered query. */
int gcs_events_open(gcs_server *srv);
void gcs_events_free(gcs_server *srv);
void gcs_handle_add_task_events(gcs_client *cl, uint64_t id, const Rayc__AddTaskEvents *req);
void gcs_handle_get_task_events(gcs_client *cl, uint64_t id, const Rayc__GetTaskEvents *req);

/* Loads the stored groups (at open).  Returns 0 or a negative code. */
int gcs_pg_load(gcs_server *srv);

/* Events placement groups react to: a node (re-)registered on CL (it is
 * told which bundles to keep, and pending groups may fit now), a node
 * died, a connection closed (requests on it fail), a job finished (its
 * groups are removed unless detached), the periodic tick (retries). */
void gcs_pg_node_registered(gcs_server *srv, gcs_node *n, gcs_client *cl);
void gcs_pg_node_dead(gcs_server *srv, gcs_node *n);
void gcs_pg_conn_closed(gcs_server *srv, gcs_client *cl);
void gcs_pg_job_finished(gcs_server *srv, const char *job_hex);
void gcs_pg_tick(gcs_server *srv);

/* Frees the groups (after the loop). */
void gcs_pg_free(gcs_server *srv);

/* ---------------------------------------------------------------- gcs_msg.c */

/* Deep-copies MSG by packing and unpacking it; the copy is freed with
 * protobuf_c_message_free_unpacked.  NULL on allocation failure. */
ProtobufCMessage *gcs_msg_dup(const ProtobufCMessage *msg);

/* True when ID is 1..GCS_MAX_ID_LEN characters of [0-9A-Za-z_-]. */
int gcs_valid_id(const char *id);

#endif
