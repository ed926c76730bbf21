/* Submitting tasks: ray_call, ray_submit, ray_cancel, and the shared
 * submission path actors use too. */
#include "api/api.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

int api_check_init(const char *what)
{
    if (!api_g.initialized)
        return api_fail(RAY_ERR_INVALID, "%s: ray_init has not been called", what);
    return RAY_OK;
}

ids_task api_new_task_id(const ids_actor *actor)
{
    uint64_t n = atomic_fetch_add_explicit(&api_g.counter, 1, memory_order_relaxed);
    return actor ? ids_task_for_actor(actor, api_g.seed, n) : ids_task_new(api_g.job, api_g.seed, n);
}

ids_object api_new_put_id(void)
{
    ids_task t = api_new_task_id(NULL);
    return ids_object_for(&t, IDS_PUT_INDEX);
}

/* ---------------------------------------------------------------- resources */

/* Zero means the default; RAY_ZERO (or any negative) an explicit zero. */
static double quantity(double given, double dflt)
{
    if (given == 0)
        return dflt;
    return given < 0 ? 0 : given;
}

static int add_res(Rayc__TaskSpec *spec, const char *name, double qty)
{
    if (qty <= 0)
        return RAY_OK;
    Rayc__Resource *r = malloc(sizeof *r);
    if (r == NULL)
        return api_fail(RAY_ERR_NOMEM, "out of memory");
    rayc__resource__init(r);
    r->name = (char *)name;
    r->qty = qty;
    spec->resources[spec->n_resources++] = r;
    return RAY_OK;
}

int api_spec_resources(Rayc__TaskSpec *spec, double cpus, double gpus, double memory,
                       const ray_resource *res, size_t nres, double default_cpus)
{
    if (nres > 64 || (nres > 0 && res == NULL))
        return api_fail(RAY_ERR_INVALID, "bad custom resources (at most 64)");
    spec->resources = malloc((3 + nres) * sizeof *spec->resources);
    if (spec->resources == NULL)
        return api_fail(RAY_ERR_NOMEM, "out of memory");
    int rc = add_res(spec, "CPU", quantity(cpus, default_cpus));
    if (rc == RAY_OK)
        rc = add_res(spec, "GPU", quantity(gpus, 0));
    if (rc == RAY_OK)
        rc = add_res(spec, "memory", quantity(memory, 0));
    for (size_t i = 0; i < nres && rc == RAY_OK; i++) {
        if (res[i].name == NULL || res[i].name[0] == '\0' || res[i].qty < 0)
            return api_fail(RAY_ERR_INVALID, "custom resource %zu has no name or a negative "
                                             "quantity", i);
        rc = add_res(spec, res[i].name, res[i].qty);
    }
    return rc;
}

void api_spec_clear(Rayc__TaskSpec *spec)
{
    for (size_t i = 0; i < spec->n_resources; i++)
        free(spec->resources[i]);
    free(spec->resources);
    spec->resources = NULL;
    spec->n_resources = 0;
}

/* ---------------------------------------------------------------- submitting */

/* Registers the N pending return objects of TASK (mu held). */
static int add_returns(const ids_task *task, ray_ref **refs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        ids_object id = ids_object_for(task, (uint32_t)(i + 1));
        refs[i] = api_obj_add(&id, 1);
        if (refs[i] == NULL) {
            while (i-- > 0)
                api_obj_unref(refs[i]);
            return api_fail(RAY_ERR_NOMEM, "out of memory");
        }
        refs[i]->known_to_raylet = 1;
    }
    return RAY_OK;
}

static void drop_returns(ray_ref **refs, size_t n)
{
    pthread_mutex_lock(&api_g.mu);
    for (size_t i = 0; i < n; i++) {
        refs[i]->known_to_raylet = 0;
        api_obj_unref(refs[i]);
        refs[i] = NULL;
    }
    pthread_mutex_unlock(&api_g.mu);
}

/* True when an argument of B travels as an object id. */
static int has_ids(const api_argbuf *b)
{
    for (size_t i = 0; i < b->n; i++)
        if (b->v[i]->object_id.len != 0)
            return 1;
    return 0;
}

static _Atomic int submit_language; /* a Rayc__Language */
static _Thread_local int submit_as = -1; /* this thread's one-off language, or -1 */

void api_set_submit_language(int language)
{
    submit_language = language;
}

int api_submit_spec(Rayc__TaskSpec *spec, ray_args args, ray_ref **refs, size_t n)
{
    api_argbuf b;
    spec->language = (Rayc__Language)(submit_as >= 0 ? submit_as : submit_language);
    int rc = api_args_build(args, &b);
    if (rc != RAY_OK)
        return rc;
    ids_task task;
    ids_from_bytes(task.b, IDS_TASK_LEN, spec->task_id.data, spec->task_id.len);
    spec->job_id.data = api_g.job.b;
    spec->job_id.len = IDS_JOB_LEN;
    spec->args = b.v;
    spec->n_args = b.n;
    spec->num_returns = (int32_t)n;
    pthread_mutex_lock(&api_g.mu);
    rc = add_returns(&task, refs, n);
    pthread_mutex_unlock(&api_g.mu);
    int direct = 0;
    if (rc == RAY_OK && spec->kind == RAYC__TASK_SPEC__KIND__NORMAL) {
        direct = api_lease_submit(spec, b.ntemps == 0 && !has_ids(&b));
        pthread_mutex_lock(&api_g.mu);
        api_g.raylet_tasks += !direct; /* answered by a raylet TaskResult */
        pthread_mutex_unlock(&api_g.mu);
    }
    if (rc == RAY_OK && spec->kind == RAYC__TASK_SPEC__KIND__ACTOR_TASK) {
        direct = api_chan_submit(spec, b.ntemps == 0 && !has_ids(&b));
        if (direct < 0) {
            drop_returns(refs, n);
            rc = api_conn_fail(-ECONNRESET, "submitting the actor call");
        }
    }
    if (direct == 1) {
        pthread_mutex_lock(&api_g.mu);
        api_obj_mark_direct(&task, (int)n, 1);
        pthread_mutex_unlock(&api_g.mu);
    }
    if (rc == RAY_OK && !direct) {
        Rayc__Envelope env = RAYC__ENVELOPE__INIT;
        Rayc__SubmitTask sub = RAYC__SUBMIT_TASK__INIT;
        sub.spec = spec;
        env.body_case = RAYC__ENVELOPE__BODY_SUBMIT_TASK;
        env.submit_task = &sub;
        int src = api_send(&env);
        if (src != 0) {
            drop_returns(refs, n);
            rc = api_conn_fail(src, "submitting the task");
        }
    }
    api_args_done(&b);
    spec->args = NULL;
    spec->n_args = 0;
    return rc;
}

