/* Asks this node's drivers and workers for the small objects they own and
 * the raylet never saw (ray_put values kept in the process, direct-call
 * results), for Ray's `ray list objects`.  Each owner answers on its own
 * socket, sockets/owner-<pid>, from a thread of its own (api_ostate.c);
 * all are asked at once and the answer goes out when the last one answered
 * or NOWNERS_TIMEOUT_MS passed: an owner that did not answer by then is
 * named in the reply's warnings, as Ray's partial-failure warning does. */
#include "raylet/node_owners.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/uds.h"
#include "common/util.h"
#include "raylet/wpool.h"

#define NOWNERS_MAX 512            /* owners asked at most per query */
#define NOWNERS_TIMEOUT_MS 1500    /* the job server waits 3 s for the node */
#define NOWNERS_FRAME (2u * 1024u * 1024u)
#define NOWNERS_PER_OWNER 1000     /* objects asked of one owner (it caps too) */

typedef struct owner_call {
    struct nowners_query *q;
    rpc_conn *conn;                /* NULL once closed */
    int pid;
    int answered;
} owner_call;

struct nowners_query {
    raylet *r;
    raylet_client *cl;             /* referenced until the answer */
    uint64_t req_id;
    int32_t limit;
    nowners_done_fn done;
    owner_call *calls;
    size_t ncalls, open;
    Rayc__OwnedObjectsReply **replies;
    size_t nreplies;
    char **warnings;
    size_t nwarnings;
    uv_timer_t timer;
    int asking;                    /* still connecting: do not answer yet */
    int finished;
};

/* ---------------------------------------------------------------- ending */

static void timer_closed_cb(uv_handle_t *h)
{
    nowners_query *q = h->data;
    for (size_t i = 0; i < q->nreplies; i++)
        rayc__owned_objects_reply__free_unpacked(q->replies[i], NULL);
    for (size_t i = 0; i < q->nwarnings; i++)
        free(q->warnings[i]);
    free(q->replies);
    free(q->warnings);
    free(q->calls);
    free(q);
}

/* Answers once every call is closed: the owners' objects go to DONE, then
 * everything is freed from the loop. */
static void maybe_finish(nowners_query *q)
{
    if (q->open > 0 || q->asking || q->finished)
        return;
    q->finished = 1;
    uv_timer_stop(&q->timer);
    q->done(q->cl, q->req_id, q->limit, q->replies, q->nreplies, q->warnings, q->nwarnings);
    raylet_client_unref(q->cl);
    uv_close((uv_handle_t *)&q->timer, timer_closed_cb);
}

static void add_warning(nowners_query *q, int pid, const char *why)
{
    char line[256];
    snprintf(line, sizeof line, "the owner pid %d on this node did not answer: %s", pid, why);
    char *s = strdup(line);
    if (s != NULL)
        q->warnings[q->nwarnings++] = s;
}

/* ---------------------------------------------------------------- one owner */

static void call_message_cb(rpc_conn *c, Rayc__Envelope *msg)
{
    owner_call *oc = rpc_conn_data(c);
    if (msg->body_case == RAYC__ENVELOPE__BODY_HELLO_REPLY)
        return;
    if (msg->body_case == RAYC__ENVELOPE__BODY_OWNED_OBJECTS_REPLY && !oc->answered) {
        oc->answered = 1;
        oc->q->replies[oc->q->nreplies++] = msg->owned_objects_reply;
        msg->owned_objects_reply = NULL; /* kept until the answer */
        msg->body_case = RAYC__ENVELOPE__BODY__NOT_SET;
    }
    rpc_conn_close(c, oc->answered ? "answered" : "unexpected reply");
}

static void call_close_cb(rpc_conn *c, const char *reason)
{
    owner_call *oc = rpc_conn_data(c);
    if (oc == NULL)
        return; /* never opened */
    oc->conn = NULL;
    if (!oc->answered)
        add_warning(oc->q, oc->pid, reason);
    oc->q->open--;
    maybe_finish(oc->q);
}

