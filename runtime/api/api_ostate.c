/* The owner socket: Ray's `ray list objects` lists the small objects a
 * process keeps in its own memory (ray_put values, direct-call results)
 * that the raylet never saw.  Every driver and worker listens on
 * <sockets dir>/owner-<pid>, served by one small thread of its own so that
 * a process busy in user code (a driver in time.sleep, a worker in a long
 * task) still answers: the raylet connects, says Hello with the cluster
 * token and asks GetOwnedObjects; the thread holds api_g.mu only while it
 * copies at most API_OSTATE_MAX objects. */
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
#include "common/uds.h"
#include "common/util.h"

#define API_OSTATE_MAX 1000       /* objects one process reports at most */
#define API_OSTATE_CONN_MS 2000   /* one raylet connection, start to end */
#define API_OSTATE_FRAME (64u * 1024u)  /* what the raylet sends */
#define API_OSTATE_REPLY_MAX (1u * 1024u * 1024u)

static struct {
    pthread_t thread;
    int running;
    pid_t pid;                    /* the process that started the thread */
    int listen_fd, stop_fd;
    char path[4200];
} os = {.listen_fd = -1, .stop_fd = -1};

static int send_env_fd(int fd, const Rayc__Envelope *env);

/* ---------------------------------------------------------------- the copy */

typedef struct owned_copy {
    Rayc__ObjectStateInfo *objs, **objp;
    uint8_t (*ids)[IDS_OBJECT_LEN];
    size_t n;
    int64_t total;
} owned_copy;

static const char *status_of(const api_obj *o)
{
    if (o->state == API_READY)
        return "FINISHED";
    if (o->state == API_FAILED)
        return "FAILED";
    return "SUBMITTED_TO_WORKER";
}

/* Copies (mu held) the owned objects only this process knows. */
static void copy_owned(owned_copy *c, size_t max)
{
    htab_iter it;
    for (htab_node *n = htab_first(&api_g.objs, &it); n != NULL; n = htab_next(&it)) {
        api_obj *o = htab_entry(n, api_obj, link);
        if (!o->owned || o->in_store || o->known_to_raylet || !o->sealed)
            continue;
        c->total++;
        if (c->n == max)
            continue;
        Rayc__ObjectStateInfo *m = &c->objs[c->n];
        rayc__object_state_info__init(m);
        memcpy(c->ids[c->n], o->id.b, IDS_OBJECT_LEN);
        m->object_id.data = c->ids[c->n];
        m->object_id.len = IDS_OBJECT_LEN;
        m->object_size = o->state == API_PENDING ? -1 : (int64_t)o->len;
        m->task_status = (char *)status_of(o);
        m->reference_type = "LOCAL_REFERENCE";
        m->owner_type = api_g.is_worker ? "WORKER" : "DRIVER";
        m->pid = (int32_t)getpid();
        m->job_id.data = api_g.job.b;
        m->job_id.len = IDS_JOB_LEN;
        c->objp[c->n++] = m;
    }
}

static int answer_objects(int fd, uint64_t req_id, int32_t limit)
{
    size_t max = limit > 0 && limit < API_OSTATE_MAX ? (size_t)limit : API_OSTATE_MAX;
    owned_copy c = {0};
    c.objs = calloc(max + 1, sizeof *c.objs);
    c.objp = calloc(max + 1, sizeof *c.objp);
    c.ids = calloc(max + 1, sizeof *c.ids);
    int rc = -ENOMEM;
    if (c.objs != NULL && c.objp != NULL && c.ids != NULL) {
        pthread_mutex_lock(&api_g.mu);
        copy_owned(&c, max);
        pthread_mutex_unlock(&api_g.mu);
        Rayc__OwnedObjectsReply rep = RAYC__OWNED_OBJECTS_REPLY__INIT;
        rep.objects = c.objp;
        rep.n_objects = c.n;
        rep.total = c.total;
        Rayc__Envelope env = RAYC__ENVELOPE__INIT;
        env.request_id = req_id;
        env.body_case = RAYC__ENVELOPE__BODY_OWNED_OBJECTS_REPLY;
        env.owned_objects_reply = &rep;
        rc = send_env_fd(fd, &env);
    }
    free(c.objs);
    free(c.objp);
    free(c.ids);
    return rc;
}

/* ---------------------------------------------------------------- one connection */

typedef struct conn_state {
    int fd;
    int authed;
    int done;
} conn_state;

