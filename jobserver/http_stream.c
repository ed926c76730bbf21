/* Streamed responses over libmicrohttpd: a chunked body read through the
 * application's fill callback; while it has nothing the connection is
 * suspended (no polling) and its socket watched with uv_poll, so that a
 * client that goes away ends the stream at once, not at the next write. */
#include "jobserver/http_stream.h"

#include <errno.h>
#include <microhttpd.h>
#include <stdlib.h>
#include <sys/socket.h>

#define STREAM_BLOCK (32 * 1024)

struct http_stream {
    http_server *srv;
    struct MHD_Connection *conn;
    http_stream_fill_cb fill;
    http_stream_done_cb done;
    void *arg;
    int suspended;
    int ended;               /* the client went away or the server closes */
    int queued;              /* the response is libmicrohttpd's: DONE runs at its end */
    int fd;                  /* the client's socket */
    uv_poll_t *watch;        /* on FD while suspended; freed in its close callback */
    http_stream *next;
};

static http_stream *streams;   /* every open stream (one thread, one loop) */
static int nstreams;

int http_stream_count(void) { return nstreams; }

static void watch_closed(uv_handle_t *h) { free(h); }

static void watch_stop(http_stream *s)
{
    if (s->watch != NULL)
        uv_poll_stop(s->watch);
}

static void resume(http_stream *s)
{
    if (!s->suspended)
        return;
    watch_stop(s);
    s->suspended = 0;
    MHD_resume_connection(s->conn);
    http_server_kick(s->srv);
}

/* The client's socket is readable while we wait: it closed (EOF, error) or
 * sent something, which a client reading a stream does not; either way the
 * stream ends and libmicrohttpd closes the connection. */
static void watch_cb(uv_poll_t *p, int status, int events)
{
    http_stream *s = p->data;
    (void)status;
    (void)events;
    s->ended = 1;
    resume(s);
}

static void watch_start(http_stream *s)
{
    if (s->fd < 0)
        return;
    if (s->watch == NULL) {
        s->watch = malloc(sizeof *s->watch);
        if (s->watch == NULL ||
            uv_poll_init_socket(http__server_loop(s->srv), s->watch, s->fd) != 0) {
            free(s->watch);
            s->watch = NULL;
            return;
        }
        s->watch->data = s;
    }
    uv_poll_start(s->watch, UV_READABLE | UV_DISCONNECT, watch_cb);
}

static ssize_t reader(void *cls, uint64_t pos, char *buf, size_t max)
{
    http_stream *s = cls;
    (void)pos;
    if (s->ended)
        return MHD_CONTENT_READER_END_OF_STREAM;
    ssize_t n = s->fill(s->arg, buf, max);
    if (n < 0)
        return MHD_CONTENT_READER_END_OF_STREAM;
    if (n > 0)
        return n;
    /* Nothing now: libmicrohttpd calls again only once resumed. */
    MHD_suspend_connection(s->conn);
    s->suspended = 1;
    watch_start(s);
    return 0;
}

static void unlink_stream(http_stream *s)
{
    for (http_stream **p = &streams; *p != NULL; p = &(*p)->next)
        if (*p == s) {
            *p = s->next;
            nstreams--;
            return;
        }
}

/* libmicrohttpd drops the response: the request is over. */
static void reader_free(void *cls)
{
    http_stream *s = cls;
    if (!s->queued) {          /* queueing failed: the caller keeps ARG */
        free(s);
        return;
    }
    unlink_stream(s);
    if (s->watch != NULL) {
        uv_poll_stop(s->watch);
        uv_close((uv_handle_t *)s->watch, watch_closed);
    }
    s->done(s->arg);
    free(s);
}

int http_respond_stream(http_request *r, int status, const char *content_type,
                        http_stream_fill_cb fill, http_stream_done_cb done, void *arg,
                        http_stream **out)
{
    http_stream *s = calloc(1, sizeof *s);
    if (s == NULL)
        return -ENOMEM;
    s->srv = http__request_server(r);
    s->conn = http__request_conn(r);
    s->fill = fill;
    s->done = done;
    s->arg = arg;
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(s->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    s->fd = ci != NULL ? ci->connect_fd : -1;
    struct MHD_Response *resp =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, STREAM_BLOCK, reader, s,
                                          reader_free);
    if (resp == NULL) {
        free(s);
        return -ENOMEM;
    }
    /* On failure the response is destroyed at once and reader_free frees S. */
    int rc = http__request_queue(r, status, content_type, resp);
    if (rc != 0)
        return rc;
    s->queued = 1;
    s->next = streams;
    streams = s;
    nstreams++;
    if (out != NULL)
        *out = s;
    return 0;
}

void http_stream_wake(http_stream *s)
{
    if (s != NULL)
        resume(s);
}

void http__streams_close(http_server *srv)
{
    for (http_stream *s = streams; s != NULL; s = s->next)
        if (s->srv == srv) {
            s->ended = 1;
            watch_stop(s);
            if (s->suspended) {
                s->suspended = 0;
                MHD_resume_connection(s->conn);
            }
        }
}
