/* The raylet's connection to the GCS.
 *
 * States (raylet.h): IDLE -> CONNECTING -> HELLO -> REGISTERING ->
 * REGISTERED, and UNREGISTERING during a graceful stop.  Any close returns
 * to IDLE; a retry timer ticks every second and, while IDLE, connects again
 * or gives up after --gcs-reconnect-timeout-s without a registered GCS
 * connection (Ray's raylet does the same).  Re-registration uses the same
 * node id, so a restarted GCS sees the node come back rather than a new one.
 *
 * Logging happens once per change between "GCS up" and "GCS down"; single
 * failed attempts are debug lines. */
#include "raylet/raylet.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/net.h"
#include "common/util.h"
#include "raylet/cluster_view.h"
#include "raylet/node_stats.h"
#include "raylet/otable.h"
#include "raylet/pgroup.h"

/* ---------------------------------------------------------------- helpers */

static void set_state(raylet *r, enum raylet_gcs_state s)
{
    r->gcs.state = s;
    r->gcs.state_since_ms = time_mono_ms();
}

/* Sends ENV with a fresh request id stored in *ID (may be NULL).  On
 * failure the connection is closed (its close callback runs) and the error
 * is returned. */
static int gcs_send(raylet *r, Rayc__Envelope *env, uint64_t *id)
{
    env->request_id = ++r->gcs.next_request_id;
    if (id != NULL)
        *id = env->request_id;
    int rc = rpc_conn_send(r->gcs.conn, env);
    if (rc != 0)
        rpc_conn_close(r->gcs.conn, rc == -EMSGSIZE ? "message too large" : "send failed");
    return rc;
}

/* ---------------------------------------------------------------- requests */

static void send_hello(raylet *r)
{
    Rayc__Envelope env = RAYC__ENVELOPE__INIT;
    Rayc__Hello hello = RAYC__HELLO__INIT;
    hello.token = r->token;
    hello.client_kind = "raylet";
    hello.client_id = (char *)r->opts->node_id;
    env.body_case = RAYC__ENVELOPE__BODY_HELLO;
    env.hello = &hello;
    if (gcs_send(r, &env, &r->gcs.hello_id) == 0)
        set_state(r, RAYLET_GCS_HELLO);
}

static void send_register(raylet *r)
{
    Rayc__Envelope env = RAYC__ENVELOPE__INIT;
    Rayc__RegisterNode reg = RAYC__REGISTER_NODE__INIT;
    Rayc__NodeInfo info = RAYC__NODE_INFO__INIT;
    int rc = raylet_msg_node_info(r, &info);
    if (rc == 0) {
        reg.node = &info;
        env.body_case = RAYC__ENVELOPE__BODY_REGISTER_NODE;
        env.register_node = &reg;
        rc = gcs_send(r, &env, &r->gcs.register_id);
    } else {
        rpc_conn_close(r->gcs.conn, "out of memory");
    }
    raylet_msg_node_info_clear(&info);
    if (rc == 0)
        set_state(r, RAYLET_GCS_REGISTERING);
}

static void send_report(raylet *r)
{
    otable_report_usage(r);
    node_stats_sample(r);
    Rayc__Envelope env = RAYC__ENVELOPE__INIT;
    Rayc__ReportResources rep = RAYC__REPORT_RESOURCES__INIT;
    if (raylet_msg_report(r, &rep) == 0) {
        env.body_case = RAYC__ENVELOPE__BODY_REPORT_RESOURCES;
        env.report_resources = &rep;
        gcs_send(r, &env, NULL);
    } else {
        log_error("out of memory building a resource report");
    }
    raylet_msg_report_clear(&rep);
}

/* ---------------------------------------------------------------- timers */

static void report_cb(uv_timer_t *t)
{
    raylet *r = t->data;
    if (r->gcs.state == RAYLET_GCS_REGISTERED)
        send_report(r);
}

static void unregister_timeout_cb(uv_timer_t *t)
{
    raylet *r = t->data;
    log_warn("no reply to UnregisterNode within %d ms", RAYLET_UNREGISTER_WAIT_MS);
    raylet_exit(r, 0);
}

/* ---------------------------------------------------------------- replies */

static void on_hello_reply(raylet *r, Rayc__Envelope *msg)
{
    if (r->gcs.state != RAYLET_GCS_HELLO || msg->request_id != r->gcs.hello_id)
        return;
    str_copy(r->session_name, sizeof r->session_name, msg->hello_reply->session_name);
    send_register(r);
}

