/* A minimal Prometheus scrape endpoint on a libuv loop: answers
 * `GET /metrics` (and `GET /`) with text produced by a callback, everything
 * else with 404, then closes the connection.  No token: Prometheus scrapes
 * without one, as Ray's metrics agent does. */
#ifndef RAYC_COMMON_PROM_HTTP_H
#define RAYC_COMMON_PROM_HTTP_H

#include <stddef.h>
#include <uv.h>

/* ---------------------------------------------------------------- text */

/* A text buffer with a hard cap (PROM_TEXT_MAX); once an append would pass
 * it, the buffer is marked failed and further appends do nothing. */
#define PROM_TEXT_MAX (4u << 20)
typedef struct prom_text {
    char *data;
    size_t len, cap;
    int failed;
} prom_text;

void prom_text_init(prom_text *t);
void prom_text_free(prom_text *t);

/* printf-style append; on overflow or allocation failure marks T failed. */
void prom_text_printf(prom_text *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Appends a "# HELP"/"# TYPE gauge" header for NAME once per NAME (callers
 * emit each metric's samples together). */
void prom_text_gauge(prom_text *t, const char *name, const char *help);

/* Appends VALUE as a Prometheus label value: backslash, quote and newline
 * escaped. */
void prom_text_label(prom_text *t, const char *value);

/* ---------------------------------------------------------------- server */

typedef struct prom_http prom_http;

/* Fills T with the exposition text; called on the loop for each scrape. */
typedef void (*prom_http_render_cb)(void *arg, prom_text *t);

/* Listens on HOST:PORT (PORT 0: any free port) and serves scrapes with
 * RENDER.  On success *OUT is the server, *BOUND the port and 0 is returned;
 * otherwise a negative libuv error and ERR holds one line. */
int prom_http_start(uv_loop_t *loop, const char *host, int port, prom_http_render_cb render,
                     void *arg, prom_http **out, int *bound, char *err, size_t errlen);

/* Stops listening and closes every connection; the memory goes once the
 * handles are closed (the loop must run on).  NULL is fine. */
void prom_http_close(prom_http *s);

#endif
