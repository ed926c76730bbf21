/* An HTTP server on a libuv loop: libmicrohttpd (epoll mode) driven by
 * uv_poll on its epoll fd and a uv_timer for its timeouts. */
#include "jobserver/http_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "jobserver/http_framing.h"
#include "jobserver/http_stream.h"
#include "common/dbuf.h"

#define MAX_RESPONSE_HEADERS 4
#define CONNECTION_TIMEOUT_S 120
#define CONNECTION_LIMIT 4000

struct http_server {
    uv_loop_t *loop;
    http_server_config cfg;
    struct MHD_Daemon *mhd;
    int listen_fd;
    uv_poll_t poll;
    uv_timer_t timer;
    int open_handles;        /* handles still to be closed before free */
    char *tls_cert, *tls_key;   /* PEM copies, or NULL for plain HTTP */
};

struct http_request {
    http_server *srv;
    struct MHD_Connection *conn;
    const char *method;
    const char *path;
    dbuf body;
    int sink_fd;             /* -1 unless the body goes to a file */
    char *sink_path;
    size_t received;
    size_t max_body;         /* the server's, or lower (http_request_limit_body) */
    int started;             /* the access handler has seen it */
    const char *bad_target;  /* why the raw request target is refused, or NULL */
    int close_after;         /* the response ends the connection */
    int responded;
    int aborted;             /* answered mid-body: the rest is discarded */
    int deferred;            /* the application answers later (http_request_defer) */
    int suspended;           /* libmicrohttpd holds the connection for that answer */
    struct MHD_Response *held;   /* the late answer, queued once resumed */
    unsigned held_status;
    void *user;
    int nheaders;
    char *hdr_names[MAX_RESPONSE_HEADERS];
    char *hdr_values[MAX_RESPONSE_HEADERS];
};

struct http_upgrade {
    http_server *srv;
    http_upgrade_cb cb;
    void *arg;
    struct MHD_UpgradeResponseHandle *urh;
};

static void run_mhd(http_server *s);

/* ---------------------------------------------------------------- loop glue */

static void timer_cb(uv_timer_t *t)
{
    run_mhd(t->data);
}

static void poll_cb(uv_poll_t *p, int status, int events)
{
    run_mhd(p->data);
}

/* Runs libmicrohttpd once and re-arms the timer with its next timeout. */
static void run_mhd(http_server *s)
{
    if (s->mhd == NULL)
        return;
    MHD_run(s->mhd);
    MHD_UNSIGNED_LONG_LONG to;
    if (MHD_get_timeout(s->mhd, &to) == MHD_YES)
        uv_timer_start(&s->timer, timer_cb, to > 60000 ? 60000 : to, 0);
    else
        uv_timer_start(&s->timer, timer_cb, 1000, 0);
}

void http_server_kick(http_server *s)
{
    if (s != NULL && s->mhd != NULL)
        uv_timer_start(&s->timer, timer_cb, 0, 0);
}

/* ---------------------------------------------------------------- requests */

static http_request *request_new(http_server *s, struct MHD_Connection *conn)
{
    http_request *r = calloc(1, sizeof *r);
    if (r == NULL)
        return NULL;
    r->srv = s;
    r->conn = conn;
    r->sink_fd = -1;
    r->max_body = s->cfg.max_body;
    dbuf_init(&r->body, s->cfg.max_body);
    return r;
}

static void request_free(http_request *r)
{
    if (r->held != NULL)
        MHD_destroy_response(r->held);
    if (r->srv->cfg.on_free != NULL)
        r->srv->cfg.on_free(r);
    if (r->sink_fd >= 0)
        close(r->sink_fd);
    if (r->sink_path != NULL) {
        unlink(r->sink_path);   /* no-op once the application renamed it */
        free(r->sink_path);
    }
    for (int i = 0; i < r->nheaders; i++) {
        free(r->hdr_names[i]);
        free(r->hdr_values[i]);
    }
    dbuf_free(&r->body);
    free(r);
}

const char *http_request_method(const http_request *r) { return r->method; }
const char *http_request_path(const http_request *r) { return r->path; }
void http_request_set_user(http_request *r, void *user) { r->user = user; }
void *http_request_user(const http_request *r) { return r->user; }

const char *http_request_header(const http_request *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

const char *http_request_cookie(const http_request *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, name);
}

struct args_ctx {
    void (*cb)(void *arg, const char *key, const char *value);
    void *arg;
};

