/* The spare job wrapper.  Starting a process costs milliseconds of CPU on a
 * paravirtualised machine (each page fault of the exec is an exit to the
 * hypervisor), and posix_spawn holds the calling thread until the child has
 * exec'd.  So the server keeps wrappers started ahead, on threads of the
 * pool, each waiting on a socket (`ray_job_wrapper --job-wrapper-spare`,
 * protocol in jobs_proc.h); a job is one sendmsg away from running, and
 * a new spare starts while the job does.  A spare that dies is reaped
 * and replaced at the next job; without one, jobs start as before. */
#include "jobserver/jobs_spare.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/dbuf.h"
#include "common/log.h"
#include "common/util.h"
#include "jobserver/jobs_proc.h"
#include "jobserver/jobs_server.h"

_Static_assert(JOBS_CHILD_CTL_FD == JOBS_SPARE_CTL_FD, "the spare's control socket");

extern char **environ;

enum spare_state { SPARE_STARTING, SPARE_READY };

struct jobs_spare {
    jobs_server *srv;
    uv_work_t work;
    uv_poll_t watch;          /* our end of the socket, while ready */
    enum spare_state state;
    int sock;                 /* our end */
    int child_sock;           /* the spare's end, until it is started */
    pid_t pid;
    int err;                  /* the start's result */
    char exe[PATH_MAX];
};

/* ---------------------------------------------------------------- ending */

static void free_cb(uv_handle_t *h)
{
    free(h->data);
}

/* Kills and reaps the spare's process (it has no job: nothing is lost). */
static void reap(struct jobs_spare *s)
{
    if (s->pid <= 0)
        return;
    kill(s->pid, SIGKILL);
    while (waitpid(s->pid, NULL, 0) < 0 && errno == EINTR)
        ;
    s->pid = 0;
}

/* Forgets S: its watch is closed (S freed after it) or S is freed now. */
static void drop(struct jobs_spare *s, int watched)
{
    for (int i = 0; i < JOBS_SPARES; i++)
        if (s->srv->spares[i] == s)
            s->srv->spares[i] = NULL;
    if (watched) {
        s->watch.data = s;
        uv_close((uv_handle_t *)&s->watch, free_cb);
    }
    if (s->sock >= 0)
        close(s->sock);
    s->sock = -1;
    if (!watched)
        free(s);
}

/* The spare's end closed or it wrote: it died (it never writes). */
static void watch_cb(uv_poll_t *h, int status, int events)
{
    (void)status;
    (void)events;
    struct jobs_spare *s = h->data;
    log_warn("the spare job wrapper (pid %d) ended before it had a job", (int)s->pid);
    reap(s);
    drop(s, 1);
}

/* ---------------------------------------------------------------- starting */

/* On the thread pool: posix_spawn holds this thread, not the loop. */
static void start_work(uv_work_t *w)
{
    struct jobs_spare *s = w->data;
    char *args[] = {s->exe, JOBS_WRAPPER_SPARE_FLAG, NULL};
    int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (devnull < 0) {
        s->err = -errno;
        return;
    }
    jobs_child_opts opt = {.file = s->exe, .args = args, .env = environ,
                           .out_fd = devnull, .ctl_fd = s->child_sock};
    s->err = jobs_child_start(&opt, &s->pid);
    close(devnull);
}

static void start_done(uv_work_t *w, int status)
{
    struct jobs_spare *s = w->data;
    jobs_server *srv = s->srv;
    close(s->child_sock);
    s->child_sock = -1;
    if (status != 0 || s->err != 0) {
        log_warn("cannot start a spare job wrapper %s: %s", s->exe,
                 uv_strerror(status != 0 ? status : s->err));
        drop(s, 0);
        return;
    }
    int rc = srv->shutting_down ? UV_ECANCELED : uv_poll_init(srv->loop, &s->watch, s->sock);
    if (rc != 0) {
        reap(s);
        drop(s, 0);
        return;
    }
    s->watch.data = s;
    s->state = SPARE_READY;
    uv_poll_start(&s->watch, UV_READABLE | UV_DISCONNECT, watch_cb);
}

/* Starts one spare into SLOT (empty). */
static void prepare_one(jobs_server *srv, int slot, const char *wrapper_exe)
{
    struct jobs_spare *s = calloc(1, sizeof *s);
    int fds[2];
    if (s == NULL || str_copy(s->exe, sizeof s->exe, wrapper_exe) != 0 ||
        socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) != 0) {
        log_warn("cannot prepare a spare job wrapper: %s", strerror(errno ? errno : ENOMEM));
        free(s);
        return;
    }
    s->srv = srv;
    s->sock = fds[0];
    s->child_sock = fds[1];
    s->state = SPARE_STARTING;
    s->work.data = s;
    if (uv_queue_work(srv->loop, &s->work, start_work, start_done) != 0) {
        close(fds[0]);
        close(fds[1]);
        free(s);
        return;
    }
    srv->spares[slot] = s;
}

