/* The supervisor: a job's life from PENDING (resources, runtime_env, job id)
 * to its terminal status, stop requests, and deletion. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "jobserver/jobs_id.h"
#include "jobserver/jobs_logs.h"
#include "jobserver/jobs_remote.h"
#include "jobserver/jobs_reserve.h"
#include "jobserver/jobs_run.h"
#include "jobserver/jobs_server.h"

static void run_next_phase(jobs_run *run);

/* ---------------------------------------------------------------- saving */

int jobs_sup_save(jobs_server *srv, jobs_job *j)
{
    jobs_job_touch(j);
    int rc = jobs_store_update(srv->store, j);
    if (rc != 0)
        log_error("job %s: cannot write the job store: %s", j->submission_id,
                  jobs_store_errmsg(srv->store));
    return rc;
}

void jobs__pid_path(const jobs_server *srv, const char *id, char *out, size_t outlen)
{
    fs_path_join_ext(out, outlen, srv->state_dir, id, ".pid");   /* too long: "", no file */
}

void jobs__exit_path(const jobs_server *srv, const char *id, char *out, size_t outlen)
{
    fs_path_join_ext(out, outlen, srv->state_dir, id, ".exit");
}

static void remove_state_files(const jobs_server *srv, const char *id)
{
    char path[PATH_MAX];
    jobs__pid_path(srv, id, path, sizeof path);
    unlink(path);
    jobs__exit_path(srv, id, path, sizeof path);
    unlink(path);
}

/* ---------------------------------------------------------------- run objects */

static void run_handle_closed(uv_handle_t *h)
{
    jobs_run *run = h->data;
    if (--run->open_handles > 0)
        return;
    run->srv->live_runs--;
    renv_spec_free(&run->spec);
    free(run);
}

jobs_run *jobs__run_new(jobs_server *srv, jobs_job *j)
{
    jobs_run *run = calloc(1, sizeof *run);
    if (run == NULL)
        return NULL;
    run->srv = srv;
    run->job = j;
    run->phase = RUN_RESOURCES;
    run->req.cpus = j->num_cpus;
    run->req.gpus = j->num_gpus;
    run->req.memory = (double)j->memory;
    run->req.custom_json = j->resources_json;
    uv_timer_init(srv->loop, &run->start_timer);
    uv_timer_init(srv->loop, &run->aux_timer);
    run->start_timer.data = run->aux_timer.data = run;
    run->open_handles = 2;
    j->run = run;
    srv->live_runs++;
    return run;
}

/* Closes the handles of an ended run; it frees itself afterwards. */
static void run_release(jobs_run *run)
{
    uv_close((uv_handle_t *)&run->start_timer, run_handle_closed);
    uv_close((uv_handle_t *)&run->aux_timer, run_handle_closed);
    if (run->proc_live) {
        run->proc_live = 0;
        jobs_child_close(&run->proc, run_handle_closed);
    }
}

void jobs__run_detach(jobs_run *run)
{
    if (run->phase == RUN_RESOURCES)
        jobs__waiting_remove(run->srv, run);
    run->phase = RUN_ENDED;
    run->job->run = NULL;
    run_release(run);
}

/* ---------------------------------------------------------------- resources queue */

void jobs__waiting_remove(jobs_server *srv, jobs_run *run)
{
    for (jobs_run **pp = &srv->waiting; *pp != NULL; pp = &(*pp)->next_waiting) {
        if (*pp == run) {
            *pp = run->next_waiting;
            run->next_waiting = NULL;
            return;
        }
    }
}

/* Takes RUN's entrypoint resources: the ledger, then (with a raylet) the
 * raylet's reservation.  Returns 1 when the run may go on now, 0 when it
 * waits for the raylet's answer (jobs__reserve_answer), -1 when they are
 * not free here now. */
static int take_resources(jobs_run *run)
{
    jobs_server *srv = run->srv;
    if (jobs_resources_acquire(&srv->res, &run->req) != 0)
        return -1;
    run->holds_resources = 1;
    if (!jobs_reserve_enabled(srv))
        return 1;
    if (jobs_reserve_take(srv, run->job->submission_id, &run->req) != 0) {
        jobs_resources_release(&srv->res, &run->req);
        run->holds_resources = 0;
        return -1;
    }
    run->reserving = 1;
    return 0;
}