/* ---------------------------------------------------------------- ray_call */

static int retries(int given)
{
    if (given == 0)
        return 3;
    if (given == RAY_INFINITE)
        return -1;
    return given < 0 ? 0 : given;
}

static int fill_task_opts(Rayc__TaskSpec *spec, const ray_task_opts *o)
{
    spec->max_retries = retries(o->max_retries);
    spec->retry_exceptions = o->retry_exceptions != 0;
    spec->name = (char *)(o->name ? o->name : "");
    spec->strategy = o->strategy;
    spec->strategy_node = (char *)(o->node_id ? o->node_id : "");
    spec->strategy_soft = o->soft != 0;
    if (o->strategy == RAY_STRATEGY_NODE_AFFINITY && o->node_id == NULL)
        return api_fail(RAY_ERR_INVALID, "node affinity needs a node_id");
    if (o->num_gpus > 0 && o->num_gpus != (double)(int64_t)o->num_gpus && o->num_gpus > 1)
        return api_fail(RAY_ERR_INVALID, "num_gpus above 1 must be a whole number");
    int rc = api_spec_resources(spec, o->num_cpus, o->num_gpus, o->memory, o->resources,
                                o->n_resources, 1);
    return rc == RAY_OK ? api_pg_rewrite(spec, o->placement_group, o->bundle_index, "ray_call")
                        : rc;
}

int ray_submit(const char *function, ray_args args, const ray_task_opts *opts,
               ray_ref **refs, size_t n)
{
    static const ray_task_opts defaults;
    const ray_task_opts *o = opts ? opts : &defaults;
    int rc = api_check_init("ray_submit");
    if (rc != RAY_OK)
        return rc;
    size_t want = o->num_returns > 0 ? (size_t)o->num_returns : 1;
    if (function == NULL || function[0] == '\0')
        return api_fail(RAY_ERR_INVALID, "ray_submit: no function name");
    if (o->num_returns < 0 || want > API_MAX_RETURNS || n != want || refs == NULL)
        return api_fail(RAY_ERR_INVALID, "ray_submit: %s has num_returns %zu but %zu refs "
                                         "were given", function, want, n);
    Rayc__TaskSpec spec = RAYC__TASK_SPEC__INIT;
    ids_task task = api_new_task_id(NULL);
    spec.task_id.data = task.b;
    spec.task_id.len = IDS_TASK_LEN;
    spec.kind = RAYC__TASK_SPEC__KIND__NORMAL;
    spec.function = (char *)function;
    rc = fill_task_opts(&spec, o);
    if (rc == RAY_OK)
        rc = api_submit_spec(&spec, args, refs, n);
    api_spec_clear(&spec);
    return rc;
}

int api_submit_as(int language, const char *function, ray_args args, const ray_task_opts *opts,
                  ray_ref **refs, size_t n)
{
    submit_as = language;
    int rc = ray_submit(function, args, opts, refs, n);
    submit_as = -1;
    return rc;
}

ray_ref *ray_call(const char *function, ray_args args, const ray_task_opts *opts)
{
    ray_task_opts one;
    if (opts != NULL && opts->num_returns > 1) {
        one = *opts;
        one.num_returns = 1;
        opts = &one;
    }
    ray_ref *r = NULL;
    return ray_submit(function, args, opts, &r, 1) == RAY_OK ? r : NULL;
}

/* ---------------------------------------------------------------- ray_cancel */

int ray_cancel(ray_ref *r, int force)
{
    int rc = api_check_init("ray_cancel");
    if (rc != RAY_OK || r == NULL)
        return rc != RAY_OK ? rc : api_fail(RAY_ERR_INVALID, "ray_cancel: NULL ref");
    if (ids_object_index(&r->id) == IDS_PUT_INDEX)
        return api_fail(RAY_ERR_INVALID, "ray_cancel: %s is a put, not a task result",
                        ray_ref_hex(r));
    ids_task task = ids_object_task(&r->id);
    if (api_chan_cancel(&task, force))
        return RAY_OK; /* a direct call: handled on its connection */
    Rayc__Envelope env = RAYC__ENVELOPE__INIT;
    Rayc__CancelTask c = RAYC__CANCEL_TASK__INIT;
    c.task_id.data = task.b;
    c.task_id.len = IDS_TASK_LEN;
    c.force = force != 0;
    env.body_case = RAYC__ENVELOPE__BODY_CANCEL_TASK;
    env.cancel_task = &c;
    rc = api_send(&env);
    return rc == 0 ? RAY_OK : api_conn_fail(rc, "ray_cancel");
}
