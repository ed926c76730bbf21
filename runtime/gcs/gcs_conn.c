/* GCS connections: accepting, the hello handshake, replies, closing and the
 * deferred freeing of clients. */
#include "gcs/gcs_server.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/log.h"
#include "common/util.h"

/* ---------------------------------------------------------------- client list */

static void list_unlink(gcs_client **head, gcs_client *cl)
{
    if (cl->prev != NULL)
        cl->prev->next = cl->next;
    else
        *head = cl->next;
    if (cl->next != NULL)
        cl->next->prev = cl->prev;
    cl->prev = cl->next = NULL;
}

static void list_push(gcs_client **head, gcs_client *cl)
{
    cl->prev = NULL;
    cl->next = *head;
    if (*head != NULL)
        (*head)->prev = cl;
    *head = cl;
}

/* ---------------------------------------------------------------- sending */

int gcs_send(gcs_client *cl, Rayc__Envelope *env)
{
    if (cl->closed)
        return -EPIPE;
    size_t backlog = rpc_conn_stream(cl->conn)->write_queue_size;
    if (backlog > GCS_MAX_BACKLOG) {
        rpc_conn_close(cl->conn, "peer is not reading (send backlog over the cap)");
        return -ENOBUFS;
    }
    return rpc_conn_send(cl->conn, env);
}

void gcs_reply(gcs_client *cl, uint64_t request_id, Rayc__Envelope *env)
{
    env->request_id = request_id;
    if (gcs_send(cl, env) == -EMSGSIZE)
        gcs_reply_error(cl, request_id, RPC_E_INTERNAL, "reply is over the %zu-byte frame cap",
                        cl->srv->cfg.max_frame);
}

void gcs_reply_error(gcs_client *cl, uint64_t request_id, int code, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (!cl->closed)
        rpc_conn_send_error(cl->conn, request_id, code, msg);
}

/* ---------------------------------------------------------------- hello */

/* Logs one line about a connection that has not authenticated, unless such
 * lines come too fast: anyone can open connections, and the log must not
 * grow with them. */
static void log_unauthed(gcs_server *srv, const char *fmt, const char *peer, const char *why)
{
    unsigned dropped;
    if (!guard_log_allowed(&srv->guard, time_mono_ms(), &dropped))
        return;
    if (dropped > 0)
        log_info("%u more lines about unauthenticated connections were not logged", dropped);
    log_info(fmt, peer, why);
}

/* Stops counting CL as unauthenticated. */
static void unguard(gcs_client *cl)
{
    if (cl->guarded)
        guard_release(&cl->srv->guard, rpc_conn_peer(cl->conn));
    cl->guarded = 0;
}

/* Refuses CL: one Error frame, then close. */
static void refuse(gcs_client *cl, uint64_t request_id, const char *why)
{
    cl->refused = 1;
    rpc_conn_send_error(cl->conn, request_id, RPC_E_UNAUTHENTICATED, why);
    rpc_conn_close(cl->conn, why);
}

/* Checks the first frame of CL and answers HelloReply when it is a good hello. */
static void handle_hello(gcs_client *cl, const Rayc__Envelope *msg)
{
    gcs_server *srv = cl->srv;
    if (msg->body_case != RAYC__ENVELOPE__BODY_HELLO) {
        refuse(cl, msg->request_id, "the first message must be hello");
        return;
    }
    if (!token_equal(msg->hello->token, srv->token)) {
        refuse(cl, msg->request_id, "invalid cluster token");
        return;
    }
    cl->authed = 1;
    unguard(cl);
    rpc_conn_set_read_limit(cl->conn, 0);
    log_info("connection %s authenticated: kind=%.32s id=%.64s", rpc_conn_peer(cl->conn),
             msg->hello->client_kind, msg->hello->client_id);
    Rayc__HelloReply r = RAYC__HELLO_REPLY__INIT;
    r.session_name = srv->session_name;
    r.cluster_id = srv->cluster_id;
    r.gcs_version = GCS_VERSION;
    Rayc__Envelope env = RAYC__ENVELOPE__INIT;
    env.body_case = RAYC__ENVELOPE__BODY_HELLO_REPLY;
    env.hello_reply = &r;
    gcs_reply(cl, msg->request_id, &env);
}

/* ---------------------------------------------------------------- callbacks */

