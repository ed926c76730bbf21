/* Settling jobs after a restart, and stopping every job on shutdown. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "jobserver/jobs_proc.h"
#include "jobserver/jobs_remote.h"
#include "jobserver/jobs_run.h"
#include "jobserver/jobs_server.h"

static int load_cb(void *arg, jobs_job *j)
{
    jobs_server *srv = arg;
    if (jobs_table_add(srv->table, j) != 0) {
        jobs_job_free(j);
        return -ENOMEM;
    }
    return 0;
}

/* The pid of a job that may have started: the store's, else the wrapper's
 * pid file (written when the server died between spawn and the store).  Its
 * start time comes from the pid file too: the wrapper writes it after its
 * exec, since the server does not wait for that exec to read it. */
static int find_pid(jobs_server *srv, jobs_job *j)
{
    char path[PATH_MAX];
    long pid;
    int64_t start;
    jobs__pid_path(srv, j->submission_id, path, sizeof path);
    int have = jobs_proc_read_pidfile(path, &pid, &start) == 0;
    if (j->pid <= 0 && have) {
        j->pid = (int)pid;
        j->proc_start = 0;
    }
    if (have && pid == j->pid && j->proc_start == 0)
        j->proc_start = start;
    return j->pid > 0 ? j->pid : 0;
}

/* A job whose entrypoint was started by an earlier server. */
static void recover_started(jobs_server *srv, jobs_run *run)
{
    jobs_job *j = run->job;
    char path[PATH_MAX];
    long code;
    jobs__exit_path(srv, j->submission_id, path, sizeof path);
    run->phase = RUN_RUNNING;
    if (jobs_job_wants_resources(j) && jobs_resources_acquire(&srv->res, &run->req) == 0)
        run->holds_resources = 1;
    if (jobs_proc_read_int(path, &code) == 0) {
        log_info("job %s: ended while the job server was down (exit code %ld)",
                 j->submission_id, code);
        jobs__run_exited(run, 1, code);
    } else if (jobs_proc_alive(j->pid, j->proc_start)) {
        log_info("job %s: still running as process group %d; adopted", j->submission_id,
                 j->pid);
        if (j->status != JOBS_RUNNING) {
            j->status = JOBS_RUNNING;
            jobs_sup_save(srv, j);
        }
        jobs__adopt(run);
        if (j->stop_requested)
            jobs__signal_stop(run);
    } else {
        log_warn("job %s: its process %d is gone and left no exit status", j->submission_id,
                 j->pid);
        jobs__run_exited(run, 0, 0);
    }
}

static void recover_job(jobs_server *srv, jobs_job *j)
{
    jobs_run *run = jobs__run_new(srv, j);
    if (run == NULL)
        return;
    if (jobs__remote_is(srv, j)) {
        log_info("job %s: runs on node %s; following it again", j->submission_id,
                 j->driver_node_id);
        jobs__remote_follow(run);
        return;
    }
    if (find_pid(srv, j) > 0) {
        recover_started(srv, run);
        return;
    }
    log_info("job %s: was pending; starting it again", j->submission_id);
    jobs__run_begin(run);
}

int jobs_sup_recover(jobs_server *srv)
{
    int rc = jobs_store_load(srv->store, load_cb, srv);
    if (rc != 0)
        return rc;
    size_t live = 0;
    for (jobs_job *j = jobs_table_first(srv->table); j != NULL; j = jobs_table_next(srv->table, j))
        live += !jobs_status_terminal(j->status);
    if (live == 0)
        return 0;
    /* Collect first: recovering may finish jobs and touch the table. */
    jobs_job **todo = calloc(live, sizeof *todo);
    if (todo == NULL)
        return -ENOMEM;
    size_t n = 0;
    for (jobs_job *j = jobs_table_first(srv->table); j != NULL; j = jobs_table_next(srv->table, j))
        if (!jobs_status_terminal(j->status))
            todo[n++] = j;
    for (size_t i = 0; i < n; i++)
        recover_job(srv, todo[i]);
    free(todo);
    return 0;
}

/* ---------------------------------------------------------------- shutdown */

/* Log tails end on their own once every job has ended; they must be gone
 * before the HTTP server (which owns their sockets) is closed. */
#define SHUTDOWN_TAIL_WAIT_MS 5000

static void shutdown_poll_cb(uv_timer_t *t)
{
    jobs_server *srv = t->data;
    if (srv->live_runs > 0)
        return;
    if (srv->tails > 0 && time_mono_ms() - srv->shutdown_started < SHUTDOWN_TAIL_WAIT_MS)
        return;
    uv_timer_stop(t);
    uv_close((uv_handle_t *)t, NULL);
    srv->shutdown_done(srv);
}

void jobs_sup_shutdown(jobs_server *srv, void (*done)(jobs_server *srv))
{
    srv->shutdown_done = done;
    srv->shutdown_started = time_mono_ms();
    for (jobs_job *j = jobs_table_first(srv->table); j != NULL; j = jobs_table_next(srv->table, j)) {
        /* A forwarded job belongs to its node: the next server follows it again. */
        if (j->run != NULL && j->run->phase == RUN_REMOTE)
            jobs__run_detach(j->run);
        else if (j->run != NULL)
            jobs_sup_stop(srv, j);
    }
    uv_timer_init(srv->loop, &srv->shutdown_timer);
    srv->shutdown_timer.data = srv;
    uv_timer_start(&srv->shutdown_timer, shutdown_poll_cb, 0, 50);
}
