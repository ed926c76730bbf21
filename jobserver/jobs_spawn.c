/* Starting a job's entrypoint (through the job wrapper, in its own session,
 * with its runtime_env) and watching it until it exits. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "jobserver/jobs_child.h"
#include "jobserver/jobs_logs.h"
#include "jobserver/jobs_proc.h"
#include "jobserver/jobs_run.h"
#include "jobserver/jobs_spare.h"
#include "jobserver/renv_env.h"

extern char **environ;

#define ADOPT_POLL_MS 200

/* ---------------------------------------------------------------- environment */

/* RAY_JOB_CONFIG_JSON_ENV_VAR: {"runtime_env": ..., "metadata": ...} with
 * Ray's default metadata (job_submission_id, job_name) under the user's. */
static char *job_config_json(const jobs_job *j)
{
    json_t *env = j->runtime_env_json ? json_loads(j->runtime_env_json, 0, NULL) : NULL;
    json_t *meta = json_object();
    json_object_set_new(meta, "job_submission_id", json_string(j->submission_id));
    json_object_set_new(meta, "job_name", json_string(j->submission_id));
    json_t *user = j->metadata_json ? json_loads(j->metadata_json, 0, NULL) : NULL;
    if (json_is_object(user))
        json_object_update(meta, user);
    json_decref(user);
    json_t *root = json_object();
    json_object_set_new(root, "runtime_env", env ? env : json_object());
    json_object_set_new(root, "metadata", meta);
    char *text = json_dumps(root, JSON_PRESERVE_ORDER);
    json_decref(root);
    return text;
}

/* PYTHONPATH: the packages first, then env_vars' PYTHONPATH, then the node's. */
static int set_python_path(renv_envlist *e, const char *dirs, const char *from_vars)
{
    const char *node = getenv("PYTHONPATH");
    size_t n = strlen(dirs) + (from_vars ? strlen(from_vars) : 0) + (node ? strlen(node) : 0) + 3;
    char *v = malloc(n);
    if (v == NULL)
        return -ENOMEM;
    snprintf(v, n, "%s%s%s%s%s", dirs, from_vars && *from_vars ? ":" : "",
             from_vars ? from_vars : "", node && *node ? ":" : "", node ? node : "");
    int rc = renv_envlist_set(e, "PYTHONPATH", v);
    free(v);
    return rc;
}

static int set_venv(renv_envlist *e, const char *venv)
{
    const char *path = renv_envlist_get(e, "PATH");
    size_t n = strlen(venv) + (path ? strlen(path) : 0) + 8;
    char *v = malloc(n);
    if (v == NULL)
        return -ENOMEM;
    snprintf(v, n, "%s/bin%s%s", venv, path ? ":" : "", path ? path : "");
    int rc = renv_envlist_set(e, "PATH", v);
    free(v);
    if (rc == 0)
        rc = renv_envlist_set(e, "VIRTUAL_ENV", venv);
    return rc;
}