static void message_cb(rpc_conn *c, Rayc__Envelope *msg)
{
    gcs_client *cl = rpc_conn_data(c);
    if (cl == NULL || cl->closed)
        return;
    if (!cl->authed)
        handle_hello(cl, msg);
    else
        gcs_dispatch(cl, msg);
}

/* The client is unlinked here but freed later by the reaper: callers up the
 * stack (a publish loop, a handler) may still hold it. */
static void close_cb(rpc_conn *c, const char *reason)
{
    gcs_client *cl = rpc_conn_data(c);
    if (cl == NULL)
        return;
    gcs_server *srv = cl->srv;
    if (cl->authed)
        log_info("connection %s closed: %s", rpc_conn_peer(c), reason);
    else
        log_unauthed(srv, "connection %s refused: %s", rpc_conn_peer(c), reason);
    unguard(cl);
    cl->closed = 1;
    list_unlink(&srv->clients, cl);
    list_push(&srv->closed, cl);
    srv->nclients--;
    gcs_pg_conn_closed(srv, cl);
}

/* Admits CL as an unauthenticated connection, or refuses it with one Error
 * frame saying why.  Returns 0 when admitted. */
static int admit(gcs_client *cl)
{
    gcs_server *srv = cl->srv;
    int rc = srv->nclients > GCS_MAX_CLIENTS ? GUARD_FULL
                                             : guard_admit(&srv->guard, rpc_conn_peer(cl->conn));
    if (rc != 0) {
        refuse(cl, 0, srv->nclients > GCS_MAX_CLIENTS ? "too many connections"
                                                      : guard_strerror(rc));
        return rc;
    }
    cl->guarded = 1;
    /* Before hello only a small frame is read: a 16 MiB frame announced by
     * someone without the token would otherwise be buffered. */
    rpc_conn_set_read_limit(cl->conn, GUARD_HELLO_MAX_FRAME);
    return 0;
}

static void connection_cb(uv_stream_t *server, int status)
{
    gcs_server *srv = server->data;
    if (status < 0) {
        log_warn("accept failed: %s", uv_strerror(status));
        return;
    }
    gcs_client *cl = calloc(1, sizeof *cl);
    rpc_conn *c = rpc_conn_new_tcp(srv->loop, srv->cfg.max_frame, message_cb, close_cb);
    if (cl == NULL || c == NULL || uv_accept(server, rpc_conn_stream(c)) != 0) {
        log_error("cannot accept a connection: out of memory or accept failed");
        free(cl);
        if (c != NULL)
            rpc_conn_close(c, "accept failed");
        return;
    }
    cl->srv = srv;
    cl->conn = c;
    cl->accepted_ms = time_mono_ms();
    rpc_conn_set_data(c, cl);
    rpc_conn_use_arena(c, 0); /* handlers copy what they keep (gcs_msg_dup) */
    list_push(&srv->clients, cl);
    srv->nclients++;
    if (admit(cl) != 0)
        return;
    int rc = rpc_conn_start(c);
    if (rc != 0)
        rpc_conn_close(c, uv_strerror(rc));
}

/* ---------------------------------------------------------------- lifecycle */

int gcs_conn_start(gcs_server *srv)
{
    guard_init(&srv->guard);
    srv->listener.data = srv;
    return uv_listen((uv_stream_t *)&srv->listener, 511, connection_cb);
}

void gcs_conn_sweep(gcs_server *srv)
{
    int64_t now = time_mono_ms();
    gcs_client *next;
    for (gcs_client *cl = srv->clients; cl != NULL; cl = next) {
        next = cl->next;
        if (!cl->authed && now - cl->accepted_ms > GCS_HELLO_TIMEOUT_MS) {
            if (!cl->hello_grace && rpc_conn_has_input(cl->conn)) {
                cl->hello_grace = 1; /* its Hello waits unread: our loop was busy */
                continue;
            }
            cl->refused = 1;
            rpc_conn_close(cl->conn, "no hello in time");
        }
    }
}

void gcs_conn_close_all(gcs_server *srv, const char *reason)
{
    while (srv->clients != NULL)
        rpc_conn_close(srv->clients->conn, reason);
}

void gcs_conn_reap(gcs_server *srv)
{
    while (srv->closed != NULL) {
        gcs_client *cl = srv->closed;
        list_unlink(&srv->closed, cl);
        free(cl);
    }
}
