/* An HTTP server on a libuv loop: libmicrohttpd in epoll mode, its epoll fd
 * watched with uv_poll and its timeouts run by a uv_timer, so the whole
 * daemon stays one thread.  Knows nothing about jobs. */
#ifndef RAYC_JOBSERVER_HTTP_SERVER_H
#define RAYC_JOBSERVER_HTTP_SERVER_H

#include <stddef.h>
#include <uv.h>

typedef struct http_server http_server;
typedef struct http_request http_request;
typedef struct http_upgrade http_upgrade;

/* Called once a request's headers are in.  Return 0 to go on reading the
 * body (then the request callback runs), or non-zero after queueing a
 * response with http_respond*() (the body is then not read). */
typedef int (*http_headers_cb)(void *arg, http_request *req);

/* Called when the body is complete.  Must answer with http_respond*() before
 * returning; a request left unanswered gets a 500. */
typedef void (*http_request_cb)(void *arg, http_request *req);

typedef struct http_server_config {
    const char *host;       /* IPv4 address to listen on */
    int port;
    size_t max_body;        /* larger bodies get 413 naming this limit */
    http_headers_cb on_headers;
    http_request_cb on_request;
    void (*on_free)(http_request *req);   /* frees the user pointer; may be NULL */
    void *arg;
    /* HTTPS (libmicrohttpd over GnuTLS, TLS 1.2 or 1.3) with this PEM
     * certificate and key; NULL: plain HTTP.  Copied at start. */
    const char *tls_cert_pem, *tls_key_pem;
} http_server_config;

/* Binds and starts serving on LOOP.  On success *OUT is the server and 0 is
 * returned.  Errors: -EADDRINUSE (port taken), other -errno; ERR gets one
 * line.  The callbacks are never called when this fails. */
int http_server_start(uv_loop_t *loop, const http_server_config *cfg, http_server **out,
                      char *err, size_t errlen);

/* True when S serves HTTPS. */
int http_server_is_tls(const http_server *s);

/* Stops listening, closes every connection and frees S once its handles are
 * closed (the loop must run on).  NULL is fine. */
void http_server_close(http_server *s);

/* Asks the server to run libmicrohttpd soon (after work done outside its
 * callbacks, such as closing an upgraded socket). */
void http_server_kick(http_server *s);

/* ---------------------------------------------------------------- requests */

const char *http_request_method(const http_request *r);
const char *http_request_path(const http_request *r);

/* Header NAME (case-insensitive) or NULL. */
const char *http_request_header(const http_request *r, const char *name);

/* Calls CB for every query argument of R in order (a repeated key comes
 * once per value; a key without '=' has VALUE NULL). */
void http_request_args(const http_request *r, void (*cb)(void *arg, const char *key,
                                                         const char *value), void *arg);

/* Cookie NAME or NULL. */
const char *http_request_cookie(const http_request *r, const char *name);

/* The body read so far (NUL-terminated; "" when none). */
const char *http_request_body(const http_request *r, size_t *len);

/* From the headers callback: write the body to a new file at TMP_PATH instead
 * of memory.  The file is removed if the request fails or the body is too
 * large; on success the request callback owns it.  Returns 0 or -errno. */
int http_request_body_to_file(http_request *r, const char *tmp_path);

/* A pointer the application may keep on the request. */
void http_request_set_user(http_request *r, void *user);
void *http_request_user(const http_request *r);

/* Queues a response with a copy of BODY (LEN bytes) and CONTENT_TYPE.
 * Returns 0 or -EIO.  Only the first response of a request counts. */
int http_respond(http_request *r, int status, const char *content_type, const char *body,
                 size_t len);

/* Like http_respond but takes ownership of BODY (malloc'ed), even on error. */
int http_respond_take(http_request *r, int status, const char *content_type, char *body,
                      size_t len);

/* A one-line text/plain response. */
int http_respond_text(http_request *r, int status, const char *text);

/* From the headers callback: lowers R's body limit to MAX.  A body over it
 * is refused with 413 naming MAX, as one over the server's limit is. */
void http_request_limit_body(http_request *r, size_t max);

/* From the request callback: answer R later.  The callback returns without
 * a response and the connection waits (suspended in libmicrohttpd) until
 * http_respond*() is called on R from the loop; R stays valid until then
 * and may be freed at any time after.  Every deferred request must be
 * answered before http_server_close.  Returns 0, or -EALREADY when R was
 * already answered. */
int http_request_defer(http_request *r);

/* Adds a header to the response queued next (at most 4 per request). */
int http_request_add_response_header(http_request *r, const char *name, const char *value);

/* ---------------------------------------------------------------- upgrade */

/* Called with the raw socket after "101 Switching Protocols" went out.  EXTRA
 * holds bytes the client sent after its headers.  The socket belongs to the
 * application until http_upgrade_close(H). */
typedef void (*http_upgrade_cb)(void *arg, int fd, const char *extra, size_t extra_len,
                                http_upgrade *h);

/* Answers R with 101 and the WebSocket headers for ACCEPT_KEY.  CB runs once
 * the response is sent (never, when the connection fails first). */
int http_respond_websocket(http_request *r, const char *accept_key, http_upgrade_cb cb,
                           void *arg);

/* Closes an upgraded socket through libmicrohttpd. */
void http_upgrade_close(http_upgrade *h);

#endif