static enum MHD_Result arg_it(void *cls, enum MHD_ValueKind kind, const char *key,
                              const char *value)
{
    struct args_ctx *c = cls;
    (void)kind;
    c->cb(c->arg, key, value);
    return MHD_YES;
}

void http_request_args(const http_request *r, void (*cb)(void *arg, const char *key,
                                                         const char *value), void *arg)
{
    struct args_ctx c = {cb, arg};
    MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, arg_it, &c);
}

const char *http_request_body(const http_request *r, size_t *len)
{
    if (len != NULL)
        *len = r->body.len;
    return r->body.data ? r->body.data : "";
}

int http_request_body_to_file(http_request *r, const char *tmp_path)
{
    if (r->sink_fd >= 0)
        return -EBUSY;
    r->sink_path = strdup(tmp_path);
    if (r->sink_path == NULL)
        return -ENOMEM;
    r->sink_fd = open(tmp_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    return r->sink_fd >= 0 ? 0 : -errno;
}

int http_request_add_response_header(http_request *r, const char *name, const char *value)
{
    if (r->nheaders == MAX_RESPONSE_HEADERS)
        return -ENOSPC;
    r->hdr_names[r->nheaders] = strdup(name);
    r->hdr_values[r->nheaders] = strdup(value);
    r->nheaders++;
    return 0;
}

/* ---------------------------------------------------------------- deferred answers */

/* A response to a suspended request cannot be queued from outside the
 * access handler: it is kept and the connection resumed, and the access
 * handler queues it when libmicrohttpd calls it again. */
static int hold_response(http_request *r, int status, struct MHD_Response *resp)
{
    r->held = resp;
    r->held_status = (unsigned)status;
    r->responded = 1;
    r->suspended = 0;
    MHD_resume_connection(r->conn);
    http_server_kick(r->srv);
    return 0;
}

/* Called from on_access: queues a held response; returns 1 when it did. */
static int queue_held(http_request *r)
{
    if (r->held == NULL)
        return 0;
    MHD_queue_response(r->conn, r->held_status, r->held);
    MHD_destroy_response(r->held);
    r->held = NULL;
    return 1;
}

/* Called from on_access after the request callback: suspends a deferred
 * request it left unanswered; returns 1 when it did. */
static int suspend_deferred(http_request *r)
{
    if (!r->deferred || r->responded)
        return 0;
    MHD_suspend_connection(r->conn);
    r->suspended = 1;
    return 1;
}

void http_request_limit_body(http_request *r, size_t max)
{
    if (max < r->max_body)
        r->max_body = max;
}

int http_request_defer(http_request *r)
{
    if (r->responded)
        return -EALREADY;
    r->deferred = 1;
    return 0;
}

/* Queues RESP for R with its content type and the extra headers. */
static int queue(http_request *r, int status, const char *content_type,
                 struct MHD_Response *resp)
{
    if (resp == NULL)
        return -ENOMEM;
    if (content_type != NULL)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
    if (r->close_after)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    for (int i = 0; i < r->nheaders; i++)
        if (r->hdr_names[i] && r->hdr_values[i])
            MHD_add_response_header(resp, r->hdr_names[i], r->hdr_values[i]);
    if (r->suspended)
        return hold_response(r, status, resp);
    enum MHD_Result ok = MHD_queue_response(r->conn, (unsigned)status, resp);
    MHD_destroy_response(resp);
    r->responded = 1;
    return ok == MHD_YES ? 0 : -EIO;
}

int http_respond(http_request *r, int status, const char *content_type, const char *body,
                 size_t len)
{
    if (r->responded)
        return -EALREADY;
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
    return queue(r, status, content_type, resp);
}

int http_respond_take(http_request *r, int status, const char *content_type, char *body,
                      size_t len)
{
    if (r->responded) {
        free(body);
        return -EALREADY;
    }
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
    if (resp == NULL)
        free(body);
    return queue(r, status, content_type, resp);
}

int http_respond_text(http_request *r, int status, const char *text)
{
    return http_respond(r, status, "text/plain; charset=utf-8", text, strlen(text));
}

/* ---------------------------------------------------------------- upgrade */

static void upgrade_cb(void *cls, struct MHD_Connection *conn, void *con_cls,
                       const char *extra, size_t extra_len, MHD_socket sock,
                       struct MHD_UpgradeResponseHandle *urh)
{
    http_upgrade *h = cls;
    h->urh = urh;
    h->cb(h->arg, sock, extra, extra_len, h);
}

int http_respond_websocket(http_request *r, const char *accept_key, http_upgrade_cb cb,
                           void *arg)
{
    if (r->responded)
        return -EALREADY;
    http_upgrade *h = calloc(1, sizeof *h);
    if (h == NULL)
        return -ENOMEM;
    h->srv = r->srv;
    h->cb = cb;
    h->arg = arg;
    struct MHD_Response *resp = MHD_create_response_for_upgrade(upgrade_cb, h);
    if (resp == NULL) {
        free(h);
        return -ENOMEM;
    }
    /* No "Connection: Upgrade" here: libmicrohttpd adds it to every upgrade
     * response, and a second one makes "Upgrade, Upgrade", which aiohttp
     * (Ray's SDK and CLI) refuses as an invalid connection header. */
    MHD_add_response_header(resp, MHD_HTTP_HEADER_UPGRADE, "websocket");
    MHD_add_response_header(resp, "Sec-WebSocket-Accept", accept_key);
    /* On failure before the upgrade the handle leaks: a few bytes, rare. */
    return queue(r, MHD_HTTP_SWITCHING_PROTOCOLS, NULL, resp);
}

void http_upgrade_close(http_upgrade *h)
{
    if (h == NULL)
        return;
    MHD_upgrade_action(h->urh, MHD_UPGRADE_ACTION_CLOSE);
    http_server_kick(h->srv);
    free(h);
}

/* ---------------------------------------------------------------- access handler */

static void respond_too_large(http_request *r)
{
    char msg[160];
    snprintf(msg, sizeof msg, "Request body exceeds the limit of %zu bytes", r->srv->cfg.max_body);
    http_respond_text(r, MHD_HTTP_CONTENT_TOO_LARGE, msg);
}

/* True when the declared Content-Length is over the limit. */
static int declared_too_large(http_request *r)
{
    const char *cl = http_request_header(r, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl == NULL)
        return 0;
    char *end;
    errno = 0;
    unsigned long long n = strtoull(cl, &end, 10);
    return errno != 0 || *end != '\0' || n > r->srv->cfg.max_body;
}

/* Drops the body file now, so that a full disk gets its space back at once. */
static void drop_sink(http_request *r)
{
    if (r->sink_fd >= 0)
        close(r->sink_fd);
    r->sink_fd = -1;
    if (r->sink_path != NULL)
        unlink(r->sink_path);
}

/* Answers R while its body is still arriving.  libmicrohttpd only queues a
 * response before the body or after all of it, so the answer is written to
 * the socket here, followed by the end of our half of the connection; the
 * rest of the body is read and thrown away (a client that sends all before it
 * reads, like Python's requests, then still sees the answer, not a reset) and
 * the connection is closed when the body ends. */
static void abort_mid_body(http_request *r, int status, const char *text)
{
    drop_sink(r);
    dbuf_free(&r->body);
    r->responded = 1;
    r->aborted = 1;
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (ci == NULL)
        return;
    const char *reason = MHD_get_reason_phrase_for((unsigned)status);
    char head[512];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=utf-8\r\n"
                     "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
                     status, reason ? reason : "Error", strlen(text), text);
    if (n > 0 && (size_t)n < sizeof head)
        (void)send(ci->connect_fd, head, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
    shutdown(ci->connect_fd, SHUT_WR);
    log_warn("http: %s %s answered %d before its body ended: %s", r->method, r->path, status,
             text);
}

/* Answers a body chunk that could not be taken (RC from take_body). */
static void refuse_chunk(http_request *r, int rc)
{
    char msg[200];
    if (rc == -EFBIG) {
        snprintf(msg, sizeof msg, "Request body exceeds the limit of %zu bytes",
                 r->max_body);
        abort_mid_body(r, MHD_HTTP_CONTENT_TOO_LARGE, msg);
    } else if (rc == -ENOSPC || rc == -EDQUOT) {
        snprintf(msg, sizeof msg, "Failed to store the request body: %s", strerror(-rc));
        abort_mid_body(r, MHD_HTTP_INSUFFICIENT_STORAGE, msg);
    } else {
        snprintf(msg, sizeof msg, "Failed to store the request body: %s", strerror(-rc));
        abort_mid_body(r, MHD_HTTP_INTERNAL_SERVER_ERROR, msg);
    }
}

/* Takes one chunk of body.  Returns 0, -EFBIG over the limit or -errno. */
static int take_body(http_request *r, const char *data, size_t n)
{
    if (n > r->max_body - r->received)
        return -EFBIG;
    r->received += n;
    if (r->sink_fd < 0)
        return dbuf_add(&r->body, data, n);
    while (n > 0) {
        ssize_t w = write(r->sink_fd, data, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -errno;
        data += w;
        n -= (size_t)w;
    }
    return 0;
}

static int finish_body(http_request *r)
{
    if (r->sink_fd < 0)
        return 0;
    int rc = close(r->sink_fd) == 0 ? 0 : -errno;
    r->sink_fd = -1;
    return rc;
}

static enum MHD_Result add_framing_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                          const char *value)
{
    http_framing_add(cls, key, value);
    return MHD_YES;
}

/* Answers 400 and closes the connection when R's target or body length is
 * ambiguous (RFC 9112 6.3: the connection cannot be trusted afterwards).
 * Returns 1 when it did. */
static int refuse_framing(http_request *r)
{
    http_framing f;
    http_framing_init(&f);
    MHD_get_connection_values(r->conn, MHD_HEADER_KIND, add_framing_header, &f);
    const char *why = r->bad_target != NULL ? r->bad_target : http_framing_verdict(&f);
    if (why == NULL)
        return 0;
    char msg[160];
    snprintf(msg, sizeof msg, "Bad Request: %s", why);
    r->close_after = 1;
    http_respond_text(r, MHD_HTTP_BAD_REQUEST, msg);
    return 1;
}

static enum MHD_Result first_call(http_server *s, http_request *r)
{
    if (refuse_framing(r))
        return MHD_YES;
    if (declared_too_large(r)) {
        respond_too_large(r);
        return MHD_YES;
    }
    s->cfg.on_headers(s->cfg.arg, r);
    return MHD_YES;
}

/* Called with the raw request target before libmicrohttpd decodes it (a
 * decoded "%00" would silently cut the path short); what it returns becomes
 * the request's context.  NULL (out of memory) makes on_access try again. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
    http_request *r = request_new(cls, conn);
    if (r != NULL)
        r->bad_target = http_framing_check_target(uri);
    return r;
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *conn, const char *url,
                                 const char *method, const char *version,
                                 const char *upload, size_t *upload_size, void **con_cls)
{
    http_server *s = cls;
    http_request *r = *con_cls;
    if (r == NULL && (r = *con_cls = request_new(s, conn)) == NULL)
        return MHD_NO;
    if (!r->started) {
        r->started = 1;
        r->path = url;
        r->method = method;
        return first_call(s, r);
    }
    if (queue_held(r))
        return MHD_YES;
    if (r->aborted) {
        /* Discard what is still coming, up to the limit once more. */
        r->received += *upload_size;
        int more = *upload_size > 0 && r->received / 2 <= r->max_body;
        *upload_size = 0;
        return more ? MHD_YES : MHD_NO;
    }
    if (r->responded) {
        *upload_size = 0;
        return MHD_YES;
    }
    if (*upload_size > 0) {
        int rc = take_body(r, upload, *upload_size);
        *upload_size = 0;
        if (rc != 0)
            refuse_chunk(r, rc);
        return MHD_YES;
    }
    int rc = finish_body(r);
    if (rc != 0) {
        drop_sink(r);
        char msg[160];
        snprintf(msg, sizeof msg, "Failed to store the request body: %s", strerror(-rc));
        http_respond_text(r, rc == -ENOSPC ? MHD_HTTP_INSUFFICIENT_STORAGE : 500, msg);
        return MHD_YES;
    }
    s->cfg.on_request(s->cfg.arg, r);
    if (suspend_deferred(r))
        return MHD_YES;
    if (!r->responded)
        http_respond_text(r, 500, "Internal error: no response");
    return MHD_YES;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    if (*con_cls != NULL)
        request_free(*con_cls);
    *con_cls = NULL;
}

