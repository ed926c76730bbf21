/* /api/v0/logs/stream for a file of another node: the node's job agent
 * streams it (format=text) and this server relays each piece as one chunk
 * of Ray's framing ("1" + text), with libcurl's multi interface on the
 * loop (uv_poll per socket, a uv_timer for its timeouts).  At most
 * RELAY_BUF bytes wait here: when the client reads slower than the agent
 * writes, the transfer is paused.  When the agent fails or ends the stream
 * the client gets Ray's "0" + message chunk; when the client goes away the
 * transfer is dropped. */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "jobserver/http_stream.h"
#include "jobserver/jobs_agent_http.h"
#include "jobserver/state_int.h"

#define RELAY_BUF (64 * 1024)
#define RELAY_SOCKETS 4
#define CONNECT_TIMEOUT_S 2L

typedef struct relay relay;

typedef struct sockpoll {
    uv_poll_t poll;
    curl_socket_t fd;
    relay *r;
} sockpoll;

struct relay {
    jobs_server *srv;
    http_stream *hs;
    CURLM *multi;
    CURL *easy;
    struct curl_slist *hl;
    uv_timer_t timer;
    sockpoll *socks[RELAY_SOCKETS];
    int handles;             /* the owner's hold + open uv handles */
    int paused, finished, err_sent;
    size_t len;
    char err[512];
    char node_id[128];
    char buf[RELAY_BUF];
};

static void release(relay *r)
{
    if (--r->handles == 0)
        free(r);
}

/* The relay's timer closed (its data is the relay). */
static void timer_closed(uv_handle_t *h)
{
    release(h->data);
}

/* A socket's poll closed: its data is the sockpoll, freed here. */
static void sock_closed(uv_handle_t *h)
{
    sockpoll *sp = h->data;
    relay *r = sp->r;
    free(sp);
    release(r);
}

/* ---------------------------------------------------------------- libcurl on the loop */

static void set_error(relay *r, const char *what)
{
    if (r->err[0] == '\0')
        snprintf(r->err, sizeof r->err, "Closing HTTP stream due to internal server error.\n"
                 "The job agent of node %.100s: %.300s", r->node_id, what);
}

static void check_done(relay *r)
{
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(r->multi, &left)) != NULL) {
        if (m->msg != CURLMSG_DONE)
            continue;
        r->finished = 1;
        if (m->data.result != CURLE_OK)
            set_error(r, curl_easy_strerror(m->data.result));
        http_stream_wake(r->hs);
    }
}

static void poll_cb(uv_poll_t *p, int status, int events)
{
    sockpoll *sp = p->data;
    relay *r = sp->r;
    int flags = (events & UV_READABLE ? CURL_CSELECT_IN : 0) |
                (events & UV_WRITABLE ? CURL_CSELECT_OUT : 0) | (status < 0 ? CURL_CSELECT_ERR : 0);
    int running;
    curl_multi_socket_action(r->multi, sp->fd, flags, &running);
    check_done(r);
}

