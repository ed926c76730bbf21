/* Framed protobuf connections on libuv streams. */
#include "common/rpc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "common/frame.h"
#include "common/pb_arena.h"
#include "common/tls.h"

struct rpc_conn {
    union {
        uv_handle_t handle;
        uv_stream_t stream;
        uv_tcp_t tcp;
        uv_pipe_t pipe;
    } h;
    frame_reader reader;
    size_t max_frame;      /* cap on frames sent, and on frames read once unlimited */
    rpc_message_cb on_message;
    rpc_close_cb on_close;
    void *data;
    int closing;
    int is_pipe;
    int arena_field;       /* rpc_conn_use_arena: 0 none, -1 all, else one body field */
    int want_tls;          /* TCP with TLS on: a session starts with the connection */
    tls_sess *tls;         /* NULL for plain connections and before start */
    int tls_ready;         /* handshake complete */
    uint8_t *early;        /* frames sent before the handshake completed */
    size_t early_len;
    char peer[64];
};

typedef struct {
    uv_write_t req;
    uint8_t *buf;
} write_req;

static rpc_conn *conn_alloc(size_t max_frame, rpc_message_cb on_message,
                            rpc_close_cb on_close)
{
    rpc_conn *c = calloc(1, sizeof *c);
    if (c == NULL)
        return NULL;
    frame_reader_init(&c->reader, max_frame);
    c->max_frame = max_frame;
    c->on_message = on_message;
    c->on_close = on_close;
    c->h.handle.data = c;
    return c;
}

rpc_conn *rpc_conn_new_tcp(uv_loop_t *loop, size_t max_frame,
                           rpc_message_cb on_message, rpc_close_cb on_close)
{
    rpc_conn *c = conn_alloc(max_frame, on_message, on_close);
    if (c != NULL) {
        uv_tcp_init(loop, &c->h.tcp);
        /* Requests and replies are small frames: never hold one back
         * waiting for an ACK (libuv applies this once the socket exists). */
        uv_tcp_nodelay(&c->h.tcp, 1);
        c->want_tls = tls_state() != 0;
    }
    return c;
}

rpc_conn *rpc_conn_new_pipe(uv_loop_t *loop, size_t max_frame,
                            rpc_message_cb on_message, rpc_close_cb on_close)
{
    rpc_conn *c = conn_alloc(max_frame, on_message, on_close);
    if (c != NULL) {
        uv_pipe_init(loop, &c->h.pipe, 0);
        c->is_pipe = 1;
    }
    return c;
}

uv_stream_t *rpc_conn_stream(rpc_conn *c) { return &c->h.stream; }
void rpc_conn_use_arena(rpc_conn *c, int body_field)
{
    c->arena_field = body_field > 0 ? body_field : -1;
}

void rpc_conn_set_data(rpc_conn *c, void *data) { c->data = data; }
void *rpc_conn_data(const rpc_conn *c) { return c->data; }
int rpc_conn_closing(const rpc_conn *c) { return c->closing; }

void rpc_conn_set_read_limit(rpc_conn *c, size_t max_frame)
{
    c->reader.max_frame = max_frame == 0 || max_frame > c->max_frame ? c->max_frame : max_frame;
}

int rpc_conn_has_input(rpc_conn *c)
{
    uv_os_fd_t fd;
    int n = 0;
    if (c == NULL || uv_fileno((uv_handle_t *)rpc_conn_stream(c), &fd) != 0 ||
        ioctl(fd, FIONREAD, &n) != 0)
        return 0;
    return n > 0;
}

const char *rpc_conn_peer(rpc_conn *c)
{
    if (c->peer[0] != '\0')
        return c->peer;
    struct sockaddr_storage ss;
    int len = sizeof ss;
    if (c->is_pipe || uv_tcp_getpeername(&c->h.tcp, (struct sockaddr *)&ss, &len) != 0) {
        snprintf(c->peer, sizeof c->peer, "%s", c->is_pipe ? "unix" : "?");
        return c->peer;
    }
    char ip[48] = "?";
    int port = 0;
    if (ss.ss_family == AF_INET) {
        struct sockaddr_in *in = (struct sockaddr_in *)&ss;
        uv_ip4_name(in, ip, sizeof ip);
        port = ntohs(in->sin_port);
    }
    snprintf(c->peer, sizeof c->peer, "%s:%d", ip, port);
    return c->peer;
}

