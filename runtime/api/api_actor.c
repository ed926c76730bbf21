/* Actor handles: create, call, find by name, kill. */
#include "api/api.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

ray_actor *api_actor_handle(const ids_actor *id)
{
    ray_actor *a = calloc(1, sizeof *a);
    if (a != NULL) {
        a->id = *id;
        ids_hex(id->b, IDS_ACTOR_LEN, a->hex);
    }
    return a;
}

void ray_actor_release(ray_actor *a)
{
    free(a);
}

ray_actor *ray_actor_dup(ray_actor *a)
{
    return a ? api_actor_handle(&a->id) : NULL;
}

const char *ray_actor_hex(const ray_actor *a)
{
    return a ? a->hex : "";
}

/* ---------------------------------------------------------------- create */

static int restarts(int given)
{
    if (given == RAY_INFINITE)
        return -1;
    return given < 0 ? 0 : given;
}

static int fill_actor_opts(Rayc__TaskSpec *spec, Rayc__ActorOptions *ao, const ray_actor_opts *o)
{
    ao->name = (char *)(o->name ? o->name : "");
    ao->namespace_ = (char *)(o->ns ? o->ns : api_g.ns);
    ao->max_restarts = restarts(o->max_restarts);
    ao->max_task_retries = restarts(o->max_task_retries);
    ao->max_concurrency = o->max_concurrency > 1 ? o->max_concurrency : 1;
    ao->detached = o->detached != 0;
    ao->get_if_exists = o->get_if_exists != 0;
    spec->actor = ao;
    spec->strategy = o->strategy;
    spec->strategy_node = (char *)(o->node_id ? o->node_id : "");
    spec->strategy_soft = o->soft != 0;
    if (o->strategy == RAY_STRATEGY_NODE_AFFINITY && o->node_id == NULL)
        return api_fail(RAY_ERR_INVALID, "ray_actor_create: node affinity needs a node_id");
    if (o->get_if_exists && (o->name == NULL || o->name[0] == '\0'))
        return api_fail(RAY_ERR_INVALID, "ray_actor_create: get_if_exists needs a name");
    if (o->max_concurrency > 10000)
        return api_fail(RAY_ERR_INVALID, "ray_actor_create: max_concurrency %d is too large",
                        o->max_concurrency);
    int rc = api_spec_resources(spec, o->num_cpus, o->num_gpus, o->memory, o->resources,
                                o->n_resources, 0);
    return rc == RAY_OK ? api_pg_rewrite(spec, o->placement_group, o->bundle_index,
                                         "ray_actor_create")
                        : rc;
}

/* A named creation waits for the raylet's answer: the name may be taken, or
 * (get_if_exists) belong to another actor whose id replaces ours. */
static int named_result(ray_ref *r, ray_actor *a)
{
    ray_value v;
    int rc = ray_get(r, -1, &v);
    if (rc == RAY_OK && v.type == RAY_ACTOR && v.actor != NULL)
        *a = *v.actor;
    ray_value_release(&v);
    return rc;
}

ray_actor *ray_actor_create(const char *class_name, ray_args args, const ray_actor_opts *opts)
{
    static const ray_actor_opts defaults;
    const ray_actor_opts *o = opts ? opts : &defaults;
    if (api_check_init("ray_actor_create") != RAY_OK)
        return NULL;
    if (class_name == NULL || class_name[0] == '\0') {
        api_fail(RAY_ERR_INVALID, "ray_actor_create: no class name");
        return NULL;
    }
    uint64_t n = atomic_fetch_add_explicit(&api_g.counter, 1, memory_order_relaxed);
    ids_actor id = ids_actor_new(api_g.job, api_g.seed, n);
    ids_task task = api_new_task_id(&id);
    Rayc__TaskSpec spec = RAYC__TASK_SPEC__INIT;
    Rayc__ActorOptions ao = RAYC__ACTOR_OPTIONS__INIT;
    spec.task_id.data = task.b;
    spec.task_id.len = IDS_TASK_LEN;
    spec.kind = RAYC__TASK_SPEC__KIND__ACTOR_CREATE;
    spec.function = (char *)class_name;
    spec.actor_id.data = id.b;
    spec.actor_id.len = IDS_ACTOR_LEN;
    spec.name = "";
    spec.strategy_node = "";
    ray_ref *r = NULL;
    ray_actor *a = api_actor_handle(&id);
    int rc = a ? fill_actor_opts(&spec, &ao, o) : api_fail(RAY_ERR_NOMEM, "out of memory");
    if (rc == RAY_OK)
        rc = api_submit_spec(&spec, args, &r, 1);
    api_spec_clear(&spec);
    if (rc == RAY_OK && o->name != NULL && o->name[0] != '\0')
        rc = named_result(r, a);
    ray_ref_release(r);
    if (rc != RAY_OK) {
        free(a);
        return NULL;
    }
    return a;
}

/* ---------------------------------------------------------------- calls */