static void mhd_logger(void *cls, const char *fmt, va_list ap)
{
    char line[512];
    vsnprintf(line, sizeof line, fmt, ap);
    size_t n = strlen(line);
    while (n > 0 && line[n - 1] == '\n')
        line[--n] = '\0';
    log_warn("http: %s", line);
}

/* ---------------------------------------------------------------- start / stop */

/* Creates the listening socket so that "port in use" is told apart. */
static int listen_socket(const char *host, int port, int *out)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
        return -EINVAL;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(fd, 511) != 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    *out = fd;
    return 0;
}

static int start_mhd(http_server *s)
{
    unsigned flags = MHD_USE_EPOLL | MHD_ALLOW_UPGRADE | MHD_USE_ERROR_LOG |
                     MHD_ALLOW_SUSPEND_RESUME;
    struct MHD_OptionItem tls[] = {
        {MHD_OPTION_HTTPS_MEM_CERT, 0, s->tls_cert},
        {MHD_OPTION_HTTPS_MEM_KEY, 0, s->tls_key},
        {MHD_OPTION_HTTPS_PRIORITIES, 0, (void *)"NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"},
        {MHD_OPTION_END, 0, NULL},
    };
    struct MHD_OptionItem plain[] = {{MHD_OPTION_END, 0, NULL}};
    if (s->tls_cert != NULL)
        flags |= MHD_USE_TLS;
    s->mhd = MHD_start_daemon(
        flags, 0, NULL, NULL, on_access, s,
        MHD_OPTION_EXTERNAL_LOGGER, mhd_logger, s,
        MHD_OPTION_LISTEN_SOCKET, (MHD_socket)s->listen_fd,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
        MHD_OPTION_URI_LOG_CALLBACK, on_uri, s,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CONNECTION_TIMEOUT_S,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)CONNECTION_LIMIT,
        MHD_OPTION_ARRAY, s->tls_cert != NULL ? tls : plain,
        MHD_OPTION_END);
    if (s->mhd == NULL)
        return -EIO;
    s->listen_fd = -1;   /* libmicrohttpd owns and closes it now */
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->mhd, MHD_DAEMON_INFO_EPOLL_FD);
    if (info == NULL)
        return -EIO;
    int rc = uv_poll_init(s->loop, &s->poll, info->epoll_fd);
    if (rc != 0)
        return rc;
    s->poll.data = s;
    s->open_handles++;
    return uv_poll_start(&s->poll, UV_READABLE, poll_cb);
}

