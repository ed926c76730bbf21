/* pip runtime_envs: one virtualenv per requirements hash, built once. */
#include "jobserver/renv_pip.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/evp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "jobserver/jobs_logs.h"
#include "jobserver/renv_env.h"

extern char **environ;

#define MAX_STEP_ARGS 512
#define BUILD_ERR_LINES 20

struct renv_pip_req {
    struct build *b;
    renv_pip_cb cb;
    void *arg;
    struct renv_pip_req *next;
};

typedef struct build {
    renv_pip *p;
    char hash[17];
    char dir[PATH_MAX];          /* PIP_DIR/<hash> */
    char venv[PATH_MAX + 16];
    char log[PATH_MAX + 16];
    char *working_dir;
    char **steps[4];             /* argv of each step, NULL-terminated list */
    int nsteps;
    int step;
    int ready;                   /* built before: deliver at once */
    uv_process_t proc;
    int proc_live;
    uv_timer_t kick;
    int handles;                 /* kick, plus proc while it is open */
    renv_pip_req *waiters;
    struct build *next;
} build;

struct renv_pip {
    uv_loop_t *loop;
    char dir[PATH_MAX];
    build *builds;
};

/* ---------------------------------------------------------------- hashing */

static void hash_str(EVP_MD_CTX *ctx, const char *s)
{
    EVP_DigestUpdate(ctx, s ? s : "", s ? strlen(s) + 1 : 1);
}

void renv_pip_hash(const renv_spec *spec, char *out, size_t outlen)
{
    unsigned char d[EVP_MAX_MD_SIZE];
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_DigestInit_ex(ctx, EVP_sha1(), NULL);
    hash_str(ctx, getenv("RAYC_PYTHON") ? getenv("RAYC_PYTHON") : "python3");
    hash_str(ctx, spec->pip_version);
    hash_str(ctx, spec->pip_check ? "check" : "nocheck");
    for (size_t i = 0; i < spec->n_pip; i++)
        hash_str(ctx, spec->pip_packages[i]);
    hash_str(ctx, "--");
    for (size_t i = 0; i < spec->n_pip_options; i++)
        hash_str(ctx, spec->pip_options[i]);
    EVP_DigestFinal_ex(ctx, d, NULL);
    EVP_MD_CTX_free(ctx);
    for (size_t i = 0; i < 8 && 2 * i + 2 < outlen; i++)
        snprintf(out + 2 * i, 3, "%02x", d[i]);
}

/* ---------------------------------------------------------------- steps */

static char **argv_new(void)
{
    return calloc(MAX_STEP_ARGS, sizeof(char *));
}

static int argv_push(char **v, const char *s)
{
    int i = 0;
    while (v[i] != NULL)
        i++;
    if (i >= MAX_STEP_ARGS - 1 || (v[i] = strdup(s)) == NULL)
        return -ENOMEM;
    return 0;
}

static void argv_free(char **v)
{
    for (int i = 0; v != NULL && v[i] != NULL; i++)
        free(v[i]);
    free(v);
}

static int write_requirements(build *b, const renv_spec *spec, char *path, size_t pathlen)
{
    snprintf(path, pathlen, "%s/requirements.txt", b->dir);
    size_t n = 1;
    for (size_t i = 0; i < spec->n_pip; i++)
        n += strlen(spec->pip_packages[i]) + 1;
    char *text = malloc(n);
    if (text == NULL)
        return -ENOMEM;
    text[0] = '\0';
    size_t off = 0;
    for (size_t i = 0; i < spec->n_pip; i++)
        off += (size_t)snprintf(text + off, n - off, "%s\n", spec->pip_packages[i]);
    int rc = fs_write_file(path, text, off, 0644);
    free(text);
    return rc;
}

/* venv, pip version, install, check: the argv of each step. */
static int plan_steps(build *b, const renv_spec *spec)
{
    const char *python = getenv("RAYC_PYTHON") ? getenv("RAYC_PYTHON") : "python3";
    char vpy[PATH_MAX + 32], req[PATH_MAX + 32];
    snprintf(vpy, sizeof vpy, "%s/bin/python", b->venv);
    int rc = write_requirements(b, spec, req, sizeof req);
    char **s = b->steps[b->nsteps++] = argv_new();
    rc |= !s || argv_push(s, python) || argv_push(s, "-m") || argv_push(s, "venv") ||
          argv_push(s, "--system-site-packages") || argv_push(s, b->venv);
    if (spec->pip_version != NULL) {
        char pin[512];
        snprintf(pin, sizeof pin, "pip%s", spec->pip_version);
        s = b->steps[b->nsteps++] = argv_new();
        rc |= !s || argv_push(s, vpy) || argv_push(s, "-m") || argv_push(s, "pip") ||
              argv_push(s, "install") || argv_push(s, pin);
    }
    s = b->steps[b->nsteps++] = argv_new();
    rc |= !s || argv_push(s, vpy) || argv_push(s, "-m") || argv_push(s, "pip") ||
          argv_push(s, "install") || argv_push(s, "-r") || argv_push(s, req);
    for (size_t i = 0; rc == 0 && i < spec->n_pip_options; i++)
        rc |= argv_push(s, spec->pip_options[i]);
    if (spec->pip_check) {
        s = b->steps[b->nsteps++] = argv_new();
        rc |= !s || argv_push(s, vpy) || argv_push(s, "-m") || argv_push(s, "pip") ||
              argv_push(s, "check");
    }
    return rc ? -ENOMEM : 0;
}

