/* A minimal Prometheus scrape endpoint on a libuv loop. */
#include "common/prom_http.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REQ_MAX 8192              /* request line and headers */
#define CONN_MAX 64               /* connections served at once */
#define CONN_TIMEOUT_MS 10000

/* ---------------------------------------------------------------- text */

void prom_text_init(prom_text *t)
{
    memset(t, 0, sizeof *t);
}

void prom_text_free(prom_text *t)
{
    free(t->data);
    prom_text_init(t);
}

void prom_text_printf(prom_text *t, const char *fmt, ...)
{
    if (t->failed)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        size_t room = t->cap - t->len;
        int n = vsnprintf(t->data ? t->data + t->len : NULL, t->data ? room : 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
            t->failed = 1;
            return;
        }
        if (t->data != NULL && (size_t)n < room) {
            t->len += (size_t)n;
            return;
        }
        size_t want = t->len + (size_t)n + 1;
        if (want > PROM_TEXT_MAX) {
            t->failed = 1;
            return;
        }
        size_t cap = t->cap ? t->cap : 4096;
        while (cap < want)
            cap *= 2;
        char *d = realloc(t->data, cap);
        if (d == NULL) {
            t->failed = 1;
            return;
        }
        t->data = d;
        t->cap = cap;
    }
}

void prom_text_gauge(prom_text *t, const char *name, const char *help)
{
    prom_text_printf(t, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
}

void prom_text_label(prom_text *t, const char *value)
{
    for (const char *p = value; *p != '\0'; p++) {
        if (*p == '\\' || *p == '"')
            prom_text_printf(t, "\\%c", *p);
        else if (*p == '\n')
            prom_text_printf(t, "\\n");
        else
            prom_text_printf(t, "%c", *p);
    }
}

/* ---------------------------------------------------------------- server */

struct prom_http {
    uv_tcp_t listener;
    prom_http_render_cb render;
    void *arg;
    int nconn;
    int closing;
    struct prom_conn *conns;
};

typedef struct prom_conn {
    uv_tcp_t tcp;
    uv_timer_t timer;
    prom_http *srv;
    char req[REQ_MAX + 1];
    size_t len;
    int answered;
    int handles_open;
    uv_write_t wr;
    char *out;
    struct prom_conn *prev, *next;
} prom_conn;

static void maybe_free_server(prom_http *s)
{
    if (s->closing && s->nconn == 0)
        free(s);
}

static void conn_handle_closed_cb(uv_handle_t *h)
{
    prom_conn *c = h->data;
    if (--c->handles_open > 0)
        return;
    prom_http *s = c->srv;
    if (c->prev) c->prev->next = c->next; else s->conns = c->next;
    if (c->next) c->next->prev = c->prev;
    s->nconn--;
    free(c->out);
    free(c);
    maybe_free_server(s);
}

static void conn_close(prom_conn *c)
{
    if (!uv_is_closing((uv_handle_t *)&c->tcp)) {
        uv_close((uv_handle_t *)&c->tcp, conn_handle_closed_cb);
        uv_close((uv_handle_t *)&c->timer, conn_handle_closed_cb);
    }
}

static void write_cb(uv_write_t *w, int status)
{
    (void)status;
    conn_close(w->data);
}

/* Queues STATUS with BODY (LEN bytes) and closes after it is written. */
static void respond(prom_conn *c, const char *status, const char *body, size_t len)
{
    char head[256];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %s\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
                     "Content-Length: %zu\r\nConnection: close\r\n\r\n", status, len);
    c->out = malloc((size_t)n + len);
    if (c->out == NULL) {
        conn_close(c);
        return;
    }
    memcpy(c->out, head, (size_t)n);
    memcpy(c->out + n, body, len);
    uv_buf_t b = uv_buf_init(c->out, (unsigned)((size_t)n + len));
    c->wr.data = c;
    c->answered = 1;
    uv_read_stop((uv_stream_t *)&c->tcp);
    if (uv_write(&c->wr, (uv_stream_t *)&c->tcp, &b, 1, write_cb) != 0)
        conn_close(c);
}