static void closed_cb(uv_handle_t *h)
{
    rpc_conn *c = h->data;
    frame_reader_free(&c->reader);
    tls_sess_free(c->tls);
    free(c->early);
    free(c);
}

void rpc_conn_close(rpc_conn *c, const char *reason)
{
    if (c->closing)
        return;
    rpc_conn_peer(c); /* remember the peer name while the socket still exists */
    c->closing = 1;
    if (c->on_close != NULL)
        c->on_close(c, reason);
    uv_close(&c->h.handle, closed_cb);
}

/* Messages of connections that asked for it (rpc_conn_use_arena) are
 * decoded into a per-thread arena, reset after each one: a batch of task
 * events is thousands of fields, and one malloc each was most of what the
 * GCS spent on them.  A message that arrives while another is being
 * handled (a nested loop run) uses malloc. */
#define RPC_ARENA_KEEP (4u << 20)
static _Thread_local pb_arena arena;
static _Thread_local int arena_ready, arena_busy;

/* The field number of the envelope body in PAYLOAD, or 0 when it cannot
 * tell: protobuf-c writes fields in order, request_id (1, a varint) first
 * when set.  Only chooses the allocator: a wrong guess costs mallocs. */
static uint32_t body_field(const uint8_t *p, size_t len)
{
    for (int field = 0; field < 2; field++) {
        uint64_t tag = 0;
        size_t i = 0;
        for (int shift = 0; i < len && i < 5; shift += 7) {
            tag |= (uint64_t)(p[i] & 0x7f) << shift;
            if (!(p[i++] & 0x80))
                break;
        }
        if (i == 0 || (p[i - 1] & 0x80))
            return 0;
        if ((tag >> 3) != 1 || (tag & 7) != 0)
            return (uint32_t)(tag >> 3);
        p += i, len -= i;                    /* skip request_id's value */
        for (i = 0; i < len && i < 10 && (p[i] & 0x80); i++)
            ;
        if (i >= len || i == 10)
            return 0;
        p += i + 1, len -= i + 1;
    }
    return 0;
}

static int frame_arrived(const uint8_t *payload, size_t len, void *data)
{
    rpc_conn *c = data;
    if (!arena_ready) {
        pb_arena_init(&arena, RPC_ARENA_KEEP);
        arena_ready = 1;
    }
    int use = !arena_busy && (c->arena_field == -1 ||
                              (c->arena_field > 0 &&
                               body_field(payload, len) == (uint32_t)c->arena_field));
    ProtobufCAllocator *al = use ? &arena.alloc : NULL;
    Rayc__Envelope *env = rayc__envelope__unpack(al, len, payload);
    if (env == NULL) {
        if (al != NULL)
            pb_arena_reset(&arena);
        return -EPROTO;
    }
    if (al != NULL)
        arena_busy = 1;
    c->on_message(c, env);
    if (al != NULL) {
        arena_busy = 0;
        pb_arena_reset(&arena);
    } else {
        rayc__envelope__free_unpacked(env, NULL);
    }
    /* The callback may have closed us: stop decoding the rest. */
    return c->closing ? -ECANCELED : 0;
}

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    static char slab[64 * 1024]; /* loops are single-threaded per process */
    (void)h;
    (void)suggested;
    buf->base = slab;
    buf->len = sizeof slab;
}

/* Hands N plain bytes to the frame reader; closes C on a bad frame. */
static int feed_plain(rpc_conn *c, const uint8_t *buf, size_t n)
{
    int rc = frame_reader_feed(&c->reader, buf, n, frame_arrived, c);
    if (rc == -EMSGSIZE)
        rpc_conn_close(c, "oversized frame");
    else if (rc == -EPROTO)
        rpc_conn_close(c, "malformed frame");
    else if (rc != 0 && rc != -ECANCELED)
        rpc_conn_close(c, "out of memory");
    return rc;
}

