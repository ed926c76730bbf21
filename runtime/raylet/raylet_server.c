/* The node-manager listeners (TCP port and Unix socket) and their clients.
 *
 * Every connection must open with Hello carrying the cluster token, like a
 * connection to the GCS; anything else gets one Error frame and is closed.
 * Later messages go to raylet_local.c.  A closed client's record stays until
 * nothing refers to it (tasks and objects keep their owner's record). */
#include "raylet/raylet.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"

/* ---------------------------------------------------------------- client list */

static void client_link(raylet *r, raylet_client *cl)
{
    cl->prev = NULL;
    cl->next = r->clients;
    if (r->clients != NULL)
        r->clients->prev = cl;
    r->clients = cl;
    r->n_clients++;
}

/* Moves CL from the live list to the dead list (freed on a later sweep
 * once unreferenced). */
static void client_bury(raylet *r, raylet_client *cl)
{
    if (cl->prev != NULL)
        cl->prev->next = cl->next;
    else
        r->clients = cl->next;
    if (cl->next != NULL)
        cl->next->prev = cl->prev;
    r->n_clients--;
    cl->dead = 1;
    cl->prev = NULL;
    cl->next = r->dead_clients;
    if (r->dead_clients != NULL)
        r->dead_clients->prev = cl;
    r->dead_clients = cl;
}

/* Frees the dead clients nobody refers to; ALL frees every one (teardown). */
static void free_dead_clients(raylet *r, int all)
{
    raylet_client *next;
    for (raylet_client *cl = r->dead_clients; cl != NULL; cl = next) {
        next = cl->next;
        if (cl->refs > 0 && !all)
            continue;
        if (cl->prev != NULL)
            cl->prev->next = cl->next;
        else
            r->dead_clients = cl->next;
        if (cl->next != NULL)
            cl->next->prev = cl->prev;
        free(cl);
    }
}

void raylet_client_ref(raylet_client *cl)
{
    cl->refs++;
}

void raylet_client_unref(raylet_client *cl)
{
    if (cl != NULL && cl->refs > 0)
        cl->refs--;
}

int raylet_client_alive(const raylet_client *cl)
{
    return cl != NULL && !cl->dead && cl->conn != NULL && !rpc_conn_closing(cl->conn);
}

int raylet_client_send(raylet_client *cl, const Rayc__Envelope *env)
{
    if (!raylet_client_alive(cl))
        return -EPIPE;
    int rc = rpc_conn_send(cl->conn, env);
    if (rc != 0 && rc != -EMSGSIZE)
        rpc_conn_close(cl->conn, "send failed");
    return rc;
}

void raylet_client_close(raylet_client *cl, const char *why)
{
    if (cl->conn != NULL)
        rpc_conn_close(cl->conn, why);
}

/* ---------------------------------------------------------------- guard */

/* Logs one line about a connection that never authenticated, unless such
 * lines come too fast (anyone on the network can open them). */
static void log_unauthed(raylet *r, const char *peer, const char *why)
{
    unsigned dropped;
    if (!guard_log_allowed(&r->guard, time_mono_ms(), &dropped))
        return;
    if (dropped > 0)
        log_warn("%u more lines about unauthenticated connections were not logged", dropped);
    log_warn("closed %s before Hello: %s", peer, why);
}

/* Stops counting CL as unauthenticated. */
static void unguard(raylet_client *cl)
{
    if (cl->guarded && cl->conn != NULL)
        guard_release(&cl->r->guard, rpc_conn_peer(cl->conn));
    cl->guarded = 0;
}

/* ---------------------------------------------------------------- messages */

/* Answers the first frame: HelloReply for the right token, else one Error
 * and a close. */
static void client_hello(raylet_client *cl, Rayc__Envelope *msg)
{
    raylet *r = cl->r;
    if (msg->body_case != RAYC__ENVELOPE__BODY_HELLO || msg->hello->token == NULL ||
        !token_equal(msg->hello->token, r->token)) {
        rpc_conn_send_error(cl->conn, msg->request_id, RPC_E_UNAUTHENTICATED,
                            "a valid cluster token is required");
        rpc_conn_close(cl->conn, "missing or wrong cluster token");
        return;
    }
    cl->authed = 1;
    unguard(cl);
    rpc_conn_set_read_limit(cl->conn, 0);
    cl->is_peer = msg->hello->client_kind != NULL && strcmp(msg->hello->client_kind, "raylet") == 0;
    Rayc__Envelope env = RAYC__ENVELOPE__INIT;
    Rayc__HelloReply reply = RAYC__HELLO_REPLY__INIT;
    reply.session_name = r->session_name;
    env.request_id = msg->request_id;
    env.body_case = RAYC__ENVELOPE__BODY_HELLO_REPLY;
    env.hello_reply = &reply;
    rpc_conn_send(cl->conn, &env);
    log_debug("client %s (%s) connected", rpc_conn_peer(cl->conn), msg->hello->client_kind);
}

