/* Direct actor calls: a caller sends an actor's calls straight to the
 * actor's worker and gets the results back on the same connection, two
 * hops instead of four through the raylet.
 *
 * An actor's worker listens on <node sockets dir>/actor-<actor id> once its
 * constructor succeeded.  A caller connects on its first call (Hello with
 * the cluster token) and uses the connection for every call whose
 * arguments are all inline; any other call goes through the raylet, and the
 * two paths never overlap for one actor in one process (a raylet call
 * waits until the direct calls before it are answered, and direct calls
 * wait until the raylet calls are), which keeps calls in submission order.
 * When the connection breaks (the worker died), the calls in flight are
 * sent to the raylet marked "lost", and the raylet applies the actor's
 * restart and max_task_retries rules to them.  Large return values are
 * store objects the worker created; the caller adopts them (AdoptObjects).
 *
 * RAY_DIRECT_CALLS=0 turns the direct paths (these and leases) off. */
#include "api/api.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/rpc.h"
#include "common/token.h"
#include "common/uds.h"
#include "common/util.h"

#include "api/api_chan_int.h"

size_t api_chan__n_out, api_chan__n_in;
#define n_out api_chan__n_out
#define n_in api_chan__n_in

/* ---------------------------------------------------------------- setup */

void api_chan_init(const char *token)
{
    const char *env = getenv("RAY_DIRECT_CALLS");
    const char *old = getenv("RAY_DIRECT_ACTOR_CALLS"); /* its first name */
    api_g.direct = (env == NULL || strcmp(env, "0") != 0) && (old == NULL || strcmp(old, "0") != 0);
    str_copy(api_g.token, sizeof api_g.token, token);
    if (api_g.wake_fd < 0)
        api_g.wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
}

void api_wake_reader(void)
{
    uint64_t one = 1;
    if (api_g.reading && api_g.wake_fd >= 0 && write(api_g.wake_fd, &one, sizeof one) < 0)
        return; /* the counter is full: a wake-up is pending anyway */
}

static void free_calls(api_chan *ch)
{
    while (ch->calls != NULL) {
        api_call *c = ch->calls;
        ch->calls = c->next;
        free(c->frame);
        free(c);
    }
    ch->calls_tail = NULL;
    ch->ncalls = 0;
}

static void unlink_chan(api_chan *ch)
{
    for (api_chan **p = &api_g.chans; *p != NULL; p = &(*p)->next) {
        if (*p == ch) {
            *p = ch->next;
            return;
        }
    }
}

void api_chan__free(api_chan *ch)
{
    unlink_chan(ch);
    if (ch->fd >= 0)
        close(ch->fd);
    frame_reader_free(&ch->fr);
    free_calls(ch);
    free(ch->via);
    free(ch->path);
    for (size_t i = 0; i < ch->nshape; i++) {
        free(ch->shape[i]->name);
        free(ch->shape[i]);
    }
    free(ch->shape);
    if (!ch->out)
        pthread_mutex_destroy(&ch->send_mu);
    free(ch);
}

void api_chan_close_all(void)
{
    while (api_g.chans != NULL)
        api_chan__free(api_g.chans);
    n_out = n_in = 0;
    if (api_g.listen_fd >= 0) {
        close(api_g.listen_fd);
        api_g.listen_fd = -1;
    }
    if (api_g.lease_fd >= 0) {
        close(api_g.lease_fd);
        api_g.lease_fd = -1;
        unlink(api_g.lease_path);
    }
    if (api_g.wake_fd >= 0) {
        close(api_g.wake_fd);
        api_g.wake_fd = -1;
    }
}

/* Closes CH's connection (mu held); an incoming one is freed once its
 * tasks are answered. */
void api_chan__drop(api_chan *ch)
{
    if (ch->state != CHAN_CLOSED) {
        if (ch->out)
            n_out--;
        else
            n_in--;
    }
    ch->state = CHAN_CLOSED;
    frame_reader_free(&ch->fr);
    if (ch->out || ch->refs == 0) {
        if (ch->fd >= 0)
            close(ch->fd);
        ch->fd = -1;
    }
    if (!ch->out && ch->refs == 0)
        api_chan__free(ch);
}

