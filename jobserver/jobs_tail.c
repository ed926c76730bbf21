/* GET /api/jobs/{id}/logs/tail: the job's log over a WebSocket, from its
 * start, in text frames of up to 10 lines (Ray's batching), until the job
 * has ended and the log is drained; then a normal close. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/log.h"
#include "jobserver/http_ws.h"
#include "jobserver/jobs_buf.h"
#include "jobserver/jobs_logs.h"
#include "jobserver/jobs_server.h"

#define TAIL_POLL_MS 100
#define TAIL_READ_MAX (256u * 1024)
#define TAIL_QUEUE_HIGH (1u << 20)     /* stop reading while this much is unsent */
#define TAIL_BATCH_LINES 10
#define TAIL_BATCH_CHARS 20000
#define TAIL_PENDING_MAX (TAIL_READ_MAX + 4 * TAIL_BATCH_CHARS)

typedef struct tail {
    jobs_server *srv;
    char id[JOBS_ID_MAX + 1];
    char path[PATH_MAX];
    uint64_t offset;
    dbuf pending;          /* read from the log, not yet sent */
    http_ws *ws;
    uv_timer_t timer;
    int ended;                 /* the socket is gone or closing */
} tail;

static void tail_timer_closed(uv_handle_t *h)
{
    tail *t = h->data;
    t->srv->tails--;
    dbuf_free(&t->pending);
    free(t);
}

static void tail_end(tail *t, int close_ws)
{
    if (t->ended)
        return;
    t->ended = 1;
    if (close_ws && t->ws != NULL)
        http_ws_close(t->ws);
    t->ws = NULL;
    uv_close((uv_handle_t *)&t->timer, tail_timer_closed);
}

static void ws_closed(void *arg, http_ws *ws)
{
    tail_end(arg, 0);
}

/* Length of the next frame taken from the front of PENDING: at most 10
 * complete lines and about 20000 bytes; a trailing partial line only when
 * FINAL.  0 when nothing should be sent yet. */
static size_t next_batch(const dbuf *p, int final)
{
    size_t end = 0;
    int lines = 0;
    while (end < p->len && lines < TAIL_BATCH_LINES && end < TAIL_BATCH_CHARS) {
        const char *nl = memchr(p->data + end, '\n', p->len - end);
        if (nl == NULL)
            break;
        end = (size_t)(nl - p->data) + 1;
        lines++;
    }
    if (end == 0 && (final || p->len >= TAIL_BATCH_CHARS)) {
        end = p->len < TAIL_BATCH_CHARS ? p->len : TAIL_BATCH_CHARS;
        if (end < p->len)
            end = jobs_utf8_valid_prefix(p->data, end) ? jobs_utf8_valid_prefix(p->data, end) : end;
    }
    return end;
}

/* Sends what can go now.  Returns -1 when the socket is gone. */
static int tail_send(tail *t, int final)
{
    size_t n;
    while (t->ws != NULL && (n = next_batch(&t->pending, final)) > 0) {
        dbuf frame;
        dbuf_init(&frame, 4 * n + 16);
        int rc = jobs_buf_append_utf8(&frame, t->pending.data, n);
        if (rc == 0)
            rc = http_ws_send_text(t->ws, frame.data, frame.len);
        dbuf_free(&frame);
        if (rc == -ENOBUFS)
            return 0;
        if (rc != 0)
            return -1;
        memmove(t->pending.data, t->pending.data + n, t->pending.len - n);
        t->pending.len -= n;
    }
    return 0;
}

static void tail_read(tail *t, int final)
{
    while (t->pending.len < TAIL_READ_MAX && http_ws_pending(t->ws) < TAIL_QUEUE_HIGH) {
        char *data;
        size_t n;
        if (jobs_log_read_from(t->path, &t->offset, TAIL_READ_MAX, final, &data, &n) != 0 ||
            data == NULL)
            return;
        int rc = dbuf_add(&t->pending, data, n);
        free(data);
        if (rc != 0)
            return;
    }
}

static void tail_tick(uv_timer_t *timer)
{
    tail *t = timer->data;
    jobs_job *j = jobs_table_get(t->srv->table, t->id);
    int final = j == NULL || jobs_status_terminal(j->status);
    tail_read(t, final);
    if (tail_send(t, final) != 0) {
        tail_end(t, 0);
        return;
    }
    /* Done once the job ended, the log is drained and every frame went out. */
    if (final && t->pending.len == 0 && http_ws_pending(t->ws) == 0) {
        uint64_t before = t->offset;
        tail_read(t, 1);
        if (t->offset == before)
            tail_end(t, 1);
    }
}

static void upgraded(void *arg, int fd, const char *extra, size_t extra_len, http_upgrade *h)
{
    tail *t = arg;
    t->ws = http_ws_open(t->srv->loop, fd, extra, extra_len, h, ws_closed, t);
    if (t->ws == NULL) {
        tail_end(t, 0);
        return;
    }
    if (!t->ended)
        uv_timer_start(&t->timer, tail_tick, 0, TAIL_POLL_MS);
}

/* Checks the WebSocket handshake headers; on success writes the accept key. */
static int check_handshake(http_request *r, char *accept, size_t len)
{
    const char *up = http_request_header(r, "Upgrade");
    const char *ver = http_request_header(r, "Sec-WebSocket-Version");
    const char *key = http_request_header(r, "Sec-WebSocket-Key");
    if (up == NULL || strcasecmp(up, "websocket") != 0 || ver == NULL || strcmp(ver, "13") != 0)
        return -EINVAL;
    return http_ws_accept_key(key, accept, len);
}

void jobs_tail_start(jobs_server *srv, http_request *r, jobs_job *j)
{
    char accept[HTTP_WS_ACCEPT_LEN + 1];
    if (check_handshake(r, accept, sizeof accept) != 0) {
        http_respond_text(r, 400, "Expected a WebSocket upgrade (Sec-WebSocket-Version 13)");
        return;
    }
    tail *t = calloc(1, sizeof *t);
    if (t == NULL) {
        http_respond_text(r, 500, "Out of memory");
        return;
    }
    t->srv = srv;
    snprintf(t->id, sizeof t->id, "%s", j->submission_id);
    jobs_log_path(srv->logs_dir, j->submission_id, t->path, sizeof t->path);
    dbuf_init(&t->pending, TAIL_PENDING_MAX);
    uv_timer_init(srv->loop, &t->timer);
    t->timer.data = t;
    srv->tails++;
    if (http_respond_websocket(r, accept, upgraded, t) != 0) {
        tail_end(t, 0);
        http_respond_text(r, 500, "Cannot upgrade the connection");
    }
}