int http_server_start(uv_loop_t *loop, const http_server_config *cfg, http_server **out,
                      char *err, size_t errlen)
{
    http_server *s = calloc(1, sizeof *s);
    if (s == NULL)
        return -ENOMEM;
    s->loop = loop;
    s->cfg = *cfg;
    if (cfg->tls_cert_pem != NULL && ((s->tls_cert = strdup(cfg->tls_cert_pem)) == NULL ||
                                      (s->tls_key = strdup(cfg->tls_key_pem)) == NULL)) {
        free(s->tls_cert);
        free(s);
        return -ENOMEM;
    }
    int rc = listen_socket(cfg->host, cfg->port, &s->listen_fd);
    if (rc != 0) {
        snprintf(err, errlen, "cannot listen on %s:%d: %s", cfg->host, cfg->port, strerror(-rc));
        free(s->tls_cert);
        free(s->tls_key);
        free(s);
        return rc;
    }
    uv_timer_init(loop, &s->timer);
    s->timer.data = s;
    s->open_handles = 1;
    rc = start_mhd(s);
    if (rc != 0) {
        snprintf(err, errlen, "cannot start the HTTP%s server on %s:%d",
                 s->tls_cert != NULL ? "S" : "", cfg->host, cfg->port);
        http_server_close(s);
        return rc;
    }
    run_mhd(s);
    *out = s;
    return 0;
}