static void on_registered(raylet *r, Rayc__Envelope *msg)
{
    raylet_gcs *g = &r->gcs;
    if (g->state != RAYLET_GCS_REGISTERING || msg->request_id != g->register_id)
        return;
    const raylet_opts *o = r->opts;
    if (!g->registered_once)
        log_info("registered node %s with the GCS at %s:%d (session %s)", o->node_id,
                 o->gcs_host, o->gcs_port, r->session_name);
    else
        log_info("re-registered with the GCS at %s:%d after %.1f s without it", o->gcs_host,
                 o->gcs_port, (double)(time_mono_ms() - g->down_since_ms) / 1000.0);
    g->registered_once = 1;
    g->announced_down = 0;
    set_state(r, RAYLET_GCS_REGISTERED);
    raylet_ready_write(r);
    uv_timer_start(&g->report_timer, report_cb, (uint64_t)o->report_period_ms,
                   (uint64_t)o->report_period_ms);
    cview_gcs_registered(r);
}

static void on_report_reply(raylet *r, Rayc__Envelope *msg)
{
    if (!msg->report_resources_reply->node_dead)
        return;
    log_error("this node was marked dead by the GCS; exiting");
    raylet_exit(r, 1);
}

/* An Error reply to a request of ours. */
static void on_error(raylet *r, Rayc__Envelope *msg)
{
    raylet_gcs *g = &r->gcs;
    int code = msg->error->code;
    const char *text = msg->error->message;
    if (code == RPC_E_UNAUTHENTICATED) {
        log_error("the GCS refused the cluster token");
        raylet_exit(r, 1);
    } else if (msg->request_id == g->unregister_id && g->state == RAYLET_GCS_UNREGISTERING) {
        log_warn("the GCS refused UnregisterNode: %s", text);
        raylet_exit(r, 0);
    } else if (msg->request_id == g->register_id && g->state == RAYLET_GCS_REGISTERING) {
        if (code == RPC_E_UNAVAILABLE || code == RPC_E_INTERNAL) {
            log_warn("the GCS could not register this node now: %s", text);
            rpc_conn_close(g->conn, "registration failed");
            return;
        }
        if (strstr(text, "marked dead") != NULL)
            log_error("the GCS refused to register this node: %s (a dead node's id is never "
                      "reused: run `ray start` again on this host, which starts it as a new "
                      "node); exiting", text);
        else
            log_error("the GCS refused to register this node: %s; exiting", text);
        raylet_exit(r, 1);
    } else if ((code == RPC_E_NOT_FOUND || code == RPC_E_INVALID) &&
               g->state == RAYLET_GCS_REGISTERED) {
        /* Only reports are left: the GCS lost the node (a new database). */
        log_warn("the GCS does not know this node (%s); registering again", text);
        send_register(r);
    } else if (msg->request_id == g->hello_id && g->state == RAYLET_GCS_HELLO) {
        log_warn("the GCS refused hello: %s", text);
        rpc_conn_close(g->conn, "hello refused");
    } else {
        log_warn("the GCS answered request %llu with an error: %s",
                 (unsigned long long)msg->request_id, text);
    }
}

/* ---------------------------------------------------------------- calls for the runtime */

struct raylet_gcs_call {
    uint64_t id;
    raylet_gcs_cb cb;
    void *data;
    struct raylet_gcs_call *next;
};

void raylet_gcs_call(raylet *r, Rayc__Envelope *req, raylet_gcs_cb cb, void *data)
{
    struct raylet_gcs_call *call = malloc(sizeof *call);
    if (call == NULL || r->gcs.state != RAYLET_GCS_REGISTERED || r->closing) {
        free(call);
        cb(r, NULL, data);
        return;
    }
    if (gcs_send(r, req, &call->id) != 0) {
        free(call); /* the close callback failed the others */
        cb(r, NULL, data);
        return;
    }
    call->cb = cb;
    call->data = data;
    call->next = r->gcs_calls;
    r->gcs_calls = call;
}

int raylet_gcs_reply(raylet *r, uint64_t id, Rayc__Envelope *env)
{
    if (r->gcs.conn == NULL)
        return -ENOTCONN;
    env->request_id = id;
    int rc = rpc_conn_send(r->gcs.conn, env);
    if (rc != 0)
        rpc_conn_close(r->gcs.conn, rc == -EMSGSIZE ? "message too large" : "send failed");
    return rc;
}

