/* WebSocket (RFC 6455): the frame codec shared by the server and the CLI, and
 * a server-side connection on the libuv loop that only sends. */
#ifndef RAYC_JOBSERVER_HTTP_WS_H
#define RAYC_JOBSERVER_HTTP_WS_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "jobserver/http_server.h"

enum {
    HTTP_WS_CONT = 0x0,
    HTTP_WS_TEXT = 0x1,
    HTTP_WS_BINARY = 0x2,
    HTTP_WS_CLOSE = 0x8,
    HTTP_WS_PING = 0x9,
    HTTP_WS_PONG = 0xa,
};

#define HTTP_WS_ACCEPT_LEN 28   /* base64 of a SHA-1 digest */

typedef struct http_ws_frame {
    int fin;
    int opcode;
    int masked;
    uint8_t mask[4];
    size_t header_len;
    uint64_t payload_len;
} http_ws_frame;

/* Computes Sec-WebSocket-Accept for the client's KEY into OUT (at least
 * HTTP_WS_ACCEPT_LEN + 1 bytes).  Returns 0 or -EINVAL for an empty key. */
int http_ws_accept_key(const char *key, char *out, size_t outlen);

/* Writes a frame header for a payload of LEN bytes into OUT (14 bytes room);
 * MASK (4 bytes) is used by clients, NULL by servers.  Returns its length. */
size_t http_ws_header(uint8_t *out, int opcode, uint64_t len, const uint8_t *mask);

/* Decodes the frame at the start of BUF (N bytes).  Returns the full frame
 * length when it is complete, 0 when more bytes are needed, -EMSGSIZE when
 * its payload is over MAX_PAYLOAD, -EPROTO for a malformed header. */
long http_ws_parse(const uint8_t *buf, size_t n, uint64_t max_payload, http_ws_frame *f);

/* XORs DATA (N bytes) with MASK, starting at payload offset 0. */
void http_ws_unmask(uint8_t *data, size_t n, const uint8_t *mask);

/* ---------------------------------------------------------------- server connection */

typedef struct http_ws http_ws;

/* Called when the peer closes the connection or it fails.  WS is released
 * right after the callback returns. */
typedef void (*http_ws_closed_cb)(void *arg, http_ws *ws);

/* Takes over the upgraded socket FD (see http_upgrade_cb).  Returns the
 * connection or NULL when out of memory (the socket is then closed). */
http_ws *http_ws_open(uv_loop_t *loop, int fd, const char *extra, size_t extra_len,
                      http_upgrade *h, http_ws_closed_cb cb, void *arg);

/* Queues a text frame.  Returns 0, -ENOBUFS when the send queue is full
 * (nothing queued) or -EPIPE after the connection ended. */
int http_ws_send_text(http_ws *ws, const char *data, size_t n);

/* Bytes queued but not yet sent. */
size_t http_ws_pending(const http_ws *ws);

/* Sends a normal close (1000) after the queued data, then releases WS.  No
 * callback runs afterwards. */
void http_ws_close(http_ws *ws);

#endif