/* ---------------------------------------------------------------- sending */

/* Writes a whole frame to FD, which no other thread writes to yet (a new
 * connection's hello). */
static int send_frame(int fd, const uint8_t *buf, size_t len)
{
    int rc = 0;
    while (len > 0 && rc == 0) {
        ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = -errno;
            break;
        }
        buf += n;
        len -= (size_t)n;
    }
    return rc;
}

static int send_env(int fd, const Rayc__Envelope *env)
{
    uint8_t *buf;
    size_t len;
    int rc = rpc_pack(env, API_MAX_FRAME, &buf, &len);
    if (rc == 0) {
        rc = send_frame(fd, buf, len);
        free(buf);
    }
    return rc;
}

/* Sends ENV to a caller (worker side): blocking, one frame at a time. */
int api_chan_send(api_chan *ch, const Rayc__Envelope *env)
{
    uint8_t *buf;
    size_t len;
    if (ch->fd < 0)
        return -EPIPE;
    int rc = rpc_pack(env, API_MAX_FRAME, &buf, &len);
    if (rc != 0)
        return rc;
    pthread_mutex_lock(&ch->send_mu);
    for (size_t off = 0; off < len && rc == 0;) {
        ssize_t n = send(ch->fd, buf + off, len - off, MSG_NOSIGNAL);
        if (n < 0 && errno != EINTR)
            rc = -errno;
        else if (n > 0)
            off += (size_t)n;
    }
    pthread_mutex_unlock(&ch->send_mu);
    free(buf);
    return rc;
}

static int idle_sender(void *arg)
{
    return !((api_chan *)arg)->sending;
}

/* Writes a frame to an actor's worker (mu held).  When the socket is full
 * the worker is probably blocked sending results back: read them
 * meanwhile, or both sides would wait forever.  Returns 0 or -errno. */
static int send_out(api_chan *ch, const uint8_t *buf, size_t len)
{
    api_wait(idle_sender, ch, -1);
    ch->sending = 1;
    int rc = 0;
    while (len > 0 && rc == 0) {
        if (ch->fd < 0 || ch->state != CHAN_OPEN) {
            rc = -EPIPE;
            break;
        }
        ssize_t n = send(ch->fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            buf += n;
            len -= (size_t)n;
        } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            api_pump(100);
        } else {
            rc = -errno;
        }
    }
    ch->sending = 0;
    api_notify();
    return rc;
}

/* ---------------------------------------------------------------- caller side */

static api_chan *find_out(const ids_actor *actor)
{
    for (api_chan *ch = api_g.chans; ch != NULL; ch = ch->next)
        if (ch->out && !ch->lease && memcmp(ch->actor.b, actor->b, IDS_ACTOR_LEN) == 0)
            return ch;
    return NULL;
}

static api_chan *get_out(const ids_actor *actor)
{
    api_chan *ch = find_out(actor);
    if (ch != NULL)
        return ch;
    ch = calloc(1, sizeof *ch);
    if (ch == NULL)
        return NULL;
    ch->fd = -1;
    ch->out = 1;
    ch->actor = *actor;
    ch->next = api_g.chans;
    api_g.chans = ch;
    return ch;
}

/* Reads the HelloReply on a fresh connection FD (mu not held) and the
 * actor's incarnation in it.  Returns 0 or -1. */
