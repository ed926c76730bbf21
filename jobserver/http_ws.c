/* WebSocket (RFC 6455): frame codec and a send-only server connection. */
#include "jobserver/http_ws.h"

#include <errno.h>
#include <limits.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/dbuf.h"

#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define WS_IN_MAX (64 * 1024)          /* clients only send control frames */
#define WS_OUT_MAX (8u * 1024 * 1024)  /* send queue cap */

/* ---------------------------------------------------------------- codec */

int http_ws_accept_key(const char *key, char *out, size_t outlen)
{
    if (key == NULL || *key == '\0' || strlen(key) > 256 || outlen < HTTP_WS_ACCEPT_LEN + 1)
        return -EINVAL;
    char cat[256 + sizeof WS_GUID];
    int n = snprintf(cat, sizeof cat, "%s%s", key, WS_GUID);
    unsigned char digest[SHA_DIGEST_LENGTH];
    SHA1((const unsigned char *)cat, (size_t)n, digest);
    EVP_EncodeBlock((unsigned char *)out, digest, SHA_DIGEST_LENGTH);
    return 0;
}

size_t http_ws_header(uint8_t *out, int opcode, uint64_t len, const uint8_t *mask)
{
    size_t i = 0;
    out[i++] = (uint8_t)(0x80 | (opcode & 0x0f));
    uint8_t mbit = mask ? 0x80 : 0;
    if (len < 126) {
        out[i++] = (uint8_t)(mbit | len);
    } else if (len <= 0xffff) {
        out[i++] = mbit | 126;
        out[i++] = (uint8_t)(len >> 8);
        out[i++] = (uint8_t)len;
    } else {
        out[i++] = mbit | 127;
        for (int s = 56; s >= 0; s -= 8)
            out[i++] = (uint8_t)(len >> s);
    }
    if (mask) {
        memcpy(out + i, mask, 4);
        i += 4;
    }
    return i;
}

long http_ws_parse(const uint8_t *buf, size_t n, uint64_t max_payload, http_ws_frame *f)
{
    if (n < 2)
        return 0;
    f->fin = buf[0] >> 7;
    f->opcode = buf[0] & 0x0f;
    if (buf[0] & 0x70)
        return -EPROTO;   /* no extensions were negotiated */
    f->masked = buf[1] >> 7;
    uint64_t len = buf[1] & 0x7f;
    if (f->opcode >= 0x8 && (len > 125 || !f->fin))
        return -EPROTO;   /* control frames are short and never fragmented */
    size_t h = 2;
    if (len == 126) {
        if (n < 4)
            return 0;
        len = ((uint64_t)buf[2] << 8) | buf[3];
        h = 4;
    } else if (len == 127) {
        if (n < 10)
            return 0;
        len = 0;
        for (int i = 0; i < 8; i++)
            len = (len << 8) | buf[2 + i];
        h = 10;
    }
    if (len > max_payload || len > (uint64_t)(LONG_MAX / 2))
        return -EMSGSIZE;
    if (f->masked) {
        if (n < h + 4)
            return 0;
        memcpy(f->mask, buf + h, 4);
        h += 4;
    }
    f->header_len = h;
    f->payload_len = len;
    return n < h + len ? 0 : (long)(h + len);
}

void http_ws_unmask(uint8_t *data, size_t n, const uint8_t *mask)
{
    for (size_t i = 0; i < n; i++)
        data[i] ^= mask[i & 3];
}

/* ---------------------------------------------------------------- server connection */

struct http_ws {
    uv_poll_t poll;
    int fd;
    http_upgrade *upgrade;
    http_ws_closed_cb cb;
    void *arg;
    dbuf in;
    dbuf out;
    size_t out_off;         /* bytes of OUT already sent */
    int closing;            /* a close frame is queued: finish once flushed */
    int done;               /* finishing: no more callbacks or sends */
};

static void ws_poll_cb(uv_poll_t *p, int status, int events);

static void ws_handle_closed(uv_handle_t *h)
{
    http_ws *ws = h->data;
    http_upgrade_close(ws->upgrade);
    dbuf_free(&ws->in);
    dbuf_free(&ws->out);
    free(ws);
}

/* Ends the connection; NOTIFY runs the closed callback first. */
static void ws_finish(http_ws *ws, int notify)
{
    if (ws->done)
        return;
    ws->done = 1;
    if (notify && ws->cb)
        ws->cb(ws->arg, ws);
    shutdown(ws->fd, SHUT_RDWR);
    uv_close((uv_handle_t *)&ws->poll, ws_handle_closed);
}

static void ws_update_events(http_ws *ws)
{
    int ev = UV_READABLE | (ws->out.len > ws->out_off ? UV_WRITABLE : 0);
    uv_poll_start(&ws->poll, ev, ws_poll_cb);
}

