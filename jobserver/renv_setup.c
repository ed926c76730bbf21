/* Setting up one job's runtime_env: working_dir, then py_modules (through
 * the URI cache), then pip (a shared virtualenv), one step at a time. */
#include "jobserver/renv_setup.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "common/dbuf.h"
#include "jobserver/jobs_logs.h"
#include "jobserver/renv_cache.h"
#include "jobserver/renv_pip.h"

#define PYTHONPATH_MAX (256u * 1024)
#define MAX_PACKAGES 256

struct renv_ctx {
    uv_loop_t *loop;
    renv_cache *cache;
    renv_pip *pip;
};

enum setup_step { S_WORKING_DIR, S_PY_MODULES, S_PIP, S_DONE };

struct renv_setup {
    renv_ctx *ctx;
    const renv_spec *spec;        /* owned by the caller, outlives the setup */
    char log_path[PATH_MAX];
    renv_done_cb cb;
    void *arg;
    enum setup_step step;
    size_t module;                /* next py_modules entry */
    renv_cache_req *creq;
    renv_pip_req *preq;
    char *keys[MAX_PACKAGES];     /* cache references to release */
    int nkeys;
    char cwd[PATH_MAX];
    char venv[PATH_MAX];
    dbuf python_path;
    renv_result res;
    uv_timer_t kick;
    int finished;                 /* the callback ran */
};

static void setup_advance(renv_setup *s);

/* ---------------------------------------------------------------- context */

int renv_ctx_new(uv_loop_t *loop, const renv_ctx_config *cfg, renv_ctx **out, char *err,
                 size_t errlen)
{
    renv_ctx *c = calloc(1, sizeof *c);
    if (c == NULL)
        return -ENOMEM;
    c->loop = loop;
    char uris[PATH_MAX + 8], pip[PATH_MAX + 8];
    snprintf(uris, sizeof uris, "%s/uris", cfg->resources_dir);
    snprintf(pip, sizeof pip, "%s/pip", cfg->resources_dir);
    renv_cache_config cc = {
        .uris_dir = uris,
        .packages_dir = cfg->packages_dir,
        .limit = cfg->cache_limit,
        .download_limit = cfg->download_limit,
        .unpack = cfg->unpack,
    };
    int rc = renv_cache_new(loop, &cc, &c->cache);
    if (rc == 0)
        rc = renv_pip_new(loop, pip, &c->pip);
    if (rc != 0) {
        snprintf(err, errlen, "cannot prepare %s: %s", cfg->resources_dir, strerror(-rc));
        renv_ctx_free(c);
        return rc;
    }
    *out = c;
    return 0;
}

void renv_ctx_free(renv_ctx *c)
{
    if (c == NULL)
        return;
    renv_cache_free(c->cache);
    renv_pip_free(c->pip);
    free(c);
}

uint64_t renv_ctx_cache_bytes(const renv_ctx *c)
{
    return renv_cache_bytes(c->cache);
}

/* ---------------------------------------------------------------- completion */

static void setup_fail(renv_setup *s, int rc, const char *err)
{
    s->finished = 1;
    s->cb(s->arg, rc, err, NULL);   /* may free S */
}

static void setup_succeed(renv_setup *s)
{
    s->res.cwd = s->cwd[0] ? s->cwd : NULL;
    s->res.python_path = s->python_path.len > 0 ? s->python_path.data : NULL;
    s->res.venv = s->venv[0] ? s->venv : NULL;
    s->finished = 1;
    s->cb(s->arg, 0, NULL, &s->res);   /* may free S */
}

static void kick_cb(uv_timer_t *t)
{
    setup_advance(t->data);
}

/* Runs the next step on a fresh loop turn (so no callback runs inside a call). */
static void setup_kick(renv_setup *s)
{
    uv_timer_start(&s->kick, kick_cb, 0, 0);
}

/* ---------------------------------------------------------------- packages */

static int add_python_path(renv_setup *s, const char *dir)
{
    int rc = s->python_path.len > 0 ? dbuf_add(&s->python_path, ":", 1) : 0;
    return rc ? rc : dbuf_puts(&s->python_path, dir);
}

