/* Worker output for drivers on other nodes (see wlog.h). */
#include "raylet/wlog.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/ids.h"
#include "common/log.h"

/* The raylet connection to send JOB's worker output to: the other raylet
 * that registered the job here, when no driver process of the job is on
 * this node and the job is a Python one (whose driver prints its workers'
 * output; a C driver reads none); else NULL. */
static raylet_client *remote_driver(const wpool_job *job)
{
    if (job == NULL || job->python == NULL || job->had_driver || job->driver == NULL ||
        !job->driver->is_peer ||
        !raylet_client_alive(job->driver))
        return NULL;
    return job->driver;
}

static void send_chunk(raylet *r, raylet_client *to, const wpool_job *job, const char *worker,
                       const uint8_t *data, size_t len)
{
    Rayc__Envelope env = RAYC__ENVELOPE__INIT;
    Rayc__WorkerLog m = RAYC__WORKER_LOG__INIT;
    m.job_id.data = (uint8_t *)job->id.b;
    m.job_id.len = IDS_JOB_LEN;
    m.worker_id = (char *)worker;
    m.node_ip = (char *)r->opts->node_ip;
    m.data.data = (uint8_t *)data;
    m.data.len = len;
    env.body_case = RAYC__ENVELOPE__BODY_WORKER_LOG;
    env.worker_log = &m;
    raylet_client_send(to, &env);
}

void wlog_forward(raylet *r, wpool_worker *w)
{
    raylet_client *to = remote_driver(w->job);
    if (to == NULL)
        return;
    char path[PATH_MAX];
    if (snprintf(path, sizeof path, "%s/logs/worker-%s-%s.log", r->opts->node_dir, w->hex,
                 w->job->hex) >= (int)sizeof path)
        return;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return; /* not started yet, or no log */
    uint8_t buf[WLOG_CHUNK];
    ssize_t n = pread(fd, buf, sizeof buf, (off_t)w->log_sent);
    close(fd);
    if (n <= 0)
        return;
    send_chunk(r, to, w->job, w->hex, buf, (size_t)n);
    w->log_sent += n;
}

/* True when S is 1..MAX characters, each of CHARS. */
static int only(const char *s, const char *chars, size_t max)
{
    size_t n = s ? strlen(s) : 0;
    return n > 0 && n <= max && strspn(s, chars) == n;
}

static void append(raylet *r, const Rayc__WorkerLog *m, const char *job_hex)
{
    char path[PATH_MAX];
    if (snprintf(path, sizeof path, "%s/logs/worker-remote-%s-%s-%s.log", r->opts->node_dir,
                 m->node_ip, m->worker_id, job_hex) >= (int)sizeof path)
        return;
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0) {
        log_debug("worker output from %s: cannot open %s: %s", m->node_ip, path, strerror(errno));
        return;
    }
    size_t off = 0;
    while (off < m->data.len) {
        ssize_t k = write(fd, m->data.data + off, m->data.len - off);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        off += (size_t)k;
    }
    close(fd);
}

void wlog_receive(raylet *r, const Rayc__WorkerLog *m)
{
    ids_job id;
    if (m->job_id.len != IDS_JOB_LEN || !only(m->worker_id, "0123456789abcdef", 64) ||
        !only(m->node_ip, "0123456789abcdefABCDEF.:", 64) || m->data.len > WLOG_CHUNK) {
        log_debug("a malformed WorkerLog message was dropped");
        return;
    }
    memcpy(id.b, m->job_id.data, IDS_JOB_LEN);
    wpool_job *job = wpool_job_find(r, &id);
    if (job == NULL)
        return; /* the job ended here */
    if (job->had_driver) {
        append(r, m, job->hex);
        return;
    }
    raylet_client *to = remote_driver(job);
    if (to != NULL) {
        Rayc__Envelope env = RAYC__ENVELOPE__INIT;
        env.body_case = RAYC__ENVELOPE__BODY_WORKER_LOG;
        env.worker_log = (Rayc__WorkerLog *)m;
        raylet_client_send(to, &env);
    }
}
