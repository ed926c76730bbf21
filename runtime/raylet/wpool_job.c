/* Jobs: RegisterDriver, the job's end when its last driver leaves, and
 * freeing ended jobs once their workers are gone. */
#include "raylet/wpool.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/log.h"
#include "common/util.h"
#include "raylet/actor.h"
#include "raylet/actor_remote.h"
#include "raylet/otable.h"
#include "raylet/peer.h"
#include "raylet/sched.h"
#include "raylet/wpool_int.h"

#define JOB_MAX_ENV 256
#define JOB_MAX_PATHS 64
#define JOB_MAX_STR 4096

wpool_job *wpool_job_find(raylet *r, const ids_job *id)
{
    for (wpool_job *j = r->wpool->jobs; j != NULL; j = j->next)
        if (memcmp(j->id.b, id->b, IDS_JOB_LEN) == 0)
            return j;
    return NULL;
}

int wpool_job_active(const wpool_job *job)
{
    return job != NULL && (!job->ended || job->nactor_workers > 0);
}

void wpool_job_ref(wpool_job *job)
{
    if (job != NULL)
        job->refs++;
}

void wpool_job_unref(wpool_job *job)
{
    if (job != NULL && job->refs > 0)
        job->refs--;
}

void wpool__job_free(wpool_job *job)
{
    for (size_t i = 0; i < job->nenv; i++)
        free(job->env[i]);
    free(job->env);
    free(job->cwd);
    free(job->python);
    free(job->code_path);
    free(job->ns);
    free(job);
}

/* ---------------------------------------------------------------- registering */

/* True when PATH is an existing directory on this node. */
static int is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Checks the sizes a driver sent.  A local driver's working_dir must exist
 * here; a peer's (a job of another node) may not (wpool_spawn.c then
 * starts its workers in this node's dir).  Returns 0 or -EINVAL with ERR
 * set. */
static int check_driver(const Rayc__RegisterDriver *m, int is_peer, char *err, size_t errlen)
{
    if (m->job_id.len != IDS_JOB_LEN)
        snprintf(err, errlen, "malformed job id");
    else if (m->cwd == NULL || m->cwd[0] != '/' || strlen(m->cwd) > JOB_MAX_STR ||
             (!is_peer && !is_dir(m->cwd)))
        snprintf(err, errlen, "the working_dir must be an existing absolute directory");
    else if (m->n_env > JOB_MAX_ENV || m->n_code_search_path > JOB_MAX_PATHS)
        snprintf(err, errlen, "too many env vars or code search path entries");
    else if (m->namespace_ != NULL && strlen(m->namespace_) > 255)
        snprintf(err, errlen, "the namespace is too long");
    else if (m->python_executable != NULL && m->python_executable[0] != '\0' &&
             (m->python_executable[0] != '/' || strlen(m->python_executable) > JOB_MAX_STR))
        snprintf(err, errlen, "the Python interpreter must be an absolute path");
    else
        return 0;
    return -EINVAL;
}

static char *join_paths(const Rayc__RegisterDriver *m)
{
    size_t n = 1;
    for (size_t i = 0; i < m->n_code_search_path; i++)
        n += strnlen(m->code_search_path[i], JOB_MAX_STR) + 1;
    char *s = malloc(n);
    if (s == NULL)
        return NULL;
    s[0] = '\0';
    size_t off = 0;
    for (size_t i = 0; i < m->n_code_search_path; i++)
        off += (size_t)snprintf(s + off, n - off, "%s%.*s", i ? ":" : "", JOB_MAX_STR,
                                m->code_search_path[i]);
    return s;
}

static int copy_env(wpool_job *job, const Rayc__RegisterDriver *m)
{
    job->env = calloc(m->n_env + 1, sizeof *job->env);
    if (job->env == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < m->n_env; i++) {
        const Rayc__KeyValue *kv = m->env[i];
        if (kv->key == NULL || kv->key[0] == '\0' || strchr(kv->key, '=') != NULL ||
            strlen(kv->key) > 1024 || strlen(kv->value) > JOB_MAX_STR)
            continue;
        size_t n = strlen(kv->key) + strlen(kv->value) + 2;
        char *e = malloc(n);
        if (e == NULL)
            return -ENOMEM;
        snprintf(e, n, "%s=%s", kv->key, kv->value);
        job->env[job->nenv++] = e;
    }
    return 0;
}

static wpool_job *job_new(raylet *r, const Rayc__RegisterDriver *m)
{
    wpool_job *job = calloc(1, sizeof *job);
    if (job == NULL)
        return NULL;
    memcpy(job->id.b, m->job_id.data, IDS_JOB_LEN);
    ids_hex(job->id.b, IDS_JOB_LEN, job->hex);
    job->cwd = strdup(m->cwd);
    job->code_path = join_paths(m);
    job->owns_job = m->owns_job;
    if (m->python_executable != NULL && m->python_executable[0] != '\0' &&
        (job->python = strdup(m->python_executable)) == NULL) {
        wpool__job_free(job);
        return NULL;
    }
    char anon[64];
    snprintf(anon, sizeof anon, "anonymous-%s", job->hex);
    job->ns = strdup(m->namespace_ && m->namespace_[0] ? m->namespace_ : anon);
    if (job->cwd == NULL || job->code_path == NULL || job->ns == NULL || copy_env(job, m) != 0) {
        wpool__job_free(job);
        return NULL;
    }
    job->next = r->wpool->jobs;
    r->wpool->jobs = job;
    return job;
}

