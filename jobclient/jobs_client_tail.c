/* `ray job logs -f` and `ray job submit`: following a job's log over the
 * server's WebSocket (plain TCP), or by polling /logs behind https. */
#include <errno.h>
#include <jansson.h>
#include <netdb.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/dbuf.h"
#include "common/util.h"
#include "jobclient/jobs_client.h"
#include "jobserver/http_ws.h"

#define TAIL_HEADER_MAX 16384
#define TAIL_FRAME_MAX (32u << 20)
#define CONNECT_TIMEOUT_MS 10000
#define POLL_INTERVAL_US 1000000

typedef void (*tail_cb)(void *arg, const char *text, size_t n);

/* ---------------------------------------------------------------- socket helpers */

static int connect_host(const char *host, int port, int *out)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res, *ai;
    char ports[16];
    snprintf(ports, sizeof ports, "%d", port);
    if (getaddrinfo(host, ports, &hints, &res) != 0)
        return -EHOSTUNREACH;
    int rc = -ECONNREFUSED;
    for (ai = res; ai != NULL && rc != 0; ai = ai->ai_next) {
        int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0)
            continue;
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
            *out = fd;
            rc = 0;
        } else {
            close(fd);
        }
    }
    freeaddrinfo(res);
    return rc;
}

static int send_all(int fd, const void *data, size_t n)
{
    const char *p = data;
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -EPIPE;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Reads more bytes into B; returns 0, or -EPIPE at EOF / error. */
static int recv_more(int fd, dbuf *b)
{
    char buf[65536];
    for (;;) {
        ssize_t r = recv(fd, buf, sizeof buf, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -EPIPE;
        return dbuf_add(b, buf, (size_t)r) == 0 ? 0 : -EMSGSIZE;
    }
}

/* ---------------------------------------------------------------- handshake */

static int send_handshake(jobs_client *c, int fd, const char *id, char *key, size_t keylen)
{
    unsigned char raw[16];
    RAND_bytes(raw, sizeof raw);
    EVP_EncodeBlock((unsigned char *)key, raw, sizeof raw);
    dbuf req;
    dbuf_init(&req, 1 << 20);
    dbuf_printf(&req, "GET %s/api/jobs/%s/logs/tail HTTP/1.1\r\nHost: %s:%d\r\n"
                          "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                          "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n"
                          "User-Agent: rayc-job-cli\r\n",
                    c->prefix, id, c->host, c->port, key);
    for (size_t i = 0; i < c->nheaders; i++)
        dbuf_printf(&req, "%s\r\n", c->headers[i]);
    int rc = dbuf_puts(&req, "\r\n");
    if (rc == 0)
        rc = send_all(fd, req.data, req.len);
    dbuf_free(&req);
    return rc;
}

/* Reads the answer headers; leaves any following bytes in IN.  A refusal
 * (not 101) is turned into Ray's error line in ERR. */
static int read_handshake(int fd, dbuf *in, const char *key, char *err, size_t errlen)
{
    char *end;
    while ((end = in->data ? strstr(in->data, "\r\n\r\n") : NULL) == NULL)
        if (recv_more(fd, in) != 0) {
            snprintf(err, errlen, "the job server closed the log stream during the handshake");
            return -EPIPE;
        }
    size_t hlen = (size_t)(end - in->data) + 4;
    long status = strtol(in->data + strcspn(in->data, " "), NULL, 10);
    if (status != 101) {
        /* Read the short body that holds the reason. */
        const char *cl = strcasestr(in->data, "\r\nContent-Length:");
        size_t want = cl ? (size_t)strtoul(cl + 17, NULL, 10) : 0;
        if (want > 4096)
            want = 4096;
        while (in->len < hlen + want && recv_more(fd, in) == 0)
            ;
        in->data[in->len < hlen + want ? in->len : hlen + want] = '\0';
        jobs_client_http_error(status, in->data + hlen, err, errlen);
        return -EIO;
    }
    char accept[HTTP_WS_ACCEPT_LEN + 1];
    http_ws_accept_key(key, accept, sizeof accept);
    if (strcasestr(in->data, accept) == NULL) {
        snprintf(err, errlen, "the job server sent a bad WebSocket handshake");
        return -EPROTO;
    }
    memmove(in->data, in->data + hlen, in->len - hlen);
    in->len -= hlen;
    return 0;
}

/* ---------------------------------------------------------------- frames */

static int send_control(int fd, int opcode, const uint8_t *payload, size_t n)
{
    uint8_t frame[14 + 125], mask[4];
    RAND_bytes(mask, sizeof mask);
    size_t hl = http_ws_header(frame, opcode, n, mask);
    memcpy(frame + hl, payload, n);
    http_ws_unmask(frame + hl, n, mask);
    return send_all(fd, frame, hl + n);
}

/* Handles frames until the server closes.  Returns 0 on a normal end. */
static int read_frames(int fd, dbuf *in, tail_cb cb, void *arg, char *err, size_t errlen)
{
    for (;;) {
        http_ws_frame f;
        long n;
        while ((n = http_ws_parse((uint8_t *)in->data, in->len, TAIL_FRAME_MAX, &f)) == 0)
            if (recv_more(fd, in) != 0)
                return 0;   /* the server went away: the status check tells how it ended */
        if (n < 0) {
            snprintf(err, errlen, "bad WebSocket frame from the job server");
            return -EPROTO;
        }
        uint8_t *payload = (uint8_t *)in->data + f.header_len;
        if (f.masked)
            http_ws_unmask(payload, (size_t)f.payload_len, f.mask);
        if (f.opcode == HTTP_WS_TEXT || f.opcode == HTTP_WS_CONT || f.opcode == HTTP_WS_BINARY)
            cb(arg, (const char *)payload, (size_t)f.payload_len);
        else if (f.opcode == HTTP_WS_PING)
            send_control(fd, HTTP_WS_PONG, payload, (size_t)f.payload_len);
        else if (f.opcode == HTTP_WS_CLOSE) {
            send_control(fd, HTTP_WS_CLOSE, payload, f.payload_len >= 2 ? 2 : 0);
            return 0;
        }
        memmove(in->data, in->data + n, in->len - (size_t)n);
        in->len -= (size_t)n;
    }
}

static int tail_ws(jobs_client *c, const char *id, tail_cb cb, void *arg, char *err,
                   size_t errlen)
{
    int fd;
    if (connect_host(c->host, c->port, &fd) != 0) {
        snprintf(err, errlen, "Failed to connect to Ray at address: %s.", c->base);
        return -ECONNREFUSED;
    }
    char key[32];
    dbuf in;
    dbuf_init(&in, TAIL_FRAME_MAX + 64);
    int rc = send_handshake(c, fd, id, key, sizeof key);
    if (rc == 0)
        rc = read_handshake(fd, &in, key, err, errlen);
    else
        snprintf(err, errlen, "cannot send to the job server");
    if (rc == 0)
        rc = read_frames(fd, &in, cb, arg, err, errlen);
    dbuf_free(&in);
    close(fd);
    return rc;
}

/* ---------------------------------------------------------------- polling (https) */

/* Fetches /logs and /status of ID: the log text and whether the job ended. */
static int poll_once(jobs_client *c, const char *id, char **logs, int *ended, char *err,
                     size_t errlen)
{
    char path[512], *body;
    size_t n;
    long status;
    snprintf(path, sizeof path, "/api/jobs/%s", id);
    int rc = jobs_client_request(c, "GET", path, NULL, 0, NULL, &status, &body, &n, err, errlen);
    if (rc != 0)
        return rc;
    json_t *j = status == 200 ? json_loadb(body, n, 0, NULL) : NULL;
    const char *st = json_string_value(json_object_get(j, "status"));
    *ended = st == NULL || (strcmp(st, "PENDING") != 0 && strcmp(st, "RUNNING") != 0);
    json_decref(j);
    free(body);
    snprintf(path, sizeof path, "/api/jobs/%s/logs", id);
    rc = jobs_client_request(c, "GET", path, NULL, 0, NULL, &status, &body, &n, err, errlen);
    if (rc != 0)
        return rc;
    j = status == 200 ? json_loadb(body, n, 0, NULL) : NULL;
    const char *text = json_string_value(json_object_get(j, "logs"));
    *logs = strdup(text ? text : "");
    json_decref(j);
    free(body);
    return 0;
}

static int tail_poll(jobs_client *c, const char *id, tail_cb cb, void *arg, char *err,
                     size_t errlen)
{
    size_t shown = 0;
    for (;;) {
        char *logs;
        int ended, rc = poll_once(c, id, &logs, &ended, err, errlen);
        if (rc != 0)
            return rc;
        size_t n = strlen(logs);
        if (n > shown)
            cb(arg, logs + shown, n - shown);
        shown = n > shown ? n : shown;
        free(logs);
        if (ended)
            return 0;
        usleep(POLL_INTERVAL_US);
    }
}

int jobs_client_tail(jobs_client *c, const char *id, tail_cb cb, void *arg, char *err,
                     size_t errlen)
{
    return c->tls ? tail_poll(c, id, cb, arg, err, errlen) : tail_ws(c, id, cb, arg, err, errlen);
}