/* Gives back what take_resources took (or asked for). */
static void give_resources(jobs_run *run)
{
    if (!run->holds_resources)
        return;
    run->holds_resources = 0;
    run->reserving = 0;
    jobs_resources_release(&run->srv->res, &run->req);
    jobs_reserve_give(run->srv, run->job->submission_id);
}

void jobs__waiting_retry(jobs_server *srv)
{
    jobs_run **pp = &srv->waiting;
    while (*pp != NULL) {
        jobs_run *run = *pp;
        /* A run being forwarded waits for that attempt's answer. */
        int rc = run->remote_op != NULL ? -1 : take_resources(run);
        if (rc < 0) {
            pp = &run->next_waiting;
            continue;
        }
        *pp = run->next_waiting;
        run->next_waiting = NULL;
        if (rc == 1) {
            run->phase = RUN_SETUP;
            run_next_phase(run);
        }
    }
}

static void wait_for_resources(jobs_run *run);

void jobs__reserve_answer(jobs_server *srv, const char *key, int ok, const char *err)
{
    jobs_job *j = jobs_table_get(srv->table, key);
    jobs_run *run = j != NULL ? j->run : NULL;
    if (run == NULL || !run->holds_resources) {
        if (ok)
            jobs_reserve_give(srv, key);   /* ended meanwhile */
        return;
    }
    if (!run->reserving) {
        /* Taken again after a reconnect, for a job that is running already. */
        if (!ok)
            log_warn("job %s: the raylet could not reserve its entrypoint resources again: %s",
                     key, err ? err : "");
        return;
    }
    run->reserving = 0;
    if (run->phase != RUN_RESOURCES) {
        give_resources(run);   /* forwarded to another node meanwhile */
        return;
    }
    if (ok) {
        run->phase = RUN_SETUP;
        run_next_phase(run);
        return;
    }
    log_info("job %s: entrypoint resources not reserved on this node: %s", key, err ? err : "");
    run->holds_resources = 0;
    jobs_resources_release(&srv->res, &run->req);
    wait_for_resources(run);
}

void jobs__reserve_link_lost(jobs_server *srv)
{
    /* Asks in flight get no answer: those runs wait and ask again. */
    for (jobs_job *j = jobs_table_first(srv->table); j != NULL; j = jobs_table_next(srv->table, j)) {
        jobs_run *run = j->run;
        if (run != NULL && run->reserving && run->phase == RUN_RESOURCES) {
            run->reserving = 0;
            run->holds_resources = 0;
            jobs_resources_release(&srv->res, &run->req);
            wait_for_resources(run);
        }
    }
}

static void phase_resources(jobs_run *run)
{
    if (!jobs_job_wants_resources(run->job)) {
        run->phase = RUN_SETUP;
        run_next_phase(run);
        return;
    }
    int rc = take_resources(run);
    if (rc == 1) {
        run->phase = RUN_SETUP;
        run_next_phase(run);
    } else if (rc < 0) {
        wait_for_resources(run);
    }
}

/* Queues RUN until resources are free here, and looks at other nodes. */
static void wait_for_resources(jobs_run *run)
{
    jobs_server *srv = run->srv;
    if (jobs_resources_infeasible(&srv->res, &run->req) && !jobs__remote_enabled(srv))
        log_warn("job %s: its entrypoint resources exceed this node's; it waits until "
                 "the start timeout", run->job->submission_id);
    log_info("job %s: queued until its entrypoint resources are free", run->job->submission_id);
    jobs_run **pp = &srv->waiting;
    while (*pp != NULL)
        pp = &(*pp)->next_waiting;
    *pp = run;
    /* Not here now: another node's job agent may have the resources free. */
    jobs__remote_place(run);
}

/* ---------------------------------------------------------------- runtime_env */

/* Fails RUN as Ray fails a job whose RuntimeEnvSetupError carries DETAIL. */
static void renv_failed(jobs_run *run, const char *detail)
{
    char msg[2400];
    snprintf(msg, sizeof msg, "runtime_env setup failed: %s\n%s", JOBS_MSG_RENV_FAILED, detail);
    jobs__run_finish(run, JOBS_FAILED, msg, JOBS_ERR_RUNTIME_ENV, 0, 0);
}

static void setup_timeout_cb(uv_timer_t *t)
{
    jobs_run *run = t->data;
    char detail[512];
    /* Ray's runtime_env agent hint, then the exception's type and reason. */
    snprintf(detail, sizeof detail,
             "Failed due to timeout; check runtime_env setup logs and consider increasing "
             "`setup_timeout_seconds` beyond the default of %d.For example: \n"
             "    runtime_env={\"config\": {\"setup_timeout_seconds\": 1800}, ...}\n"
             "TimeoutError: the runtime environment was not ready after %d seconds",
             RENV_DEFAULT_SETUP_TIMEOUT_S, run->spec.setup_timeout_s);
    renv_failed(run, detail);
}

