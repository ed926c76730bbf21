/* raylet: the per-node daemon.
 *
 * One struct holds the daemon's state; one libuv loop drives it.  The files
 * of this folder split it by concern:
 *
 *   raylet_main.c    process start: flags, token, resources, loop, exit code
 *   raylet_life.c    lifecycle: signals, graceful stop, ready file, teardown
 *   raylet_server.c  the node-manager listeners (TCP + Unix socket) and
 *                    their client connections (Hello/token check)
 *   raylet_gcs.c     the GCS connection: hello, register, periodic resource
 *                    reports, reconnects, unregister
 *   raylet_msg.c     building NodeInfo / ReportResources messages
 *   raylet_opts.c    the command line
 *   res_*.c          resource detection, maps and the node's resource spec
 *   raylet_local.c   routing drivers' and workers' messages to the modules:
 *   wpool*.c         jobs and their worker processes (wpool.h)
 *   sched*.c         the task queue, dependencies, resources, results (sched.h)
 *   otable*.c        the object table and the object store (otable.h)
 *   actor*.c         actors: creation, calls, restarts, names (actor.h)
 *   pgroup*.c        placement group bundles on this node (pgroup.h)
 *   objstore*.c      the shared-memory object store itself (objstore.h)
 */
#ifndef RAYC_RAYLET_RAYLET_H
#define RAYC_RAYLET_RAYLET_H

#include <limits.h>
#include <stdint.h>
#include <sys/un.h>
#include <uv.h>

#include "common/conn_guard.h"
#include "common/res_map.h"
#include "common/rpc.h"
#include "common/token.h"
#include "raylet/raylet_opts.h"
#include "ray.pb-c.h"
#include "ray/ray.h"   /* status codes and value types of the runtime */

/* ---------------------------------------------------------------- limits */

/* Longest frame a raylet accepts from the GCS or a local client. */
#define RAYLET_MAX_FRAME (16u * 1024u * 1024u)
/* Most client connections held at once; more are accepted and closed. */
#define RAYLET_MAX_CLIENTS 1024
/* A client that has not sent a valid Hello by then is disconnected: one on
 * the Unix socket (a local process the socket's mode let in) and one on the
 * node-manager port (anyone on the network, see common/conn_guard.h). */
#define RAYLET_HELLO_TIMEOUT_MS 10000
#define RAYLET_TCP_HELLO_TIMEOUT_MS GUARD_HELLO_TIMEOUT_MS
/* How often the GCS connection is retried while it is down. */
#define RAYLET_GCS_RETRY_MS 1000
/* How long a connected GCS may take to answer Hello or RegisterNode. */
#define RAYLET_GCS_REPLY_TIMEOUT_MS 10000
/* How long a graceful stop waits for UnregisterNodeReply. */
#define RAYLET_UNREGISTER_WAIT_MS 1000

/* ---------------------------------------------------------------- state */

enum raylet_gcs_state {
    RAYLET_GCS_IDLE,          /* no connection; the retry timer will try */
    RAYLET_GCS_CONNECTING,    /* TCP connect in flight */
    RAYLET_GCS_HELLO,         /* Hello sent, waiting for HelloReply */
    RAYLET_GCS_REGISTERING,   /* RegisterNode sent */
    RAYLET_GCS_REGISTERED,    /* reporting resources every period */
    RAYLET_GCS_UNREGISTERING, /* UnregisterNode sent during a graceful stop */
};

typedef struct raylet_gcs {
    enum raylet_gcs_state state;
    rpc_conn *conn;               /* NULL while IDLE */
    uv_timer_t retry_timer;       /* every RAYLET_GCS_RETRY_MS */
    uv_timer_t report_timer;      /* every report period while registered */
    uv_timer_t unregister_timer;  /* bounds the wait for UnregisterNodeReply */
    uint64_t next_request_id;
    uint64_t hello_id, register_id, unregister_id;
    int64_t down_since_ms;        /* monotonic: when we last had no GCS */
    int64_t state_since_ms;       /* monotonic: when STATE was entered */
    int registered_once;          /* for "registered" vs "re-registered" */
    int announced_down;           /* "waiting for the GCS" logged already */
} raylet_gcs;

/* A connection from a local process.  After Hello it registers as a driver
 * or a worker.  Tasks and objects keep references to the client that owns
 * them (raylet_client_ref); the record is freed once it is closed and
 * unreferenced, so owners can be tested with raylet_client_alive. */
enum raylet_client_kind { RAYLET_CLIENT_NEW = 0, RAYLET_CLIENT_DRIVER, RAYLET_CLIENT_WORKER };