int ray_actor_submit(ray_actor *a, const char *method, ray_args args,
                     const ray_task_opts *opts, ray_ref **refs, size_t n)
{
    int rc = api_check_init("ray_actor_call");
    if (rc != RAY_OK)
        return rc;
    size_t want = opts && opts->num_returns > 0 ? (size_t)opts->num_returns : 1;
    if (a == NULL || method == NULL || method[0] == '\0')
        return api_fail(RAY_ERR_INVALID, "ray_actor_call: no actor or no method name");
    if (want > API_MAX_RETURNS || n != want || refs == NULL)
        return api_fail(RAY_ERR_INVALID, "ray_actor_call: %s has num_returns %zu but %zu refs "
                                         "were given", method, want, n);
    ids_task task = api_new_task_id(&a->id);
    Rayc__TaskSpec spec = RAYC__TASK_SPEC__INIT;
    spec.task_id.data = task.b;
    spec.task_id.len = IDS_TASK_LEN;
    spec.kind = RAYC__TASK_SPEC__KIND__ACTOR_TASK;
    spec.function = (char *)method;
    spec.actor_id.data = a->id.b;
    spec.actor_id.len = IDS_ACTOR_LEN;
    spec.name = (char *)(opts && opts->name ? opts->name : "");
    spec.strategy_node = "";
    return api_submit_spec(&spec, args, refs, n);
}

ray_ref *ray_actor_call(ray_actor *a, const char *method, ray_args args,
                        const ray_task_opts *opts)
{
    ray_task_opts one;
    if (opts != NULL && opts->num_returns > 1) {
        one = *opts;
        one.num_returns = 1;
        opts = &one;
    }
    ray_ref *r = NULL;
    return ray_actor_submit(a, method, args, opts, &r, 1) == RAY_OK ? r : NULL;
}

/* ---------------------------------------------------------------- by name, kill */

ray_actor *ray_get_actor(const char *name, const char *ns)
{
    if (api_check_init("ray_get_actor") != RAY_OK)
        return NULL;
    if (name == NULL || name[0] == '\0') {
        api_fail(RAY_ERR_INVALID, "ray_get_actor: no name");
        return NULL;
    }
    Rayc__Envelope env = RAYC__ENVELOPE__INIT, *reply = NULL;
    Rayc__GetActor g = RAYC__GET_ACTOR__INIT;
    g.name = (char *)name;
    g.namespace_ = (char *)(ns ? ns : api_g.ns);
    env.body_case = RAYC__ENVELOPE__BODY_GET_ACTOR;
    env.get_actor = &g;
    int rc = api_request(&env, -1, &reply);
    if (rc != 0) {
        api_conn_fail(rc, "ray_get_actor");
        return NULL;
    }
    ray_actor *a = NULL;
    const Rayc__GetActorReply *r = reply->get_actor_reply;
    ids_actor id;
    if (reply->body_case != RAYC__ENVELOPE__BODY_GET_ACTOR_REPLY)
        api_fail(RAY_ERR_CONNECTION, "ray_get_actor: unexpected reply");
    else if (r->status != RAY_OK)
        api_fail_msg(r->status, r->error);
    else if (ids_from_bytes(id.b, IDS_ACTOR_LEN, r->actor_id.data, r->actor_id.len) != 0)
        api_fail(RAY_ERR_CONNECTION, "ray_get_actor: malformed actor id");
    else if ((a = api_actor_handle(&id)) == NULL)
        api_fail(RAY_ERR_NOMEM, "out of memory");
    rayc__envelope__free_unpacked(reply, NULL);
    return a;
}

int ray_actor_kill(ray_actor *a, int no_restart)
{
    int rc = api_check_init("ray_actor_kill");
    if (rc != RAY_OK || a == NULL)
        return rc != RAY_OK ? rc : api_fail(RAY_ERR_INVALID, "ray_actor_kill: NULL actor");
    Rayc__Envelope env = RAYC__ENVELOPE__INIT, *reply = NULL;
    Rayc__KillActor k = RAYC__KILL_ACTOR__INIT;
    k.actor_id.data = a->id.b;
    k.actor_id.len = IDS_ACTOR_LEN;
    k.no_restart = no_restart != 0;
    env.body_case = RAYC__ENVELOPE__BODY_KILL_ACTOR;
    env.kill_actor = &k;
    rc = api_request(&env, -1, &reply);
    if (rc != 0)
        return api_conn_fail(rc, "ray_actor_kill");
    const Rayc__KillActorReply *r = reply->kill_actor_reply;
    if (reply->body_case != RAYC__ENVELOPE__BODY_KILL_ACTOR_REPLY)
        rc = api_fail(RAY_ERR_CONNECTION, "ray_actor_kill: unexpected reply");
    else
        rc = r->status == RAY_OK ? RAY_OK : api_fail_msg(r->status, r->error);
    rayc__envelope__free_unpacked(reply, NULL);
    return rc;
}
