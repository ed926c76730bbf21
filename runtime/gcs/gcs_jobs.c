/* GCS job requests: next job id, add, mark finished, list. */
#include "gcs/gcs_server.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/log.h"
#include "common/util.h"

void gcs_job_id_format(uint32_t num, char out[9])
{
    snprintf(out, 9, "%02x%02x%02x%02x", (unsigned)(num & 0xff), (unsigned)((num >> 8) & 0xff),
             (unsigned)((num >> 16) & 0xff), (unsigned)(num >> 24));
}

static void store_failed(gcs_client *cl, uint64_t id, const char *op, int rc)
{
    gcs_reply_error(cl, id, RPC_E_INTERNAL, "%s failed: %s", op,
                    rc == -ENOMEM ? "out of memory" : gcs_store_errmsg(cl->srv->store));
}

void gcs_handle_next_job_id(gcs_client *cl, uint64_t id)
{
    uint32_t num;
    int rc = gcs_store_next_job_number(cl->srv->store, &num);
    if (rc == -EOVERFLOW) {
        gcs_reply_error(cl, id, RPC_E_INTERNAL, "get_next_job_id: job ids are used up");
        return;
    }
    if (rc != 0) {
        store_failed(cl, id, "get_next_job_id", rc);
        return;
    }
    char job_id[9];
    gcs_job_id_format(num, job_id);
    Rayc__GetNextJobIdReply r = RAYC__GET_NEXT_JOB_ID_REPLY__INIT;
    r.job_id = job_id;
    Rayc__Envelope env = RAYC__ENVELOPE__INIT;
    env.body_case = RAYC__ENVELOPE__BODY_GET_NEXT_JOB_ID_REPLY;
    env.get_next_job_id_reply = &r;
    gcs_reply(cl, id, &env);
}

void gcs_handle_add_job(gcs_client *cl, uint64_t id, const Rayc__AddJob *req)
{
    gcs_server *srv = cl->srv;
    if (req->job == NULL || !gcs_valid_id(req->job->job_id)) {
        gcs_reply_error(cl, id, RPC_E_INVALID, "add_job: job_id is missing or not a valid id");
        return;
    }
    Rayc__JobInfo job = *req->job;
    if (job.start_time_ms <= 0)
        job.start_time_ms = time_now_ms();
    int rc = gcs_store_job_put(srv->store, &job);
    if (rc != 0) {
        store_failed(cl, id, "add_job", rc);
        return;
    }
    log_info("job %s added: driver %.64s pid %d", job.job_id, job.driver_address, job.driver_pid);
    Rayc__AddJobReply r = RAYC__ADD_JOB_REPLY__INIT;
    r.job_id = job.job_id;
    Rayc__Envelope env = RAYC__ENVELOPE__INIT;
    env.body_case = RAYC__ENVELOPE__BODY_ADD_JOB_REPLY;
    env.add_job_reply = &r;
    gcs_reply(cl, id, &env);
    gcs_publish_job(srv, &job);
}

/* Marks the stored job JOB finished (idempotent).  Returns 0 or a store code. */
static int finish_job(gcs_server *srv, Rayc__JobInfo *job)
{
    if (job->is_dead)
        return 0;
    job->is_dead = 1;
    job->end_time_ms = time_now_ms();
    int rc = gcs_store_job_put(srv->store, job);
    if (rc == 0) {
        log_info("job %s finished", job->job_id);
        gcs_publish_job(srv, job);
    }
    return rc;
}

void gcs_handle_mark_job_finished(gcs_client *cl, uint64_t id, const Rayc__MarkJobFinished *req)
{
    Rayc__JobInfo *job = NULL;
    int rc = gcs_valid_id(req->job_id) ? gcs_store_job_get(cl->srv->store, req->job_id, &job)
                                       : -ENOENT;
    if (rc == -ENOENT) {
        gcs_reply_error(cl, id, RPC_E_INVALID, "job %.*s does not exist", GCS_MAX_ID_LEN,
                        req->job_id);
        return;
    }
    if (rc == 0)
        rc = finish_job(cl->srv, job);
    if (rc != 0) {
        store_failed(cl, id, "mark_job_finished", rc);
    } else {
        Rayc__MarkJobFinishedReply r = RAYC__MARK_JOB_FINISHED_REPLY__INIT;
        Rayc__Envelope env = RAYC__ENVELOPE__INIT;
        env.body_case = RAYC__ENVELOPE__BODY_MARK_JOB_FINISHED_REPLY;
        env.mark_job_finished_reply = &r;
        gcs_reply(cl, id, &env);
        gcs_pg_job_finished(cl->srv, req->job_id);
    }
    if (job != NULL)
        rayc__job_info__free_unpacked(job, NULL);
}

/* ---------------------------------------------------------------- list */

typedef struct job_list {
    Rayc__JobInfo **jobs;
    size_t n, alloc;
} job_list;

static int collect_job(Rayc__JobInfo *j, void *data)
{
    job_list *l = data;
    if (l->n == l->alloc) {
        size_t n = l->alloc ? 2 * l->alloc : 32;
        Rayc__JobInfo **p = realloc(l->jobs, n * sizeof *p);
        if (p == NULL) {
            rayc__job_info__free_unpacked(j, NULL);
            return -ENOMEM;
        }
        l->jobs = p;
        l->alloc = n;
    }
    l->jobs[l->n++] = j;
    return 0;
}

void gcs_handle_get_all_jobs(gcs_client *cl, uint64_t id)
{
    job_list l = {0};
    int rc = gcs_store_jobs_load(cl->srv->store, collect_job, &l);
    if (rc != 0) {
        store_failed(cl, id, "get_all_jobs", rc);
    } else {
        Rayc__JobList r = RAYC__JOB_LIST__INIT;
        r.n_jobs = l.n;
        r.jobs = l.jobs;
        Rayc__Envelope env = RAYC__ENVELOPE__INIT;
        env.body_case = RAYC__ENVELOPE__BODY_JOB_LIST;
        env.job_list = &r;
        gcs_reply(cl, id, &env);
    }
    for (size_t i = 0; i < l.n; i++)
        rayc__job_info__free_unpacked(l.jobs[i], NULL);
    free(l.jobs);
}
