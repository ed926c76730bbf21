/* Setting up one job's runtime_env (temporary: env_vars only). */
#include "jobserver/renv_setup.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct renv_ctx {
    uv_loop_t *loop;
};

struct renv_setup {
    renv_ctx *ctx;
    uv_timer_t timer;
    renv_done_cb cb;
    void *arg;
    int failed;
    renv_result res;
};

int renv_ctx_new(uv_loop_t *loop, const renv_ctx_config *cfg, renv_ctx **out, char *err,
                 size_t errlen)
{
    renv_ctx *c = calloc(1, sizeof *c);
    if (c == NULL)
        return -ENOMEM;
    c->loop = loop;
    *out = c;
    return 0;
}

void renv_ctx_free(renv_ctx *c)
{
    free(c);
}

uint64_t renv_ctx_cache_bytes(const renv_ctx *c)
{
    return 0;
}

static void setup_timer_cb(uv_timer_t *t)
{
    renv_setup *s = t->data;
    if (s->failed)
        s->cb(s->arg, -ENOTSUP, "working_dir, py_modules and pip are not supported yet", NULL);
    else
        s->cb(s->arg, 0, NULL, &s->res);
}

int renv_setup_start(renv_ctx *c, const renv_spec *spec, const char *log_path,
                     renv_done_cb cb, void *arg, renv_setup **out)
{
    renv_setup *s = calloc(1, sizeof *s);
    if (s == NULL)
        return -ENOMEM;
    s->ctx = c;
    s->cb = cb;
    s->arg = arg;
    s->failed = spec->working_dir != NULL || spec->n_py_modules > 0 || spec->n_pip > 0;
    uv_timer_init(c->loop, &s->timer);
    s->timer.data = s;
    uv_timer_start(&s->timer, setup_timer_cb, 0, 0);
    *out = s;
    return 0;
}

static void setup_closed(uv_handle_t *h)
{
    free(h->data);
}

void renv_setup_free(renv_setup *s)
{
    if (s == NULL)
        return;
    uv_close((uv_handle_t *)&s->timer, setup_closed);
}