static int hello(int fd, int *incarnation)
{
    Rayc__Envelope env = RAYC__ENVELOPE__INIT;
    Rayc__Hello h = RAYC__HELLO__INIT;
    h.token = api_g.token;
    h.client_kind = "caller";
    env.body_case = RAYC__ENVELOPE__BODY_HELLO;
    env.hello = &h;
    if (send_env(fd, &env) != 0)
        return -1;
    uint8_t buf[512] = {0};
    size_t got = 0;
    int64_t deadline = time_mono_ms() + CHAN_HELLO_MS;
    while (got < FRAME_HEADER_SIZE || got < FRAME_HEADER_SIZE + ((size_t)buf[2] << 8 | buf[3])) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int wait = (int)(deadline - time_mono_ms());
        if (wait <= 0 || poll(&p, 1, wait) <= 0)
            return -1;
        ssize_t n = recv(fd, buf + got, sizeof buf - got, MSG_DONTWAIT);
        if (n <= 0 || buf[0] != 0 || buf[1] != 0)
            return -1;
        got += (size_t)n;
    }
    size_t len = (size_t)buf[2] << 8 | buf[3];
    Rayc__Envelope *r = rayc__envelope__unpack(NULL, len, buf + FRAME_HEADER_SIZE);
    int ok = r != NULL && r->body_case == RAYC__ENVELOPE__BODY_HELLO_REPLY &&
             got == FRAME_HEADER_SIZE + len;
    if (ok)
        *incarnation = r->hello_reply->incarnation;
    if (r != NULL)
        rayc__envelope__free_unpacked(r, NULL);
    return ok ? 0 : -1;
}

/* Connects to the worker of CH's actor (mu held; released meanwhile). */
static void try_connect(api_chan *ch)
{
    char path[4200], hex[2 * IDS_ACTOR_LEN + 1];
    ch->state = CHAN_CONNECTING;
    ids_hex(ch->actor.b, IDS_ACTOR_LEN, hex);
    if (ch->lease)
        snprintf(path, sizeof path, "%s", ch->path);
    else
        snprintf(path, sizeof path, "%s/actor-%s", api_g.sock_dir, hex);
    pthread_mutex_unlock(&api_g.mu);
    int incarnation = 0;
    int fd = uds_connect(path, CHAN_HELLO_MS);
    if (fd >= 0 && hello(fd, &incarnation) != 0) {
        close(fd);
        fd = -1;
    }
    pthread_mutex_lock(&api_g.mu);
    if (fd < 0) {
        ch->state = CHAN_CLOSED;
        ch->retry_at_ms = time_mono_ms() + CHAN_RETRY_MS;
    } else {
        ch->fd = fd;
        ch->state = CHAN_OPEN;
        ch->incarnation = incarnation;
        frame_reader_init(&ch->fr, API_MAX_FRAME);
        n_out++;
        api_wake_reader(); /* a reader blocked in poll must watch FD too */
    }
    api_notify();
}

static int not_connecting(void *arg)
{
    return ((api_chan *)arg)->state != CHAN_CONNECTING;
}

static int no_direct_calls(void *arg)
{
    return ((api_chan *)arg)->ncalls == 0;
}

static int no_raylet_calls(void *arg)
{
    return ((api_chan *)arg)->nvia == 0;
}

int api_chan__open(api_chan *ch)
{
    if (ch->state == CHAN_CONNECTING)
        api_wait(not_connecting, ch, time_mono_ms() + 2 * CHAN_HELLO_MS);
    if (ch->state == CHAN_CLOSED && time_mono_ms() >= ch->retry_at_ms && n_out < CHAN_MAX_OUT &&
        api_g.sock_dir[0] != '\0')
        try_connect(ch);
    return ch->state == CHAN_OPEN;
}

int api_chan__send_call(api_chan *ch, Rayc__TaskSpec *spec, const ids_task *id)
{
    Rayc__Envelope env = RAYC__ENVELOPE__INIT;
    Rayc__ExecuteTask ex = RAYC__EXECUTE_TASK__INIT;
    ex.spec = spec;
    env.body_case = RAYC__ENVELOPE__BODY_EXECUTE_TASK;
    env.execute_task = &ex;
    api_call *c = calloc(1, sizeof *c);
    if (c == NULL || rpc_pack(&env, API_MAX_FRAME, &c->frame, &c->len) != 0) {
        free(c);
        return -ENOMEM;
    }
    c->id = *id;
    c->nreturns = spec->num_returns;
    if (ch->calls_tail != NULL)
        ch->calls_tail->next = c;
    else
        ch->calls = c;
    ch->calls_tail = c;
    ch->ncalls++;
    /* On failure the break is seen by the reader, which resubmits C. */
    return send_out(ch, c->frame, c->len);
}