static void handle_closed(uv_handle_t *h)
{
    http_server *s = h->data;
    if (--s->open_handles == 0) {
        free(s->tls_cert);
        free(s->tls_key);
        free(s);
    }
}

int http_server_is_tls(const http_server *s) { return s->tls_cert != NULL; }

void http_server_close(http_server *s)
{
    if (s == NULL)
        return;
    /* Stop watching the epoll fd before libmicrohttpd closes it. */
    if (s->open_handles > 1)
        uv_close((uv_handle_t *)&s->poll, handle_closed);
    http__streams_close(s);   /* libmicrohttpd refuses to stop with suspended ones */
    uv_close((uv_handle_t *)&s->timer, handle_closed);
    if (s->mhd != NULL)
        MHD_stop_daemon(s->mhd);
    s->mhd = NULL;
    if (s->listen_fd >= 0)
        close(s->listen_fd);
    s->listen_fd = -1;
}

/* ---------------------------------------------------------------- for http_stream.c */

struct MHD_Connection *http__request_conn(http_request *r) { return r->conn; }
http_server *http__request_server(http_request *r) { return r->srv; }

int http__request_queue(http_request *r, int status, const char *content_type,
                        struct MHD_Response *resp)
{
    if (r->responded) {
        if (resp != NULL)
            MHD_destroy_response(resp);
        return -EALREADY;
    }
    return queue(r, status, content_type, resp);
}

uv_loop_t *http__server_loop(http_server *s) { return s->loop; }