static void client_message_cb(rpc_conn *c, Rayc__Envelope *msg)
{
    raylet_client *cl = rpc_conn_data(c);
    if (cl == NULL || cl->r->closing)
        return;
    if (!cl->authed) {
        client_hello(cl, msg);
        return;
    }
    raylet_local_message(cl, msg);
}

static void client_close_cb(rpc_conn *c, const char *reason)
{
    raylet_client *cl = rpc_conn_data(c);
    if (cl == NULL)
        return;
    if (cl->authed)
        log_debug("client %s closed: %s", rpc_conn_peer(c), reason);
    else
        log_unauthed(cl->r, rpc_conn_peer(c), reason);
    unguard(cl);
    cl->conn = NULL;
    client_bury(cl->r, cl);
    if (cl->authed && !cl->r->closing)
        raylet_local_closed(cl);
}

/* ---------------------------------------------------------------- accepting */

/* Counts a new TCP client as unauthenticated, or refuses it with one Error
 * frame when its address or the raylet holds too many such already.
 * Returns 0 when admitted. */
static int admit_tcp(raylet_client *cl)
{
    int rc = guard_admit(&cl->r->guard, rpc_conn_peer(cl->conn));
    if (rc != 0) {
        rpc_conn_send_error(cl->conn, 0, RPC_E_UNAUTHENTICATED, guard_strerror(rc));
        rpc_conn_close(cl->conn, guard_strerror(rc));
        return rc;
    }
    cl->guarded = 1;
    return 0;
}

static void accept_client(raylet *r, uv_stream_t *server, int is_pipe)
{
    rpc_conn *c = is_pipe ? rpc_conn_new_pipe(r->loop, RAYLET_MAX_FRAME, client_message_cb,
                                              client_close_cb)
                          : rpc_conn_new_tcp(r->loop, RAYLET_MAX_FRAME, client_message_cb,
                                             client_close_cb);
    if (c == NULL) {
        log_error("out of memory accepting a connection");
        return;
    }
    if (uv_accept(server, rpc_conn_stream(c)) != 0 || r->closing) {
        rpc_conn_close(c, "accept failed");
        return;
    }
    raylet_client *cl = r->n_clients < RAYLET_MAX_CLIENTS ? calloc(1, sizeof *cl) : NULL;
    if (cl == NULL) {
        log_unauthed(r, rpc_conn_peer(c), "too many clients");
        rpc_conn_close(c, "too many clients");
        return;
    }
    cl->r = r;
    cl->conn = c;
    cl->is_tcp = !is_pipe;
    cl->accepted_ms = time_mono_ms();
    cl->serial = ++r->next_client_serial;
    client_link(r, cl);
    rpc_conn_set_data(c, cl);
    /* Workers' task event batches are large and copied field by field. */
    rpc_conn_use_arena(c, RAYC__ENVELOPE__BODY_ADD_TASK_EVENTS);
    if (cl->is_tcp && admit_tcp(cl) != 0)
        return;
    /* Before Hello only a small frame is read: a 16 MiB frame announced by
     * someone without the token would otherwise be buffered. */
    rpc_conn_set_read_limit(c, GUARD_HELLO_MAX_FRAME);
    if (rpc_conn_start(c) != 0)
        rpc_conn_close(c, "cannot read");
}

static void unix_connection_cb(uv_stream_t *server, int status)
{
    if (status < 0)
        log_warn("accept on the Unix socket failed: %s", uv_strerror(status));
    else
        accept_client(server->data, server, 1);
}

static void tcp_connection_cb(uv_stream_t *server, int status)
{
    if (status < 0)
        log_warn("accept on the node-manager port failed: %s", uv_strerror(status));
    else
        accept_client(server->data, server, 0);
}

/* ---------------------------------------------------------------- sweeping */

/* Frees closed clients and drops those that never said Hello in time. */
static void sweep_cb(uv_timer_t *t)
{
    raylet *r = t->data;
    free_dead_clients(r, 0);
    int64_t now = time_mono_ms();
    raylet_client *next;
    for (raylet_client *cl = r->clients; cl != NULL; cl = next) {
        next = cl->next;
        int64_t limit = cl->is_tcp ? RAYLET_TCP_HELLO_TIMEOUT_MS : RAYLET_HELLO_TIMEOUT_MS;
        if (cl->authed || now - cl->accepted_ms <= limit)
            continue;
        if (!cl->hello_grace && rpc_conn_has_input(cl->conn))
            cl->hello_grace = 1; /* its Hello waits unread: our loop was busy */
        else
            rpc_conn_close(cl->conn, "no Hello in time");
    }
}

