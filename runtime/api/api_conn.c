/* The connection to the local raylet: sending, reading, waiting, requests.
 *
 * Nobody reads the socket in the background.  A thread that waits for
 * something (a task result, a reply, a task to run) takes the reader role
 * when it is free, reads once, dispatches what arrived under the mutex,
 * gives the role back and wakes the threads whose wait is over
 * (api_waiters.c); the others sleep meanwhile.  So a single-threaded driver
 * pays one recv per result and no thread hand-off. */
#include "api/api.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/rpc.h"
#include "common/util.h"

api_state api_g = {
    .mu = PTHREAD_MUTEX_INITIALIZER,
    .send_mu = PTHREAD_MUTEX_INITIALIZER,
    .fd = -1,
    .wake_fd = -1,
    .listen_fd = -1,
    .lease_fd = -1,
};

void api_conn_init(int fd)
{
    api_g.fd = fd;
    api_g.broken = 0;
    api_g.broken_why[0] = '\0';
    api_g.reading = 0;
    api_g.raylet_tasks = 0;
    frame_reader_init(&api_g.fr, API_MAX_FRAME);
    if (api_g.rbuf == NULL)
        api_g.rbuf = malloc(API_RBUF_SIZE);
}

int64_t api_deadline(double timeout_s)
{
    if (timeout_s < 0)
        return -1;
    return time_mono_ms() + (int64_t)(timeout_s * 1000.0 + 0.5);
}

/* Marks the connection broken (mu held) and wakes every waiter. */
static void mark_broken(const char *why)
{
    if (!api_g.broken) {
        api_g.broken = 1;
        snprintf(api_g.broken_why, sizeof api_g.broken_why, "%s", why);
    }
    api_notify();
}

/* ---------------------------------------------------------------- sending */

