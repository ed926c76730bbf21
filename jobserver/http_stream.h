/* Streamed responses: a body produced over time (chunked), the connection
 * suspended while nothing is ready and woken by the application, and ended
 * when the body is complete, the client goes away or the server closes. */
#ifndef RAYC_JOBSERVER_HTTP_STREAM_H
#define RAYC_JOBSERVER_HTTP_STREAM_H

#include <sys/types.h>

#include "jobserver/http_server.h"

typedef struct http_stream http_stream;

/* Fills BUF (at most MAX bytes; each call that returns data becomes one
 * HTTP chunk).  Returns the byte count, 0 when nothing is ready (the
 * connection then waits, without polling, for http_stream_wake), or -1 when
 * the body is complete. */
typedef ssize_t (*http_stream_fill_cb)(void *arg, char *buf, size_t max);

/* Called exactly once when the stream ends, for whatever reason (body
 * complete, client gone, server closing); ARG may be freed then.  The
 * stream handle is invalid from then on. */
typedef void (*http_stream_done_cb)(void *arg);

/* Answers R with STATUS, CONTENT_TYPE and a body of unknown length read
 * through FILL.  On success *OUT (may be NULL) is the stream and 0 is
 * returned; on failure (-EALREADY, -ENOMEM, -EIO) DONE is never called and
 * the caller still owns ARG. */
int http_respond_stream(http_request *r, int status, const char *content_type,
                        http_stream_fill_cb fill, http_stream_done_cb done, void *arg,
                        http_stream **out);

/* Tells S that its fill callback has something again (or should end).
 * Cheap when S is not waiting. */
void http_stream_wake(http_stream *s);

/* The number of streams open in this process. */
int http_stream_count(void);

/* ---------------------------------------------------------------- internal */

/* Resumes every waiting stream of SRV so that libmicrohttpd can stop
 * (http_server_close). */
void http__streams_close(http_server *srv);

struct MHD_Connection;
struct MHD_Response;
struct MHD_Connection *http__request_conn(http_request *r);
http_server *http__request_server(http_request *r);
uv_loop_t *http__server_loop(http_server *s);
/* Queues RESP (consumed) for R with the request's extra headers. */
int http__request_queue(http_request *r, int status, const char *content_type,
                        struct MHD_Response *resp);

#endif