static void setup_done(void *arg, int rc, const char *err, const renv_result *res)
{
    jobs_run *run = arg;
    uv_timer_stop(&run->aux_timer);
    if (rc != 0) {
        renv_failed(run, err);
        return;
    }
    run->env = res;
    run->phase = RUN_JOB_ID;
    run_next_phase(run);
}

static void phase_setup(jobs_run *run)
{
    char log_path[PATH_MAX];
    jobs_log_path(run->srv->logs_dir, run->job->submission_id, log_path, sizeof log_path);
    if (renv_setup_start(run->srv->renv, &run->spec, log_path, setup_done, run,
                         &run->setup) != 0) {
        renv_failed(run, "out of memory");
        return;
    }
    if (run->spec.setup_timeout_s > 0)
        uv_timer_start(&run->aux_timer, setup_timeout_cb,
                       (uint64_t)run->spec.setup_timeout_s * 1000, 0);
}

/* ---------------------------------------------------------------- job id */

static void job_id_cb(jobs_server *srv, const char *submission_id, const char *job_id)
{
    jobs_job *j = jobs_table_get(srv->table, submission_id);
    if (j == NULL || j->run == NULL || j->run->phase != RUN_JOB_ID)
        return;   /* stopped or deleted meanwhile */
    if (*job_id != '\0')
        jobs_job_set(j, &j->job_id, job_id);
    jobs__spawn(j->run);
}

/* ---------------------------------------------------------------- phases */

static void run_next_phase(jobs_run *run)
{
    switch (run->phase) {
    case RUN_RESOURCES: phase_resources(run); break;
    case RUN_SETUP: phase_setup(run); break;
    case RUN_JOB_ID: jobs_gcs_next_job_id(run->srv, run->job, job_id_cb); break;
    default: break;
    }
}

static void start_timeout_cb(uv_timer_t *t)
{
    jobs_run *run = t->data;
    if (run->phase >= RUN_RUNNING)
        return;
    char msg[1024];
    int n = snprintf(msg, sizeof msg,
                     "Job supervisor actor failed to start within %.1f seconds. This timeout "
                     "can be configured by setting the environment variable "
                     "RAY_JOB_START_TIMEOUT_SECONDS.",
                     run->srv->start_timeout_ms / 1000.0);
    if (jobs_job_wants_resources(run->job) && n > 0 && (size_t)n < sizeof msg)
        snprintf(msg + n, sizeof msg - (size_t)n,
                 " This may be because the job entrypoint's specified resources "
                 "(entrypoint_num_cpus, entrypoint_num_gpus, entrypoint_resources, "
                 "entrypoint_memory) aren't available on the cluster. Try checking the "
                 "cluster's available resources with `ray status` and specifying fewer "
                 "resources for the job entrypoint.");
    jobs__run_finish(run, JOBS_FAILED, msg, JOBS_ERR_START_TIMEOUT, 0, 0);
}

void jobs__run_begin(jobs_run *run)
{
    char err[512];
    run->phase = RUN_RESOURCES;
    renv_spec_free(&run->spec);
    if (renv_spec_parse(run->job->runtime_env_json, &run->spec, err, sizeof err) != 0) {
        renv_failed(run, err);
        return;
    }
    if (run->srv->start_timeout_ms > 0)
        uv_timer_start(&run->start_timer, start_timeout_cb, (uint64_t)run->srv->start_timeout_ms, 0);
    run_next_phase(run);
}

/* ---------------------------------------------------------------- finishing */

