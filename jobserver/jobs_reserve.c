/* The link to the node's raylet for entrypoint reservations (jobs_reserve.h). */
#include "jobserver/jobs_reserve.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/rpc.h"
#include "common/uds.h"
#include "jobserver/jobs_run.h"

#define RESERVE_RETRY_MS 1000
#define RESERVE_MAX_FRAME (1u << 20)
#define RESERVE_CONNECT_MS 1000

/* A ReserveResources awaiting its answer; the raylet answers in order. */
typedef struct pending_key {
    struct pending_key *next;
    char key[JOBS_ID_MAX + 1];
} pending_key;

typedef struct jobs_reserve {
    jobs_server *srv;
    char path[PATH_MAX];
    rpc_conn *conn;            /* NULL while not connected */
    int ready;                 /* HelloReply seen */
    uint64_t hello_id, next_id;
    uv_timer_t timer;          /* reconnects; retries waiting jobs */
    int warned;                /* the last connect failure was logged */
    pending_key *head, *tail;  /* reserves sent, oldest first */
} jobs_reserve;

static int push_key(jobs_reserve *l, const char *key)
{
    pending_key *p = calloc(1, sizeof *p);
    if (p == NULL)
        return -ENOMEM;
    str_copy(p->key, sizeof p->key, key);
    if (l->tail != NULL)
        l->tail->next = p;
    else
        l->head = p;
    l->tail = p;
    return 0;
}

/* Takes the oldest pending key into OUT.  Returns 0, or -ENOENT. */
static int pop_key(jobs_reserve *l, char *out, size_t outlen)
{
    pending_key *p = l->head;
    if (p == NULL)
        return -ENOENT;
    l->head = p->next;
    if (l->head == NULL)
        l->tail = NULL;
    str_copy(out, outlen, p->key);
    free(p);
    return 0;
}

static void clear_keys(jobs_reserve *l)
{
    char key[JOBS_ID_MAX + 1];
    while (pop_key(l, key, sizeof key) == 0)
        ;
}

/* ---------------------------------------------------------------- messages */

static int send_env(jobs_reserve *l, Rayc__Envelope *env)
{
    if (l->conn == NULL)
        return -ENOTCONN;
    env->request_id = ++l->next_id;
    return rpc_conn_send(l->conn, env) == 0 ? 0 : -ENOTCONN;
}

/* Appends NAME = QTY to the list V (of N) when QTY > 0. */
static void add_res(Rayc__Resource *store, Rayc__Resource **v, size_t *n, const char *name,
                    double qty)
{
    if (qty <= 0 || *n >= JOBS_RES_MAX + 3)
        return;
    rayc__resource__init(&store[*n]);
    store[*n].name = (char *)name;
    store[*n].qty = qty;
    v[*n] = &store[*n];
    (*n)++;
}

static int send_reserve(jobs_reserve *l, const char *key, const jobs_res_request *req)
{
    Rayc__Resource store[JOBS_RES_MAX + 3], *v[JOBS_RES_MAX + 3];
    size_t n = 0;
    add_res(store, v, &n, "CPU", req->cpus);
    add_res(store, v, &n, "GPU", req->gpus);
    add_res(store, v, &n, "memory", req->memory);
    json_t *custom = req->custom_json ? json_loads(req->custom_json, 0, NULL) : NULL;
    const char *name;
    json_t *qty;
    json_object_foreach(custom, name, qty)
        add_res(store, v, &n, name, json_number_value(qty));
    Rayc__ReserveResources m = RAYC__RESERVE_RESOURCES__INIT;
    m.key = (char *)key;
    m.resources = v;
    m.n_resources = n;
    Rayc__Envelope env = RAYC__ENVELOPE__INIT;
    env.body_case = RAYC__ENVELOPE__BODY_RESERVE_RESOURCES;
    env.reserve_resources = &m;
    /* The answer comes later from the loop, so the key is queued after the send. */
    int rc = send_env(l, &env);
    if (rc == 0 && push_key(l, key) != 0) {
        rpc_conn_close(l->conn, "out of memory");   /* a reconnect reserves again */
        rc = -ENOMEM;
    }
    json_decref(custom);   /* names were packed by the send */
    return rc;
}

/* After a (re)connect: the jobs that hold resources here take them again. */
static void reserve_holders(jobs_reserve *l)
{
    jobs_server *srv = l->srv;
    size_t n = 0;
    for (jobs_job *j = jobs_table_first(srv->table); j != NULL; j = jobs_table_next(srv->table, j)) {
        jobs_run *run = j->run;
        if (run != NULL && run->holds_resources && !run->reserving &&
            send_reserve(l, j->submission_id, &run->req) == 0)
            n++;
    }
    if (n > 0)
        log_info("reserving the entrypoint resources of %zu running jobs again", n);
}