static int raw_send(rpc_conn *c, uint8_t *buf, size_t len);
static void tls_input(rpc_conn *c, const uint8_t *buf, size_t n);

static void read_cb(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    rpc_conn *c = s->data;
    if (n == 0)
        return;
    if (n < 0) {
        int hs = c->tls != NULL && !c->tls_ready;
        rpc_conn_close(c, n == UV_EOF ? (hs ? "peer closed during the TLS handshake" : "peer closed")
                                      : uv_strerror((int)n));
        return;
    }
    if (c->tls != NULL)
        tls_input(c, (const uint8_t *)buf->base, (size_t)n);
    else
        feed_plain(c, (const uint8_t *)buf->base, (size_t)n);
}

/* ---------------------------------------------------------------- TLS */

/* Sends the ciphertext the session holds.  Returns 0 or a negative error. */
static int tls_flush(rpc_conn *c)
{
    uint8_t *out;
    ssize_t n = tls_sess_take_out(c->tls, &out);
    if (n <= 0)
        return (int)n;
    return raw_send(c, out, (size_t)n);
}

/* Encrypts LEN plain bytes and sends them (BUF stays the caller's). */
static int tls_send(rpc_conn *c, const uint8_t *buf, size_t len)
{
    if (tls_sess_write(c->tls, buf, len) != 0) {
        char why[300];
        snprintf(why, sizeof why, "TLS error: %s", tls_sess_error(c->tls));
        rpc_conn_close(c, why);
        return -EPIPE;
    }
    return tls_flush(c);
}

/* Closes C after a failed handshake or record, naming OpenSSL's reason. */
static void tls_fail(rpc_conn *c, const char *what)
{
    char why[300];
    snprintf(why, sizeof why, "%s: %s", what, tls_sess_error(c->tls));
    tls_flush(c); /* an alert tells the peer why */
    rpc_conn_close(c, why);
}

/* Once the handshake completes, the frames queued before it go out. */
static int tls_handshake_step(rpc_conn *c)
{
    int hs = tls_sess_handshake(c->tls);
    if (hs < 0) {
        tls_fail(c, "TLS handshake failed");
        return -EPROTO;
    }
    if (tls_flush(c) != 0 || hs == 0)
        return hs == 0 ? 0 : -EPIPE;
    c->tls_ready = 1;
    if (c->early_len > 0) {
        int rc = tls_send(c, c->early, c->early_len);
        free(c->early);
        c->early = NULL;
        c->early_len = 0;
        if (rc != 0)
            return rc;
    }
    return 1;
}

static void tls_input(rpc_conn *c, const uint8_t *buf, size_t n)
{
    static uint8_t plain[64 * 1024]; /* loops are single-threaded per process */
    if (tls_sess_feed(c->tls, buf, n) != 0) {
        rpc_conn_close(c, "out of memory");
        return;
    }
    if (!c->tls_ready && tls_handshake_step(c) <= 0)
        return;
    while (!c->closing) {
        ssize_t got = tls_sess_read(c->tls, plain, sizeof plain);
        if (got == 0)
            break;
        if (got < 0) {
            if (got == -ECONNRESET)
                rpc_conn_close(c, "peer closed");
            else
                tls_fail(c, "TLS error");
            return;
        }
        if (feed_plain(c, plain, (size_t)got) != 0)
            return;
    }
    if (!c->closing)
        tls_flush(c);
}

/* Starts the session; the connecting side speaks first. */
static int tls_start(rpc_conn *c, int is_server)
{
    if (tls_state() < 0)
        return UV_EINVAL; /* configured but not loadable: never fall back to plain */
    c->tls = tls_sess_new(is_server);
    if (c->tls == NULL)
        return UV_ENOMEM;
    return is_server ? 0 : (tls_handshake_step(c) < 0 ? UV_EPROTO : 0);
}