void jobs__run_finish(jobs_run *run, enum jobs_status status, const char *message,
                      const char *error_type, int has_code, int code)
{
    jobs_server *srv = run->srv;
    jobs_job *j = run->job;
    if (run->phase == RUN_ENDED)
        return;
    int remote = run->phase == RUN_REMOTE;
    if (run->phase == RUN_RESOURCES)
        jobs__waiting_remove(srv, run);
    run->phase = RUN_ENDED;
    uv_timer_stop(&run->start_timer);
    uv_timer_stop(&run->aux_timer);
    renv_setup_free(run->setup);
    run->setup = NULL;
    run->env = NULL;
    j->status = status;
    j->end_time = time_now_ms();
    jobs_job_set(j, &j->message, message);
    jobs_job_set(j, &j->error_type, error_type);
    j->has_exit_code = has_code;
    j->exit_code = code;
    jobs_sup_save(srv, j);
    /* A forwarded job's log is the agent's copy, which already has the reason. */
    if (!remote && error_type != NULL && strcmp(error_type, JOBS_ERR_ENTRYPOINT) != 0 &&
        message != NULL) {
        /* As Ray does: the reason also goes to the driver log, where users look. */
        char path[PATH_MAX];
        jobs_log_path(srv->logs_dir, j->submission_id, path, sizeof path);
        jobs_log_append(path, message);
        jobs_log_append(path, "\n");
    }
    log_info("job %s: %s%s%.*s", j->submission_id, jobs_status_name(status),
             message ? ": " : "", message ? (int)strcspn(message, "\n") : 0,
             message ? message : "");
    if (j->job_id != NULL && !remote)
        jobs_gcs_job_finished(srv, j);   /* the agent tells the GCS about its own */
    remove_state_files(srv, j->submission_id);
    j->run = NULL;
    if (run->holds_resources) {
        give_resources(run);
        jobs__waiting_retry(srv);
    }
    run_release(run);
}

/* The FAILED message for exit CODE: Ray's wording with the log's last lines. */
static void failed_message(jobs_run *run, long code, char **out)
{
    char path[PATH_MAX], *tail = NULL;
    jobs_log_path(run->srv->logs_dir, run->job->submission_id, path, sizeof path);
    jobs_log_tail_lines(path, JOBS_LOG_TAIL_LINES, JOBS_LOG_TAIL_CHARS, &tail);
    size_t n = (tail ? strlen(tail) : 0) + 300;
    *out = malloc(n);
    if (*out == NULL) {
        free(tail);
        return;
    }
    const char *full = jobs_log_disk_full(run->srv->logs_dir)
                           ? "the disk holding the job logs is full (No space left on device); "
                           : "";
    if (tail != NULL && *tail != '\0')
        snprintf(*out, n, "Job entrypoint command failed with exit code %ld, %slast available "
                          "logs (truncated to 20,000 chars):\n%s", code, full, tail);
    else if (*full != '\0')
        snprintf(*out, n, "Job entrypoint command failed with exit code %ld, %sno logs available.",
                 code, full);
    else
        snprintf(*out, n, "Job entrypoint command failed with exit code %ld. No logs available.",
                 code);
    free(tail);
}

void jobs__run_exited(jobs_run *run, int have_code, long code)
{
    jobs_job *j = run->job;
    if (j->stop_requested) {
        /* Leftovers of a stopped job (grandchildren that ignored the signal). */
        if (j->pid > 0)
            kill(-j->pid, SIGKILL);
        jobs__run_finish(run, JOBS_STOPPED, NULL, NULL, 0, 0);
    } else if (!have_code) {
        jobs__run_finish(run, JOBS_FAILED,
                         "The job's entrypoint process ended without recording an exit "
                         "status (it may have been killed with its job wrapper).",
                         JOBS_ERR_SUPERVISOR_DIED, 0, 0);
    } else if (code == 0) {
        jobs__run_finish(run, JOBS_SUCCEEDED, NULL, NULL, 1, 0);
    } else {
        char *msg = NULL;
        failed_message(run, code, &msg);
        jobs__run_finish(run, JOBS_FAILED, msg ? msg : "Job entrypoint command failed.",
                         JOBS_ERR_ENTRYPOINT, 1, (int)code);
        free(msg);
    }
}

/* ---------------------------------------------------------------- submit / stop / delete */

/* Ray's driver-log line "<time>\tINFO <where> -- TEXT" into OUT. */
static void log_line(const char *text, char *out, size_t outlen)
{
    int64_t now = time_now_ms();
    time_t secs = (time_t)(now / 1000);
    struct tm tm;
    char stamp[32];
    localtime_r(&secs, &tm);
    strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", &tm);
    snprintf(out, outlen, "%s,%03d\tINFO jobs_supervisor.c -- %s\n", stamp, (int)(now % 1000),
             text);
}

