/* The loop half of forwarding jobs: when to look for a node, what a forwarded
 * job's row shows (refreshed from its agent about once a second), and stop
 * and delete requests passed on to the agent. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/net.h"
#include "common/util.h"
#include "jobserver/jobs_logs.h"
#include "jobserver/jobs_remote.h"

static void op_free(remote_op *op)
{
    free(op->custom_json);
    free(op->submit_body);
    for (size_t i = 0; i < op->npackages; i++)
        free(op->packages[i]);
    free(op->message);
    free(op->error_type);
    free(op->job_id);
    free(op);
}

static remote_op *op_new(jobs_server *srv, enum remote_kind kind, const char *id)
{
    remote_op *op = calloc(1, sizeof *op);
    if (op == NULL)
        return NULL;
    op->srv = srv;
    op->kind = kind;
    op->work.data = op;
    str_copy(op->id, sizeof op->id, id);
    str_copy(op->agent.token, sizeof op->agent.token, srv->token);
    return op;
}

/* Queues OP; on failure runs DONE at once with an error status. */
static void op_queue(remote_op *op, uv_after_work_cb done)
{
    if (uv_queue_work(op->srv->loop, &op->work, jobs__remote_work, done) != 0) {
        snprintf(op->err, sizeof op->err, "cannot queue work");
        op->rc = -EIO;
        done(&op->work, UV_ECANCELED);
    }
}

/* The live run OP was made for, or NULL when that run has ended. */
static jobs_run *op_run(remote_op *op)
{
    jobs_job *j = jobs_table_get(op->srv->table, op->id);
    return j != NULL && j->run != NULL && j->run->remote_op == op ? j->run : NULL;
}

int jobs__remote_enabled(const jobs_server *srv)
{
    return !srv->is_agent && srv->gcs_address[0] != '\0';
}

int jobs__remote_is(const jobs_server *srv, const jobs_job *j)
{
    return j->driver_node_id != NULL && j->driver_agent_http_address != NULL &&
           strcmp(j->driver_node_id, srv->node_id) != 0;
}

/* ---------------------------------------------------------------- fire and forget */

static void simple_done(uv_work_t *w, int status)
{
    remote_op *op = w->data;
    if (status != 0 || op->rc != 0)
        log_warn("job %s: the job agent at %s:%d: %s", op->id, op->agent.host, op->agent.port,
                 op->err[0] ? op->err : "no answer");
    op_free(op);
}

/* Sends KIND for job ID to the agent at ADDRESS. */
static void send_simple(jobs_server *srv, enum remote_kind kind, const jobs_job *j,
                        const char *address)
{
    remote_op *op = op_new(srv, kind, j->submission_id);
    if (op == NULL)
        return;
    if (jobs__remote_parse_address(address, &op->agent) != 0) {
        log_warn("job %s: bad agent address %s", j->submission_id, address);
        op_free(op);
        return;
    }
    op_queue(op, simple_done);
}

void jobs__remote_stop(jobs_server *srv, const jobs_job *j)
{
    send_simple(srv, REMOTE_STOP, j, j->driver_agent_http_address);
}

void jobs__remote_delete(jobs_server *srv, const jobs_job *j)
{
    send_simple(srv, REMOTE_DELETE, j, j->driver_agent_http_address);
}

/* ---------------------------------------------------------------- placing */

/* The submission as Ray's JobSubmitRequest, for the agent.  NULL when out of memory. */
static char *submit_body(const jobs_job *j)
{
    json_t *o = json_object();
    json_object_set_new(o, "entrypoint", json_string(j->entrypoint ? j->entrypoint : ""));
    json_object_set_new(o, "submission_id", json_string(j->submission_id));
    if (j->runtime_env_json != NULL)
        json_object_set_new(o, "runtime_env", json_loads(j->runtime_env_json, 0, NULL));
    if (j->metadata_json != NULL)
        json_object_set_new(o, "metadata", json_loads(j->metadata_json, 0, NULL));
    if (j->resources_json != NULL)
        json_object_set_new(o, "entrypoint_resources", json_loads(j->resources_json, 0, NULL));
    if (j->num_cpus > 0)
        json_object_set_new(o, "entrypoint_num_cpus", json_real(j->num_cpus));
    if (j->num_gpus > 0)
        json_object_set_new(o, "entrypoint_num_gpus", json_real(j->num_gpus));
    if (j->memory > 0)
        json_object_set_new(o, "entrypoint_memory", json_integer(j->memory));
    char *text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return text;
}