static int write_all(int fd, const uint8_t *p, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Packs and writes ENV.  Returns 0, -EMSGSIZE, -ENOMEM or -ECONNRESET. */
static int send_env(const Rayc__Envelope *env)
{
    uint8_t stack[4096];
    size_t n = rayc__envelope__get_packed_size(env);
    if (n > API_MAX_FRAME)
        return -EMSGSIZE;
    uint8_t *buf = n + FRAME_HEADER_SIZE <= sizeof stack ? stack : malloc(n + FRAME_HEADER_SIZE);
    if (buf == NULL)
        return -ENOMEM;
    frame_header_write(buf, (uint32_t)n);
    rayc__envelope__pack(env, buf + FRAME_HEADER_SIZE);
    pthread_mutex_lock(&api_g.send_mu);
    int rc = api_g.fd >= 0 ? write_all(api_g.fd, buf, n + FRAME_HEADER_SIZE) : -EPIPE;
    pthread_mutex_unlock(&api_g.send_mu);
    if (buf != stack)
        free(buf);
    return rc == 0 ? 0 : -ECONNRESET;
}

int api_send(const Rayc__Envelope *env)
{
    int rc = send_env(env);
    if (rc == -ECONNRESET) {
        pthread_mutex_lock(&api_g.mu);
        mark_broken("lost the connection to the raylet (send failed)");
        pthread_mutex_unlock(&api_g.mu);
    }
    return rc;
}

int api_send_mu(const Rayc__Envelope *env)
{
    int rc = send_env(env);
    if (rc == -ECONNRESET)
        mark_broken("lost the connection to the raylet (send failed)");
    return rc;
}

/* ---------------------------------------------------------------- dispatch */

static void store_reply(Rayc__Envelope *env)
{
    for (api_reply *r = api_g.replies; r != NULL; r = r->next) {
        if (r->id == env->request_id && r->env == NULL) {
            r->env = env;
            return;
        }
    }
    rayc__envelope__free_unpacked(env, NULL); /* its waiter gave up */
}

/* Handles one message from the raylet (mu held); takes ENV. */
static void dispatch(Rayc__Envelope *env)
{
    switch (env->body_case) {
    case RAYC__ENVELOPE__BODY_TASK_RESULT: {
        ids_task id;
        if (ids_from_bytes(id.b, IDS_TASK_LEN, env->task_result->task_id.data,
                           env->task_result->task_id.len) == 0)
            api_chan_raylet_result(&id);
        if (ids_is_nil(id.b + 8, 12) && api_g.raylet_tasks > 0)
            api_g.raylet_tasks--; /* a normal task */
        api_on_task_result(env->task_result);
        rayc__envelope__free_unpacked(env, NULL);
        break;
    }
    case RAYC__ENVELOPE__BODY_EXECUTE_TASK:
        api_worker_enqueue(env);
        break;
    case RAYC__ENVELOPE__BODY_LEASE_GRANTED:
        api_lease_on_granted(env->lease_granted);
        rayc__envelope__free_unpacked(env, NULL);
        break;
    case RAYC__ENVELOPE__BODY_CANCEL_TASK:
        if (ids_from_bytes(api_g.cancel_task.b, IDS_TASK_LEN, env->cancel_task->task_id.data,
                           env->cancel_task->task_id.len) == 0)
            api_g.cancel_set = 1;
        rayc__envelope__free_unpacked(env, NULL);
        break;
    case RAYC__ENVELOPE__BODY_WORKER_EXIT: {
        /* The raylet stops this worker: what it recorded goes first. */
        char why[200];
        snprintf(why, sizeof why, "the raylet stopped this worker: %s",
                 env->worker_exit->reason ? env->worker_exit->reason : "");
        rayc__envelope__free_unpacked(env, NULL);
        api_tev_flush();
        mark_broken(why);
        break;
    }
    case RAYC__ENVELOPE__BODY_WARNING:
        fprintf(stderr, "(raylet) %s\n", env->warning->message);
        rayc__envelope__free_unpacked(env, NULL);
        break;
    default:
        if (env->request_id != 0)
            store_reply(env);
        else
            rayc__envelope__free_unpacked(env, NULL);
        break;
    }
}

static int on_frame(const uint8_t *payload, size_t len, void *data)
{
    (void)data;
    Rayc__Envelope *env = rayc__envelope__unpack(NULL, len, payload);
    if (env == NULL)
        return -EPROTO;
    dispatch(env);
    return 0;
}

/* Feeds N received bytes (mu held). */
static void feed(size_t n)
{
    int rc = frame_reader_feed(&api_g.fr, api_g.rbuf, n, on_frame, NULL);
    if (rc != 0)
        mark_broken(rc == -EMSGSIZE ? "the raylet sent an oversized frame"
                                    : "the raylet sent a malformed frame");
}

/* Reads what the raylet sent (mu held).  Returns 0, or marks the
 * connection broken. */
static void read_raylet(void)
{
    ssize_t n = recv(api_g.fd, api_g.rbuf, API_RBUF_SIZE, MSG_DONTWAIT);
    if (n > 0)
        feed((size_t)n);
    else if (n == 0)
        mark_broken("the raylet closed the connection");
    else if (errno != EAGAIN && errno != EINTR)
        mark_broken("lost the connection to the raylet");
}

/* One round as the reader (mu held on entry and exit; released while
 * waiting): polls the raylet socket and the direct-call sockets, then
 * reads the ready ones.  Waiting happens in poll, not in a blocking recv:
 * a thread sleeping in recv on a Unix socket is woken each time the peer
 * consumes what we sent (the kernel's write-space wake-up does not filter
 * by event), which costs a context switch per message.  WAIT_MS < 0 waits
 * as long as needed. */
static void read_once(int wait_ms)
{
    static struct pollfd p[API_POLL_MAX];
    static api_chan *who[API_POLL_MAX];
    p[0] = (struct pollfd){.fd = api_g.fd, .events = POLLIN};
    who[0] = NULL;
    size_t n = 1 + api_chan_poll_fds(p + 1, who + 1, API_POLL_MAX - 1);
    api_g.reading = 1;
    pthread_mutex_unlock(&api_g.mu);
    int rc = poll(p, n, wait_ms);
    int err = rc < 0 ? errno : 0;
    pthread_mutex_lock(&api_g.mu);
    api_g.reading = 0;
    if (rc > 0 && p[0].revents != 0)
        read_raylet();
    for (size_t i = 1; rc > 0 && i < n && !api_g.broken; i++)
        if (p[i].revents != 0)
            api_chan_readable(&p[i], who[i]);
    if (rc < 0 && err != EINTR)
        mark_broken("poll failed");
    api_notify();
}

/* ---------------------------------------------------------------- waiting */

void api_pump(int wait_ms)
{
    if (!api_g.reading && !api_g.broken && api_g.fd >= 0)
        read_once(wait_ms);
    else
        api_waiter_sleep(NULL, NULL, 0, time_mono_ms() + wait_ms);
    api_waiter_handoff();
}

void api_poll_nowait(void)
{
    if (!api_g.reading && !api_g.broken && api_g.fd >= 0)
        read_once(0);
    api_waiter_handoff();
}

static int wait_until(int (*ready)(void *arg), void *arg, int exclusive, int64_t deadline_ms)
{
    for (;;) {
        if (ready(arg))
            return 0;
        if (api_g.broken || api_g.fd < 0)
            return -ECONNRESET;
        int wait = -1;
        if (deadline_ms >= 0) {
            int64_t left = deadline_ms - time_mono_ms();
            if (left <= 0)
                return -ETIMEDOUT;
            wait = left > 1000000 ? 1000000 : (int)left;
        }
        if (!api_g.reading)
            read_once(wait);
        else
            api_waiter_sleep(ready, arg, exclusive, deadline_ms);
    }
}

int api_wait(int (*ready)(void *arg), void *arg, int64_t deadline_ms)
{
    int rc = wait_until(ready, arg, 0, deadline_ms);
    api_waiter_handoff(); /* the reader role may be free now */
    return rc;
}

int api_wait_task(int (*ready)(void *arg), void *arg, int64_t deadline_ms)
{
    int rc = wait_until(ready, arg, 1, deadline_ms);
    api_waiter_handoff();
    return rc;
}

int api_conn_fail(int rc, const char *what)
{
    if (rc == -ETIMEDOUT)
        return api_fail(RAY_ERR_TIMEOUT, "%s: timed out", what);
    if (rc == -EMSGSIZE)
        return api_fail(RAY_ERR_INVALID, "%s: the message is over the %u-byte frame cap", what,
                        API_MAX_FRAME);
    if (rc == -ENOMEM)
        return api_fail(RAY_ERR_NOMEM, "%s: out of memory", what);
    return api_fail(RAY_ERR_CONNECTION, "%s: %s", what,
                    api_g.broken_why[0] ? api_g.broken_why : "not connected to the raylet");
}

/* ---------------------------------------------------------------- requests */

static int reply_ready(void *arg)
{
    return ((api_reply *)arg)->env != NULL;
}

static void unlink_reply(api_reply *slot)
{
    for (api_reply **p = &api_g.replies; *p != NULL; p = &(*p)->next) {
        if (*p == slot) {
            *p = slot->next;
            return;
        }
    }
}

int api_request(Rayc__Envelope *req, int timeout_ms, Rayc__Envelope **reply)
{
    api_reply slot = {0};
    pthread_mutex_lock(&api_g.mu);
    if (api_g.broken || api_g.fd < 0) {
        pthread_mutex_unlock(&api_g.mu);
        return -ECONNRESET;
    }
    slot.id = ++api_g.next_request;
    slot.next = api_g.replies;
    api_g.replies = &slot;
    pthread_mutex_unlock(&api_g.mu);
    req->request_id = slot.id;
    int rc = api_send(req);
    pthread_mutex_lock(&api_g.mu);
    if (rc == 0)
        rc = api_wait(reply_ready, &slot,
                      timeout_ms < 0 ? -1 : time_mono_ms() + timeout_ms);
    unlink_reply(&slot);
    pthread_mutex_unlock(&api_g.mu);
    if (rc == 0) {
        *reply = slot.env;
    } else if (slot.env != NULL) {
        rayc__envelope__free_unpacked(slot.env, NULL);
    }
    return rc;
}

/* ---------------------------------------------------------------- closing */

void api_conn_close(void)
{
    api_ostate_stop();
    pthread_mutex_lock(&api_g.mu);
    int fd = api_g.fd;
    if (fd >= 0)
        shutdown(fd, SHUT_RDWR); /* wakes a reader blocked in recv */
    mark_broken("ray_shutdown was called");
    while (api_g.reading)
        api_waiter_sleep(NULL, NULL, 0, -1);
    pthread_mutex_lock(&api_g.send_mu);
    api_g.fd = -1;
    pthread_mutex_unlock(&api_g.send_mu);
    if (fd >= 0)
        close(fd);
    frame_reader_free(&api_g.fr);
    free(api_g.rbuf);
    api_g.rbuf = NULL;
    api_chan_close_all();
    while (api_g.exec_head != NULL) {
        api_exec_item *it = api_g.exec_head;
        api_g.exec_head = it->next;
        rayc__envelope__free_unpacked(it->env, NULL);
        free(it);
    }
    api_g.exec_tail = NULL;
    api_g.exec_len = 0;
    pthread_mutex_unlock(&api_g.mu);
}
