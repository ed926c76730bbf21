/* Starting worker processes (uv_spawn) and noticing their exit.
 *
 *   bin/ray_worker --socket DIR/sockets/raylet --token-file F --worker-id HEX
 *                  --raylet-pid PID
 *
 * A Python job's workers are its driver's interpreter instead:
 *
 *   PYTHON -m ray._private.worker --socket ... (the same flags)
 *
 * cwd is the job's working_dir, or the node dir where that directory is
 * not (a job of another machine, or a directory removed since); the
 * environment is the raylet's with the
 * job's env vars, RAY_JOB_ID and RAY_CODE_SEARCH_PATH on top; stdout and
 * stderr go to logs/worker-<id>.log in the node dir. */
#include "raylet/wpool.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "raylet/wpool_int.h"

extern char **environ;

#define SPAWN_MAX_ENV 4096

/* The directory JOB's workers start in: its working_dir when this node has
 * it, else the node dir (said once per job in the log). */
static const char *worker_cwd(raylet *r, wpool_job *job)
{
    struct stat st;
    if (stat(job->cwd, &st) == 0 && S_ISDIR(st.st_mode))
        return job->cwd;
    if (!job->cwd_elsewhere) {
        log_info("job %s: its working_dir %s is not on this node; its workers start in %s",
                 job->hex, job->cwd, r->opts->node_dir);
        job->cwd_elsewhere = 1;
    }
    return r->opts->node_dir;
}

/* True when ENTRY ("KEY=VALUE") sets a key that LIST sets too. */
static int overridden(const char *entry, char **list, size_t n)
{
    size_t klen = strcspn(entry, "=");
    for (size_t i = 0; i < n; i++)
        if (strncmp(list[i], entry, klen) == 0 && list[i][klen] == '=')
            return 1;
    return 0;
}

/* Builds the worker's environment into ENV (pointers into EXTRA, the job
 * and environ).  Returns the count. */
static size_t build_env(const wpool_job *job, char **extra, size_t nextra, char **env,
                        size_t max)
{
    size_t n = 0;
    for (char **e = environ; *e != NULL && n < max - nextra - job->nenv - 1; e++)
        if (!overridden(*e, job->env, job->nenv) && !overridden(*e, extra, nextra) &&
            strncmp(*e, "CUDA_VISIBLE_DEVICES=", 21) != 0)
            env[n++] = *e;
    for (size_t i = 0; i < job->nenv; i++)
        if (!overridden(job->env[i], extra, nextra))
            env[n++] = job->env[i];
    for (size_t i = 0; i < nextra; i++)
        env[n++] = extra[i];
    env[n] = NULL;
    return n;
}

static void describe_exit(wpool_worker *w, int64_t status, int sig)
{
    if (w->death[0] != '\0')
        return; /* killed by us: the reason is set */
    if (sig != 0)
        snprintf(w->death, sizeof w->death, "the process was killed by signal %d (%s)", sig,
                 strsignal(sig));
    else
        snprintf(w->death, sizeof w->death, "the process exited with status %lld",
                 (long long)status);
}

/* The record itself is freed by the pool's tick (wpool__maybe_free). */
static void proc_closed_cb(uv_handle_t *h)
{
    wpool_worker *w = h->data;
    w->proc_closed = 1;
}

static void exit_cb(uv_process_t *p, int64_t status, int sig)
{
    wpool_worker *w = p->data;
    raylet *r = w->r;
    w->proc_running = 0;
    describe_exit(w, status, sig);
    uv_close((uv_handle_t *)p, proc_closed_cb);
    if (!r->closing)
        wpool__worker_lost(r, w, w->death);
}

static int open_log(raylet *r, const wpool_worker *w)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/logs/worker-%s-%s.log", r->opts->node_dir, w->hex,
             w->job->hex);
    return open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
}

static int start_process(raylet *r, wpool_worker *w, char *err, size_t errlen)
{
    wpool *p = r->wpool;
    char pid[24], path_var[8192], job_var[64], sock[PATH_MAX];
    snprintf(pid, sizeof pid, "%d", (int)getpid());
    snprintf(sock, sizeof sock, "%s", r->socket_path);
    snprintf(path_var, sizeof path_var, "RAY_CODE_SEARCH_PATH=%s", w->job->code_path);
    snprintf(job_var, sizeof job_var, "RAY_JOB_ID=%s", w->job->hex);
    char *extra[] = {path_var, job_var};
    char **env = malloc(SPAWN_MAX_ENV * sizeof *env);
    if (env == NULL) {
        snprintf(err, errlen, "out of memory");
        return UV_ENOMEM;
    }
    build_env(w->job, extra, 2, env, SPAWN_MAX_ENV);
    char *argv[] = {p->worker_bin, "--socket", sock, "--token-file", (char *)r->opts->token_file,
                    "--worker-id", w->hex, "--raylet-pid", pid, NULL, NULL, NULL};
    const char *file = p->worker_bin;
    if (w->job->python != NULL) {
        memmove(argv + 3, argv + 1, 9 * sizeof argv[0]);
        argv[0] = w->job->python;
        argv[1] = "-m";
        argv[2] = "ray._private.worker";
        file = w->job->python;
    }
    int logfd = open_log(r, w);
    uv_stdio_container_t stdio[3] = {
        {.flags = UV_IGNORE},
        {.flags = logfd >= 0 ? UV_INHERIT_FD : UV_IGNORE, .data.fd = logfd},
        {.flags = logfd >= 0 ? UV_INHERIT_FD : UV_IGNORE, .data.fd = logfd},
    };
    const char *cwd = worker_cwd(r, w->job);
    uv_process_options_t o = {
        .exit_cb = exit_cb, .file = file, .args = argv, .env = env,
        .cwd = cwd, .stdio_count = 3, .stdio = stdio,
    };
    w->proc.data = w;
    int rc = uv_spawn(r->loop, &w->proc, &o);
    free(env);
    if (logfd >= 0)
        close(logfd);
    if (rc != 0)
        snprintf(err, errlen, "cannot start %s in %s: %s", file, cwd, uv_strerror(rc));
    return rc;
}

wpool_worker *wpool__spawn(raylet *r, wpool_job *job, char *err, size_t errlen)
{
    wpool *p = r->wpool;
    wpool_worker *w = calloc(1, sizeof *w);
    if (w == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    w->r = r;
    w->job = job;
    wpool_job_ref(job);
    uint64_t n = ++p->next_worker;
    memcpy(w->id.b, r->opts->node_id, 8);
    memcpy(w->id.b + 8, &n, 8);
    ids_hex(w->id.b, IDS_WORKER_LEN, w->hex);
    int rc = start_process(r, w, err, errlen);
    if (rc != 0) {
        /* uv_spawn's failure still needs the handle closed. */
        w->proc_running = 0;
        w->state = WPOOL_DEAD;
        wpool_job_unref(job);
        w->job = NULL;
        uv_close((uv_handle_t *)&w->proc, proc_closed_cb);
        w->orphan = 1;
        w->next = p->workers;
        if (p->workers)
            p->workers->prev = w;
        p->workers = w;
        return NULL;
    }
    w->pid = w->proc.pid;
    w->proc_running = 1;
    w->state = WPOOL_STARTING;
    w->started_ms = time_mono_ms();
    w->next = p->workers;
    if (p->workers)
        p->workers->prev = w;
    p->workers = w;
    p->nstarting++;
    p->nalive++;
    job->nworkers++;
    log_debug("started worker %s (pid %d) for job %s", w->hex, w->pid, job->hex);
    return w;
}