/* Adds the gcs:// package of URI (may be NULL) to OP. */
static void add_package(remote_op *op, const char *uri)
{
    if (uri == NULL || strncmp(uri, "gcs://", 6) != 0 || op->npackages >= REMOTE_MAX_PACKAGES)
        return;
    char *name = strdup(uri + 6);
    if (name != NULL)
        op->packages[op->npackages++] = name;
}

static remote_op *place_op(jobs_run *run)
{
    jobs_server *srv = run->srv;
    jobs_job *j = run->job;
    remote_op *op = op_new(srv, REMOTE_PLACE, j->submission_id);
    if (op == NULL)
        return NULL;
    if (net_parse_hostport(srv->gcs_address, 6379, op->gcs_host, sizeof op->gcs_host,
                           &op->gcs_port) != 0 ||
        (op->submit_body = submit_body(j)) == NULL ||
        (j->resources_json != NULL && (op->custom_json = strdup(j->resources_json)) == NULL)) {
        op_free(op);
        return NULL;
    }
    str_copy(op->self_node, sizeof op->self_node, srv->node_id);
    str_copy(op->packages_dir, sizeof op->packages_dir, srv->packages_dir);
    op->cpus = j->num_cpus;
    op->gpus = j->num_gpus;
    op->memory = (double)j->memory;
    add_package(op, run->spec.working_dir);
    for (size_t i = 0; i < run->spec.n_py_modules; i++)
        add_package(op, run->spec.py_modules[i]);
    return op;
}

static void place_retry_cb(uv_timer_t *t)
{
    jobs_run *run = t->data;
    if (run->phase == RUN_RESOURCES)
        jobs__remote_place(run);
}

/* Records where RUN went and starts following it. */
static void placed(jobs_run *run, remote_op *op)
{
    jobs_server *srv = run->srv;
    jobs_job *j = run->job;
    char addr[300];
    jobs__waiting_remove(srv, run);
    uv_timer_stop(&run->start_timer);
    run->phase = RUN_REMOTE;
    snprintf(addr, sizeof addr, "http://%s:%d", op->agent.host, op->agent.port);
    jobs_job_set(j, &j->driver_agent_http_address, addr);
    jobs_job_set(j, &j->driver_node_id, op->node_id);
    jobs_job_set(j, &j->driver_ip, op->node_ip);
    jobs_sup_save(srv, j);
    /* The agent writes the job's whole driver log (its own first line
     * included); the head's copy mirrors it from the first byte. */
    char path[PATH_MAX];
    jobs_log_path(srv->logs_dir, j->submission_id, path, sizeof path);
    if (truncate(path, 0) != 0 && errno != ENOENT)
        log_warn("job %s: cannot reset its log copy: %s", j->submission_id, strerror(errno));
    log_info("job %s: forwarded to node %s (agent %s)", j->submission_id, op->node_id, addr);
    jobs__remote_follow(run);
}

static void place_done(uv_work_t *w, int status)
{
    remote_op *op = w->data;
    jobs_run *run = op_run(op);
    if (run != NULL)
        run->remote_op = NULL;
    if (status != 0)
        op->placed = 0;
    if (run == NULL || run->phase != RUN_RESOURCES) {
        if (op->placed == 1) {
            /* Stopped or deleted while it was being forwarded: stop it there too. */
            remote_op *stop = op_new(op->srv, REMOTE_STOP, op->id);
            if (stop != NULL) {
                stop->agent = op->agent;
                op_queue(stop, simple_done);
            }
        }
    } else if (op->placed == 1) {
        placed(run, op);
    } else if (op->placed < 0) {
        jobs__run_finish(run, JOBS_FAILED, op->err, JOBS_ERR_START, 0, 0);
    } else {
        if (op->err[0] != '\0')
            log_warn("job %s: cannot forward it yet: %s", op->id, op->err);
        else if (!run->wait_logged)
            log_info("job %s: no node has its entrypoint resources free now; it waits",
                     op->id);
        run->wait_logged = 1;
        uv_timer_start(&run->aux_timer, place_retry_cb, REMOTE_PLACE_RETRY_MS, 0);
    }
    op_free(op);
}

void jobs__remote_place(jobs_run *run)
{
    if (run->remote_op != NULL || !jobs__remote_enabled(run->srv))
        return;
    remote_op *op = place_op(run);
    if (op == NULL) {
        uv_timer_start(&run->aux_timer, place_retry_cb, REMOTE_PLACE_RETRY_MS, 0);
        return;
    }
    run->remote_op = op;
    op_queue(op, place_done);
}

