/* /api/v0/logs/stream (Ray's media_type=stream): follows one file of this
 * node's log dir -- its last lines, then what is written to it as it is
 * written -- woken by inotify (uv_fs_event), or by a timer every `interval`
 * seconds where the file cannot be watched.  Memory is bounded: the text is
 * read from the file straight into the HTTP chunk being sent.  Another
 * node's file goes to state_stream_agent.c. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "jobserver/http_stream.h"
#include "jobserver/state_int.h"

#define TAIL_SCAN_MAX (16 * 1024 * 1024)   /* bytes searched back for the last lines */
#define STREAMS_MAX 256                    /* open streams per process */
#define DEFAULT_INTERVAL_S 1.0

typedef struct follow {
    int fd;
    off_t pos;               /* next byte to send */
    int lead;                /* 1: each chunk starts with Ray's "1" */
    http_stream *hs;
    uv_fs_event_t *ev;       /* inotify on the file, or NULL */
    uv_timer_t *timer;       /* the fallback, or NULL */
    int handles;             /* handles still to be closed before free */
    char name[300];
} follow;

/* ---------------------------------------------------------------- the start */

/* The offset just after the LINES-th newline before the last line's end
 * (0: the whole file; LINES < 0: all, 0: none), searched back at most
 * TAIL_SCAN_MAX bytes. */
static off_t tail_start(int fd, off_t size, long lines)
{
    if (lines < 0)
        return size > TAIL_SCAN_MAX ? size - TAIL_SCAN_MAX : 0;
    if (lines == 0)
        return size;
    char buf[8192];
    long seen = 0;
    off_t end = size, floor = size > TAIL_SCAN_MAX ? size - TAIL_SCAN_MAX : 0;
    int skip_last = 1;       /* the file's final newline ends the last line */
    while (end > floor) {
        size_t n = (size_t)(end - floor < (off_t)sizeof buf ? end - floor : (off_t)sizeof buf);
        ssize_t got = pread(fd, buf, n, end - (off_t)n);
        if (got != (ssize_t)n)
            return floor;
        for (size_t i = n; i > 0; i--) {
            if (buf[i - 1] != '\n')
                continue;
            if (skip_last && end - (off_t)n + (off_t)i == size) {
                skip_last = 0;
                continue;
            }
            if (++seen == lines)
                return end - (off_t)n + (off_t)i;
        }
        skip_last = 0;
        end -= (off_t)n;
    }
    return floor;
}

/* ---------------------------------------------------------------- the stream */

static ssize_t fill(void *arg, char *buf, size_t max)
{
    follow *f = arg;
    struct stat st;
    if (fstat(f->fd, &st) == 0 && st.st_size < f->pos)
        f->pos = 0;          /* truncated: start over, as tail -f does */
    ssize_t n = pread(f->fd, buf + f->lead, max - (size_t)f->lead, f->pos);
    if (n <= 0)
        return 0;            /* EOF (or a read error): wait for the next change */
    f->pos += n;
    if (f->lead)
        buf[0] = '1';
    return n + f->lead;
}

static void handle_closed(uv_handle_t *h)
{
    follow *f = h->data;
    free(h);
    if (--f->handles == 0)
        free(f);
}

static void done(void *arg)
{
    follow *f = arg;
    log_info("state: the log stream of %s ended (%d open)", f->name, http_stream_count());
    close(f->fd);
    f->hs = NULL;
    if (f->ev != NULL) {
        f->handles++;
        uv_close((uv_handle_t *)f->ev, handle_closed);
    }
    if (f->timer != NULL) {
        f->handles++;
        uv_close((uv_handle_t *)f->timer, handle_closed);
    }
    if (--f->handles == 0)
        free(f);
}

static void changed_cb(uv_fs_event_t *ev, const char *name, int events, int status)
{
    follow *f = ev->data;
    (void)name;
    (void)events;
    (void)status;
    http_stream_wake(f->hs);
}

static void timer_cb(uv_timer_t *t)
{
    follow *f = t->data;
    http_stream_wake(f->hs);
}

/* Watches PATH with inotify, else every INTERVAL seconds.  0 or -errno. */
static int watch(jobs_server *srv, follow *f, const char *path, double interval)
{
    f->ev = malloc(sizeof *f->ev);
    if (f->ev != NULL && uv_fs_event_init(srv->loop, f->ev) == 0) {
        f->ev->data = f;
        if (uv_fs_event_start(f->ev, changed_cb, path, 0) == 0)
            return 0;
        f->handles++;
        uv_close((uv_handle_t *)f->ev, handle_closed);
    } else {
        free(f->ev);
    }
    f->ev = NULL;
    f->timer = malloc(sizeof *f->timer);
    if (f->timer == NULL)
        return -ENOMEM;
    uv_timer_init(srv->loop, f->timer);
    f->timer->data = f;
    uint64_t ms = (uint64_t)((interval > 0 ? interval : DEFAULT_INTERVAL_S) * 1000);
    uv_timer_start(f->timer, timer_cb, ms ? ms : 1, ms ? ms : 1);
    return 0;
}

static void stream_local(jobs_server *srv, http_request *r, const state_query *q,
                         const char *name)
{
    char path[PATH_MAX + 300], msg[400];
    if (name[0] == '\0' || name[0] == '.' || strchr(name, '/') != NULL) {
        state_respond_error(r, 400, "filename must name a file of the node's log directory");
        return;
    }
    if (fs_path_join(path, sizeof path, srv->logs_dir, name) != 0) {
        state_respond_error(r, 400, "filename is too long");
        return;
    }
    follow *f = calloc(1, sizeof *f);
    struct stat st;
    int fd = f ? open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW) : -1;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        if (fd >= 0)
            close(fd);
        free(f);
        snprintf(msg, sizeof msg, "Log file %.200s is not found on this node", name);
        state_respond_error(r, f ? 404 : 500, f ? msg : "Out of memory");
        return;
    }
    f->fd = fd;
    f->lead = strcmp(q->format, "text") != 0;
    f->pos = tail_start(fd, st.st_size, q->lines);
    str_copy(f->name, sizeof f->name, name);
    f->handles = 1;
    /* The watch starts before the first read: no write is missed. */
    if (watch(srv, f, path, q->interval) != 0 ||
        http_respond_stream(r, 200, "text/plain; charset=utf-8", fill, done, f, &f->hs) != 0) {
        done(f);
        state_respond_error(r, 500, "cannot start the log stream");
        return;
    }
    log_info("state: streaming log %s (%d open)", name, http_stream_count());
}

/* ---------------------------------------------------------------- entry point */

void state_logs_stream(jobs_server *srv, http_request *r, const state_query *cq)
{
    if (http_stream_count() >= STREAMS_MAX) {
        state_respond_error(r, 503, "Too many log streams are open on this node (at most 256)");
        return;
    }
    state_query q = *cq;
    char name[300];
    state_log_target t;
    if (state_logs_resolve(srv, r, &q, name, sizeof name, &t) != 0)
        return;
    if (t.local)
        stream_local(srv, r, &q, name);
    else
        state_stream_agent(srv, r, &t, name, &q);
}