void wpool__reply_register(raylet_client *cl, uint64_t req_id, int status, const char *error)
{
    raylet *r = cl->r;
    Rayc__Envelope env = RAYC__ENVELOPE__INIT;
    Rayc__RegisterClientReply rep = RAYC__REGISTER_CLIENT_REPLY__INIT;
    rep.status = status;
    rep.error = (char *)(error ? error : "");
    rep.node_id = (char *)r->opts->node_id;
    rep.node_ip = (char *)r->opts->node_ip;
    rep.session_name = r->session_name;
    if (cl->job != NULL) {
        rep.job_id.data = cl->job->id.b;
        rep.job_id.len = IDS_JOB_LEN;
        rep.namespace_ = cl->job->ns;
    }
    rep.num_cpus = r->wpool->ncpus;
    env.request_id = req_id;
    env.body_case = RAYC__ENVELOPE__BODY_REGISTER_CLIENT_REPLY;
    env.register_client_reply = &rep;
    raylet_client_send(cl, &env);
}

void wpool_on_register_driver(raylet_client *cl, uint64_t req_id, const Rayc__RegisterDriver *m)
{
    raylet *r = cl->r;
    char err[256];
    if (cl->kind != RAYLET_CLIENT_NEW) {
        wpool__reply_register(cl, req_id, RAY_ERR_INVALID, "this connection registered already");
        return;
    }
    if (check_driver(m, cl->is_peer, err, sizeof err) != 0) {
        wpool__reply_register(cl, req_id, RAY_ERR_INVALID, err);
        return;
    }
    ids_job id;
    memcpy(id.b, m->job_id.data, IDS_JOB_LEN);
    wpool_job *job = wpool_job_find(r, &id);
    if (job != NULL && job->ended) {
        wpool__reply_register(cl, req_id, RAY_ERR_INVALID, "this job has ended (its driver exited)");
        return;
    }
    int fresh = job == NULL;
    if (fresh && (job = job_new(r, m)) == NULL) {
        wpool__reply_register(cl, req_id, RAY_ERR_NOMEM, "the raylet is out of memory");
        return;
    }
    cl->kind = RAYLET_CLIENT_DRIVER;
    cl->pid = m->pid;
    cl->job = job;
    wpool_job_ref(job);
    if (cl->is_peer) {
        job->npeers++;
    } else {
        job->ndrivers++;
        job->had_driver = 1;
    }
    if (job->driver == NULL) {
        job->driver = cl;
        raylet_client_ref(cl);
    }
    wpool__reply_register(cl, req_id, RAY_OK, NULL);
    log_info("job %s: driver pid %d registered (working_dir %s, code search path %s)",
             job->hex, m->pid, job->cwd, job->code_path);
    if (fresh)
        wpool__prestart(r, job);
}

/* ---------------------------------------------------------------- ending */

static void mark_finished_cb(raylet *r, Rayc__Envelope *reply_env, void *data)
{
    (void)r;
    (void)reply_env;
    (void)data;
}

void wpool__job_end(raylet *r, wpool_job *job)
{
    job->ended = 1;
    log_info("job %s ended: stopping its %zu workers", job->hex, job->nworkers);
    sched_job_gone(r, job);
    actor_job_gone(r, job);
    actor_remote_job_gone(r, job);
    for (wpool_worker *w = r->wpool->workers; w != NULL; w = w->next)
        if (w->job == job && !w->lost && (w->actor == NULL || w->state == WPOOL_IDLE))
            wpool_worker_kill(r, w, 0, "its job ended");
    peer_close_job(r, &job->id, "the job ended");
    if (job->owns_job) {
        Rayc__Envelope env = RAYC__ENVELOPE__INIT;
        Rayc__MarkJobFinished fin = RAYC__MARK_JOB_FINISHED__INIT;
        fin.job_id = job->hex;
        env.body_case = RAYC__ENVELOPE__BODY_MARK_JOB_FINISHED;
        env.mark_job_finished = &fin;
        raylet_gcs_call(r, &env, mark_finished_cb, NULL);
    }
}

void wpool_driver_gone(raylet *r, raylet_client *cl)
{
    wpool_job *job = cl->job;
    if (job == NULL)
        return;
    if (job->driver == cl) {
        job->driver = NULL;
        raylet_client_unref(cl);
    }
    /* The job ends with its last driver process on the node it started
     * from; on other nodes it lives while raylets that run it for a driver
     * are connected (they close when it ends there). */
    if (cl->is_peer && job->npeers > 0)
        job->npeers--;
    else if (!cl->is_peer && job->ndrivers > 0)
        job->ndrivers--;
    else
        return;
    if (job->ndrivers == 0 && !job->ended && (job->had_driver || job->npeers == 0))
        wpool__job_end(r, job);
}

void wpool__reap_jobs(raylet *r)
{
    for (wpool_job **p = &r->wpool->jobs; *p != NULL;) {
        wpool_job *j = *p;
        if (j->ended && j->refs == 0) {
            *p = j->next;
            wpool__job_free(j);
        } else {
            p = &j->next;
        }
    }
}