static void answer(prom_conn *c)
{
    int get = strncmp(c->req, "GET ", 4) == 0;
    const char *path = c->req + 4;
    size_t plen = strcspn(path, " ?\r\n");
    int known = (plen == 8 && strncmp(path, "/metrics", 8) == 0) || (plen == 1 && path[0] == '/');
    if (!get || !known) {
        static const char nf[] = "404: Not Found\n";
        respond(c, get ? "404 Not Found" : "405 Method Not Allowed", nf, sizeof nf - 1);
        return;
    }
    prom_text t;
    prom_text_init(&t);
    c->srv->render(c->srv->arg, &t);
    if (t.failed) {
        static const char oom[] = "metrics text too large or out of memory\n";
        respond(c, "500 Internal Server Error", oom, sizeof oom - 1);
    } else {
        respond(c, "200 OK", t.data ? t.data : "", t.len);
    }
    prom_text_free(&t);
}

static void alloc_cb(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    (void)hint;
    prom_conn *c = h->data;
    *buf = uv_buf_init(c->req + c->len, (unsigned)(REQ_MAX - c->len));
}

static void read_cb(uv_stream_t *st, ssize_t n, const uv_buf_t *buf)
{
    (void)buf;
    prom_conn *c = st->data;
    if (n < 0) {
        conn_close(c);
        return;
    }
    c->len += (size_t)n;
    c->req[c->len] = '\0';
    if (strstr(c->req, "\r\n\r\n") != NULL || strstr(c->req, "\n\n") != NULL) {
        answer(c);
    } else if (c->len >= REQ_MAX) {
        static const char big[] = "request header too large\n";
        respond(c, "431 Request Header Fields Too Large", big, sizeof big - 1);
    }
}

static void timeout_cb(uv_timer_t *t)
{
    conn_close(t->data);
}

static void connection_cb(uv_stream_t *l, int status)
{
    prom_http *s = l->data;
    if (status != 0 || s->closing)
        return;
    prom_conn *c = calloc(1, sizeof *c);
    if (c == NULL)
        return;
    c->srv = s;
    uv_tcp_init(l->loop, &c->tcp);
    uv_timer_init(l->loop, &c->timer);
    c->tcp.data = c->timer.data = c;
    c->handles_open = 2;
    c->next = s->conns;
    if (s->conns) s->conns->prev = c;
    s->conns = c;
    s->nconn++;
    if (uv_accept(l, (uv_stream_t *)&c->tcp) != 0 || s->nconn > CONN_MAX) {
        conn_close(c);
        return;
    }
    uv_timer_start(&c->timer, timeout_cb, CONN_TIMEOUT_MS, 0);
    uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, read_cb);
}

static void listener_closed_cb(uv_handle_t *h)
{
    prom_http *s = h->data;
    s->nconn--;   /* the listener counted as one */
    maybe_free_server(s);
}

int prom_http_start(uv_loop_t *loop, const char *host, int port, prom_http_render_cb render,
                    void *arg, prom_http **out, int *bound, char *err, size_t errlen)
{
    struct sockaddr_in addr;
    int rc = uv_ip4_addr(host, port, &addr);
    if (rc != 0) {
        snprintf(err, errlen, "bad metrics address %s: %s", host, uv_strerror(rc));
        return rc;
    }
    prom_http *s = calloc(1, sizeof *s);
    if (s == NULL) {
        snprintf(err, errlen, "out of memory");
        return UV_ENOMEM;
    }
    s->render = render;
    s->arg = arg;
    s->nconn = 1;
    uv_tcp_init(loop, &s->listener);
    s->listener.data = s;
    rc = uv_tcp_bind(&s->listener, (const struct sockaddr *)&addr, 0);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&s->listener, 64, connection_cb);
    if (rc != 0) {
        snprintf(err, errlen, "cannot listen for metrics on %s:%d: %s", host, port,
                 uv_strerror(rc));
        s->closing = 1;
        uv_close((uv_handle_t *)&s->listener, listener_closed_cb);
        return rc;
    }
    struct sockaddr_storage ss;
    int len = sizeof ss;
    uv_tcp_getsockname(&s->listener, (struct sockaddr *)&ss, &len);
    *bound = ntohs(((struct sockaddr_in *)&ss)->sin_port);
    *out = s;
    return 0;
}

void prom_http_close(prom_http *s)
{
    if (s == NULL || s->closing)
        return;
    s->closing = 1;
    for (prom_conn *c = s->conns; c != NULL; c = c->next)
        conn_close(c);
    uv_close((uv_handle_t *)&s->listener, listener_closed_cb);
}