static int add_via(api_chan *ch, const ids_task *id)
{
    if (ch->nvia == ch->avia) {
        size_t n = ch->avia ? 2 * ch->avia : 8;
        ids_task *v = realloc(ch->via, n * sizeof *v);
        if (v == NULL)
            return -ENOMEM;
        ch->via = v;
        ch->avia = n;
    }
    ch->via[ch->nvia++] = *id;
    return 0;
}

int api_chan_submit(Rayc__TaskSpec *spec, int inline_args)
{
    ids_actor actor;
    ids_task id;
    ids_from_bytes(actor.b, IDS_ACTOR_LEN, spec->actor_id.data, spec->actor_id.len);
    ids_from_bytes(id.b, IDS_TASK_LEN, spec->task_id.data, spec->task_id.len);
    pthread_mutex_lock(&api_g.mu);
    api_chan *ch = get_out(&actor);
    int rc = 0;
    if (ch != NULL && api_g.direct && inline_args && ch->nvia == 0 && api_chan__open(ch) &&
        api_wait(no_raylet_calls, ch, -1) == 0) {
        api_chan__send_call(ch, spec, &id);
        rc = 1;
    } else if (ch != NULL) {
        /* Through the raylet: after the direct calls before it. */
        if (api_wait(no_direct_calls, ch, -1) != 0 || add_via(ch, &id) != 0)
            rc = -ECONNRESET;
    }
    pthread_mutex_unlock(&api_g.mu);
    return rc;
}

/* The direct call ID in flight on some connection (mu held), or NULL. */
static api_call *find_call(const ids_task *id, api_chan **chp)
{
    ids_actor actor = ids_task_actor(id);
    int normal = ids_is_nil(actor.b, 12);
    for (api_chan *ch = api_g.chans; ch != NULL; ch = ch->next) {
        if (!ch->out || (normal ? !ch->lease : ch->lease ||
                         memcmp(ch->actor.b, actor.b, IDS_ACTOR_LEN) != 0))
            continue;
        for (api_call *c = ch->calls; c != NULL; c = c->next) {
            if (ids_task_eq(&c->id, id)) {
                *chp = ch;
                return c;
            }
        }
    }
    return NULL;
}

static int send_cancel(int to_raylet, api_chan *ch, const ids_task *id, int force)
{
    Rayc__Envelope env = RAYC__ENVELOPE__INIT;
    Rayc__CancelTask cancel = RAYC__CANCEL_TASK__INIT;
    cancel.task_id.data = (uint8_t *)id->b;
    cancel.task_id.len = IDS_TASK_LEN;
    cancel.force = force != 0;
    if (to_raylet) {
        cancel.worker_id.data = ch->actor.b; /* the lease's worker id */
        cancel.worker_id.len = IDS_WORKER_LEN;
    }
    env.body_case = RAYC__ENVELOPE__BODY_CANCEL_TASK;
    env.cancel_task = &cancel;
    if (to_raylet)
        return api_send_mu(&env);
    uint8_t *buf;
    size_t len;
    int rc = rpc_pack(&env, API_MAX_FRAME, &buf, &len);
    if (rc == 0) {
        rc = send_out(ch, buf, len);
        free(buf);
    }
    return rc;
}

int api_chan_cancel(const ids_task *id, int force)
{
    api_chan *ch = NULL;
    pthread_mutex_lock(&api_g.mu);
    api_call *c = api_g.chans ? find_call(id, &ch) : NULL;
    /* A lease call behind another has not started: the worker drops it
     * from its queue, nothing needs killing. */
    if (c != NULL && ch->lease && force && c == ch->calls) {
        c->cancelled = 1; /* its worker is killed; the break fails it */
        send_cancel(1, ch, id, 1);
    } else if (c != NULL) {
        send_cancel(0, ch, id, 0);
    }
    pthread_mutex_unlock(&api_g.mu);
    return c != NULL;
}

/* ---------------------------------------------------------------- results */