struct wpool_job;
struct wpool_worker;

typedef struct raylet_client {
    struct raylet *r;
    rpc_conn *conn;             /* NULL once closed */
    int authed;
    int is_tcp;                 /* came in on the node-manager port */
    int guarded;                /* counted in r->guard (TCP, before Hello) */
    int kind;                   /* raylet_client_kind */
    int pid;                    /* drivers: from RegisterDriver */
    int is_peer;                /* another raylet (Hello kind "raylet") */
    int64_t accepted_ms;        /* monotonic */
    int hello_grace;            /* one more sweep past the Hello deadline used */
    uint64_t serial;            /* unique for the raylet's life */
    unsigned refs;              /* references from tasks and objects */
    int dead;                   /* closed; freed when refs reach 0 */
    struct wpool_job *job;      /* drivers and workers */
    struct wpool_worker *worker;/* workers */
    struct otable_pin *pins;    /* objects this client has pinned (GetObject) */
    struct raylet_client *prev, *next;
} raylet_client;

struct otable;
struct sched;
struct wpool;
struct actor_table;
struct objstore;
struct raylet_gcs_call;
struct node_stats;
struct prom_http;
struct raylet_cluster;
struct pgroup_table;
struct tev;
typedef struct raylet_reservation raylet_reservation;

typedef struct raylet {
    uv_loop_t *loop;
    const raylet_opts *opts;
    char token[TOKEN_MAX + 1];
    char hostname[256];
    char session_name[128];       /* from the GCS's HelloReply */
    int64_t start_time_ms;
    int node_manager_port;        /* the bound port (differs from opts when 0) */

    /* resources and labels */
    res_map total;
    res_map available;
    res_labels labels;

    /* files under the node dir */
    char socket_path[PATH_MAX];   /* DIR/sockets/raylet */
    char socket_addr[sizeof(((struct sockaddr_un *)0)->sun_path)]; /* what bind() got */
    int sockets_dirfd;            /* O_PATH fd of DIR/sockets when the path is long, else -1 */
    char ready_path[PATH_MAX];
    int socket_bound;             /* we created socket_path: remove it at exit */

    /* listeners and clients (raylet_server.c) */
    uv_pipe_t unix_listener;
    uv_tcp_t tcp_listener;
    uv_timer_t sweep_timer;
    raylet_client *clients;       /* live connections */
    raylet_client *dead_clients;  /* closed, freed on the next sweep */
    size_t n_clients;
    conn_guard guard;           /* TCP clients that have not sent Hello */

    raylet_gcs gcs;
    struct raylet_gcs_call *gcs_calls; /* requests waiting for a GCS reply */

    /* the runtime: tasks, workers, objects, actors */
    struct otable *otable;
    struct sched *sched;
    struct wpool *wpool;
    struct actor_table *actors;
    struct objstore *store;
    char store_prefix[96];        /* shm file prefix of this node's store */
    uint64_t next_client_serial;
    struct raylet_cluster *cluster; /* other nodes: raylet_cluster.h */
    struct pgroup_table *pgroups; /* placement group bundles: pgroup.h */
    struct raylet_reservation *reservations; /* the job server's: reserve.h */
    struct node_stats *stats;     /* measurements for reports and /metrics: node_stats.h */
    struct prom_http *metrics;    /* the Prometheus endpoint: common/prom_http.h */
    int metrics_port;             /* its bound port, 0: none */
    struct tev *tev;              /* task and actor events: tev.h */

    /* lifecycle (raylet_life.c) */
    uv_signal_t sigterm, sigint;
    int stopping;                 /* a graceful stop or exit has begun */
    int closing;                  /* every handle is being closed */
    int exit_code;
} raylet;

/* ---------------------------------------------------------------- raylet_life.c */

/* Installs the SIGTERM/SIGINT handlers.  Returns 0 or a libuv error. */
int raylet_signals_start(raylet *r);

/* Begins a graceful stop: unregisters from the GCS with REASON when
 * registered (waiting up to RAYLET_UNREGISTER_WAIT_MS), then exits with 0.
 * Does nothing when a stop is already under way. */
void raylet_stop(raylet *r, const char *reason);

/* Closes every handle so that uv_run returns, and records CODE as the exit
 * status (the first code recorded wins).  Safe from any callback. */
void raylet_exit(raylet *r, int code);

/* Closes H unless it was never initialised or is closing already.  Handles
 * embedded in the raylet struct rely on it being zeroed before use (an
 * uninitialised handle has type UV_UNKNOWN_HANDLE). */