static int prepare_log(jobs_server *srv, const char *id)
{
    char path[PATH_MAX], line[128];
    jobs_log_path(srv->logs_dir, id, path, sizeof path);
    /* A reused id (after a delete) starts with a fresh log, owner-only, whose
     * first line is Ray's, as in Ray, while the runtime_env is set up. */
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return -errno;
    log_line(JOBS_MSG_RENV_SETTING_UP, line, sizeof line);
    size_t len = strlen(line);
    ssize_t n = write(fd, line, len);
    int rc = n == (ssize_t)len ? 0 : (n < 0 ? -errno : -ENOSPC);
    close(fd);
    if (rc != 0)
        return rc;
    remove_state_files(srv, id);
    return 0;
}

static jobs_job *job_from_request(jobs_submit_req *req)
{
    jobs_job *j = jobs_job_new();
    if (j == NULL)
        return NULL;
    str_copy(j->submission_id, sizeof j->submission_id, req->submission_id);
    j->entrypoint = req->entrypoint;
    j->runtime_env_json = req->runtime_env_json;
    j->metadata_json = req->metadata_json;
    j->resources_json = req->resources_json;
    j->num_cpus = req->num_cpus;
    j->num_gpus = req->num_gpus;
    j->memory = req->memory;
    req->entrypoint = req->runtime_env_json = req->metadata_json = req->resources_json = NULL;
    j->start_time = time_now_ms();
    return j;
}

int jobs_sup_submit(jobs_server *srv, jobs_submit_req *req, jobs_job **out)
{
    if (req->submission_id[0] == '\0' &&
        jobs_id_generate(req->submission_id, sizeof req->submission_id) != 0)
        return -EIO;
    if (jobs_table_get(srv->table, req->submission_id) != NULL)
        return -EEXIST;
    jobs_job *j = job_from_request(req);
    if (j == NULL)
        return -ENOMEM;
    int rc = jobs_store_insert(srv->store, j);
    if (rc == 0 && (rc = jobs_table_add(srv->table, j)) != 0)
        jobs_store_delete(srv->store, j->submission_id);
    if (rc != 0) {
        if (rc == -EIO || rc == -ENOSPC)
            log_error("cannot record job %s: %s", j->submission_id, jobs_store_errmsg(srv->store));
        jobs_job_free(j);
        return rc;
    }
    prepare_log(srv, j->submission_id);
    log_info("job %s submitted: %s", j->submission_id, j->entrypoint);
    jobs_run *run = jobs__run_new(srv, j);
    if (run == NULL) {
        j->status = JOBS_FAILED;
        jobs_job_set(j, &j->message, "out of memory");
        jobs_sup_save(srv, j);
    } else {
        jobs__run_begin(run);
    }
    *out = j;
    return 0;
}

int jobs_sup_stop(jobs_server *srv, jobs_job *j)
{
    jobs_run *run = j->run;
    if (jobs_status_terminal(j->status) || run == NULL)
        return 0;
    if (run->phase == RUN_REMOTE) {
        if (!j->stop_requested) {
            j->stop_requested = 1;
            jobs_sup_save(srv, j);
            log_info("job %s: asking its node's job agent to stop it", j->submission_id);
            jobs__remote_stop(srv, j);
        }
        return 1;
    }
    if (run->phase < RUN_RUNNING) {
        log_info("job %s: stopped before it started", j->submission_id);
        jobs__run_finish(run, JOBS_STOPPED, NULL, NULL, 0, 0);
        return 1;
    }
    if (!j->stop_requested) {
        j->stop_requested = 1;
        jobs_sup_save(srv, j);
        log_info("job %s: stopping process group %d", j->submission_id, j->pid);
        jobs__signal_stop(run);
    }
    return 1;
}

int jobs_sup_delete(jobs_server *srv, jobs_job *j)
{
    if (!jobs_status_terminal(j->status))
        return -EBUSY;
    char log[PATH_MAX];
    jobs_log_path(srv->logs_dir, j->submission_id, log, sizeof log);
    int rc = jobs_store_delete(srv->store, j->submission_id);
    if (rc == -ENOSPC) {
        /* The disk is full: the job's log goes first, then the row. */
        unlink(log);
        rc = jobs_store_delete(srv->store, j->submission_id);
    }
    if (rc == -EIO || rc == -ENOSPC) {
        log_error("cannot delete job %s: %s", j->submission_id, jobs_store_errmsg(srv->store));
        return rc;
    }
    unlink(log);   /* the job is gone from the API, so is its log */
    if (jobs__remote_is(srv, j))
        jobs__remote_delete(srv, j);
    jobs_table_remove(srv->table, j);
    remove_state_files(srv, j->submission_id);
    log_info("job %s deleted", j->submission_id);
    jobs_job_free(j);
    return 0;
}