static int send_questions(nowners_query *q, rpc_conn *c)
{
    Rayc__Hello h = RAYC__HELLO__INIT;
    h.token = q->r->token;
    h.client_kind = "raylet";
    Rayc__Envelope env = RAYC__ENVELOPE__INIT;
    env.request_id = 1;
    env.body_case = RAYC__ENVELOPE__BODY_HELLO;
    env.hello = &h;
    int rc = rpc_conn_send(c, &env);
    Rayc__GetOwnedObjects g = RAYC__GET_OWNED_OBJECTS__INIT;
    g.limit = q->limit > 0 && q->limit < NOWNERS_PER_OWNER ? q->limit : NOWNERS_PER_OWNER;
    Rayc__Envelope ask = RAYC__ENVELOPE__INIT;
    ask.request_id = 2;
    ask.body_case = RAYC__ENVELOPE__BODY_GET_OWNED_OBJECTS;
    ask.get_owned_objects = &g;
    return rc != 0 ? rc : rpc_conn_send(c, &ask);
}

/* Connects to the owner PID's socket (a Unix connect does not wait) and
 * asks it.  An owner without a socket (an older library, a process that
 * could not listen) owns nothing the state API can list: not a warning. */
static void ask_owner(nowners_query *q, const char *dir, int pid)
{
    char path[PATH_MAX + 32];
    if (fs_owner_socket_path(path, sizeof path, dir, pid) != 0) {
        add_warning(q, pid, "its socket path is too long");
        return;
    }
    int fd = uds_connect(path, 0);
    if (fd == -ENOENT || fd == -ECONNREFUSED)
        return;
    if (fd < 0) {
        add_warning(q, pid, strerror(-fd));
        return;
    }
    owner_call *oc = &q->calls[q->ncalls];
    rpc_conn *c = rpc_conn_new_pipe(q->r->loop, NOWNERS_FRAME, call_message_cb, call_close_cb);
    if (c == NULL || uv_pipe_open((uv_pipe_t *)rpc_conn_stream(c), fd) != 0) {
        close(fd);
        if (c != NULL)
            rpc_conn_close(c, "cannot open");
        add_warning(q, pid, "out of memory");
        return;
    }
    q->ncalls++;
    q->open++;
    oc->q = q;
    oc->conn = c;
    oc->pid = pid;
    rpc_conn_set_data(c, oc);
    if (rpc_conn_start_connected(c) != 0 || send_questions(q, c) != 0)
        rpc_conn_close(c, "cannot send");
}

static void timeout_cb(uv_timer_t *t)
{
    nowners_query *q = t->data;
    char why[64];
    snprintf(why, sizeof why, "no answer in %d ms", NOWNERS_TIMEOUT_MS);
    for (size_t i = 0; i < q->ncalls; i++)
        if (q->calls[i].conn != NULL)
            rpc_conn_close(q->calls[i].conn, why);
}

/* ---------------------------------------------------------------- entry */

static int owner_pid(const raylet_client *cl)
{
    if (!raylet_client_alive(cl) || cl->is_peer)
        return 0;
    if (cl->kind == RAYLET_CLIENT_DRIVER)
        return cl->pid;
    if (cl->kind == RAYLET_CLIENT_WORKER && cl->worker != NULL)
        return cl->worker->pid;
    return 0;
}

int nowners_ask(raylet_client *cl, uint64_t req_id, int32_t limit, nowners_done_fn done)
{
    raylet *r = cl->r;
    nowners_query *q = calloc(1, sizeof *q);
    if (q != NULL) {
        q->calls = calloc(NOWNERS_MAX, sizeof *q->calls);
        q->replies = calloc(NOWNERS_MAX, sizeof *q->replies);
        q->warnings = calloc(NOWNERS_MAX, sizeof *q->warnings);
    }
    if (q == NULL || q->calls == NULL || q->replies == NULL || q->warnings == NULL) {
        if (q != NULL) {
            free(q->calls);
            free(q->replies);
            free(q->warnings);
        }
        free(q);
        return -ENOMEM;
    }
    q->r = r;
    q->cl = cl;
    q->req_id = req_id;
    q->limit = limit;
    q->done = done;
    raylet_client_ref(cl);
    uv_timer_init(r->loop, &q->timer);
    q->timer.data = q;
    char dir[PATH_MAX];
    const char *slash = strrchr(r->socket_path, '/');
    snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - r->socket_path) : 0, r->socket_path);
    q->asking = 1;
    for (raylet_client *c = r->clients; c != NULL && q->ncalls + q->nwarnings < NOWNERS_MAX;
         c = c->next) {
        int pid = owner_pid(c);
        if (pid > 0)
            ask_owner(q, dir, pid);
    }
    q->asking = 0;
    uv_timer_start(&q->timer, timeout_cb, NOWNERS_TIMEOUT_MS, 0);
    maybe_finish(q);
    return 0;
}