/* env_vars in order, each expanded against what is set so far (Ray's update_envs). */
static int apply_env_vars(renv_envlist *e, const renv_spec *spec)
{
    for (size_t i = 0; i < spec->n_env; i++) {
        char *v;
        int rc = renv_expand(e, spec->env_values[i], &v);
        if (rc == 0)
            rc = renv_envlist_set(e, spec->env_keys[i], v);
        free(v);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static int set_ray_vars(renv_envlist *e, const jobs_run *run)
{
    const jobs_server *srv = run->srv;
    const jobs_job *j = run->job;
    char *config = job_config_json(j);
    int rc = config ? renv_envlist_set(e, "RAY_JOB_CONFIG_JSON_ENV_VAR", config) : -ENOMEM;
    free(config);
    if (rc == 0 && srv->gcs_address[0] != '\0')
        rc = renv_envlist_set(e, "RAY_ADDRESS", srv->gcs_address);
    if (rc == 0 && srv->token_file[0] != '\0')
        rc = renv_envlist_set(e, "RAY_AUTH_TOKEN_PATH", srv->token_file);
    if (rc == 0 && j->job_id != NULL)
        rc = renv_envlist_set(e, "RAY_JOB_ID", j->job_id);
    if (rc == 0)
        rc = renv_envlist_set(e, "RAY_JOB_SUBMISSION_ID", j->submission_id);
    if (rc == 0)
        rc = renv_envlist_set(e, "PYTHONUNBUFFERED", "1");
    return rc;
}

static int build_env(const jobs_run *run, renv_envlist *e)
{
    int rc = renv_envlist_init(e, environ);
    if (rc != 0)
        return rc;
    const char *node_pp = getenv("PYTHONPATH");
    rc = apply_env_vars(e, &run->spec);
    if (rc == 0 && run->env != NULL && run->env->python_path != NULL) {
        const char *pp = renv_envlist_get(e, "PYTHONPATH");
        int from_vars = pp != NULL && (node_pp == NULL || strcmp(pp, node_pp) != 0);
        char *copy = from_vars ? strdup(pp) : NULL;
        rc = set_python_path(e, run->env->python_path, copy);
        free(copy);
    }
    if (rc == 0 && run->env != NULL && run->env->venv != NULL)
        rc = set_venv(e, run->env->venv);
    if (rc == 0)
        rc = set_ray_vars(e, run);
    if (rc != 0)
        renv_envlist_free(e);
    return rc;
}

/* ---------------------------------------------------------------- exit */

/* The exit code the wrapper recorded, or the wrapper's own end. */
static int recorded_exit(const jobs_run *run, long *code)
{
    char path[PATH_MAX];
    jobs__exit_path(run->srv, run->job->submission_id, path, sizeof path);
    return jobs_proc_read_int(path, code) == 0;
}

static void exit_cb(jobs_child *c, int64_t exit_status, int term_signal)
{
    jobs_run *run = c->poll.data;
    long code;
    int have = recorded_exit(run, &code);
    if (!have && term_signal == 0) {
        code = (long)exit_status;
        have = 1;
    }
    log_info("job %s: entrypoint exited (%s %ld)", run->job->submission_id,
             have ? "code" : "wrapper killed by signal", have ? code : (long)term_signal);
    jobs__run_exited(run, have, code);
}

/* ---------------------------------------------------------------- spawn */

static void spawn_failed(jobs_run *run, const char *what, int err)
{
    char msg[512];
    snprintf(msg, sizeof msg, "Failed to start the job entrypoint: %s: %s", what, uv_strerror(err));
    jobs__run_finish(run, JOBS_FAILED, msg, JOBS_ERR_START, 0, 0);
}

static int open_log(jobs_run *run)
{
    char path[PATH_MAX], line[512];
    jobs_log_path(run->srv->logs_dir, run->job->submission_id, path, sizeof path);
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return -errno;
    int n = snprintf(line, sizeof line, "Running entrypoint for job %s: ", run->job->submission_id);
    if (write(fd, line, (size_t)n) < 0 ||
        write(fd, run->job->entrypoint, strlen(run->job->entrypoint)) < 0 ||
        write(fd, "\n", 1) < 0)
        log_warn("job %s: cannot write its log", run->job->submission_id);
    return fd;
}

/* bin/ray_job_wrapper next to the server (cheap to start: libc only), else
 * the server's own binary in wrapper mode. */
static const char *wrapper_exe(const jobs_server *srv, char *buf, size_t len)
{
    const char *slash = strrchr(srv->self_exe, '/');
    int n = slash ? (int)(slash - srv->self_exe) : 0;
    if (slash != NULL && snprintf(buf, len, "%.*s/ray_job_wrapper", n, srv->self_exe) < (int)len &&
        access(buf, X_OK) == 0)
        return buf;
    return srv->self_exe;
}

static int start_process(jobs_run *run, renv_envlist *env, int log_fd)
{
    jobs_server *srv = run->srv;
    char pidfile[PATH_MAX], exitfile[PATH_MAX], exe[PATH_MAX];
    const char *wrapper = wrapper_exe(srv, exe, sizeof exe);
    jobs__pid_path(srv, run->job->submission_id, pidfile, sizeof pidfile);
    jobs__exit_path(srv, run->job->submission_id, exitfile, sizeof exitfile);
    char *args[] = {(char *)wrapper, JOBS_WRAPPER_FLAG, pidfile, exitfile, "/bin/sh", "-c",
                    run->job->entrypoint, NULL};
    const char *cwd = run->env ? run->env->cwd : NULL;
    jobs_spare_job handed = {.pidfile = pidfile, .exitfile = exitfile, .cwd = cwd,
                             .cmd = args + 4, .env = env->vars, .log_fd = log_fd};
    int rc = jobs_spare_take(srv, &handed, &run->proc, exit_cb);
    if (rc != 0) {
        jobs_child_opts opt = {
            .file = wrapper,
            .args = args,
            .env = env->vars,
            .cwd = cwd,
            .out_fd = log_fd,
        };
        rc = jobs_child_spawn(srv->loop, &run->proc, &opt, exit_cb);
    }
    /* The next job's wrapper starts while this one runs. */
    jobs_spare_prepare(srv, wrapper);
    if (rc == 0) {
        run->proc.poll.data = run;
        run->proc_live = 1;
        run->open_handles++;
    }
    return rc;
}

/* Records the started process in the job (RUNNING). */
static void mark_running(jobs_run *run)
{
    jobs_server *srv = run->srv;
    jobs_job *j = run->job;
    char addr[128];
    j->pid = run->proc.pid;
    /* Its start time is in the wrapper's pid file: reading /proc/PID/stat
     * now would wait for the wrapper's exec to finish (about 2 ms here). */
    j->proc_start = 0;
    j->driver_pid = j->pid;
    jobs_job_set(j, &j->driver_ip, srv->node_ip);
    snprintf(addr, sizeof addr, "http://%s:%d",
             strcmp(srv->host, "0.0.0.0") == 0 ? srv->node_ip : srv->host, srv->port);
    jobs_job_set(j, &j->driver_agent_http_address, addr);
    jobs_job_set(j, &j->driver_node_id, srv->node_id);
    jobs_job_set(j, &j->message, NULL);
    j->status = JOBS_RUNNING;
    run->phase = RUN_RUNNING;
    uv_timer_stop(&run->start_timer);
    jobs_sup_save(srv, j);
    log_info("job %s: RUNNING as process group %d", j->submission_id, j->pid);
    if (j->job_id != NULL)
        jobs_gcs_job_started(srv, j);
}

void jobs__spawn(jobs_run *run)
{
    renv_envlist env;
    int rc = build_env(run, &env);
    if (rc != 0) {
        spawn_failed(run, "environment", UV_ENOMEM);
        return;
    }
    int log_fd = open_log(run);
    if (log_fd < 0) {
        renv_envlist_free(&env);
        spawn_failed(run, "log file", uv_translate_sys_error(-log_fd));
        return;
    }
    rc = start_process(run, &env, log_fd);
    close(log_fd);
    renv_envlist_free(&env);
    if (rc != 0) {
        spawn_failed(run, run->srv->self_exe, rc);
        return;
    }
    mark_running(run);
}

/* ---------------------------------------------------------------- stop */

/* The grace period of the job: its own env_vars' RAY_JOB_STOP_WAIT_TIME_S
 * (whole seconds, as Ray's int()), else the server's. */
static int stop_wait_ms(const jobs_run *run)
{
    const jobs_job *j = run->job;
    int ms = run->srv->stop_wait_ms;
    json_t *env = j->runtime_env_json ? json_loads(j->runtime_env_json, 0, NULL) : NULL;
    json_t *v = json_object_get(json_object_get(env, "env_vars"), "RAY_JOB_STOP_WAIT_TIME_S");
    long s;
    if (json_is_string(v) && parse_long(json_string_value(v), 0, 86400, &s) == 0)
        ms = (int)s * 1000;
    else if (v != NULL)
        log_warn("job %s: RAY_JOB_STOP_WAIT_TIME_S in env_vars is not a number of seconds "
                 "(0-86400); using %d ms", j->submission_id, ms);
    json_decref(env);
    return ms;
}

static void kill_timer_cb(uv_timer_t *t)
{
    jobs_run *run = t->data;
    if (run->phase != RUN_RUNNING || run->job->pid <= 0)
        return;
    log_warn("job %s: still running %d ms after the stop signal; sending SIGKILL to its "
             "process tree", run->job->submission_id, stop_wait_ms(run));
    /* The tree first, while the parent links still hold, then the group. */
    jobs_proc_signal_tree(run->job->pid, SIGKILL, 0);
    kill(-run->job->pid, SIGKILL);
}

void jobs__signal_stop(jobs_run *run)
{
    jobs_job *j = run->job;
    if (j->pid <= 0)
        return;
    int sig = run->srv->stop_signal;
    if (kill(-j->pid, sig) != 0 && errno == ESRCH)
        kill(j->pid, sig);
    /* Descendants that left the job's process group get it too, as Ray
     * signals the entrypoint's whole process tree. */
    jobs_proc_signal_tree(j->pid, sig, j->pid);
    int ms = stop_wait_ms(run);
    log_info("job %s: sent %s; SIGKILL in %d ms unless the job ends", j->submission_id,
             sig == SIGINT ? "SIGINT" : "SIGTERM", ms);
    uv_timer_start(&run->start_timer, kill_timer_cb, (uint64_t)ms, 0);
}

/* ---------------------------------------------------------------- adopted processes */

static void adopt_poll_cb(uv_timer_t *t)
{
    jobs_run *run = t->data;
    jobs_job *j = run->job;
    long code;
    int have = recorded_exit(run, &code);
    if (!have && jobs_proc_alive(j->pid, j->proc_start))
        return;
    log_info("job %s: adopted entrypoint ended (%s)", j->submission_id,
             have ? "exit status recorded" : "no exit status");
    jobs__run_exited(run, have, code);
}

void jobs__adopt(jobs_run *run)
{
    run->adopted = 1;
    run->phase = RUN_RUNNING;
    uv_timer_start(&run->aux_timer, adopt_poll_cb, ADOPT_POLL_MS, ADOPT_POLL_MS);
}
