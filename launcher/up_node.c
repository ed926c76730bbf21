/* One node's update: wait for SSH, sync files, run commands, start Ray. */
#include "launcher/up_node.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "common/util.h"
#include "launcher/ssh_exec.h"
#include "launcher/ssh_xfer.h"
#include "launcher/ldocker.h"
#include "launcher/up_bootstrap.h"
#include "launcher/up_docker.h"
#include "launcher/sync_tree.h"

/* The most files copied into the container at once: token, TLS key,
 * certificate and CA, or the bootstrap config and key. */
#define NODE_MAX_PENDING 4

/* Per-run working state of one node (lives on the worker thread's stack). */
typedef struct node_run {
    up_job *j;
    const up_plan *p;
    const cluster_config *c;
    ssh_conn *conn;
    FILE *log;
    lstate_node prev;           /* what the state said before this run */
    int have_prev;
    int token_done;
    int tls_done;
    int step;
    lctx_run_env run_env;       /* where run_one runs commands (docker) */
    up_docker dk;               /* the node's container (docker section) */
    /* host files waiting to be copied into the container, in one go */
    char pend_host[NODE_MAX_PENDING][PATH_MAX];
    const char *pend_remote[NODE_MAX_PENDING];
    size_t n_pend;
} node_run;

static const char *kind_of(const node_run *r)
{
    return r->j->is_head ? "head" : "worker";
}

static void status(node_run *r, int step, const char *st, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Shows STEP/ST/WHAT on the display and records ST in the state. */
static void status(node_run *r, int step, const char *st, const char *fmt, ...)
{
    char what[512] = "";
    if (fmt != NULL) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(what, sizeof what, fmt, ap);
        va_end(ap);
    }
    r->step = step;
    up_display_set(r->p->disp, r->j->line, step, st, what);
    lstate_node_status(r->p->x->state, r->c->cluster_name, r->j->ip, kind_of(r), st, what);
    if (r->log != NULL && what[0] != '\0') {
        int64_t ms = time_now_ms();
        time_t secs = (time_t)(ms / 1000);
        struct tm tm;
        char when[32];
        strftime(when, sizeof when, "%H:%M:%S", localtime_r(&secs, &tm));
        fprintf(r->log, "==> %s.%03d [%d/7] %s: %s\n", when, (int)(ms % 1000),
                step > 0 ? step : 0, st, what);
        fflush(r->log);
    }
}

static int fail(node_run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Records the node as failed with a reason.  Returns -1. */
static int fail(node_run *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->j->error, sizeof r->j->error, fmt, ap);
    va_end(ap);
    if (r->log != NULL)
        fprintf(r->log, "==> failed: %s\n", r->j->error);
    status(r, r->step, LSTATE_FAILED, "%s", r->j->error);
    return -1;
}

/* ---------------------------------------------------------------- commands */

static void on_output(void *data, int is_stderr, const char *buf, size_t len)
{
    node_run *r = data;
    ltail_feed(&r->j->tail, buf, len);
    if (r->log != NULL)
        fwrite(buf, 1, len, r->log);
}

/* Short form of a command for the status line (Ray cuts at 30 characters). */
static void brief(const char *cmd, char *out, size_t outlen)
{
    size_t n = strcspn(cmd, "\n");
    if (n > 60)
        snprintf(out, outlen, "%.57s...", cmd);
    else
        snprintf(out, outlen, "%.*s", (int)n, cmd);
}

/* Runs one YAML command on the node.  Returns 0, or -1 with the failure
 * recorded (command, exit code, output tail). */
static int run_one(node_run *r, const char *cmd)
{
    char err[512];
    int exit_status;
    const char *head_ip = r->j->is_head ? NULL : r->p->head_ip;
    char *line = lctx_command_in(r->p->x, cmd, head_ip, r->run_env, r->p->x->login_shells);
    if (line == NULL)
        return fail(r, "out of memory");
    fprintf(r->log, "$ %s\n", cmd);
    fflush(r->log);
    ltail_reset(&r->j->tail);
    ssh_run_opts o = {.pty = r->p->x->login_shells, .on_output = on_output, .data = r};
    int rc = ssh_run(r->conn, line, &o, &exit_status, err, sizeof err);
    free(line);
    if (rc == 0 && exit_status == 0)
        return 0;
    snprintf(r->j->failed_cmd, sizeof r->j->failed_cmd, "%s", cmd);
    r->j->exit_code = exit_status;
    if (rc != 0)
        return fail(r, "command could not run: %s", err);
    if (exit_status == SSH_EXIT_NONE)
        return fail(r, "command was killed (no exit status)");
    return fail(r, "command failed with exit code %d", exit_status);
}