/* Drops task ID from the raylet-path calls of its actor (mu held). */
void api_chan_raylet_result(const ids_task *id)
{
    ids_actor actor = ids_task_actor(id);
    if (ids_is_nil(actor.b, 12) || api_g.chans == NULL)
        return;
    api_chan *ch = find_out(&actor);
    for (size_t i = 0; ch != NULL && i < ch->nvia; i++) {
        if (ids_task_eq(&ch->via[i], id)) {
            ch->via[i] = ch->via[--ch->nvia];
            return;
        }
    }
}

/* Adopts the store objects among RES's returns (mu held). */
static void adopt(const Rayc__TaskResult *res)
{
    ProtobufCBinaryData ids[64];
    size_t n = 0;
    for (size_t i = 0; i < res->n_returns && n < 64; i++)
        if (res->returns[i]->value != NULL && res->returns[i]->value->in_store)
            ids[n++] = res->returns[i]->object_id;
    if (n == 0)
        return;
    Rayc__Envelope env = RAYC__ENVELOPE__INIT;
    Rayc__AdoptObjects a = RAYC__ADOPT_OBJECTS__INIT;
    a.object_ids = ids;
    a.n_object_ids = n;
    env.body_case = RAYC__ENVELOPE__BODY_ADOPT_OBJECTS;
    env.adopt_objects = &a;
    api_send_mu(&env);
}

/* Sends call C again through the raylet (mu held); LOST marks a call its
 * worker may have been running when it died. */
static void resubmit(api_chan *ch, const api_call *c, int lost)
{
    Rayc__Envelope *ex = rayc__envelope__unpack(NULL, c->len - FRAME_HEADER_SIZE,
                                                c->frame + FRAME_HEADER_SIZE);
    if (ex != NULL && ex->body_case == RAYC__ENVELOPE__BODY_EXECUTE_TASK) {
        Rayc__Envelope env = RAYC__ENVELOPE__INIT;
        Rayc__SubmitTask sub = RAYC__SUBMIT_TASK__INIT;
        sub.spec = ex->execute_task->spec;
        sub.spec->lost = lost != 0;
        sub.spec->incarnation = ch->incarnation;
        env.body_case = RAYC__ENVELOPE__BODY_SUBMIT_TASK;
        env.submit_task = &sub;
        api_obj_mark_direct(&c->id, c->nreturns, 0); /* the raylet knows them now */
        if (ch->lease)
            api_g.raylet_tasks++;
        if (api_send_mu(&env) == 0 && !ch->lease)
            add_via(ch, &c->id);
    }
    if (ex != NULL)
        rayc__envelope__free_unpacked(ex, NULL);
}

/* Fails the returns of call C with STATUS (mu held). */
static void fail_call(const api_call *c, int status, const char *msg)
{
    for (int i = 0; i < c->nreturns; i++) {
        ids_object id = ids_object_for(&c->id, (uint32_t)(i + 1));
        api_obj *o = api_obj_find(&id);
        if (o != NULL && o->state == API_PENDING) {
            api_obj_set_error(o, status, msg);
            api_obj_settle(o);
        }
    }
}

/* Removes the call ID from CH (mu held); returns it (caller frees) or NULL. */
static api_call *take_call(api_chan *ch, const ids_task *id)
{
    api_call *prev = NULL;
    for (api_call *c = ch->calls; c != NULL; prev = c, c = c->next) {
        if (!ids_task_eq(&c->id, id))
            continue;
        if (prev != NULL)
            prev->next = c->next;
        else
            ch->calls = c->next;
        if (ch->calls_tail == c)
            ch->calls_tail = prev;
        ch->ncalls--;
        return c;
    }
    return NULL;
}

/* A result on an outgoing connection (mu held). */
static void out_result(api_chan *ch, const Rayc__TaskResult *res)
{
    ids_task id;
    if (ids_from_bytes(id.b, IDS_TASK_LEN, res->task_id.data, res->task_id.len) != 0)
        return;
    api_call *c = take_call(ch, &id);
    if (res->status == API_LEASE_ENDED) { /* came too late for the lease: via the raylet */
        ch->ended = 1;
        if (c != NULL)
            resubmit(ch, c, 0);
    } else {
        if (res->status == RAY_OK)
            adopt(res);
        api_on_task_result(res);
    }
    if (c != NULL) {
        free(c->frame);
        free(c);
    }
    if (ch->lease)
        api_lease__result_done(ch);
}