static int on_frame(const uint8_t *payload, size_t len, void *arg)
{
    conn_state *cs = arg;
    Rayc__Envelope *env = rayc__envelope__unpack(NULL, len, payload);
    if (env == NULL)
        return -EPROTO;
    int rc = 0;
    if (!cs->authed) {
        cs->authed = env->body_case == RAYC__ENVELOPE__BODY_HELLO && env->hello->token != NULL &&
                     token_equal(env->hello->token, api_g.token);
        Rayc__Envelope rep = RAYC__ENVELOPE__INIT;
        Rayc__HelloReply hr = RAYC__HELLO_REPLY__INIT;
        rep.request_id = env->request_id;
        rep.body_case = RAYC__ENVELOPE__BODY_HELLO_REPLY;
        rep.hello_reply = &hr;
        rc = cs->authed ? send_env_fd(cs->fd, &rep) : -EACCES;
    } else if (env->body_case == RAYC__ENVELOPE__BODY_GET_OWNED_OBJECTS) {
        rc = answer_objects(cs->fd, env->request_id, env->get_owned_objects->limit);
        cs->done = 1;
    } else {
        rc = -EPROTO;
    }
    rayc__envelope__free_unpacked(env, NULL);
    return rc != 0 ? rc : cs->done;
}

/* Serves one raylet connection FD until it asked its question, broke the
 * protocol, or ran past API_OSTATE_CONN_MS; closes FD. */
static void serve(int fd)
{
    conn_state cs = {.fd = fd};
    frame_reader fr;
    frame_reader_init(&fr, API_OSTATE_FRAME);
    int64_t deadline = time_mono_ms() + API_OSTATE_CONN_MS;
    uint8_t buf[4096];
    for (;;) {
        int wait = (int)(deadline - time_mono_ms());
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (wait <= 0 || poll(&p, 1, wait) <= 0)
            break;
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0 || frame_reader_feed(&fr, buf, (size_t)n, on_frame, &cs) != 0)
            break;
    }
    frame_reader_free(&fr);
    close(fd);
}

static void *ostate_main(void *arg)
{
    (void)arg;
    for (;;) {
        struct pollfd p[2] = {{.fd = os.listen_fd, .events = POLLIN},
                              {.fd = os.stop_fd, .events = POLLIN}};
        if (poll(p, 2, -1) < 0 && errno != EINTR)
            break;
        if (p[1].revents != 0)
            break;
        if (p[0].revents == 0)
            continue;
        int fd = accept4(os.listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (fd >= 0)
            serve(fd);
    }
    return NULL;
}

/* ---------------------------------------------------------------- entry points */

static int send_env_fd(int fd, const Rayc__Envelope *env)
{
    uint8_t *buf;
    size_t len;
    int rc = rpc_pack(env, API_OSTATE_REPLY_MAX, &buf, &len);
    if (rc != 0)
        return rc;
    for (size_t off = 0; rc == 0 && off < len;) {
        ssize_t n = send(fd, buf + off, len - off, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            rc = -errno;
        else
            off += (size_t)n;
    }
    free(buf);
    return rc;
}

void api_ostate_start(void)
{
    if (os.running || api_g.sock_dir[0] == '\0')
        return;
    if (fs_owner_socket_path(os.path, sizeof os.path, api_g.sock_dir, (int)getpid()) != 0)
        return; /* the objects are then not listed: never a failed init */
    os.listen_fd = uds_listen(os.path, 16);
    os.stop_fd = eventfd(0, EFD_CLOEXEC);
    if (os.listen_fd >= 0 && os.stop_fd >= 0 &&
        pthread_create(&os.thread, NULL, ostate_main, NULL) == 0) {
        os.running = 1;
        os.pid = getpid();
        return;
    }
    api_ostate_stop(); /* the objects are then not listed: never a failed init */
}

void api_ostate_stop(void)
{
    if (os.running && os.pid != getpid()) {
        /* A forked child: the thread and the socket are the parent's. */
        close(os.listen_fd);
        close(os.stop_fd);
        os.listen_fd = os.stop_fd = -1;
        os.running = 0;
        return;
    }
    if (os.running) {
        uint64_t one = 1;
        if (write(os.stop_fd, &one, sizeof one) == (ssize_t)sizeof one)
            pthread_join(os.thread, NULL);
        else
            pthread_detach(os.thread);
        os.running = 0;
    }
    if (os.listen_fd >= 0) {
        close(os.listen_fd);
        unlink(os.path);
    }
    if (os.stop_fd >= 0)
        close(os.stop_fd);
    os.listen_fd = os.stop_fd = -1;
}