/* ---------------------------------------------------------------- builds */

static void build_closed(uv_handle_t *h)
{
    build *b = h->data;
    if (--b->handles > 0)
        return;
    for (int i = 0; i < b->nsteps; i++)
        argv_free(b->steps[i]);
    free(b->working_dir);
    free(b);
}

static void unlink_build(renv_pip *p, build *b)
{
    for (build **pp = &p->builds; *pp != NULL; pp = &(*pp)->next)
        if (*pp == b) {
            *pp = b->next;
            return;
        }
}

/* Tells every waiter how the build ended, then forgets the build. */
static void finish(build *b, int rc, const char *err)
{
    renv_pip_req *list = b->waiters;
    b->waiters = NULL;
    unlink_build(b->p, b);
    if (rc != 0)
        fs_rm_rf(b->dir);
    while (list != NULL) {
        renv_pip_req *r = list;
        list = r->next;
        r->cb(r->arg, rc, err, rc == 0 ? b->venv : NULL, b->log);
        free(r);
    }
    uv_close((uv_handle_t *)&b->kick, build_closed);
}

static void build_failed(build *b, const char *what)
{
    char *tail = NULL, msg[8192];
    jobs_log_tail_lines(b->log, BUILD_ERR_LINES, 4000, &tail);
    snprintf(msg, sizeof msg, "pip install failed (%s); the last lines of its output:\n%s", what,
             tail ? tail : "");
    free(tail);
    log_warn("runtime_env: pip environment %s failed (%s)", b->hash, what);
    finish(b, -EIO, msg);
}

static void run_step(build *b);
static void kick_cb(uv_timer_t *t);

static void step_exit(uv_process_t *proc, int64_t status, int sig)
{
    build *b = proc->data;
    b->proc_live = 0;
    uv_close((uv_handle_t *)proc, build_closed);
    if (status != 0 || sig != 0) {
        char what[96];
        snprintf(what, sizeof what, "%s %s exited with %s %d", b->steps[b->step][0],
                 b->step == 0 ? "-m venv" : b->steps[b->step][3], sig ? "signal" : "code",
                 sig ? sig : (int)status);
        build_failed(b, what);
        return;
    }
    b->step++;
    /* The next step reuses B->proc: start it once this one is closed. */
    uv_timer_start(&b->kick, kick_cb, 0, 0);
}

static int spawn_step(build *b, int log_fd)
{
    renv_envlist env;
    int rc = renv_envlist_init(&env, environ);
    if (rc == 0)
        rc = renv_envlist_set(&env, "PIP_DISABLE_PIP_VERSION_CHECK", "1");
    if (rc == 0)
        rc = renv_envlist_set(&env, "PIP_NO_INPUT", "1");
    if (rc == 0 && b->working_dir)
        rc = renv_envlist_set(&env, "RAY_RUNTIME_ENV_CREATE_WORKING_DIR", b->working_dir);
    if (rc != 0)
        return UV_ENOMEM;
    uv_stdio_container_t stdio[3] = {
        {.flags = UV_IGNORE},
        {.flags = UV_INHERIT_FD, .data.fd = log_fd},
        {.flags = UV_INHERIT_FD, .data.fd = log_fd},
    };
    uv_process_options_t opt = {
        .exit_cb = step_exit,
        .file = b->steps[b->step][0],
        .args = b->steps[b->step],
        .env = env.vars,
        .flags = UV_PROCESS_DETACHED,
        .stdio_count = 3,
        .stdio = stdio,
    };
    b->proc.data = b;
    rc = uv_spawn(b->p->loop, &b->proc, &opt);
    if (b->proc.loop != NULL)
        b->handles++;
    if (rc != 0 && b->proc.loop != NULL)
        uv_close((uv_handle_t *)&b->proc, build_closed);
    else if (rc == 0)
        b->proc_live = 1;
    renv_envlist_free(&env);
    return rc;
}

