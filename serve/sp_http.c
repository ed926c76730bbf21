/* The proxy's HTTP side: libmicrohttpd with a thread per connection (a
 * request blocks its thread while the replica works), each request sent
 * to a replica's handle_http_raw. */
#include "serve/sp.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"

#define CALL_TIMEOUT_S 600.0
#define PICK_WAIT_S 60.0
/* A request whose replica died goes to another live replica, at most this
 * many times in all: a node's death takes all its replicas at once, but a
 * request that itself kills replicas must not take down every one. */
#define MAX_ATTEMPTS 4

static struct MHD_Daemon *mhd;

/* One request being read. */
typedef struct req {
    char *uri;            /* the raw request target, query included */
    char *body;
    size_t body_len, body_cap;
    char *headers;        /* "name: value\r\n" lines */
    size_t headers_len;
    int too_big;
    int started;          /* the handler has seen the headers */
} req;

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
    req *r = calloc(1, sizeof(*r));
    if (r != NULL)
        r->uri = strdup(uri ? uri : "/");
    return r;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    req *r = *con_cls;
    if (r == NULL)
        return;
    free(r->uri);
    free(r->body);
    free(r->headers);
    free(r);
    *con_cls = NULL;
}

static enum MHD_Result add_header(void *cls, enum MHD_ValueKind kind, const char *k,
                                  const char *v)
{
    req *r = cls;
    size_t need = strlen(k) + strlen(v ? v : "") + 4;
    if (r->headers_len + need > SP_MAX_HEADERS) {
        r->too_big = 1;
        return MHD_NO;
    }
    char *grown = realloc(r->headers, r->headers_len + need + 1);
    if (grown == NULL) {
        r->too_big = 1;
        return MHD_NO;
    }
    r->headers = grown;
    r->headers_len += str_printf(r->headers + r->headers_len, need + 1, "%s: %s\r\n", k,
                                 v ? v : "");
    return MHD_YES;
}

static int append_body(req *r, const char *data, size_t n)
{
    if (r->body_len + n > SP_MAX_BODY)
        return -1;
    if (r->body_len + n > r->body_cap) {
        size_t cap = r->body_cap ? r->body_cap * 2 : 4096;
        while (cap < r->body_len + n)
            cap *= 2;
        char *grown = realloc(r->body, cap);
        if (grown == NULL)
            return -1;
        r->body = grown;
        r->body_cap = cap;
    }
    memcpy(r->body + r->body_len, data, n);
    r->body_len += n;
    return 0;
}

static enum MHD_Result reply(struct MHD_Connection *c, int status, const char *type,
                             const void *body, size_t len)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
    if (resp == NULL)
        return MHD_NO;
    if (type != NULL)
        MHD_add_response_header(resp, "content-type", type);
    enum MHD_Result ok = MHD_queue_response(c, (unsigned)status, resp);
    MHD_destroy_response(resp);
    return ok;
}

static enum MHD_Result reply_text(struct MHD_Connection *c, int status, const char *text)
{
    return reply(c, status, "text/plain; charset=utf-8", text, strlen(text));
}

/* Sends the replica's raw answer ("STATUS\n", header lines, "\n", body). */
static enum MHD_Result reply_raw(struct MHD_Connection *c, const char *buf, size_t len)
{
    const char *end = buf + len;
    const char *nl = memchr(buf, '\n', len);
    long status = nl ? strtol(buf, NULL, 10) : 0;
    if (nl == NULL || status < 100 || status > 599)
        return reply_text(c, 500, "the replica's answer is malformed");
    const char *p = nl + 1;
    const char *hdr_start = p;
    while (p < end && *p != '\n') {
        const char *e = memchr(p, '\n', (size_t)(end - p));
        if (e == NULL)
            return reply_text(c, 500, "the replica's answer is malformed");
        p = e + 1;
    }
    const char *body = p < end ? p + 1 : end;
    struct MHD_Response *resp = MHD_create_response_from_buffer(
        (size_t)(end - body), (void *)body, MHD_RESPMEM_MUST_COPY);
    if (resp == NULL)
        return MHD_NO;
    for (const char *h = hdr_start; h < p;) {
        const char *e = memchr(h, '\n', (size_t)(p - h));
        const char *colon = memchr(h, ':', (size_t)(e - h));
        if (colon != NULL) {
            char name[256], value[8192];
            size_t nl_ = (size_t)(colon - h), vl = (size_t)(e - colon - 1);
            if (vl > 0 && colon[1] == ' ')
                colon++, vl--;
            if (nl_ < sizeof(name) && vl < sizeof(value)) {
                memcpy(name, h, nl_);
                name[nl_] = '\0';
                memcpy(value, colon + 1, vl);
                value[vl] = '\0';
                if (strcasecmp(name, "content-length") != 0)
                    MHD_add_response_header(resp, name, value);
            }
        }
        h = e + 1;
    }
    enum MHD_Result ok = MHD_queue_response(c, (unsigned)status, resp);
    MHD_destroy_response(resp);
    return ok;
}