/* ---------------------------------------------------------------- listeners */

/* True when something accepts connections on the Unix socket ADDR. */
static int socket_in_use(const char *addr)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (str_copy(sa.sun_path, sizeof sa.sun_path, addr) != 0)
        return 0;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return 0;
    int used = connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
    close(fd);
    return used;
}

/* Fills R->socket_addr with a name bind() accepts for DIR/raylet.  A Unix
 * socket path holds at most 107 bytes and node dirs can be deeper than that,
 * so a long path is reached through an O_PATH descriptor of DIR:
 * "/proc/self/fd/N/raylet" names the same file.  (A client connecting to a
 * long path needs the same trick, or a chdir.)  Returns 0 or -errno. */
static int socket_address(raylet *r, const char *dir)
{
    if (snprintf(r->socket_addr, sizeof r->socket_addr, "%s", r->socket_path) <
        (int)sizeof r->socket_addr)
        return 0;
    r->sockets_dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (r->sockets_dirfd < 0)
        return -errno;
    snprintf(r->socket_addr, sizeof r->socket_addr, "/proc/self/fd/%d/raylet", r->sockets_dirfd);
    return 0;
}

static int listen_unix(raylet *r, char *err, size_t errlen)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s/sockets", r->opts->node_dir);
    int rc = fs_mkdir_p(dir, 0700);
    if (rc == 0) {
        rc = fs_path_join(r->socket_path, sizeof r->socket_path, dir, "raylet");
        if (rc == 0)
            rc = socket_address(r, dir);
    }
    if (rc != 0) {
        snprintf(err, errlen, "cannot create %s: %s", dir, strerror(-rc));
        return rc;
    }
    if (socket_in_use(r->socket_addr)) {
        snprintf(err, errlen, "another raylet is listening on %s", r->socket_path);
        return -EADDRINUSE;
    }
    unlink(r->socket_path); /* a stale socket from a raylet that died */
    uv_pipe_init(r->loop, &r->unix_listener, 0);
    r->unix_listener.data = r;
    rc = uv_pipe_bind(&r->unix_listener, r->socket_addr);
    r->socket_bound = rc == 0;
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&r->unix_listener, 128, unix_connection_cb);
    if (rc != 0)
        snprintf(err, errlen, "cannot listen on %s: %s", r->socket_path, uv_strerror(rc));
    return rc;
}

/* Stores the port the TCP listener got (for --node-manager-port 0). */
static void note_bound_port(raylet *r)
{
    struct sockaddr_in sa;
    int len = sizeof sa;
    if (uv_tcp_getsockname(&r->tcp_listener, (struct sockaddr *)&sa, &len) == 0)
        r->node_manager_port = ntohs(sa.sin_port);
}

static int listen_tcp(raylet *r, char *err, size_t errlen)
{
    const raylet_opts *o = r->opts;
    struct sockaddr_in sa;
    uv_tcp_init(r->loop, &r->tcp_listener);
    r->tcp_listener.data = r;
    int rc = uv_ip4_addr(o->node_ip, o->node_manager_port, &sa);
    if (rc == 0)
        rc = uv_tcp_bind(&r->tcp_listener, (const struct sockaddr *)&sa, 0);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&r->tcp_listener, 128, tcp_connection_cb);
    if (rc == UV_EADDRINUSE)
        snprintf(err, errlen, "port %d is already in use", o->node_manager_port);
    else if (rc != 0)
        snprintf(err, errlen, "cannot listen on %s:%d: %s", o->node_ip,
                 o->node_manager_port, uv_strerror(rc));
    else
        note_bound_port(r);
    return rc;
}

int raylet_server_start(raylet *r, char *err, size_t errlen)
{
    r->node_manager_port = r->opts->node_manager_port;
    guard_init(&r->guard);
    int rc = listen_tcp(r, err, errlen);
    if (rc == 0)
        rc = listen_unix(r, err, errlen);
    if (rc != 0)
        return rc;
    uv_timer_init(r->loop, &r->sweep_timer);
    r->sweep_timer.data = r;
    return uv_timer_start(&r->sweep_timer, sweep_cb, 1000, 1000);
}

void raylet_server_close(raylet *r)
{
    raylet_close_handle((uv_handle_t *)&r->unix_listener);
    raylet_close_handle((uv_handle_t *)&r->tcp_listener);
    raylet_close_handle((uv_handle_t *)&r->sweep_timer);
    raylet_client *next;
    for (raylet_client *cl = r->clients; cl != NULL; cl = next) {
        next = cl->next;
        rpc_conn_close(cl->conn, "raylet exiting");
    }
}

void raylet_server_free(raylet *r)
{
    free_dead_clients(r, 1);
}
