/* Outgoing raylet-to-raylet connections: handshake, queue, request/reply. */
#include "raylet/peer.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "raylet/raylet_cluster.h"
#include "raylet/wlog.h"
#include "raylet/wpool.h"

/* Most code search path entries or env vars sent for a job. */
#define PEER_MAX_LIST 1024

struct peer_call {
    uint64_t id;
    peer_reply_cb cb;
    void *data;
    struct peer_call *next;
};

struct peer_msg {
    uint8_t *buf;                  /* packed envelope (no frame header) */
    size_t len;
    struct peer_msg *next;
};

/* ---------------------------------------------------------------- sending */

static int send_now(peer *p, Rayc__Envelope *env)
{
    return rpc_conn_send(p->conn, env);
}

static int enqueue(peer *p, const Rayc__Envelope *env)
{
    if (p->nqueued >= PEER_MAX_QUEUED)
        return -ENOBUFS;
    struct peer_msg *m = calloc(1, sizeof *m);
    size_t n = rayc__envelope__get_packed_size(env);
    if (m == NULL || (m->buf = malloc(n ? n : 1)) == NULL) {
        free(m);
        return -ENOMEM;
    }
    m->len = rayc__envelope__pack(env, m->buf);
    if (p->queue_tail != NULL)
        p->queue_tail->next = m;
    else
        p->queue = m;
    p->queue_tail = m;
    p->nqueued++;
    return 0;
}

static void flush(peer *p)
{
    while (p->queue != NULL && p->state == PEER_READY) {
        struct peer_msg *m = p->queue;
        p->queue = m->next;
        if (p->queue == NULL)
            p->queue_tail = NULL;
        p->nqueued--;
        Rayc__Envelope *env = rayc__envelope__unpack(NULL, m->len, m->buf);
        if (env != NULL)
            send_now(p, env);
        rayc__envelope__free_unpacked(env, NULL);
        free(m->buf);
        free(m);
    }
}

int peer_send(peer *p, Rayc__Envelope *env)
{
    if (p->state == PEER_CLOSED)
        return -EPIPE;
    if (p->state != PEER_READY)
        return enqueue(p, env);
    return send_now(p, env);
}

void peer_call(peer *p, Rayc__Envelope *env, peer_reply_cb cb, void *data)
{
    struct peer_call *c = calloc(1, sizeof *c);
    if (c == NULL) {
        cb(p->r, p, NULL, data);
        return;
    }
    c->id = ++p->next_id;
    env->request_id = c->id;
    if (peer_send(p, env) != 0) {
        free(c);
        cb(p->r, p, NULL, data);
        return;
    }
    c->cb = cb;
    c->data = data;
    c->next = p->calls;
    p->calls = c;
}

/* ---------------------------------------------------------------- handshake */

static void send_hello(peer *p)
{
    Rayc__Envelope env = RAYC__ENVELOPE__INIT;
    Rayc__Hello h = RAYC__HELLO__INIT;
    h.token = p->r->token;
    h.client_kind = "raylet";
    h.client_id = (char *)p->r->opts->node_id;
    env.request_id = p->hello_id = ++p->next_id;
    env.body_case = RAYC__ENVELOPE__BODY_HELLO;
    env.hello = &h;
    p->state = PEER_HELLO;
    send_now(p, &env);
}

/* Splits S at SEP into at most MAX pieces of the copy BUF (modified). */
static size_t split(char *buf, char sep, char **out, size_t max)
{
    size_t n = 0;
    char *s = buf;
    while (s != NULL && *s != '\0' && n < max) {
        out[n++] = s;
        s = strchr(s, sep);
        if (s != NULL)
            *s++ = '\0';
    }
    return n;
}