void jobs_spare_prepare(jobs_server *srv, const char *wrapper_exe)
{
    for (int i = 0; i < JOBS_SPARES && !srv->shutting_down; i++)
        if (srv->spares[i] == NULL)
            prepare_one(srv, i, wrapper_exe);
}

/* ---------------------------------------------------------------- handing over */

/* The job's description (jobs_proc.h) in a memfd, or -errno. */
static int describe(const jobs_spare_job *job, uint64_t *len)
{
    dbuf b;
    dbuf_init(&b, JOBS_SPARE_MAX_BYTES);
    int n = 0;
    while (job->cmd[n] != NULL)
        n++;
    char count[16];
    snprintf(count, sizeof count, "%d", n);
    const char *head[] = {JOBS_SPARE_MAGIC, job->pidfile, job->exitfile,
                          job->cwd ? job->cwd : "", count};
    for (size_t i = 0; i < sizeof head / sizeof *head; i++)
        dbuf_add(&b, head[i], strlen(head[i]) + 1);
    for (int i = 0; i < n; i++)
        dbuf_add(&b, job->cmd[i], strlen(job->cmd[i]) + 1);
    for (char **e = job->env; *e != NULL; e++)
        dbuf_add(&b, *e, strlen(*e) + 1);
    size_t size;
    char *blob = dbuf_take(&b, &size);
    if (blob == NULL)
        return -E2BIG;
    int fd = memfd_create("rayc-job", MFD_CLOEXEC);
    int rc = fd < 0 ? -errno : 0;
    for (size_t off = 0; rc == 0 && off < size;) {
        ssize_t w = write(fd, blob + off, size - off);
        if (w < 0 && errno != EINTR)
            rc = -errno;
        else if (w > 0)
            off += (size_t)w;
    }
    free(blob);
    if (rc != 0) {
        if (fd >= 0)
            close(fd);
        return rc;
    }
    *len = size;
    return fd;
}

static int send_job(int sock, int log_fd, int memfd, uint64_t len)
{
    struct iovec iov = {.iov_base = &len, .iov_len = sizeof len};
    union {
        struct cmsghdr h;
        char buf[CMSG_SPACE(2 * sizeof(int))];
    } ctl;
    memset(&ctl, 0, sizeof ctl);
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf,
                       .msg_controllen = sizeof ctl.buf};
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(2 * sizeof(int));
    int fds[2] = {log_fd, memfd};
    memcpy(CMSG_DATA(c), fds, sizeof fds);
    ssize_t n;
    while ((n = sendmsg(sock, &m, MSG_NOSIGNAL | MSG_DONTWAIT)) < 0 && errno == EINTR)
        ;
    return n == (ssize_t)sizeof len ? 0 : n < 0 ? -errno : -EIO;
}

int jobs_spare_take(jobs_server *srv, const jobs_spare_job *job, jobs_child *c,
                    jobs_child_exit_cb cb)
{
    struct jobs_spare *s = NULL;
    for (int i = 0; i < JOBS_SPARES && s == NULL; i++)
        if (srv->spares[i] != NULL && srv->spares[i]->state == SPARE_READY)
            s = srv->spares[i];
    if (s == NULL)
        return -EAGAIN;
    uint64_t len = 0;
    int memfd = describe(job, &len);
    int rc = memfd < 0 ? memfd : send_job(s->sock, job->log_fd, memfd, len);
    if (memfd >= 0)
        close(memfd);
    if (rc != 0) {
        log_warn("cannot hand a job to the spare job wrapper (pid %d): %s", (int)s->pid,
                 strerror(-rc));
        reap(s);
        drop(s, 1);
        return rc;
    }
    pid_t pid = s->pid;
    s->pid = 0;   /* the job's now */
    drop(s, 1);
    return jobs_child_watch(srv->loop, c, pid, cb);
}

void jobs_spare_stop(jobs_server *srv)
{
    /* One still starting is dropped when its start ends (shutting_down). */
    for (int i = 0; i < JOBS_SPARES; i++) {
        struct jobs_spare *s = srv->spares[i];
        if (s != NULL && s->state == SPARE_READY) {
            reap(s);
            drop(s, 1);
        }
    }
}