/* ---------------------------------------------------------------- following */

static void poll_tick(uv_timer_t *t);

/* Copies the agent's view in OP into J; returns non-zero when J changed. */
static int apply_details(jobs_job *j, remote_op *op)
{
    int changed = j->status != op->status || j->start_time != op->start_time ||
                  j->driver_pid != op->driver_pid ||
                  (op->message != NULL) != (j->message != NULL) ||
                  (op->message != NULL && strcmp(op->message, j->message) != 0) ||
                  (op->job_id != NULL && (j->job_id == NULL || strcmp(op->job_id, j->job_id)));
    if (!changed)
        return 0;
    j->status = op->status;
    if (op->start_time > 0)
        j->start_time = op->start_time;
    j->driver_pid = op->driver_pid;
    jobs_job_set(j, &j->message, op->message);
    jobs_job_set(j, &j->error_type, op->error_type);
    if (op->job_id != NULL)
        jobs_job_set(j, &j->job_id, op->job_id);
    return 1;
}

/* Ends RUN with the agent's terminal view in OP. */
static void finish_remote(jobs_run *run, remote_op *op)
{
    jobs_job *j = run->job;
    if (op->job_id != NULL)
        jobs_job_set(j, &j->job_id, op->job_id);
    if (op->start_time > 0)
        j->start_time = op->start_time;
    j->driver_pid = op->driver_pid;
    jobs__run_finish(run, op->status, op->message, op->error_type, op->has_code, op->code);
    if (op->end_time > 0 && j->end_time != op->end_time) {
        j->end_time = op->end_time;
        jobs_sup_save(run->srv, j);
    }
}

static void poll_done(uv_work_t *w, int status)
{
    remote_op *op = w->data;
    jobs_run *run = op_run(op);
    if (run == NULL || run->phase != RUN_REMOTE) {
        op_free(op);
        return;
    }
    run->remote_op = NULL;
    jobs_job *j = run->job;
    if (status != 0 || (op->rc != 0 && op->rc != -ENOENT)) {
        if (++run->remote_failures == 1 || run->remote_failures % 10 == 0)
            log_warn("job %s: cannot reach its job agent: %s", op->id, op->err);
        if (run->remote_failures >= REMOTE_LOST_AFTER) {
            char msg[700];
            snprintf(msg, sizeof msg, "Lost contact with the job's node %s (its job agent at %s "
                     "did not answer for %d seconds): %s", j->driver_node_id,
                     j->driver_agent_http_address, REMOTE_LOST_AFTER * REMOTE_POLL_MS / 1000,
                     op->err);
            jobs__run_finish(run, JOBS_FAILED, msg, JOBS_ERR_SUPERVISOR_DIED, 0, 0);
        } else {
            uv_timer_start(&run->aux_timer, poll_tick, REMOTE_POLL_MS, 0);
        }
    } else if (op->rc == -ENOENT) {
        jobs__run_finish(run, JOBS_FAILED, "The job's node no longer knows the job (its job "
                         "agent answered 404).", JOBS_ERR_SUPERVISOR_DIED, 0, 0);
    } else if (jobs_status_terminal(op->status)) {
        finish_remote(run, op);
    } else {
        run->remote_failures = 0;
        if (apply_details(j, op))
            jobs_sup_save(run->srv, j);
        uv_timer_start(&run->aux_timer, poll_tick, REMOTE_POLL_MS, 0);
    }
    op_free(op);
}

static void poll_tick(uv_timer_t *t)
{
    jobs_run *run = t->data;
    jobs_job *j = run->job;
    if (run->phase != RUN_REMOTE || run->remote_op != NULL)
        return;
    remote_op *op = op_new(run->srv, REMOTE_POLL, j->submission_id);
    if (op == NULL || jobs__remote_parse_address(j->driver_agent_http_address, &op->agent) != 0) {
        if (op != NULL)
            op_free(op);
        jobs__run_finish(run, JOBS_FAILED, "The job's agent address is not usable.",
                         JOBS_ERR_SUPERVISOR_DIED, 0, 0);
        return;
    }
    jobs_log_path(run->srv->logs_dir, j->submission_id, op->log_path, sizeof op->log_path);
    run->remote_op = op;
    op_queue(op, poll_done);
}

void jobs__remote_follow(jobs_run *run)
{
    run->phase = RUN_REMOTE;
    uv_timer_start(&run->aux_timer, poll_tick, 0, 0);
}