static void send_register(peer *p, wpool_job *job)
{
    static char *paths[PEER_MAX_LIST];
    static Rayc__KeyValue kv[PEER_MAX_LIST], *kvp[PEER_MAX_LIST];
    char *code = strdup(job->code_path ? job->code_path : "");
    char **env_copy = calloc(job->nenv + 1, sizeof *env_copy);
    Rayc__Envelope env = RAYC__ENVELOPE__INIT;
    Rayc__RegisterDriver reg = RAYC__REGISTER_DRIVER__INIT;
    size_t nenv = 0;
    for (size_t i = 0; env_copy != NULL && i < job->nenv && nenv < PEER_MAX_LIST; i++) {
        char *eq;
        if ((env_copy[i] = strdup(job->env[i])) == NULL || (eq = strchr(env_copy[i], '=')) == NULL)
            continue;
        *eq = '\0';
        rayc__key_value__init(&kv[nenv]);
        kv[nenv].key = env_copy[i];
        kv[nenv].value = eq + 1;
        kvp[nenv] = &kv[nenv];
        nenv++;
    }
    reg.job_id.data = job->id.b;
    reg.job_id.len = IDS_JOB_LEN;
    reg.pid = (int32_t)getpid();
    reg.cwd = job->cwd;
    reg.n_code_search_path = code ? split(code, ':', paths, PEER_MAX_LIST) : 0;
    reg.code_search_path = paths;
    reg.env = kvp;
    reg.n_env = nenv;
    reg.namespace_ = job->ns;
    reg.python_executable = job->python;
    env.request_id = p->register_id = ++p->next_id;
    env.body_case = RAYC__ENVELOPE__BODY_REGISTER_DRIVER;
    env.register_driver = &reg;
    p->state = PEER_REGISTERING;
    send_now(p, &env);
    for (size_t i = 0; env_copy != NULL && i < job->nenv; i++)
        free(env_copy[i]);
    free(env_copy);
    free(code);
}

static void on_handshake(peer *p, Rayc__Envelope *msg)
{
    if (p->state == PEER_HELLO && msg->body_case == RAYC__ENVELOPE__BODY_HELLO_REPLY) {
        wpool_job *job = p->has_job ? wpool_job_find(p->r, &p->job) : NULL;
        if (p->has_job && job == NULL) {
            peer_close(p, "the job ended");
            return;
        }
        if (job != NULL) {
            send_register(p, job);
            return;
        }
    } else if (p->state != PEER_REGISTERING ||
               msg->body_case != RAYC__ENVELOPE__BODY_REGISTER_CLIENT_REPLY ||
               msg->register_client_reply->status != RAY_OK) {
        log_warn("raylet %s:%d refused us: %s", p->ip, p->port,
                 msg->body_case == RAYC__ENVELOPE__BODY_ERROR ? msg->error->message
                 : msg->body_case == RAYC__ENVELOPE__BODY_REGISTER_CLIENT_REPLY
                     ? msg->register_client_reply->error : "unexpected reply");
        peer_close(p, "handshake refused");
        return;
    }
    p->state = PEER_READY;
    flush(p);
}

/* ---------------------------------------------------------------- events */

static int finish_call(peer *p, Rayc__Envelope *msg)
{
    for (struct peer_call **pp = &p->calls; *pp != NULL; pp = &(*pp)->next) {
        struct peer_call *c = *pp;
        if (c->id == msg->request_id) {
            *pp = c->next;
            c->cb(p->r, p, msg, c->data);
            free(c);
            return 1;
        }
    }
    return 0;
}

static void message_cb(rpc_conn *c, Rayc__Envelope *msg)
{
    peer *p = rpc_conn_data(c);
    if (p == NULL || p->state == PEER_CLOSED)
        return;
    if (p->state != PEER_READY) {
        on_handshake(p, msg);
        return;
    }
    if (msg->request_id != 0 && finish_call(p, msg))
        return;
    if (msg->body_case == RAYC__ENVELOPE__BODY_WORKER_LOG) {
        wlog_receive(p->r, msg->worker_log);
        return;
    }
    if (p->on_push != NULL)
        p->on_push(p->r, p, msg);
}

static void unlink_peer(peer *p)
{
    raylet_cluster *rc = raylet_cluster_of(p->r);
    for (peer **pp = &rc->peers; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == p) {
            *pp = p->next;
            return;
        }
    }
}

