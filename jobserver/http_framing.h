/* Request framing checks that libmicrohttpd leaves to the application
 * (RFC 9112 section 6): how long the body is must be unambiguous, and the
 * request target must not smuggle a NUL past the path router.
 *
 * Pure string work, no libmicrohttpd types: http_server.c feeds it every
 * header of a request and the raw request target. */
#ifndef RAYC_JOBSERVER_HTTP_FRAMING_H
#define RAYC_JOBSERVER_HTTP_FRAMING_H

#include <stdint.h>

typedef struct http_framing {
    int n_length;                /* Content-Length values seen */
    uint64_t length;             /* the first one */
    int n_coding;                /* transfer codings seen over all TE headers */
    const char *bad;             /* the first problem found, or NULL */
} http_framing;

/* Empties F. */
void http_framing_init(http_framing *f);

/* Takes one request header NAME: VALUE (NAME case-insensitive).  Only
 * Content-Length and Transfer-Encoding matter; both may be repeated and hold
 * comma-separated lists. */
void http_framing_add(http_framing *f, const char *name, const char *value);

/* NULL when the body length is unambiguous: no Content-Length and no
 * Transfer-Encoding, Content-Length values that all agree, or exactly
 * "Transfer-Encoding: chunked" alone.  Otherwise a one-line reason for a 400
 * after which the connection must be closed (static text). */
const char *http_framing_verdict(const http_framing *f);

/* NULL when the raw (still percent-encoded) request target TARGET is fine;
 * a one-line reason when it encodes a NUL byte (%00) anywhere. */
const char *http_framing_check_target(const char *target);

#endif