static void package_ready(void *arg, int rc, const char *err, const char *dir, const char *key)
{
    renv_setup *s = arg;
    s->creq = NULL;
    if (rc != 0) {
        setup_fail(s, rc, err);
        return;
    }
    s->keys[s->nkeys] = strdup(key);
    if (s->keys[s->nkeys] != NULL)
        s->nkeys++;
    if (s->step == S_WORKING_DIR)
        str_copy(s->cwd, sizeof s->cwd, dir);
    if (add_python_path(s, dir) != 0) {
        setup_fail(s, -ENOMEM, "PYTHONPATH is too long");
        return;
    }
    if (s->step == S_WORKING_DIR)
        s->step = S_PY_MODULES;
    else
        s->module++;
    setup_advance(s);
}

static void fetch_package(renv_setup *s, const char *uri)
{
    long timeout = s->spec->setup_timeout_s > 0 ? s->spec->setup_timeout_s : 0;
    if (s->nkeys == MAX_PACKAGES) {
        setup_fail(s, -E2BIG, "too many packages in the runtime_env");
        return;
    }
    if (renv_cache_acquire(s->ctx->cache, uri, timeout, package_ready, s, &s->creq) != 0)
        setup_fail(s, -ENOMEM, "out of memory");
}

/* ---------------------------------------------------------------- pip */

/* Copies pip's output into the job's log so users see what was installed. */
static void copy_build_log(renv_setup *s, const char *build_log)
{
    char *text;
    size_t n;
    if (build_log == NULL || jobs_log_read_all(build_log, &text, &n) != 0)
        return;
    if (n > 0)
        jobs_log_append(s->log_path, text);
    free(text);
}

static void pip_ready(void *arg, int rc, const char *err, const char *venv, const char *build_log)
{
    renv_setup *s = arg;
    s->preq = NULL;
    if (rc != 0) {
        jobs_log_append(s->log_path, err);
        jobs_log_append(s->log_path, "\n");
        setup_fail(s, rc, err);
        return;
    }
    copy_build_log(s, build_log);
    str_copy(s->venv, sizeof s->venv, venv);
    s->step = S_DONE;
    setup_advance(s);
}

static void build_venv(renv_setup *s)
{
    char line[PATH_MAX + 128];
    snprintf(line, sizeof line, "Setting up the pip runtime_env (%zu requirements)...\n",
             s->spec->n_pip);
    jobs_log_append(s->log_path, line);
    if (renv_pip_acquire(s->ctx->pip, s->spec, s->cwd[0] ? s->cwd : NULL, pip_ready, s,
                         &s->preq) != 0)
        setup_fail(s, -ENOMEM, "out of memory");
}

/* ---------------------------------------------------------------- steps */

static void setup_advance(renv_setup *s)
{
    const renv_spec *spec = s->spec;
    if (s->step == S_WORKING_DIR && spec->working_dir == NULL)
        s->step = S_PY_MODULES;
    if (s->step == S_WORKING_DIR) {
        fetch_package(s, spec->working_dir);
        return;
    }
    if (s->step == S_PY_MODULES && s->module < spec->n_py_modules) {
        fetch_package(s, spec->py_modules[s->module]);
        return;
    }
    if (s->step == S_PY_MODULES)
        s->step = S_PIP;
    if (s->step == S_PIP && spec->n_pip > 0) {
        build_venv(s);
        return;
    }
    setup_succeed(s);
}

int renv_setup_start(renv_ctx *c, const renv_spec *spec, const char *log_path,
                     renv_done_cb cb, void *arg, renv_setup **out)
{
    renv_setup *s = calloc(1, sizeof *s);
    if (s == NULL)
        return -ENOMEM;
    s->ctx = c;
    s->spec = spec;
    s->cb = cb;
    s->arg = arg;
    str_copy(s->log_path, sizeof s->log_path, log_path);
    dbuf_init(&s->python_path, PYTHONPATH_MAX);
    uv_timer_init(c->loop, &s->kick);
    s->kick.data = s;
    setup_kick(s);
    *out = s;
    return 0;
}

static void setup_closed(uv_handle_t *h)
{
    renv_setup *s = h->data;
    dbuf_free(&s->python_path);
    free(s);
}

void renv_setup_free(renv_setup *s)
{
    if (s == NULL)
        return;
    renv_cache_cancel(s->creq);
    renv_pip_cancel(s->preq);
    for (int i = 0; i < s->nkeys; i++) {
        renv_cache_release(s->ctx->cache, s->keys[i]);
        free(s->keys[i]);
    }
    uv_close((uv_handle_t *)&s->kick, setup_closed);
}