static void timer_cb(uv_timer_t *t)
{
    relay *r = t->data;
    int running;
    curl_multi_socket_action(r->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    check_done(r);
}

static int timer_fn(CURLM *m, long ms, void *arg)
{
    relay *r = arg;
    (void)m;
    if (ms < 0)
        uv_timer_stop(&r->timer);
    else
        uv_timer_start(&r->timer, timer_cb, (uint64_t)ms, 0);
    return 0;
}

static void sock_close(relay *r, sockpoll *sp)
{
    for (int i = 0; i < RELAY_SOCKETS; i++)
        if (r->socks[i] == sp)
            r->socks[i] = NULL;
    uv_poll_stop(&sp->poll);
    uv_close((uv_handle_t *)&sp->poll, sock_closed);
}

static sockpoll *sock_open(relay *r, curl_socket_t fd)
{
    int slot = -1;
    for (int i = 0; i < RELAY_SOCKETS && slot < 0; i++)
        if (r->socks[i] == NULL)
            slot = i;
    sockpoll *sp = slot >= 0 ? calloc(1, sizeof *sp) : NULL;
    if (sp == NULL || uv_poll_init_socket(r->srv->loop, &sp->poll, fd) != 0) {
        free(sp);
        return NULL;
    }
    sp->fd = fd;
    sp->r = r;
    sp->poll.data = sp;
    r->handles++;
    r->socks[slot] = sp;
    curl_multi_assign(r->multi, fd, sp);
    return sp;
}

static int socket_fn(CURL *e, curl_socket_t fd, int what, void *arg, void *sockp)
{
    relay *r = arg;
    sockpoll *sp = sockp;
    (void)e;
    if (what == CURL_POLL_REMOVE) {
        if (sp != NULL)
            sock_close(r, sp);
        curl_multi_assign(r->multi, fd, NULL);
        return 0;
    }
    if (sp == NULL && (sp = sock_open(r, fd)) == NULL)
        return -1;
    int ev = (what & CURL_POLL_IN ? UV_READABLE : 0) | (what & CURL_POLL_OUT ? UV_WRITABLE : 0);
    uv_poll_start(&sp->poll, ev, poll_cb);
    return 0;
}

/* What the agent sends: the text, or (not 200) its error answer. */
static size_t write_cb(char *data, size_t size, size_t nmemb, void *arg)
{
    relay *r = arg;
    size_t n = size * nmemb;
    long status = 0;
    curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
    if (status != 200) {
        char what[400];
        snprintf(what, sizeof what, "status %ld: %.*s", status, (int)(n < 300 ? n : 300), data);
        set_error(r, what);
        return n;
    }
    if (n > RELAY_BUF - r->len) {
        r->paused = 1;
        return CURL_WRITEFUNC_PAUSE;
    }
    memcpy(r->buf + r->len, data, n);
    r->len += n;
    http_stream_wake(r->hs);
    return n;
}

/* ---------------------------------------------------------------- the stream */

static ssize_t fill(void *arg, char *buf, size_t max)
{
    relay *r = arg;
    if (r->len > 0) {
        size_t n = r->len < max - 1 ? r->len : max - 1;
        buf[0] = '1';
        memcpy(buf + 1, r->buf, n);
        memmove(r->buf, r->buf + n, r->len - n);
        r->len -= n;
        if (r->paused) {
            r->paused = 0;
            curl_easy_pause(r->easy, CURLPAUSE_CONT);
        }
        return (ssize_t)n + 1;
    }
    if (!r->finished && r->err[0] == '\0')
        return 0;
    if (r->err_sent)
        return -1;
    /* Ray's framing of a failed stream: "0" and the message. */
    r->err_sent = 1;
    if (r->err[0] == '\0')
        set_error(r, "the stream ended");
    int n = snprintf(buf, max, "0%s", r->err);
    return n < 0 ? -1 : (ssize_t)((size_t)n < max ? (size_t)n : max - 1);
}

static void done(void *arg)
{
    relay *r = arg;
    log_info("state: the relayed log stream from node %s ended", r->node_id);
    r->hs = NULL;
    if (r->easy != NULL) {
        curl_multi_remove_handle(r->multi, r->easy);
        curl_easy_cleanup(r->easy);
    }
    if (r->multi != NULL)
        curl_multi_cleanup(r->multi);
    curl_slist_free_all(r->hl);
    for (int i = 0; i < RELAY_SOCKETS; i++)
        if (r->socks[i] != NULL)
            sock_close(r, r->socks[i]);
    uv_close((uv_handle_t *)&r->timer, timer_closed);
    release(r);
}

static int start(relay *r, const state_log_target *t, const char *name, const state_query *q)
{
    char url[2048], auth[TOKEN_MAX + 32], num[32];
    snprintf(url, sizeof url, "%s/api/v0/logs/stream", t->url_base);
    jobs_url_add_query(url, sizeof url, "node_id", t->node_id);
    jobs_url_add_query(url, sizeof url, "filename", name);
    snprintf(num, sizeof num, "%ld", q->lines);
    jobs_url_add_query(url, sizeof url, "lines", num);
    jobs_url_add_query(url, sizeof url, "format", "text");
    if (q->interval > 0) {
        snprintf(num, sizeof num, "%g", q->interval);
        jobs_url_add_query(url, sizeof url, "interval", num);
    }
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", r->srv->token);
    r->hl = curl_slist_append(NULL, auth);
    r->multi = curl_multi_init();
    r->easy = curl_easy_init();
    if (r->hl == NULL || r->multi == NULL || r->easy == NULL)
        return -1;
    curl_multi_setopt(r->multi, CURLMOPT_SOCKETFUNCTION, socket_fn);
    curl_multi_setopt(r->multi, CURLMOPT_SOCKETDATA, r);
    curl_multi_setopt(r->multi, CURLMOPT_TIMERFUNCTION, timer_fn);
    curl_multi_setopt(r->multi, CURLMOPT_TIMERDATA, r);
    curl_easy_setopt(r->easy, CURLOPT_URL, url);
    jobs_agent_curl_setup(r->easy);
    curl_easy_setopt(r->easy, CURLOPT_HTTPHEADER, r->hl);
    curl_easy_setopt(r->easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(r->easy, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT_S);
    curl_easy_setopt(r->easy, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(r->easy, CURLOPT_TCP_KEEPIDLE, 30L);
    curl_easy_setopt(r->easy, CURLOPT_TCP_KEEPINTVL, 10L);
    curl_easy_setopt(r->easy, CURLOPT_WRITEFUNCTION, write_cb);
    curl_easy_setopt(r->easy, CURLOPT_WRITEDATA, r);
    return curl_multi_add_handle(r->multi, r->easy) == CURLM_OK ? 0 : -1;
}

void state_stream_agent(jobs_server *srv, http_request *req, const state_log_target *t,
                        const char *name, const state_query *q)
{
    relay *r = calloc(1, sizeof *r);
    if (r == NULL) {
        state_respond_error(req, 500, "Out of memory");
        return;
    }
    r->srv = srv;
    r->handles = 2;          /* the owner's hold and the timer */
    str_copy(r->node_id, sizeof r->node_id, t->node_id);
    uv_timer_init(srv->loop, &r->timer);
    r->timer.data = r;
    if (start(r, t, name, q) != 0 ||
        http_respond_stream(req, 200, "text/plain; charset=utf-8", fill, done, r, &r->hs) != 0) {
        done(r);
        state_respond_error(req, 500, "cannot start the log stream");
        return;
    }
    log_info("state: relaying log %s from node %s", name, t->node_id);
}