static void on_message(rpc_conn *c, Rayc__Envelope *msg)
{
    jobs_reserve *l = rpc_conn_data(c);
    if (msg->body_case == RAYC__ENVELOPE__BODY_HELLO_REPLY && msg->request_id == l->hello_id) {
        l->ready = 1;
        l->warned = 0;
        log_info("connected to the raylet at %s for entrypoint resources", l->path);
        reserve_holders(l);
        jobs__waiting_retry(l->srv);
    } else if (msg->body_case == RAYC__ENVELOPE__BODY_RESERVE_RESOURCES_REPLY) {
        char key[JOBS_ID_MAX + 1];
        if (pop_key(l, key, sizeof key) == 0)
            jobs__reserve_answer(l->srv, key, msg->reserve_resources_reply->ok,
                                 msg->reserve_resources_reply->error);
    } else if (msg->body_case == RAYC__ENVELOPE__BODY_ERROR) {
        log_warn("the raylet refused a request: %s",
                 msg->error->message ? msg->error->message : "(no message)");
        rpc_conn_close(c, "refused");
    }
}

static void on_close(rpc_conn *c, const char *reason)
{
    jobs_reserve *l = rpc_conn_data(c);
    if (l == NULL || l->conn != c)
        return;
    log_warn("the connection to the raylet closed (%s); reconnecting", reason);
    l->conn = NULL;
    l->ready = 0;
    clear_keys(l);
    jobs__reserve_link_lost(l->srv);
}

/* ---------------------------------------------------------------- connecting */

static void try_connect(jobs_reserve *l)
{
    int fd = uds_connect(l->path, RESERVE_CONNECT_MS);
    if (fd < 0) {
        if (!l->warned)
            log_warn("cannot reach the raylet at %s: %s", l->path, strerror(-fd));
        l->warned = 1;
        return;
    }
    rpc_conn *c = rpc_conn_new_pipe(l->srv->loop, RESERVE_MAX_FRAME, on_message, on_close);
    if (c == NULL || uv_pipe_open((uv_pipe_t *)rpc_conn_stream(c), fd) != 0 ||
        rpc_conn_start(c) != 0) {
        if (c != NULL)
            rpc_conn_close(c, "setup failed");
        else
            close(fd);
        return;
    }
    rpc_conn_set_data(c, l);
    l->conn = c;
    Rayc__Hello hello = RAYC__HELLO__INIT;
    hello.token = l->srv->token;
    hello.client_kind = "jobserver";
    hello.client_id = l->srv->node_id;
    Rayc__Envelope env = RAYC__ENVELOPE__INIT;
    env.body_case = RAYC__ENVELOPE__BODY_HELLO;
    env.hello = &hello;
    if (send_env(l, &env) != 0)
        rpc_conn_close(c, "hello failed");
    l->hello_id = l->next_id;
}

static void timer_cb(uv_timer_t *t)
{
    jobs_reserve *l = t->data;
    if (l->conn == NULL)
        try_connect(l);
    else if (l->ready && l->srv->waiting != NULL)
        jobs__waiting_retry(l->srv);   /* tasks may have freed what a job waits for */
}

/* ---------------------------------------------------------------- API */

void jobs_reserve_start(jobs_server *srv)
{
    if (srv->raylet_socket[0] == '\0')
        return;
    jobs_reserve *l = calloc(1, sizeof *l);
    if (l == NULL) {
        log_error("out of memory: entrypoint resources are not reserved at the raylet");
        return;
    }
    l->srv = srv;
    str_copy(l->path, sizeof l->path, srv->raylet_socket);
    uv_timer_init(srv->loop, &l->timer);
    l->timer.data = l;
    srv->reserve = l;
    try_connect(l);
    uv_timer_start(&l->timer, timer_cb, RESERVE_RETRY_MS, RESERVE_RETRY_MS);
}

static void timer_closed(uv_handle_t *h)
{
    free(h->data);
}

void jobs_reserve_stop(jobs_server *srv)
{
    jobs_reserve *l = srv->reserve;
    if (l == NULL)
        return;
    srv->reserve = NULL;
    if (l->conn != NULL) {
        rpc_conn_set_data(l->conn, NULL);
        rpc_conn_close(l->conn, "job server stopping");
    }
    clear_keys(l);
    uv_close((uv_handle_t *)&l->timer, timer_closed);
}

int jobs_reserve_enabled(const jobs_server *srv)
{
    return srv->reserve != NULL;
}

int jobs_reserve_take(jobs_server *srv, const char *key, const jobs_res_request *req)
{
    jobs_reserve *l = srv->reserve;
    if (l == NULL || !l->ready)
        return -ENOTCONN;
    return send_reserve(l, key, req);
}

void jobs_reserve_give(jobs_server *srv, const char *key)
{
    jobs_reserve *l = srv->reserve;
    if (l == NULL || !l->ready)
        return;
    Rayc__ReleaseResources m = RAYC__RELEASE_RESOURCES__INIT;
    m.key = (char *)key;
    Rayc__Envelope env = RAYC__ENVELOPE__INIT;
    env.body_case = RAYC__ENVELOPE__BODY_RELEASE_RESOURCES;
    env.release_resources = &m;
    send_env(l, &env);
}