static void run_step(build *b)
{
    char marker[PATH_MAX + 16];
    if (b->step == b->nsteps) {
        snprintf(marker, sizeof marker, "%s/ready", b->dir);
        fs_write_file(marker, "", 0, 0644);
        log_info("runtime_env: pip environment %s is ready", b->hash);
        finish(b, 0, NULL);
        return;
    }
    int fd = open(b->log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    int rc = fd < 0 ? uv_translate_sys_error(errno) : spawn_step(b, fd);
    if (fd >= 0)
        close(fd);
    if (rc != 0) {
        char what[256];
        snprintf(what, sizeof what, "cannot run %s: %s", b->steps[b->step][0], uv_strerror(rc));
        build_failed(b, what);
    }
}

static void kick_cb(uv_timer_t *t)
{
    build *b = t->data;
    if (b->ready)
        finish(b, 0, NULL);
    else
        run_step(b);
}

static build *find_build(renv_pip *p, const char *hash)
{
    for (build *b = p->builds; b != NULL; b = b->next)
        if (strcmp(b->hash, hash) == 0)
            return b;
    return NULL;
}

static build *new_build(renv_pip *p, const renv_spec *spec, const char *hash,
                        const char *working_dir)
{
    build *b = calloc(1, sizeof *b);
    if (b == NULL)
        return NULL;
    b->p = p;
    str_copy(b->hash, sizeof b->hash, hash);
    if (fs_path_join(b->dir, sizeof b->dir, p->dir, hash) != 0) {
        free(b);
        return NULL;
    }
    snprintf(b->venv, sizeof b->venv, "%s/virtualenv", b->dir);
    snprintf(b->log, sizeof b->log, "%s/build.log", b->dir);
    char marker[PATH_MAX + 16];
    snprintf(marker, sizeof marker, "%s/ready", b->dir);
    b->ready = access(marker, F_OK) == 0;
    uv_timer_init(p->loop, &b->kick);
    b->kick.data = b;
    b->handles = 1;
    if (!b->ready) {
        fs_rm_rf(b->dir);
        b->working_dir = working_dir ? strdup(working_dir) : NULL;
        if (fs_mkdir_p(b->dir, 0755) != 0 || plan_steps(b, spec) != 0) {
            uv_close((uv_handle_t *)&b->kick, build_closed);
            return NULL;
        }
        log_info("runtime_env: building pip environment %s (%zu requirements)", hash, spec->n_pip);
    }
    b->next = p->builds;
    p->builds = b;
    uv_timer_start(&b->kick, kick_cb, 0, 0);
    return b;
}

int renv_pip_acquire(renv_pip *p, const renv_spec *spec, const char *working_dir,
                     renv_pip_cb cb, void *arg, renv_pip_req **out)
{
    char hash[17];
    renv_pip_hash(spec, hash, sizeof hash);
    renv_pip_req *r = calloc(1, sizeof *r);
    if (r == NULL)
        return -ENOMEM;
    build *b = find_build(p, hash);
    if (b == NULL && (b = new_build(p, spec, hash, working_dir)) == NULL) {
        free(r);
        return -ENOMEM;
    }
    r->b = b;
    r->cb = cb;
    r->arg = arg;
    r->next = b->waiters;
    b->waiters = r;
    *out = r;
    return 0;
}

void renv_pip_cancel(renv_pip_req *r)
{
    if (r == NULL)
        return;
    build *b = r->b;
    for (renv_pip_req **pp = &b->waiters; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == r) {
            *pp = r->next;
            break;
        }
    }
    free(r);
    if (b->waiters == NULL && b->proc_live) {
        log_info("runtime_env: no job waits for pip environment %s any more; stopping it", b->hash);
        uv_kill(-b->proc.pid, SIGKILL);
    }
}

/* ---------------------------------------------------------------- setup */

int renv_pip_new(uv_loop_t *loop, const char *pip_dir, renv_pip **out)
{
    renv_pip *p = calloc(1, sizeof *p);
    if (p == NULL)
        return -ENOMEM;
    p->loop = loop;
    str_copy(p->dir, sizeof p->dir, pip_dir);
    int rc = fs_mkdir_p(p->dir, 0755);
    if (rc != 0) {
        free(p);
        return rc;
    }
    *out = p;
    return 0;
}

void renv_pip_free(renv_pip *p)
{
    if (p == NULL)
        return;
    for (build *b = p->builds; b != NULL; b = b->next)
        if (b->proc_live)
            uv_kill(-b->proc.pid, SIGKILL);
    free(p);
}