/* Hands MSG to the runtime call waiting for it.  Returns 1 when one was. */
static int finish_call(raylet *r, Rayc__Envelope *msg)
{
    for (struct raylet_gcs_call **p = &r->gcs_calls; *p != NULL; p = &(*p)->next) {
        struct raylet_gcs_call *call = *p;
        if (call->id == msg->request_id) {
            *p = call->next;
            call->cb(r, msg, call->data);
            free(call);
            return 1;
        }
    }
    return 0;
}

/* Fails every waiting runtime call (the connection went away). */
static void fail_calls(raylet *r)
{
    while (r->gcs_calls != NULL) {
        struct raylet_gcs_call *call = r->gcs_calls;
        r->gcs_calls = call->next;
        call->cb(r, NULL, call->data);
        free(call);
    }
}

static void gcs_message_cb(rpc_conn *c, Rayc__Envelope *msg)
{
    raylet *r = rpc_conn_data(c);
    if (r->closing || c != r->gcs.conn)
        return;
    /* Requests of the GCS carry its own ids, which may equal ours. */
    if (pgroup_on_gcs_request(r, msg))
        return;
    if (msg->request_id != 0 && r->gcs_calls != NULL && finish_call(r, msg))
        return;
    switch (msg->body_case) {
    case RAYC__ENVELOPE__BODY_ERROR:
        on_error(r, msg);
        break;
    case RAYC__ENVELOPE__BODY_HELLO_REPLY:
        on_hello_reply(r, msg);
        break;
    case RAYC__ENVELOPE__BODY_REGISTER_NODE_REPLY:
        on_registered(r, msg);
        break;
    case RAYC__ENVELOPE__BODY_REPORT_RESOURCES_REPLY:
        on_report_reply(r, msg);
        break;
    case RAYC__ENVELOPE__BODY_UNREGISTER_NODE_REPLY:
        if (msg->request_id == r->gcs.unregister_id)
            raylet_exit(r, 0);
        break;
    case RAYC__ENVELOPE__BODY_PUBLISH:
        cview_on_publish(r, msg->publish);
        break;
    default:
        break;
    }
}

/* ---------------------------------------------------------------- connection */

/* Logs the loss of the connection once per "GCS down" period. */
static void note_down(raylet *r, enum raylet_gcs_state was, const char *reason)
{
    raylet_gcs *g = &r->gcs;
    const raylet_opts *o = r->opts;
    if (was == RAYLET_GCS_REGISTERED) {
        g->down_since_ms = time_mono_ms();
        g->announced_down = 1;
        log_warn("lost the GCS connection (%s); reconnecting every %d ms for up to %ld s",
                 reason, RAYLET_GCS_RETRY_MS, o->reconnect_timeout_s);
    } else if (!g->announced_down) {
        g->announced_down = 1;
        log_info("waiting for the GCS at %s:%d (%s); retrying every %d ms for up to %ld s",
                 o->gcs_host, o->gcs_port, reason, RAYLET_GCS_RETRY_MS,
                 o->reconnect_timeout_s);
    } else {
        log_debug("GCS connection attempt failed: %s", reason);
    }
}

static void gcs_close_cb(rpc_conn *c, const char *reason)
{
    raylet *r = rpc_conn_data(c);
    raylet_gcs *g = &r->gcs;
    if (c != g->conn)
        return;
    enum raylet_gcs_state was = g->state;
    g->conn = NULL;
    set_state(r, RAYLET_GCS_IDLE);
    uv_timer_stop(&g->report_timer);
    fail_calls(r);
    if (r->closing)
        return;
    if (was == RAYLET_GCS_UNREGISTERING) {
        log_warn("the GCS connection closed before UnregisterNode was answered (%s)", reason);
        raylet_exit(r, 0);
        return;
    }
    note_down(r, was, reason);
}

static void connect_cb(uv_connect_t *req, int status)
{
    rpc_conn *c = req->data;
    free(req);
    if (status == UV_ECANCELED)
        return; /* closed meanwhile; the close callback has run */
    raylet *r = rpc_conn_data(c);
    if (status < 0) {
        rpc_conn_close(c, uv_strerror(status));
        return;
    }
    int rc = rpc_conn_start_connected(c);
    if (rc != 0) {
        rpc_conn_close(c, uv_strerror(rc));
        return;
    }
    send_hello(r);
}