/* Calls replica R once; RAY_OK with the answer in *OUT (malloc'd). */
static int call_replica(sp_replica *r, const char *method, const char *path,
                        const char *query, const char *prefix, req *q, const char *client,
                        void **out, size_t *len)
{
    ray_ref *ref = ray_actor_call(
        r->actor, "handle_http_raw",
        RAY_ARGS(ray_str(SP_RAW_MARK), ray_str(method), ray_str(path), ray_str(query),
                 ray_str(prefix), ray_str(q->headers ? q->headers : ""),
                 ray_bytes(q->body ? q->body : "", q->body_len), ray_str(client)),
        NULL);
    if (ref == NULL)
        return RAY_ERR_ACTOR_DIED;
    int rc = ray_get_bytes(ref, CALL_TIMEOUT_S, out, len);
    ray_ref_release(ref);
    return rc;
}

static void client_addr(struct MHD_Connection *c, char *buf, size_t n)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    buf[0] = '\0';
    if (ci != NULL && ci->client_addr != NULL && ci->client_addr->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)ci->client_addr)->sin_addr, buf,
                  (socklen_t)n);
}

static enum MHD_Result route(struct MHD_Connection *c, const char *method, req *q)
{
    char path[4096];
    const char *qm = strchr(q->uri, '?');
    size_t plen = qm ? (size_t)(qm - q->uri) : strlen(q->uri);
    if (plen >= sizeof(path))
        return reply_text(c, 414, "URI too long");
    memcpy(path, q->uri, plen);
    path[plen] = '\0';
    const char *query = qm ? qm + 1 : "";
    if (strcmp(path, "/-/healthz") == 0)
        return reply_text(c, 200, "success");
    if (strcmp(path, "/-/routes") == 0) {
        char *json = sp_table_routes_json();
        enum MHD_Result ok = json ? reply(c, 200, "application/json", json, strlen(json))
                                  : reply_text(c, 500, "out of memory");
        free(json);
        return ok;
    }
    MHD_get_connection_values(c, MHD_HEADER_KIND, add_header, q);
    if (q->too_big)
        return reply_text(c, 431, "Request header fields too large");
    char client[64];
    client_addr(c, client, sizeof(client));
    for (int attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        char *prefix = NULL;
        int status = 0;
        sp_replica *r = sp_table_pick(path, PICK_WAIT_S, &prefix, &status);
        if (r == NULL) {
            char msg[4200];
            if (status == 404)
                str_printf(msg, sizeof(msg), "Path '%s' not found. Ping "
                           "http://.../-/routes for available routes.", path);
            else
                str_printf(msg, sizeof(msg), "No replica of the application at '%s' is "
                           "available.", path);
            return reply_text(c, (unsigned)status, msg);
        }
        void *out = NULL;
        size_t len = 0;
        int rc = call_replica(r, method, path, query, prefix, q, client, &out, &len);
        free(prefix);
        int died = rc == RAY_ERR_ACTOR_DIED || rc == RAY_ERR_NODE_DIED;
        sp_table_done(r, died);
        if (rc == RAY_OK) {
            enum MHD_Result ok = reply_raw(c, out, len);
            free(out);
            return ok;
        }
        if (!died) {
            char msg[1024];
            str_printf(msg, sizeof(msg), "%s: %s", ray_status_name(rc), ray_last_error());
            return reply_text(c, 500, msg);
        }
        /* The replica died before answering: again on another one (it is now
         * marked dead, so the next pick skips it). */
    }
    return reply_text(c, 503, "the replicas died while handling the request");
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    req *q = *con_cls;
    if (q == NULL || q->uri == NULL)
        return MHD_NO;
    if (!q->started) {   /* the first call comes with the headers only */
        q->started = 1;
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        if (append_body(q, upload_data, *upload_data_size) < 0)
            q->too_big = 2;
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (q->too_big == 2)
        return reply_text(c, 413, "Request body too large");
    return route(c, method, q);
}

int sp_http_start(const char *host, int port, char *err, size_t errlen)
{
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, strcmp(host, "0.0.0.0") == 0 ? "0.0.0.0" : host,
                  &sa.sin_addr) != 1) {
        str_printf(err, errlen, "bad --host %s (an IPv4 address)", host);
        return -1;
    }
    mhd = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL,
        (uint16_t)port, NULL, NULL, on_request, NULL,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
        MHD_OPTION_URI_LOG_CALLBACK, on_uri, NULL,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
        MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned)1,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)4000,
        MHD_OPTION_END);
    if (mhd == NULL) {
        str_printf(err, errlen, "cannot listen on %s:%d", host, port);
        return -1;
    }
    return 0;
}

void sp_http_stop(void)
{
    if (mhd != NULL)
        MHD_stop_daemon(mhd);
    mhd = NULL;
}