/* The connection of CH broke: its calls go to the raylet as lost (mu held).
 * A leased worker runs its calls one at a time in order, so only the first
 * one may have started; the others go as new tasks. */
static void out_broken(api_chan *ch)
{
    api_chan__drop(ch);
    ch->retry_at_ms = time_mono_ms() + CHAN_RETRY_MS;
    for (int first = 1; ch->calls != NULL; first = 0) {
        api_call *c = ch->calls;
        ch->calls = c->next;
        ch->ncalls--;
        if (c->cancelled)
            fail_call(c, RAY_ERR_CANCELLED, "the task was cancelled (its worker was killed)");
        else
            resubmit(ch, c, first || !ch->lease);
        free(c->frame);
        free(c);
    }
    ch->calls_tail = NULL;
    if (ch->lease)
        ch->ended = 1;
    api_notify();
}

/* ---------------------------------------------------------------- worker side */

int api_chan_listen(const ids_actor *actor)
{
    char path[4200], hex[2 * IDS_ACTOR_LEN + 1];
    if (!api_g.direct || api_g.sock_dir[0] == '\0')
        return 0;
    ids_hex(actor->b, IDS_ACTOR_LEN, hex);
    snprintf(path, sizeof path, "%s/actor-%s", api_g.sock_dir, hex);
    int fd = uds_listen(path, 128);
    if (fd < 0)
        return fd; /* callers use the raylet */
    pthread_mutex_lock(&api_g.mu);
    api_g.listen_fd = fd;
    str_copy(api_g.listen_path, sizeof api_g.listen_path, path);
    api_wake_reader();
    pthread_mutex_unlock(&api_g.mu);
    return 0;
}

void api_chan_unlisten(void)
{
    if (api_g.listen_path[0] != '\0')
        unlink(api_g.listen_path);
    if (api_g.lease_path[0] != '\0')
        unlink(api_g.lease_path);
    api_g.listen_path[0] = api_g.lease_path[0] = '\0';
}

static void accept_caller(int lfd)
{
    int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
    int lease = lfd == api_g.lease_fd;
    if (fd < 0)
        return;
    api_chan *ch = n_in < CHAN_MAX_IN ? calloc(1, sizeof *ch) : NULL;
    if (ch == NULL) {
        close(fd);
        return;
    }
    ch->fd = fd;
    ch->lease = lease;
    ch->state = CHAN_HELLO;
    pthread_mutex_init(&ch->send_mu, NULL);
    frame_reader_init(&ch->fr, API_MAX_FRAME);
    ch->next = api_g.chans;
    api_g.chans = ch;
    n_in++;
}

/* Answers ENV's task on CH with STATUS and ERROR instead of running it
 * (mu held): API_LEASE_ENDED when it came after the lease ended or while
 * the worker is blocked, RAY_ERR_CANCELLED when cancelled while queued. */
static void answer(api_chan *ch, const Rayc__Envelope *env, int status, const char *error)
{
    const Rayc__TaskSpec *spec = env->execute_task->spec;
    size_t n = spec->num_returns > 0 && spec->num_returns <= 64 ? (size_t)spec->num_returns : 0;
    Rayc__ObjectResult rets[64], *rptrs[64];
    ids_object oids[64];
    ids_task tid;
    Rayc__Envelope rep = RAYC__ENVELOPE__INIT;
    Rayc__TaskResult res = RAYC__TASK_RESULT__INIT;
    res.task_id = spec->task_id;
    res.status = status;
    res.error = (char *)error;
    if (status != API_LEASE_ENDED &&
        ids_from_bytes(tid.b, IDS_TASK_LEN, spec->task_id.data, spec->task_id.len) == 0) {
        for (size_t i = 0; i < n; i++) {
            rayc__object_result__init(&rets[i]);
            oids[i] = ids_object_for(&tid, (uint32_t)(i + 1));
            rets[i].object_id.data = oids[i].b;
            rets[i].object_id.len = IDS_OBJECT_LEN;
            rptrs[i] = &rets[i];
        }
        res.returns = rptrs;
        res.n_returns = n;
    }
    rep.body_case = RAYC__ENVELOPE__BODY_TASK_RESULT;
    rep.task_result = &res;
    api_chan_send(ch, &rep);
}