/* Starts one connection attempt; failures end in gcs_close_cb. */
static void gcs_connect(raylet *r)
{
    raylet_gcs *g = &r->gcs;
    const raylet_opts *o = r->opts;
    char ip[64];
    struct sockaddr_in sa;
    if (net_resolve_ipv4(o->gcs_host, ip, sizeof ip) != 0 ||
        uv_ip4_addr(ip, o->gcs_port, &sa) != 0) {
        note_down(r, RAYLET_GCS_IDLE, "cannot resolve the address");
        return;
    }
    uv_connect_t *req = malloc(sizeof *req);
    g->conn = req ? rpc_conn_new_tcp(r->loop, RAYLET_MAX_FRAME, gcs_message_cb, gcs_close_cb)
                  : NULL;
    if (g->conn == NULL) {
        free(req);
        log_error("out of memory connecting to the GCS");
        return;
    }
    rpc_conn_set_data(g->conn, r);
    set_state(r, RAYLET_GCS_CONNECTING);
    req->data = g->conn;
    int rc = uv_tcp_connect(req, (uv_tcp_t *)rpc_conn_stream(g->conn),
                            (const struct sockaddr *)&sa, connect_cb);
    if (rc != 0) {
        free(req);
        rpc_conn_close(g->conn, uv_strerror(rc));
    }
}

/* Every RAYLET_GCS_RETRY_MS: reconnect, give up, or drop a silent GCS. */
static void retry_cb(uv_timer_t *t)
{
    raylet *r = t->data;
    raylet_gcs *g = &r->gcs;
    if (r->stopping)
        return;
    int64_t now = time_mono_ms();
    if (g->state == RAYLET_GCS_IDLE) {
        if (now - g->down_since_ms >= r->opts->reconnect_timeout_s * 1000) {
            log_error("no GCS at %s:%d for %ld s; exiting", r->opts->gcs_host,
                      r->opts->gcs_port, r->opts->reconnect_timeout_s);
            raylet_exit(r, 1);
            return;
        }
        gcs_connect(r);
    } else if (g->state != RAYLET_GCS_REGISTERED &&
               now - g->state_since_ms > RAYLET_GCS_REPLY_TIMEOUT_MS) {
        rpc_conn_close(g->conn, "no answer from the GCS");
    }
}

/* ---------------------------------------------------------------- exported */

int raylet_gcs_start(raylet *r)
{
    raylet_gcs *g = &r->gcs;
    uv_timer_t *timers[] = {&g->retry_timer, &g->report_timer, &g->unregister_timer};
    for (size_t i = 0; i < sizeof timers / sizeof timers[0]; i++) {
        uv_timer_init(r->loop, timers[i]);
        timers[i]->data = r;
    }
    g->down_since_ms = time_mono_ms();
    set_state(r, RAYLET_GCS_IDLE);
    log_info("connecting to the GCS at %s:%d", r->opts->gcs_host, r->opts->gcs_port);
    gcs_connect(r);
    return uv_timer_start(&g->retry_timer, retry_cb, RAYLET_GCS_RETRY_MS, RAYLET_GCS_RETRY_MS);
}

int raylet_gcs_unregister(raylet *r, const char *reason)
{
    raylet_gcs *g = &r->gcs;
    if (g->state != RAYLET_GCS_REGISTERED && g->state != RAYLET_GCS_REGISTERING)
        return 0;
    Rayc__Envelope env = RAYC__ENVELOPE__INIT;
    Rayc__UnregisterNode un = RAYC__UNREGISTER_NODE__INIT;
    un.node_id = (char *)r->opts->node_id;
    un.reason = (char *)reason;
    env.body_case = RAYC__ENVELOPE__BODY_UNREGISTER_NODE;
    env.unregister_node = &un;
    if (gcs_send(r, &env, &g->unregister_id) != 0)
        return 0;
    set_state(r, RAYLET_GCS_UNREGISTERING);
    uv_timer_stop(&g->report_timer);
    uv_timer_start(&g->unregister_timer, unregister_timeout_cb, RAYLET_UNREGISTER_WAIT_MS, 0);
    return 1;
}

void raylet_gcs_close(raylet *r)
{
    raylet_gcs *g = &r->gcs;
    if (g->conn != NULL)
        rpc_conn_close(g->conn, "raylet exiting");
    raylet_close_handle((uv_handle_t *)&g->retry_timer);
    raylet_close_handle((uv_handle_t *)&g->report_timer);
    raylet_close_handle((uv_handle_t *)&g->unregister_timer);
}