void raylet_close_handle(uv_handle_t *h);

/* Writes the ready file (the node id and a newline) once the node is
 * registered.  Returns 0 or -errno; failures are logged. */
int raylet_ready_write(raylet *r);

/* Removes the ready file and the Unix socket (called after the loop ends). */
void raylet_files_remove(raylet *r);

/* ---------------------------------------------------------------- raylet_server.c */

/* Creates DIR/sockets/, binds the Unix socket and the TCP node-manager port
 * and starts accepting.  Returns 0, or a negative error with one line in
 * ERR ("port 6380 is already in use"); what was opened is closed by
 * raylet_exit. */
int raylet_server_start(raylet *r, char *err, size_t errlen);

/* Closes the listeners, the sweep timer and every client connection
 * (teardown only). */
void raylet_server_close(raylet *r);

/* Frees client records of closed connections (teardown only, after the loop). */
void raylet_server_free(raylet *r);

/* Client references: a referenced client record outlives its connection. */
void raylet_client_ref(raylet_client *cl);
void raylet_client_unref(raylet_client *cl);

/* True while CL's connection is open. */
int raylet_client_alive(const raylet_client *cl);

/* Sends ENV to CL unless it is closed.  A send failure closes CL.
 * Returns 0 or a negative error. */
int raylet_client_send(raylet_client *cl, const Rayc__Envelope *env);

/* Closes CL's connection (idempotent). */
void raylet_client_close(raylet_client *cl, const char *why);

/* ---------------------------------------------------------------- raylet_local.c */

/* Opens the runtime modules (store, tables, pool).  Returns 0 or a negative
 * error with one line in ERR. */
int raylet_runtime_open(raylet *r, char *err, size_t errlen);

/* Stops every worker and closes the runtime's handles (teardown). */
void raylet_runtime_close(raylet *r);

/* Frees the runtime modules and removes the store's files (after the loop). */
void raylet_runtime_free(raylet *r);

/* Handles one message from an authenticated local client. */
void raylet_local_message(raylet_client *cl, Rayc__Envelope *msg);

/* CL's connection closed: its worker, job, pins and objects are dealt with. */
void raylet_local_closed(raylet_client *cl);

/* Replies to request ID on CL with an Error envelope. */
void raylet_local_error(raylet_client *cl, uint64_t id, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* ---------------------------------------------------------------- raylet_gcs.c */

/* Starts connecting to the GCS and keeps doing so until the node is
 * registered; see raylet_gcs.c for the state machine.  Returns 0 or a
 * libuv error. */
int raylet_gcs_start(raylet *r);

/* Sends UnregisterNode{REASON} when registered.  Returns 1 when a reply is
 * awaited (raylet_exit follows it or the timeout), 0 when not connected. */
int raylet_gcs_unregister(raylet *r, const char *reason);

/* Closes the GCS connection and its timers (teardown only). */
void raylet_gcs_close(raylet *r);

/* Called with the reply to a raylet_gcs_call (NULL when the GCS could not be
 * asked or went away: the caller treats it as unavailable).  REPLY is freed
 * after the callback. */
typedef void (*raylet_gcs_cb)(raylet *r, Rayc__Envelope *reply, void *data);

/* Sends REQ to the GCS when the node is registered and calls CB with its
 * reply later.  When the GCS is not there, CB is called from here with
 * NULL.  REQ is only borrowed. */
void raylet_gcs_call(raylet *r, Rayc__Envelope *req, raylet_gcs_cb cb, void *data);

/* Answers request ID that the GCS sent us (placement group bundles) with
 * ENV.  A send failure closes the connection.  Returns 0 or an error. */
int raylet_gcs_reply(raylet *r, uint64_t id, Rayc__Envelope *env);

/* ---------------------------------------------------------------- raylet_msg.c */

/* Fills INFO (initialised by the caller) with this node's NodeInfo for
 * RegisterNode.  Strings point into R; the entry arrays are allocated.
 * Returns 0 or -ENOMEM; free with raylet_msg_node_info_clear either way. */
int raylet_msg_node_info(const raylet *r, Rayc__NodeInfo *info);
void raylet_msg_node_info_clear(Rayc__NodeInfo *info);

/* Fills REP with a ReportResources of the whole available map.
 * Returns 0 or -ENOMEM; free with raylet_msg_report_clear either way. */
int raylet_msg_report(const raylet *r, Rayc__ReportResources *rep);
void raylet_msg_report_clear(Rayc__ReportResources *rep);

#endif