static void reject(api_chan *ch, const Rayc__Envelope *env)
{
    answer(ch, env, API_LEASE_ENDED, "the lease has ended");
}

/* Takes item IT (after *PP, PREV before it) off the run queue, answers it
 * with STATUS and ERROR and drops its reference on its connection (mu held). */
static void unqueue(api_exec_item **pp, api_exec_item *prev, int status, const char *error)
{
    api_exec_item *it = *pp;
    *pp = it->next;
    if (api_g.exec_tail == it)
        api_g.exec_tail = prev;
    api_g.exec_len--;
    api_chan *ch = it->chan;
    answer(ch, it->env, status, error);
    rayc__envelope__free_unpacked(it->env, NULL);
    free(it);
    api_lease_task_done();
    if (ch->refs > 0)
        ch->refs--;
    if (ch->state == CHAN_CLOSED && ch->refs == 0)
        api_chan__drop(ch); /* frees it */
}

void api_chan_lease_hand_back(void)
{
    api_exec_item **pp = &api_g.exec_head, *prev = NULL;
    while (*pp != NULL) {
        if ((*pp)->chan == NULL || !(*pp)->chan->lease) {
            prev = *pp;
            pp = &(*pp)->next;
            continue;
        }
        unqueue(pp, prev, API_LEASE_ENDED, "the lease has ended");
    }
}

/* ray_cancel of a lease call still queued here (mu held): it fails at once
 * without running.  Returns 1 when ID was found in the queue. */
static int cancel_queued(const api_chan *ch, const ids_task *id)
{
    api_exec_item **pp = &api_g.exec_head, *prev = NULL;
    for (; *pp != NULL; prev = *pp, pp = &(*pp)->next) {
        const ProtobufCBinaryData *tid = &(*pp)->env->execute_task->spec->task_id;
        if ((*pp)->chan == ch && tid->len == IDS_TASK_LEN &&
            memcmp(tid->data, id->b, IDS_TASK_LEN) == 0 &&
            (*pp)->env->execute_task->spec->num_returns <= 64) {
            unqueue(pp, prev, RAY_ERR_CANCELLED, "the task was cancelled before it ran");
            return 1;
        }
    }
    return 0;
}

/* A message from a caller (mu held); takes ENV.  Returns 1 when CH was
 * closed (and may be freed). */
static int in_message(api_chan *ch, Rayc__Envelope *env)
{
    if (ch->state == CHAN_HELLO) {
        int ok = env->body_case == RAYC__ENVELOPE__BODY_HELLO && env->hello->token != NULL &&
                 token_equal(env->hello->token, api_g.token);
        rayc__envelope__free_unpacked(env, NULL);
        Rayc__Envelope rep = RAYC__ENVELOPE__INIT;
        Rayc__HelloReply hr = RAYC__HELLO_REPLY__INIT;
        hr.incarnation = api_g.incarnation;
        rep.body_case = RAYC__ENVELOPE__BODY_HELLO_REPLY;
        rep.hello_reply = &hr;
        if (ok && send_env(ch->fd, &rep) == 0) {
            ch->state = CHAN_OPEN;
            return 0;
        }
        api_chan__drop(ch);
        return 1;
    }
    if (env->body_case == RAYC__ENVELOPE__BODY_EXECUTE_TASK && ch->lease &&
        !api_lease__accepts()) {
        reject(ch, env); /* the lease is over: the owner sends it through the raylet */
        rayc__envelope__free_unpacked(env, NULL);
        return 0;
    }
    if (env->body_case == RAYC__ENVELOPE__BODY_EXECUTE_TASK) {
        ch->refs++;
        if (ch->lease)
            api_lease__task_started();
        api_worker_enqueue_from(env, ch);
        return 0;
    }
    ids_task cid;
    if (env->body_case == RAYC__ENVELOPE__BODY_CANCEL_TASK &&
        ids_from_bytes(cid.b, IDS_TASK_LEN, env->cancel_task->task_id.data,
                       env->cancel_task->task_id.len) == 0 &&
        !(ch->lease && cancel_queued(ch, &cid))) {
        api_g.cancel_task = cid;
        api_g.cancel_set = 1;
    }
    rayc__envelope__free_unpacked(env, NULL);
    return 0;
}