static void close_cb(rpc_conn *c, const char *reason)
{
    peer *p = rpc_conn_data(c);
    if (p == NULL)
        return;
    rpc_conn_set_data(c, NULL);
    p->closed_in_hello = p->state == PEER_HELLO;
    p->state = PEER_CLOSED;
    unlink_peer(p);
    while (p->calls != NULL) {
        struct peer_call *call = p->calls;
        p->calls = call->next;
        call->cb(p->r, p, NULL, call->data);
        free(call);
    }
    while (p->queue != NULL) {
        struct peer_msg *m = p->queue;
        p->queue = m->next;
        free(m->buf);
        free(m);
    }
    if (!p->r->closing)
        raylet_cluster_peer_closed(p->r, p, reason);
    free(p);
}

static void connect_cb(uv_connect_t *req, int status)
{
    rpc_conn *c = req->data;
    free(req);
    if (status == UV_ECANCELED)
        return;
    peer *p = rpc_conn_data(c);
    if (status < 0 || p == NULL) {
        rpc_conn_close(c, uv_strerror(status < 0 ? status : UV_ECANCELED));
        return;
    }
    int rc = rpc_conn_start_connected(c);
    if (rc != 0) {
        rpc_conn_close(c, uv_strerror(rc));
        return;
    }
    send_hello(p);
}

/* ---------------------------------------------------------------- opening */

static peer *find(raylet *r, const char *ip, int port, const wpool_job *job)
{
    for (peer *p = raylet_cluster_of(r)->peers; p != NULL; p = p->next)
        if (p->state != PEER_CLOSED && !rpc_conn_closing(p->conn) && p->port == port && strcmp(p->ip, ip) == 0 && p->has_job == (job != NULL) &&
            (job == NULL || memcmp(p->job.b, job->id.b, IDS_JOB_LEN) == 0))
            return p;
    return NULL;
}

static int start_connect(peer *p)
{
    struct sockaddr_in sa;
    int rc = uv_ip4_addr(p->ip, p->port, &sa);
    uv_connect_t *req = malloc(sizeof *req);
    if (rc != 0 || req == NULL) {
        free(req);
        return rc ? rc : UV_ENOMEM;
    }
    req->data = p->conn;
    rc = uv_tcp_connect(req, (uv_tcp_t *)rpc_conn_stream(p->conn), (struct sockaddr *)&sa,
                        connect_cb);
    if (rc != 0)
        free(req);
    return rc;
}

peer *peer_get(raylet *r, const char *ip, int port, wpool_job *job)
{
    peer *p = find(r, ip, port, job);
    if (p != NULL || r->closing)
        return p;
    if ((p = calloc(1, sizeof *p)) == NULL)
        return NULL;
    p->r = r;
    str_copy(p->ip, sizeof p->ip, ip);
    p->port = port;
    if (job != NULL) {
        p->has_job = 1;
        p->job = job->id;
    }
    p->conn = rpc_conn_new_tcp(r->loop, RAYLET_MAX_FRAME, message_cb, close_cb);
    if (p->conn == NULL) {
        free(p);
        return NULL;
    }
    rpc_conn_set_data(p->conn, p);
    raylet_cluster *rc = raylet_cluster_of(r);
    p->next = rc->peers;
    rc->peers = p;
    int err = start_connect(p);
    if (err != 0) {
        log_warn("cannot connect to raylet %s:%d: %s", ip, port, uv_strerror(err));
        rpc_conn_close(p->conn, uv_strerror(err)); /* frees P */
        return NULL;
    }
    return p;
}

void peer_close(peer *p, const char *why)
{
    p->closed_here = 1;
    if (p->state != PEER_CLOSED)
        rpc_conn_close(p->conn, why);
}

void peer_close_job(raylet *r, const ids_job *job, const char *why)
{
    peer *next;
    for (peer *p = raylet_cluster_of(r)->peers; p != NULL; p = next) {
        next = p->next;
        if (p->has_job && memcmp(p->job.b, job->b, IDS_JOB_LEN) == 0)
            peer_close(p, why);
    }
}

void peer_close_all(raylet *r)
{
    peer *next;
    for (peer *p = raylet_cluster_of(r)->peers; p != NULL; p = next) {
        next = p->next;
        peer_close(p, "the raylet is stopping");
    }
}