/* Runs a list of commands as step STEP.  NAME is Ray's group title. */
static int run_list(node_run *r, int step, const cfg_strv *cmds, const char *name,
                    const char *none)
{
    char what[128];
    if (cmds->n == 0) {
        status(r, step, "setting-up", "%s", none);
        return 0;
    }
    for (size_t i = 0; i < cmds->n; i++) {
        brief(cmds->v[i], what, sizeof what);
        status(r, step, "setting-up", "%s (%zu/%zu) %s", name, i + 1, cmds->n, what);
        if (run_one(r, cmds->v[i]) != 0)
            return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------- files */

static int sync_one(node_run *r, const char *local, const char *remote, sync_stats *st)
{
    char dst[PATH_MAX], err[1024];
    sync_spec spec = {r->c->rsync_exclude.v, r->c->rsync_exclude.n, r->c->rsync_filter.v,
                      r->c->rsync_filter.n};
    int rc = r->c->docker_enabled ? ldocker_host_path(r->c, remote, dst, sizeof dst)
                                  : ssh_conn_expand(r->conn, remote, dst, sizeof dst, err,
                                                    sizeof err);
    if (rc == -ENAMETOOLONG)
        snprintf(err, sizeof err, "path too long");
    if (rc != 0 || sync_up(r->conn, local, dst, &spec, st, err, sizeof err) != 0)
        return fail(r, "file mount %s from %s: %s", remote, local, err);
    return 0;
}

static int step_mounts(node_run *r)
{
    sync_stats st = {0};
    status(r, 2, "syncing-files", "Processing file mounts");
    for (size_t i = 0; i < r->c->n_mounts; i++) {
        const cfg_mount *m = &r->c->mounts[i];
        status(r, 2, "syncing-files", "%s from %s", m->remote, m->local);
        if (sync_one(r, m->local, m->remote, &st) != 0)
            return -1;
    }
    fprintf(r->log, "==> file mounts: %zu files sent (%llu bytes), %zu unchanged\n",
            st.files_sent, (unsigned long long)st.bytes_sent, st.files_same);
    return 0;
}

/* cluster_synced_files: copied from the head into a local cache by `ray up`
 * (entry I in SYNCED_CACHE/I), then uploaded to each worker. */
static int step_synced(node_run *r)
{
    char src[PATH_MAX + 32];
    struct stat st;
    if (r->j->is_head || r->c->cluster_synced_files.n == 0 || r->p->synced_cache == NULL) {
        status(r, 3, "syncing-files", "No worker file mounts to sync");
        return 0;
    }
    status(r, 3, "syncing-files", "Processing worker file mounts");
    for (size_t i = 0; i < r->c->cluster_synced_files.n; i++) {
        const char *path = r->c->cluster_synced_files.v[i];
        snprintf(src, sizeof src, "%s/%zu", r->p->synced_cache, i);
        if (stat(src, &st) != 0) {
            fprintf(r->log, "sync: %s does not exist. Skipping.\n", path);
            continue;
        }
        if (sync_one(r, src, path, NULL) != 0)
            return -1;
    }
    return 0;
}

/* With a docker section, notes the host file HOST_PATH for the container at
 * REMOTE (a "~/" path meaning the container's home), as Ray copies the
 * bootstrap files: the commands that read it run in the container.
 * into_container_flush copies what was noted. */
static void into_container(node_run *r, const char *host_path, const char *remote)
{
    if (!r->c->docker_enabled || r->n_pend >= NODE_MAX_PENDING)
        return;
    snprintf(r->pend_host[r->n_pend], PATH_MAX, "%s", host_path);
    r->pend_remote[r->n_pend++] = remote;
}

static int into_container_flush(node_run *r)
{
    char err[1024];
    const char *hosts[NODE_MAX_PENDING];
    size_t n = r->n_pend;
    r->n_pend = 0;
    if (n == 0)
        return 0;
    if (!r->dk.ready)
        return fail(r, "the container is not running for %s", r->pend_remote[0]);
    for (size_t i = 0; i < n; i++)
        hosts[i] = r->pend_host[i];
    if (up_docker_copy(&r->dk, hosts, r->pend_remote, n, err, sizeof err) != 0)
        return fail(r, "cannot copy %s into the container: %s", r->pend_remote[0], err);
    return 0;
}

/* Puts TEXT at remote PATH (a "~/" path), mode 0600. */
static int put_secret(node_run *r, const char *path, const char *text)
{
    char remote[PATH_MAX], err[1024];
    if (ssh_conn_expand(r->conn, path, remote, sizeof remote, err, sizeof err) ||
        ssh_xfer_put_data(r->conn, text, strlen(text), remote, 0600, err, sizeof err))
        return fail(r, "cannot install %s: %s", path, err);
    into_container(r, remote, path);
    return 0;
}

/* Puts the node's TLS key and certificate and the cluster CA where the
 * RAY_TLS_* variables of the start commands point (up_tls.h). */
static int install_tls(node_run *r)
{
    char *cert, *key, err[512];
    if (r->p->tls == NULL)
        return 0;
    if (up_tls_node(r->p->tls, r->j->ip, &cert, &key, err, sizeof err) != 0)
        return fail(r, "TLS: %s", err);
    int rc = put_secret(r, r->c->tls_key, key);
    if (rc == 0)
        rc = put_secret(r, r->c->tls_cert, cert);
    if (rc == 0)
        rc = put_secret(r, r->c->tls_ca, r->p->tls->ca_cert);
    free(cert);
    free(key);
    return rc;
}

/* Puts the cluster token on the node, mode 0600, where RAY_AUTH_TOKEN_PATH
 * points the start commands. */
static int install_token(node_run *r)
{
    char path[PATH_MAX], err[1024];
    const char *tok = r->p->token;
    if (r->token_done)
        return 0;
    if (ssh_conn_expand(r->conn, r->c->auth_token_path, path, sizeof path, err, sizeof err) ||
        ssh_xfer_put_data(r->conn, tok, strlen(tok), path, 0600, err, sizeof err))
        return fail(r, "cannot install the cluster token at %s: %s", r->c->auth_token_path, err);
    into_container(r, path, r->c->auth_token_path);
    r->token_done = 1;
    return 0;
}

/* The token and, with TLS on, the node's TLS files (each once per run; the
 * TLS files even when the configuration is unchanged, so that a node
 * certificate missing or expiring here is issued again and installed). */
static int install_secrets(node_run *r)
{
    if (install_token(r) != 0)
        return -1;
    if (!r->tls_done) {
        r->tls_done = 1;
        if (install_tls(r) != 0)
            return -1;
    }
    return into_container_flush(r);
}

/* ---------------------------------------------------------------- steps */

static void wait_cb(void *data, const char *why)
{
    node_run *r = data;
    status(r, 1, "waiting-for-ssh", "SSH still not available (%.200s), retrying", why);
}

static int step_ssh(node_run *r)
{
    char err[1024];
    ssh_target t;
    lctx_target(r->p->x, r->j->ssh_host, &t);
    status(r, 1, "waiting-for-ssh", "Waiting for SSH to become available");
    int64_t deadline = time_mono_ms() + (int64_t)r->c->ssh_wait_timeout_s * 1000;
    int rc = ssh_conn_wait(&t, deadline, wait_cb, r, &r->conn, err, sizeof err);
    if (rc == -ETIMEDOUT)
        return fail(r, "SSH not available after %d s (last error: %s)",
                    r->c->ssh_wait_timeout_s, err);
    return rc == 0 ? 0 : fail(r, "%s", err);
}

static int config_unchanged(const node_run *r)
{
    return r->have_prev && strcmp(r->prev.status, LSTATE_UP_TO_DATE) == 0 &&
           strcmp(r->prev.runtime_hash, r->j->runtime_hash) == 0 &&
           strcmp(r->prev.files_hash, r->j->files_hash) == 0;
}

static int runtime_unchanged(const node_run *r)
{
    return r->have_prev && strcmp(r->prev.status, LSTATE_UP_TO_DATE) == 0 &&
           strcmp(r->prev.runtime_hash, r->j->runtime_hash) == 0;
}

/* cluster_synced_files in the container: they went to the host's mount
 * directory in step 3, before the container ran. */
static int synced_into_container(node_run *r)
{
    char err[1024];
    const cfg_strv *files = &r->c->cluster_synced_files;
    if (r->j->is_head || r->p->synced_cache == NULL || files->n == 0)
        return 0;
    char (*hosts)[PATH_MAX] = calloc(files->n, PATH_MAX);
    const char **hv = calloc(files->n, sizeof *hv), **rv = calloc(files->n, sizeof *rv);
    size_t n = 0;
    int rc = hosts != NULL && hv != NULL && rv != NULL ? 0 : fail(r, "out of memory");
    for (size_t i = 0; rc == 0 && i < files->n; i++) {
        char src[PATH_MAX + 32];
        struct stat st;
        snprintf(src, sizeof src, "%s/%zu", r->p->synced_cache, i);
        if (stat(src, &st) != 0)
            continue;
        if (ldocker_host_path(r->c, files->v[i], hosts[n], PATH_MAX) != 0)
            rc = fail(r, "%s: path too long", files->v[i]);
        hv[n] = hosts[n];
        rv[n++] = files->v[i];
    }
    if (rc == 0 && up_docker_copy(&r->dk, hv, rv, n, err, sizeof err) != 0)
        rc = fail(r, "cannot copy the worker file mounts into the container: %s", err);
    free(hosts);
    free(hv);
    free(rv);
    return rc;
}

/* Ray's step 5, "Initializing command runner": with a docker section the
 * node's container is started, or found running and reused (up_docker.h). */
static int step_container(node_run *r)
{
    char err[1024];
    if (!r->c->docker_enabled)
        return 0;
    status(r, 5, "setting-up", "Initializing command runner: %s container %s (%s)",
           ldocker_cmd(r->c), r->c->docker.container_name, ldocker_image(r->c, r->j->is_head));
    r->dk = (up_docker){.x = r->p->x, .conn = r->conn, .log = r->log, .is_head = r->j->is_head};
    if (up_docker_init(&r->dk, err, sizeof err) != 0)
        return fail(r, "%s", err);
    status(r, 5, "setting-up", "%s", r->dk.note);
    return 0;
}

/* Steps 2-6.  *CHANGED is set when the node's runtime configuration changed. */
static int steps_setup(node_run *r, int *changed)
{
    const cluster_config *c = r->c;
    *changed = !runtime_unchanged(r);
    /* As Ray's updater: on an up-to-date node the container is checked
     * first; one that had to be started again invalidates the node (its
     * setup commands run again in the new container). */
    if (config_unchanged(r) && c->docker_enabled) {
        if (step_container(r) != 0)
            return -1;
        if (r->dk.started)
            r->have_prev = 0;
        *changed = !runtime_unchanged(r);
    }
    if (config_unchanged(r)) {
        status(r, UP_STEP_SKIPPED, "setting-up", "Configuration already up to date, "
               "skipping file mounts, initalization and setup commands.");
        r->token_done = 1;              /* installed when this config was applied */
        return 0;
    }
    if (step_mounts(r) != 0 || step_synced(r) != 0)
        return -1;
    if (!*changed)
        return 0;                       /* only file contents changed */
    r->run_env = LCTX_RUN_HOST;         /* Ray runs these outside the container */
    int rc = run_list(r, 4, &c->initialization_commands, "Running initialization commands",
                      "No initialization commands to run.");
    r->run_env = LCTX_RUN_AUTO;
    if (rc != 0 || (!r->dk.ready && step_container(r) != 0) ||
        (c->docker_enabled && synced_into_container(r) != 0))
        return -1;
    status(r, 5, "setting-up", r->p->tls ? "Installing the cluster token and TLS certificate"
                                         : "Installing the cluster token");
    if (install_secrets(r) != 0)
        return -1;
    const cfg_strv *setup = r->j->is_head ? &c->head_setup_commands : &c->worker_setup_commands;
    static const cfg_strv none = {0};
    return run_list(r, 6, r->p->restart_only ? &none : setup, "Running setup commands",
                    r->p->restart_only ? "Setup commands skipped due to --restart-only."
                                       : "No setup commands to run.");
}

/* As in Ray, the start commands run on every node unless --no-restart (a
 * node that never came up starts anyway): re-running them is what revives a
 * runtime that died since the last `ray up`. */
static int need_start(const node_run *r)
{
    int was_up = r->have_prev && strcmp(r->prev.status, LSTATE_UP_TO_DATE) == 0;
    return r->p->restart_only || !r->p->no_restart || !was_up;
}

/* As Ray does, the head gets the prepared config for `ray start
 * --autoscaling-config=~/ray_bootstrap_config.yaml` and a copy of the ssh
 * key it names.  Written on every `ray up`: the head's hashes do not cover
 * worker-only changes, which the file includes. */
static int install_bootstrap(node_run *r)
{
    char path[PATH_MAX], err[1024];
    if (!r->j->is_head)
        return 0;
    char *json = up_bootstrap_json(r->c, r->p->no_restart);
    if (json == NULL)
        return fail(r, "out of memory");
    int rc = ssh_conn_expand(r->conn, UP_BOOTSTRAP_CONFIG, path, sizeof path, err, sizeof err);
    if (rc == 0)
        rc = ssh_xfer_put_data(r->conn, json, strlen(json), path, 0600, err, sizeof err);
    free(json);
    if (rc != 0)
        return fail(r, "cannot write %s: %s", UP_BOOTSTRAP_CONFIG, err);
    into_container(r, path, UP_BOOTSTRAP_CONFIG);
    const char *key = r->c->ssh_private_key;
    if (key != NULL &&
        (ssh_conn_expand(r->conn, UP_BOOTSTRAP_KEY, path, sizeof path, err, sizeof err) != 0 ||
         ssh_xfer_put(r->conn, key, path, err, sizeof err) != 0))
        return fail(r, "cannot copy %s to %s: %s", key, UP_BOOTSTRAP_KEY, err);
    if (key != NULL)
        into_container(r, path, UP_BOOTSTRAP_KEY);
    return into_container_flush(r);
}

static int step_start(node_run *r)
{
    const cluster_config *c = r->c;
    if (install_bootstrap(r) != 0)
        return -1;
    if (!need_start(r)) {
        status(r, 7, "setting-up", "Ray runtime not restarted due to --no-restart.");
        return 0;
    }
    if (install_secrets(r) != 0)
        return -1;
    const cfg_strv *cmds = r->j->is_head ? &c->head_start_ray_commands
                                         : &c->worker_start_ray_commands;
    r->j->started = 1;
    lstate_node_started(r->p->x->state, c->cluster_name, r->j->ip);
    return run_list(r, 7, cmds, "Starting the Ray runtime", "No start commands to run.");
}

static void open_log(node_run *r)
{
    up_job *j = r->j;
    r->log = fs_path_join_ext(j->log_path, sizeof j->log_path, r->p->log_dir, j->ip, ".log") == 0
                 ? fopen(j->log_path, "w")
                 : NULL;
    if (r->log == NULL)
        r->log = fopen("/dev/null", "w");
}

void up_node_update(up_job *j)
{
    node_run r = {.j = j, .p = j->plan, .c = j->plan->x->cfg};
    int64_t start = time_mono_ms();
    int changed = 0;
    j->exit_code = 0;
    open_log(&r);
    r.have_prev = lstate_node_get(r.p->x->state, r.c->cluster_name, j->ip, &r.prev) == 0;
    if (step_ssh(&r) == 0 && steps_setup(&r, &changed) == 0 && step_start(&r) == 0) {
        lstate_node_done(r.p->x->state, r.c->cluster_name, j->ip, j->runtime_hash,
                         j->files_hash);
        j->skipped = !changed;
        up_display_set(r.p->disp, j->line, 7, LSTATE_UP_TO_DATE,
                       j->started ? "Ray runtime started" : "Ray runtime left running");
        j->ok = 1;
    }
    j->elapsed_ms = time_mono_ms() - start;
    up_display_done(r.p->disp, j->line);
    if (r.log != NULL) {
        fprintf(r.log, "==> %s after %.1f s\n", j->ok ? "up-to-date" : "update-failed",
                (double)j->elapsed_ms / 1000.0);
        fclose(r.log);
    }
    ssh_conn_close(r.conn);
}