void api_chan_unref(api_chan *ch)
{
    pthread_mutex_lock(&api_g.mu);
    if (ch->lease)
        api_lease_task_done();
    if (ch->refs > 0)
        ch->refs--;
    if (ch->state == CHAN_CLOSED && ch->refs == 0)
        api_chan__drop(ch);
    pthread_mutex_unlock(&api_g.mu);
}

/* ---------------------------------------------------------------- reading */

typedef struct chan_frame {
    api_chan *ch;
    int bad;
} chan_frame;

static int chan_frame_cb(const uint8_t *payload, size_t len, void *data)
{
    chan_frame *f = data;
    Rayc__Envelope *env = rayc__envelope__unpack(NULL, len, payload);
    if (env == NULL) {
        f->bad = 1;
        return -EPROTO;
    }
    if (!f->ch->out)
        return in_message(f->ch, env) ? -ECANCELED : 0;
    if (env->body_case == RAYC__ENVELOPE__BODY_TASK_RESULT)
        out_result(f->ch, env->task_result);
    else if (env->body_case == RAYC__ENVELOPE__BODY_LEASE_ENDED && f->ch->lease) {
        f->ch->ended = 1;
        api_lease__result_done(f->ch);
    }
    rayc__envelope__free_unpacked(env, NULL);
    return 0;
}

size_t api_chan_poll_fds(struct pollfd *p, api_chan **who, size_t max)
{
    size_t n = 0;
    if (api_g.wake_fd >= 0 && n < max) {
        p[n] = (struct pollfd){.fd = api_g.wake_fd, .events = POLLIN};
        who[n++] = NULL;
    }
    if (api_g.listen_fd >= 0 && n < max) {
        p[n] = (struct pollfd){.fd = api_g.listen_fd, .events = POLLIN};
        who[n++] = NULL;
    }
    if (api_g.lease_fd >= 0 && n < max) {
        p[n] = (struct pollfd){.fd = api_g.lease_fd, .events = POLLIN};
        who[n++] = NULL;
    }
    for (api_chan *ch = api_g.chans; ch != NULL && n < max; ch = ch->next) {
        if (ch->fd >= 0 && ch->state != CHAN_CLOSED && ch->state != CHAN_CONNECTING) {
            p[n] = (struct pollfd){.fd = ch->fd, .events = POLLIN};
            who[n++] = ch;
        }
    }
    return n;
}

static int still_listed(const api_chan *ch)
{
    for (api_chan *x = api_g.chans; x != NULL; x = x->next)
        if (x == ch)
            return 1;
    return 0;
}

void api_chan_readable(const struct pollfd *p, api_chan *ch)
{
    if (ch == NULL) {
        uint64_t v;
        if (p->fd == api_g.wake_fd && read(p->fd, &v, sizeof v) < 0)
            return;
        if (p->fd == api_g.listen_fd || p->fd == api_g.lease_fd)
            accept_caller(p->fd);
        return;
    }
    if (!still_listed(ch) || ch->fd != p->fd || ch->state == CHAN_CLOSED)
        return;
    ssize_t n = recv(ch->fd, api_g.rbuf, API_RBUF_SIZE, MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    chan_frame f = {ch, 0};
    int rc = n > 0 ? frame_reader_feed(&ch->fr, api_g.rbuf, (size_t)n, chan_frame_cb, &f) : -1;
    if (rc == -ECANCELED) /* CH is closed already */
        return;
    if (rc != 0 && !ch->out) {
        api_chan__drop(ch); /* may free CH */
        return;
    }
    if (rc != 0)
        out_broken(ch);
    if (ch->lease && (ch->doomed || (ch->ended && ch->ncalls == 0))) {
        api_chan__drop(ch);
        api_chan__free(ch);
    }
}
