/* Running one task in a worker: its arguments, its return values, the
 * function call, and the TaskDone report. */
#include "api/api.h"

#include "common/shm_map.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct ctx_arg {
    int type;
    const uint8_t *data;       /* a view: the message or a read-only mapping */
    size_t len;                /* strings include their NUL */
    void *map;
    size_t maplen;
    ray_actor *actor;
    ids_object id;             /* the object an argument by reference came from */
    int has_id;
} ctx_arg;

typedef struct ctx_ret {
    int type;
    uint8_t *data;             /* inline copy */
    size_t len;
    int in_store;              /* created in the store */
    size_t size;
    void *wmap;                /* ray_return_alloc mapping, sealed at the end */
} ctx_ret;

struct ray_ctx {
    const Rayc__TaskSpec *spec;
    ids_task task;
    char hex[2 * IDS_TASK_LEN + 1];
    ctx_arg *args;
    size_t nargs;
    ctx_ret *rets;
    size_t nret;
    char *error;
    int status;
    Rayc__Envelope *env;       /* the ExecuteTask that holds spec (owned) */
    api_chan *chan;            /* a direct call's connection (a reference), or NULL */
    int64_t start_ns;          /* when a direct call started (its task event) */
};

static _Thread_local ray_ctx *cur_ctx;
/* The runner on this thread deferred its task: it may be finished and
 * freed by another thread before the runner even returns, so this flag,
 * not the task, says so. */
static _Thread_local int cur_deferred;

/* The live actor of this worker (one per worker process). */
static char actor_class[512];
static void *actor_self;
static ray_actor_free_fn actor_dtor;

/* Runners of tasks in other languages (api_set_lang_runner). */
#define CTX_LANGS 2
static api_lang_run_fn lang_runners[CTX_LANGS];

void api_set_lang_runner(int language, api_lang_run_fn run)
{
    if (language > 0 && language < CTX_LANGS) {
        lang_runners[language] = run;
        api_set_submit_language(language);
    }
}

ray_ctx *api_current_ctx(void) { return cur_ctx; }
const ids_task *api_ctx_task_id(const ray_ctx *c) { return &c->task; }
size_t api_ctx_num_returns(const ray_ctx *c) { return c->nret; }
const char *ray_task_hex(const ray_ctx *c) { return c ? c->hex : ""; }
int ray_task_attempt(const ray_ctx *c) { return c ? c->spec->attempt : 0; }

/* ---------------------------------------------------------------- errors */