/* Queues one frame.  Returns 0, -ENOBUFS or -EPIPE. */
static int ws_queue(http_ws *ws, int opcode, const void *data, size_t n)
{
    if (ws->done || ws->closing)
        return -EPIPE;
    if (ws->out.len - ws->out_off + n + 14 > WS_OUT_MAX)
        return -ENOBUFS;
    if (ws->out_off > 0 && ws->out_off == ws->out.len)
        ws->out.len = ws->out_off = 0;
    uint8_t hdr[14];
    size_t hl = http_ws_header(hdr, opcode, n, NULL);
    int rc = dbuf_add(&ws->out, hdr, hl);
    if (rc == 0)
        rc = dbuf_add(&ws->out, data, n);
    if (rc != 0)
        return -ENOBUFS;
    ws_update_events(ws);
    return 0;
}

static void ws_flush(http_ws *ws)
{
    while (ws->out_off < ws->out.len) {
        ssize_t w = send(ws->fd, ws->out.data + ws->out_off, ws->out.len - ws->out_off,
                         MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (w < 0) {
            ws_finish(ws, 1);
            return;
        }
        ws->out_off += (size_t)w;
    }
    if (ws->out_off == ws->out.len) {
        ws->out.len = ws->out_off = 0;
        if (ws->closing) {
            ws_finish(ws, 0);
            return;
        }
    }
    ws_update_events(ws);
}

/* Handles the complete frames in IN; returns -1 once the connection ended. */
static int ws_consume(http_ws *ws)
{
    http_ws_frame f;
    long n;
    while ((n = http_ws_parse((uint8_t *)ws->in.data, ws->in.len, WS_IN_MAX, &f)) > 0) {
        uint8_t *payload = (uint8_t *)ws->in.data + f.header_len;
        if (f.masked)
            http_ws_unmask(payload, (size_t)f.payload_len, f.mask);
        if (f.opcode == HTTP_WS_CLOSE) {
            ws_finish(ws, 1);
            return -1;
        }
        if (f.opcode == HTTP_WS_PING)
            ws_queue(ws, HTTP_WS_PONG, payload, (size_t)f.payload_len);
        memmove(ws->in.data, ws->in.data + n, ws->in.len - (size_t)n);
        ws->in.len -= (size_t)n;
    }
    if (n < 0) {
        ws_finish(ws, 1);
        return -1;
    }
    return 0;
}

static void ws_read(http_ws *ws)
{
    char buf[4096];
    for (;;) {
        ssize_t r = recv(ws->fd, buf, sizeof buf, MSG_DONTWAIT);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (r <= 0 || dbuf_add(&ws->in, buf, (size_t)r) != 0) {
            ws_finish(ws, 1);
            return;
        }
        if (ws_consume(ws) != 0)
            return;
    }
}

static void ws_poll_cb(uv_poll_t *p, int status, int events)
{
    http_ws *ws = p->data;
    if (status < 0) {
        ws_finish(ws, 1);
        return;
    }
    if (events & UV_READABLE)
        ws_read(ws);
    if (!ws->done && (events & UV_WRITABLE))
        ws_flush(ws);
}

http_ws *http_ws_open(uv_loop_t *loop, int fd, const char *extra, size_t extra_len,
                      http_upgrade *h, http_ws_closed_cb cb, void *arg)
{
    http_ws *ws = calloc(1, sizeof *ws);
    if (ws == NULL || uv_poll_init_socket(loop, &ws->poll, fd) != 0) {
        free(ws);
        http_upgrade_close(h);
        return NULL;
    }
    ws->poll.data = ws;
    ws->fd = fd;
    ws->upgrade = h;
    ws->cb = cb;
    ws->arg = arg;
    dbuf_init(&ws->in, WS_IN_MAX + 16);
    dbuf_init(&ws->out, WS_OUT_MAX + 64);
    if (extra_len > 0 && dbuf_add(&ws->in, extra, extra_len) == 0)
        ws_consume(ws);
    if (!ws->done)
        ws_update_events(ws);
    return ws;
}

int http_ws_send_text(http_ws *ws, const char *data, size_t n)
{
    return ws_queue(ws, HTTP_WS_TEXT, data, n);
}

size_t http_ws_pending(const http_ws *ws)
{
    return ws->out.len - ws->out_off;
}

void http_ws_close(http_ws *ws)
{
    if (ws->done)
        return;
    static const uint8_t normal[2] = {0x03, 0xe8};   /* 1000 */
    ws->cb = NULL;
    ws_queue(ws, HTTP_WS_CLOSE, normal, sizeof normal);
    ws->closing = 1;
    ws_flush(ws);
}