static int conn_start(rpc_conn *c, int is_server)
{
    int rc = uv_read_start(&c->h.stream, alloc_cb, read_cb);
    if (rc == 0 && c->want_tls && c->tls == NULL)
        rc = tls_start(c, is_server);
    return rc;
}

int rpc_conn_start(rpc_conn *c) { return conn_start(c, 1); }
int rpc_conn_start_connected(rpc_conn *c) { return conn_start(c, 0); }

static void write_cb(uv_write_t *req, int status)
{
    write_req *w = (write_req *)req;
    rpc_conn *c = req->handle->data;
    free(w->buf);
    free(w);
    if (status < 0 && status != UV_ECANCELED && !c->closing)
        rpc_conn_close(c, uv_strerror(status));
}

int rpc_pack(const Rayc__Envelope *env, size_t max_frame, uint8_t **out, size_t *out_len)
{
    size_t n = rayc__envelope__get_packed_size(env);
    if (n > max_frame)
        return -EMSGSIZE;
    uint8_t *buf = malloc(n + FRAME_HEADER_SIZE);
    if (buf == NULL)
        return -ENOMEM;
    frame_header_write(buf, (uint32_t)n);
    rayc__envelope__pack(env, buf + FRAME_HEADER_SIZE);
    *out = buf;
    *out_len = n + FRAME_HEADER_SIZE;
    return 0;
}

/* Writes BUF (LEN bytes, owned and freed here) to the socket. */
static int raw_send(rpc_conn *c, uint8_t *buf, size_t len)
{
    /* Straight to the socket when it has room and nothing is queued before
     * us (uv_try_write refuses otherwise, so order holds): no request, no
     * callback, and no epoll_ctl, which libuv 1.44 issues on the next loop
     * turn after every queued write drains (one syscall per message). */
    uv_buf_t b = uv_buf_init((char *)buf, (unsigned)len);
    int n = uv_try_write(&c->h.stream, &b, 1);
    if (n == (int)len) {
        free(buf);
        return 0;
    }
    if (n > 0) {
        b.base += n;
        b.len -= (unsigned)n;
    }
    write_req *w = malloc(sizeof *w);
    if (w == NULL) {
        free(buf);
        if (n > 0)
            rpc_conn_close(c, "out of memory"); /* half a frame is on the wire */
        return -ENOMEM;
    }
    w->buf = buf;
    int rc = uv_write(&w->req, &c->h.stream, &b, 1, write_cb);
    if (rc != 0) {
        free(w->buf);
        free(w);
    }
    return rc;
}

/* Keeps a frame until the TLS handshake completes (BUF stays the caller's). */
static int queue_early(rpc_conn *c, const uint8_t *buf, size_t len)
{
    uint8_t *grown = realloc(c->early, c->early_len + len);
    if (grown == NULL)
        return -ENOMEM;
    memcpy(grown + c->early_len, buf, len);
    c->early = grown;
    c->early_len += len;
    return 0;
}

int rpc_conn_send(rpc_conn *c, const Rayc__Envelope *env)
{
    if (c->closing)
        return -EPIPE;
    uint8_t *buf;
    size_t len;
    int rc = rpc_pack(env, c->max_frame, &buf, &len);
    if (rc != 0)
        return rc;
    if (!c->want_tls)
        return raw_send(c, buf, len);
    rc = c->tls_ready ? tls_send(c, buf, len) : queue_early(c, buf, len);
    free(buf);
    return rc;
}

int rpc_conn_send_error(rpc_conn *c, uint64_t request_id, int code, const char *message)
{
    Rayc__Envelope env = RAYC__ENVELOPE__INIT;
    Rayc__Error err = RAYC__ERROR__INIT;
    err.code = code;
    err.message = (char *)message;
    env.request_id = request_id;
    env.body_case = RAYC__ENVELOPE__BODY_ERROR;
    env.error = &err;
    return rpc_conn_send(c, &env);
}