int ray_error(ray_ctx *c, const char *fmt, ...)
{
    char buf[API_ERROR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (c == NULL)
        return api_fail_msg(RAY_ERR_TASK, buf);
    free(c->error);
    c->error = strdup(buf);
    c->status = RAY_ERR_TASK;
    return RAY_ERR_TASK;
}

/* Records a failure of the task's own making with STATUS. */
static int ctx_fail(ray_ctx *c, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int ctx_fail(ray_ctx *c, int status, const char *fmt, ...)
{
    char buf[API_ERROR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    free(c->error);
    c->error = strdup(buf);
    c->status = status;
    api_fail_msg(status, buf);
    return status;
}

int ray_cancelled(ray_ctx *c)
{
    if (c == NULL)
        return 0;
    pthread_mutex_lock(&api_g.mu);
    api_poll_nowait();
    int yes = api_g.cancel_set && ids_task_eq(&api_g.cancel_task, &c->task);
    pthread_mutex_unlock(&api_g.mu);
    return yes;
}

/* ---------------------------------------------------------------- arguments */

size_t ray_arg_count(const ray_ctx *c) { return c ? c->nargs : 0; }

ray_type ray_arg_type(const ray_ctx *c, size_t i)
{
    return c && i < c->nargs ? (ray_type)c->args[i].type : RAY_NIL;
}

static const ctx_arg *arg_of(ray_ctx *c, size_t i, int type, const char *what)
{
    if (c == NULL) {
        api_fail(RAY_ERR_INVALID, "%s: not inside a task", what);
        return NULL;
    }
    if (i >= c->nargs) {
        api_fail(RAY_ERR_INVALID, "%s: argument %zu of %zu does not exist", what, i, c->nargs);
        return NULL;
    }
    const ctx_arg *a = &c->args[i];
    int ok = a->type == type || (type == RAY_BYTES && a->type == RAY_STR);
    if (!ok || ((type == RAY_I64 || type == RAY_F64) && a->len != 8)) {
        api_fail(RAY_ERR_TYPE, "%s: argument %zu has type %d", what, i, a->type);
        return NULL;
    }
    return a;
}

int ray_arg_i64(ray_ctx *c, size_t i, int64_t *out)
{
    const ctx_arg *a = arg_of(c, i, RAY_I64, "ray_arg_i64");
    if (a == NULL)
        return c && i < c->nargs ? RAY_ERR_TYPE : RAY_ERR_INVALID;
    memcpy(out, a->data, 8);
    return RAY_OK;
}

int ray_arg_f64(ray_ctx *c, size_t i, double *out)
{
    const ctx_arg *a = arg_of(c, i, RAY_F64, "ray_arg_f64");
    if (a == NULL)
        return c && i < c->nargs ? RAY_ERR_TYPE : RAY_ERR_INVALID;
    memcpy(out, a->data, 8);
    return RAY_OK;
}

int ray_arg_str(ray_ctx *c, size_t i, const char **out, size_t *len)
{
    const ctx_arg *a = arg_of(c, i, RAY_STR, "ray_arg_str");
    if (a == NULL)
        return c && i < c->nargs ? RAY_ERR_TYPE : RAY_ERR_INVALID;
    *out = a->len ? (const char *)a->data : "";
    if (len != NULL)
        *len = a->len ? a->len - 1 : 0;
    return RAY_OK;
}

int ray_arg_bytes(ray_ctx *c, size_t i, const void **out, size_t *len)
{
    const ctx_arg *a = arg_of(c, i, RAY_BYTES, "ray_arg_bytes");
    if (a == NULL)
        return c && i < c->nargs ? RAY_ERR_TYPE : RAY_ERR_INVALID;
    *out = a->data;
    if (len != NULL)
        *len = a->type == RAY_STR && a->len ? a->len - 1 : a->len;
    return RAY_OK;
}

int ray_arg_actor(ray_ctx *c, size_t i, ray_actor **out)
{
    const ctx_arg *a = arg_of(c, i, RAY_ACTOR, "ray_arg_actor");
    if (a == NULL)
        return c && i < c->nargs ? RAY_ERR_TYPE : RAY_ERR_INVALID;
    *out = a->actor;
    return RAY_OK;
}

int ray_arg_value(ray_ctx *c, size_t i, ray_value *out)
{
    memset(out, 0, sizeof *out);
    const ctx_arg *a = arg_of(c, i, RAY_BYTES, "ray_arg_value");
    if (a == NULL)
        return c && i < c->nargs ? RAY_ERR_TYPE : RAY_ERR_INVALID;
    if (a->type != RAY_BYTES)
        return api_fail(RAY_ERR_TYPE, "ray_arg_value: argument %zu is a string", i);
    if (a->map != NULL && a->has_id)
        return api_store_value(&a->id, RAY_BYTES, out);
    /* Inline: a copy the value owns, as ray_get's of a small object. */
    void *copy = malloc(a->len ? a->len : 1);
    if (copy == NULL)
        return api_fail(RAY_ERR_NOMEM, "out of memory copying an argument");
    if (a->len > 0)
        memcpy(copy, a->data, a->len);
    return api_value_adopt(out, RAY_BYTES, copy, a->len);
}

/* Maps a store argument the raylet pinned for this task. */
static int map_arg(ctx_arg *a, const Rayc__Value *v)
{
    const void *p = NULL;
    a->len = v->size;
    int rc = shm_map_read(v->path, v->size, &p);
    if (rc != 0)
        return rc;
    a->map = (void *)p;
    a->maplen = v->size;
    a->data = p;
    return 0;
}

static int decode_arg(ray_ctx *c, ctx_arg *a, const Rayc__TaskArg *ta)
{
    const Rayc__Value *v = ta->value;
    if (v == NULL)
        return ctx_fail(c, RAY_ERR_OBJECT_LOST, "an argument was not resolved");
    a->type = v->type;
    a->has_id = ids_from_bytes(a->id.b, IDS_OBJECT_LEN, ta->object_id.data,
                               ta->object_id.len) == 0;
    if (v->in_store) {
        int rc = map_arg(a, v);
        if (rc != 0)
            return ctx_fail(c, RAY_ERR_OBJECT_LOST, "cannot map argument object %s: %s",
                            v->path, strerror(-rc));
    } else {
        a->data = v->data.data;
        a->len = v->data.len;
    }
    if (a->type == RAY_STR && (a->len == 0 || a->data[a->len - 1] != '\0'))
        return ctx_fail(c, RAY_ERR_TYPE, "a string argument is not terminated");
    if (a->type == RAY_ACTOR) {
        ids_actor id;
        if (ids_from_bytes(id.b, IDS_ACTOR_LEN, a->data, a->len) != 0 ||
            (a->actor = api_actor_handle(&id)) == NULL)
            return ctx_fail(c, RAY_ERR_TYPE, "a malformed actor handle argument");
    }
    return RAY_OK;
}

/* ---------------------------------------------------------------- returns */

static ctx_ret *ret_slot(ray_ctx *c, size_t i, const char *what)
{
    if (c == NULL) {
        api_fail(RAY_ERR_INVALID, "%s: not inside a task", what);
        return NULL;
    }
    if (i >= c->nret) {
        api_fail(RAY_ERR_INVALID, "%s: return value %zu of %zu does not exist", what, i, c->nret);
        return NULL;
    }
    ctx_ret *r = &c->rets[i];
    ids_object id = ids_object_for(&c->task, (uint32_t)(i + 1));
    if (r->wmap != NULL || r->in_store) /* replaced: drop the earlier object */
        api_store_seal(&id, r->wmap, r->size, RAY_BYTES, 1, 0, 0);
    free(r->data);
    memset(r, 0, sizeof *r);
    return r;
}

int ray_return_alloc(ray_ctx *c, size_t i, size_t size, void **data)
{
    ctx_ret *r = ret_slot(c, i, "ray_return_alloc");
    if (r == NULL)
        return RAY_ERR_INVALID;
    ids_object id = ids_object_for(&c->task, (uint32_t)(i + 1));
    int rc = api_store_create(&id, size, &r->wmap);
    if (rc != RAY_OK)
        return rc;
    r->type = RAY_BYTES;
    r->in_store = 1;
    r->size = size;
    *data = r->wmap;
    return RAY_OK;
}

int ray_return_at(ray_ctx *c, size_t i, ray_arg value)
{
    Rayc__Value v = RAYC__VALUE__INIT;
    uint8_t scratch[8];
    if (value.kind == RAY_ARG_REF)
        return api_fail(RAY_ERR_INVALID, "a task cannot return a ref (return its value)");
    int rc = api_value_from_arg(&value, &v, scratch);
    ctx_ret *r = rc == RAY_OK ? ret_slot(c, i, "ray_return") : NULL;
    if (r == NULL)
        return rc != RAY_OK ? rc : RAY_ERR_INVALID;
    r->type = v.type;
    if (v.data.len > API_INLINE_MAX) {
        ids_object id = ids_object_for(&c->task, (uint32_t)(i + 1));
        rc = api_store_create(&id, v.data.len, &r->wmap);
        if (rc != RAY_OK)
            return rc;
        memcpy(r->wmap, v.data.data, v.data.len);
        r->in_store = 1;
        r->size = v.data.len;
        return RAY_OK;
    }
    r->data = malloc(v.data.len ? v.data.len : 1);
    if (r->data == NULL)
        return api_fail(RAY_ERR_NOMEM, "out of memory");
    memcpy(r->data, v.data.data, v.data.len);
    r->len = v.data.len;
    return RAY_OK;
}

int ray_return_i64(ray_ctx *c, int64_t v) { return ray_return_at(c, 0, ray_i64(v)); }
int ray_return_f64(ray_ctx *c, double v) { return ray_return_at(c, 0, ray_f64(v)); }
int ray_return_str(ray_ctx *c, const char *s) { return ray_return_at(c, 0, ray_str(s)); }
int ray_return_bytes(ray_ctx *c, const void *data, size_t len)
{
    return ray_return_at(c, 0, ray_bytes(data, len));
}

/* ---------------------------------------------------------------- running */

/* CUDA_VISIBLE_DEVICES for a task or an actor's constructor: the GPUs the
 * raylet assigned (none: unset).  An actor's calls keep what its
 * constructor got, and only they may run on several threads. */
static void set_gpus(const Rayc__TaskSpec *spec)
{
    static _Atomic int set_before;
    if (spec->kind == RAYC__TASK_SPEC__KIND__ACTOR_TASK)
        return;
    if (spec->n_gpu_ids == 0) {
        if (set_before)
            unsetenv("CUDA_VISIBLE_DEVICES");
        set_before = 0;
        return;
    }
    char buf[512];
    size_t off = 0;
    for (size_t i = 0; i < spec->n_gpu_ids && off < sizeof buf - 16; i++)
        off += (size_t)snprintf(buf + off, sizeof buf - off, "%s%d", i ? "," : "",
                                (int)spec->gpu_ids[i]);
    setenv("CUDA_VISIBLE_DEVICES", buf, 1);
    set_before = 1;
}

/* The runner of SPEC's language (C: NULL), failing C when there is none. */
static int lang_runner(ray_ctx *c, api_lang_run_fn *run)
{
    int lang = c->spec->language;
    *run = lang > 0 && lang < CTX_LANGS ? lang_runners[lang] : NULL;
    if (lang == 0 || *run != NULL)
        return RAY_OK;
    return ctx_fail(c, RAY_ERR_NOT_FOUND, "task '%s' is %s code, which this %s worker cannot "
                                          "run (the job's driver is not a %s program)",
                    c->spec->function, lang == RAYC__LANGUAGE__PYTHON ? "Python" : "foreign",
                    "C", lang == RAYC__LANGUAGE__PYTHON ? "Python" : "foreign");
}

/* Runs the C constructor of SPEC's class; the state in *SELF, *DTOR. */
static int run_c_ctor(ray_ctx *c, void **self, ray_actor_free_fn *dtor)
{
    api_class *cls = api_registry_class(c->spec->function);
    if (cls == NULL)
        return ctx_fail(c, RAY_ERR_NOT_FOUND, "unknown actor class '%s' (no RAY_ACTOR of that "
                                              "name in the job's code search path)",
                        c->spec->function);
    *self = api_class_ctor(cls)(c);
    *dtor = api_class_dtor(cls);
    if (*self == NULL)
        return c->status ? c->status
                         : ctx_fail(c, RAY_ERR_TASK, "the constructor of %s returned NULL",
                                    c->spec->function);
    return RAY_OK;
}

static int run_actor_create(ray_ctx *c)
{
    static char lang_self; /* a foreign runtime keeps the actor's state itself */
    api_lang_run_fn run;
    void *self = &lang_self;
    ray_actor_free_fn dtor = NULL;
    int rc = lang_runner(c, &run);
    if (rc == RAY_OK)
        rc = run != NULL ? run(c, c->spec) : run_c_ctor(c, &self, &dtor);
    if (rc != RAY_OK)
        return rc;
    snprintf(actor_class, sizeof actor_class, "%s", c->spec->function);
    actor_self = self;
    actor_dtor = dtor;
    int conc = c->spec->actor ? c->spec->actor->max_concurrency : 1;
    pthread_mutex_lock(&api_g.mu);
    api_g.max_concurrency = conc > 1 ? conc : 1;
    pthread_mutex_unlock(&api_g.mu);
    if (conc > 1)
        api_worker_start_threads((size_t)conc - 1);
    ids_actor id;
    api_g.incarnation = c->spec->attempt; /* the raylet's restart count */
    if (ids_from_bytes(id.b, IDS_ACTOR_LEN, c->spec->actor_id.data, c->spec->actor_id.len) == 0)
        api_chan_listen(&id); /* callers may now come straight here */
    return RAY_OK;
}

static int run_function(ray_ctx *c)
{
    const Rayc__TaskSpec *s = c->spec;
    if (s->kind == RAYC__TASK_SPEC__KIND__ACTOR_CREATE)
        return run_actor_create(c);
    api_lang_run_fn run;
    int rc = lang_runner(c, &run);
    if (rc != RAY_OK)
        return rc;
    if (run != NULL) {
        if (s->kind == RAYC__TASK_SPEC__KIND__ACTOR_TASK && actor_self == NULL)
            return ctx_fail(c, RAY_ERR_NOT_FOUND, "no actor lives in this worker for method '%s'",
                            s->function);
        return run(c, s);
    }
    if (s->kind == RAYC__TASK_SPEC__KIND__ACTOR_TASK) {
        ray_method_fn m = actor_self ? api_class_method(actor_class, s->function) : NULL;
        if (m == NULL)
            return ctx_fail(c, RAY_ERR_NOT_FOUND, "actor class %s has no method '%s'",
                            actor_class[0] ? actor_class : "(none)", s->function);
        return m(c, actor_self);
    }
    ray_task_fn fn = api_registry_function(s->function);
    if (fn == NULL)
        return ctx_fail(c, RAY_ERR_NOT_FOUND, "unknown function '%s' (no RAY_REMOTE of that name "
                                              "in the job's code search path)", s->function);
    return fn(c);
}

void api_actor_destroy(void)
{
    if (actor_self != NULL && actor_dtor != NULL)
        actor_dtor(actor_self);
    actor_self = NULL;
}

static int ctx_init(ray_ctx *c, const Rayc__TaskSpec *spec)
{
    memset(c, 0, sizeof *c);
    c->spec = spec;
    ids_from_bytes(c->task.b, IDS_TASK_LEN, spec->task_id.data, spec->task_id.len);
    ids_hex(c->task.b, IDS_TASK_LEN, c->hex);
    c->nargs = spec->n_args;
    c->nret = spec->num_returns > 0 ? (size_t)spec->num_returns : 0;
    if (c->nret > API_MAX_RETURNS)
        c->nret = API_MAX_RETURNS;
    c->args = calloc(c->nargs + 1, sizeof *c->args);
    c->rets = calloc(c->nret + 1, sizeof *c->rets);
    if (c->args == NULL || c->rets == NULL)
        return ctx_fail(c, RAY_ERR_NOMEM, "out of memory starting the task");
    for (size_t i = 0; i < c->nargs; i++) {
        int rc = decode_arg(c, &c->args[i], spec->args[i]);
        if (rc != RAY_OK)
            return rc;
    }
    return RAY_OK;
}

static void ctx_free(ray_ctx *c)
{
    for (size_t i = 0; c->args != NULL && i < c->nargs; i++) {
        if (c->args[i].map != NULL)
            shm_unmap(c->args[i].map, c->args[i].maplen);
        ray_actor_release(c->args[i].actor);
    }
    for (size_t i = 0; c->rets != NULL && i < c->nret; i++)
        free(c->rets[i].data);
    free(c->args);
    free(c->rets);
    free(c->error);
}

/* Seals the store returns (or aborts them when the task failed).  A direct
 * call's returns are sealed as puts, synchronously, for the caller to
 * adopt; a failure to do so fails the task. */
static int seal_returns(ray_ctx *c, int failed, int direct)
{
    int rc = RAY_OK;
    for (size_t i = 0; i < c->nret; i++) {
        ctx_ret *r = &c->rets[i];
        if (!r->in_store)
            continue;
        ids_object id = ids_object_for(&c->task, (uint32_t)(i + 1));
        if (direct && !failed && rc == RAY_OK)
            rc = api_store_seal_sync(&id, r->wmap, r->size, r->type);
        else
            api_store_seal(&id, r->wmap, r->size, r->type, failed || rc != RAY_OK, direct, 0);
        r->wmap = NULL;
    }
    if (rc != RAY_OK)
        ctx_fail(c, rc, "cannot seal a return value: %s", ray_last_error());
    return rc;
}

/* Fills VALS/PTRS with C's return values (successful tasks). */
static void fill_returns(ray_ctx *c, Rayc__Value *vals, Rayc__Value **ptrs)
{
    for (size_t i = 0; i < c->nret; i++) {
        rayc__value__init(&vals[i]);
        vals[i].type = c->rets[i].type;
        vals[i].in_store = c->rets[i].in_store != 0;
        vals[i].size = c->rets[i].size;
        vals[i].data.data = c->rets[i].data;
        vals[i].data.len = c->rets[i].len;
        ptrs[i] = &vals[i];
    }
}

/* The failure message of C with where it happened. */
static void failure_text(ray_ctx *c, char *msg, size_t len)
{
    snprintf(msg, len, "%s (in %s on %s, pid %d)", c->error ? c->error : "failed",
             c->spec->function, api_g.node_ip, (int)getpid());
}

static void send_done(ray_ctx *c, int status)
{
    Rayc__Value *vals = calloc(c->nret + 1, sizeof *vals);
    Rayc__Value **ptrs = calloc(c->nret + 1, sizeof *ptrs);
    char msg[API_ERROR_MAX + 256];
    Rayc__Envelope env = RAYC__ENVELOPE__INIT;
    Rayc__TaskDone done = RAYC__TASK_DONE__INIT;
    done.task_id.data = c->task.b;
    done.task_id.len = IDS_TASK_LEN;
    done.status = status;
    if (status != RAY_OK) {
        failure_text(c, msg, sizeof msg);
        done.error = msg;
    } else if (vals != NULL && ptrs != NULL) {
        fill_returns(c, vals, ptrs);
        done.returns = ptrs;
        done.n_returns = c->nret;
    }
    env.body_case = RAYC__ENVELOPE__BODY_TASK_DONE;
    env.task_done = &done;
    api_send(&env);
    free(vals);
    free(ptrs);
}

/* A TaskResult of C under construction (the arrays it points into). */
typedef struct result_buf {
    Rayc__Envelope env;
    Rayc__TaskResult res;
    Rayc__Value *vals;
    Rayc__Value **vptrs;
    Rayc__ObjectResult *rets;
    Rayc__ObjectResult **rptrs;
    ids_object *ids;
    char msg[API_ERROR_MAX + 256];
} result_buf;

static void result_free(result_buf *b)
{
    free(b->vals), free(b->vptrs), free(b->rets), free(b->rptrs), free(b->ids);
}

/* Builds C's TaskResult with STATUS into B.  Returns 0 or -ENOMEM. */
static int build_result(ray_ctx *c, int status, result_buf *b)
{
    size_t n = c->nret;
    memset(b, 0, sizeof *b);
    rayc__envelope__init(&b->env);
    rayc__task_result__init(&b->res);
    b->vals = calloc(n + 1, sizeof *b->vals);
    b->vptrs = calloc(n + 1, sizeof *b->vptrs);
    b->rets = calloc(n + 1, sizeof *b->rets);
    b->rptrs = calloc(n + 1, sizeof *b->rptrs);
    b->ids = calloc(n + 1, sizeof *b->ids);
    if (!b->vals || !b->vptrs || !b->rets || !b->rptrs || !b->ids)
        return -ENOMEM;
    b->res.task_id.data = c->task.b;
    b->res.task_id.len = IDS_TASK_LEN;
    b->res.status = status;
    if (status != RAY_OK) {
        failure_text(c, b->msg, sizeof b->msg);
        b->res.error = b->msg;
    }
    fill_returns(c, b->vals, b->vptrs);
    for (size_t i = 0; i < n; i++) {
        rayc__object_result__init(&b->rets[i]);
        b->ids[i] = ids_object_for(&c->task, (uint32_t)(i + 1));
        b->rets[i].object_id.data = b->ids[i].b;
        b->rets[i].object_id.len = IDS_OBJECT_LEN;
        b->rets[i].value = status == RAY_OK ? b->vptrs[i] : NULL;
        b->rptrs[i] = &b->rets[i];
    }
    b->res.returns = b->rptrs;
    b->res.n_returns = n;
    b->env.body_case = RAYC__ENVELOPE__BODY_TASK_RESULT;
    b->env.task_result = &b->res;
    return 0;
}

/* A direct call's outcome goes straight to its caller as a TaskResult. */
static void send_result(ray_ctx *c, int status, api_chan *chan)
{
    result_buf b;
    if (build_result(c, status, &b) != 0) {
        b.res.status = RAY_ERR_NOMEM;
        b.res.error = "the worker ran out of memory";
        b.res.n_returns = 0;
    }
    api_chan_send(chan, &b.env);
    result_free(&b);
}

/* The outcome of the function's return code RC: a recorded ray_error (or
 * runtime failure) wins; another non-zero code is an application error
 * whose message is the thread's last error. */
static int outcome(ray_ctx *c, int rc)
{
    if (c->status != RAY_OK)
        return c->status;
    if (rc == RAY_OK)
        return RAY_OK;
    const char *last = ray_last_error();
    if (last[0] != '\0')
        return ctx_fail(c, RAY_ERR_TASK, "%s", last);
    return ctx_fail(c, RAY_ERR_TASK, "the task returned %s", ray_status_name(rc));
}

/* True when ray_cancel asked for C (the flag is then cleared). */
static int was_cancelled(ray_ctx *c)
{
    pthread_mutex_lock(&api_g.mu);
    int yes = api_g.cancel_set && ids_task_eq(&api_g.cancel_task, &c->task);
    if (yes)
        api_g.cancel_set = 0;
    pthread_mutex_unlock(&api_g.mu);
    return yes;
}

/* Reports C's outcome RC and frees C with its envelope and connection. */
static void finish(ray_ctx *c, int rc)
{
    const Rayc__TaskSpec *spec = c->spec;
    rc = outcome(c, rc);
    if (was_cancelled(c))
        rc = ctx_fail(c, RAY_ERR_CANCELLED, "the task was cancelled while it ran");
    if (seal_returns(c, rc != RAY_OK, c->chan != NULL) != RAY_OK)
        rc = c->status;
    if (c->chan != NULL) {
        send_result(c, rc, c->chan);
        /* The raylet never sees this task: record it here. */
        pthread_mutex_lock(&api_g.mu);
        api_tev_record(spec, c->start_ns, rc, c->error);
        pthread_mutex_unlock(&api_g.mu);
        api_chan_unref(c->chan);
    } else {
        send_done(c, rc);
    }
    ctx_free(c);
    rayc__envelope__free_unpacked(c->env, NULL);
    free(c);
}

void api_execute(Rayc__Envelope *env, api_chan *chan)
{
    const Rayc__TaskSpec *spec = env->execute_task->spec;
    ray_ctx *c = malloc(sizeof *c);
    if (c == NULL)
        abort(); /* dropping the task would hang its owner; the raylet sees us die */
    int64_t start_ns = chan != NULL ? api_tev_now_ns() : 0;
    int rc = ctx_init(c, spec);
    c->env = env;
    c->chan = chan;
    c->start_ns = start_ns;
    if (rc == RAY_OK) {
        set_gpus(spec);
        api_clear_error();
        cur_ctx = c;
        cur_deferred = 0;
        rc = run_function(c);
        cur_ctx = NULL;
    }
    if (cur_deferred) {
        cur_deferred = 0;
        return; /* C belongs to api_task_finish now */
    }
    finish(c, rc);
}

ray_ctx *api_task_begin(Rayc__Envelope *env, api_chan *chan)
{
    ray_ctx *c = malloc(sizeof *c);
    if (c == NULL)
        abort(); /* dropping the task would hang its owner; the raylet sees us die */
    int64_t start_ns = chan != NULL ? api_tev_now_ns() : 0;
    int rc = ctx_init(c, env->execute_task->spec);
    c->env = env;
    c->chan = chan;
    c->start_ns = start_ns;
    if (rc == RAY_OK)
        return c;
    api_task_finish(c, rc);
    return NULL;
}

int api_task_defer(ray_ctx *c)
{
    (void)c;
    cur_deferred = 1;
    pthread_mutex_lock(&api_g.mu);
    api_g.deferred++;
    pthread_mutex_unlock(&api_g.mu);
    return API_TASK_DEFERRED;
}

void api_task_finish(ray_ctx *c, int rc)
{
    finish(c, rc);
    pthread_mutex_lock(&api_g.mu);
    api_g.deferred--;
    api_notify(); /* a task thread may take the next call now */
    pthread_mutex_unlock(&api_g.mu);
}
