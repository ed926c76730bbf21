/* Placement groups: create, wait, remove, find, and the resource rewrite
 * that puts a task or an actor into one of a group's bundles.
 *
 * Every request goes to the local raylet, which passes it to the GCS (the
 * owner of placement groups).  Waiting polls the group's state; the raylet
 * answers RAY_ERR_CONNECTION while the GCS is away, which only means "not
 * ready yet" until the deadline. */
#include "api/api.h"

#include <errno.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

/* Most bundles of one group, and resources of one bundle. */
#define API_PG_MAX_BUNDLES 1000
#define API_PG_MAX_RES 64
/* Polling while waiting: the first pause, and the longest. */
#define API_PG_POLL_MIN_MS 5
#define API_PG_POLL_MAX_MS 100

struct ray_pg {
    ids_pg id;
    size_t nbundles;
    char hex[2 * IDS_PG_LEN + 1];
};

static ray_pg *pg_handle(const ids_pg *id, size_t nbundles)
{
    ray_pg *pg = calloc(1, sizeof *pg);
    if (pg != NULL) {
        pg->id = *id;
        pg->nbundles = nbundles;
        ids_hex(id->b, IDS_PG_LEN, pg->hex);
    }
    return pg;
}

void ray_pg_release(ray_pg *pg)
{
    free(pg);
}

const char *ray_pg_hex(const ray_pg *pg)
{
    return pg ? pg->hex : "";
}

size_t ray_pg_bundle_count(const ray_pg *pg)
{
    return pg ? pg->nbundles : 0;
}

/* ---------------------------------------------------------------- requests */

/* Sends REQ to the raylet and checks that the reply has body WANT.
 * Returns RAY_OK with *REPLY set (caller frees) or an error status with the
 * message set. */
static int pg_request(Rayc__Envelope *req, int want, Rayc__Envelope **reply, const char *what)
{
    int rc = api_request(req, -1, reply);
    if (rc != 0)
        return api_conn_fail(rc, what);
    if ((int)(*reply)->body_case == want)
        return RAY_OK;
    rc = (*reply)->body_case == RAYC__ENVELOPE__BODY_ERROR
             ? api_fail(RAY_ERR_CONNECTION, "%s: %s", what, (*reply)->error->message)
             : api_fail(RAY_ERR_CONNECTION, "%s: unexpected reply from the raylet", what);
    rayc__envelope__free_unpacked(*reply, NULL);
    *reply = NULL;
    return rc;
}

/* Asks for group ID (or NAME in NS when ID is NULL).  On RAY_OK *REPLY
 * holds a GetPlacementGroupReply with status RAY_OK (caller frees). */
static int pg_get(const ids_pg *id, const char *name, const char *ns, Rayc__Envelope **reply,
                  const char *what)
{
    Rayc__Envelope env = RAYC__ENVELOPE__INIT;
    Rayc__GetPlacementGroup g = RAYC__GET_PLACEMENT_GROUP__INIT;
    if (id != NULL) {
        g.pg_id.data = (uint8_t *)id->b;
        g.pg_id.len = IDS_PG_LEN;
    }
    g.name = (char *)(name ? name : "");
    g.namespace_ = (char *)(ns ? ns : api_g.ns);
    env.body_case = RAYC__ENVELOPE__BODY_GET_PLACEMENT_GROUP;
    env.get_placement_group = &g;
    int rc = pg_request(&env, RAYC__ENVELOPE__BODY_GET_PLACEMENT_GROUP_REPLY, reply, what);
    if (rc != RAY_OK)
        return rc;
    const Rayc__GetPlacementGroupReply *r = (*reply)->get_placement_group_reply;
    if (r->status == RAY_OK && r->pg != NULL)
        return RAY_OK;
    rc = api_fail(r->status != RAY_OK ? r->status : RAY_ERR_CONNECTION, "%s: %s", what,
                  r->error && r->error[0] ? r->error : "no placement group in the reply");
    rayc__envelope__free_unpacked(*reply, NULL);
    *reply = NULL;
    return rc;
}

/* ---------------------------------------------------------------- create */

static int check_bundles(const ray_bundle *bundles, size_t n)
{
    if (n == 0 || bundles == NULL)
        return api_fail(RAY_ERR_INVALID, "ray_pg_create: a placement group needs at least "
                                         "one bundle");
    if (n > API_PG_MAX_BUNDLES)
        return api_fail(RAY_ERR_INVALID, "ray_pg_create: %zu bundles (at most %d)", n,
                        API_PG_MAX_BUNDLES);
    for (size_t i = 0; i < n; i++) {
        const ray_bundle *b = &bundles[i];
        double sum = 0;
        if (b->n_resources > API_PG_MAX_RES || (b->n_resources > 0 && b->resources == NULL))
            return api_fail(RAY_ERR_INVALID, "ray_pg_create: bundle %zu has a bad resource "
                                             "list", i);
        for (size_t k = 0; k < b->n_resources; k++) {
            const ray_resource *x = &b->resources[k];
            if (x->name == NULL || x->name[0] == '\0' || strlen(x->name) > 64)
                return api_fail(RAY_ERR_INVALID, "ray_pg_create: bundle %zu: resource %zu "
                                                 "has no name (or one over 64 bytes)", i, k);
            if (!(x->qty >= 0) || !isfinite(x->qty))
                return api_fail(RAY_ERR_INVALID, "ray_pg_create: bundle %zu: %s has a "
                                                 "negative or invalid amount %g", i, x->name,
                                x->qty);
            if (strstr(x->name, "_group_") != NULL)
                return api_fail(RAY_ERR_INVALID, "ray_pg_create: bundle %zu: %s is a "
                                                 "placement group resource", i, x->name);
            sum += x->qty;
        }
        if (sum <= 0)
            return api_fail(RAY_ERR_INVALID, "ray_pg_create: bundle %zu is empty (every "
                                             "bundle needs a positive resource)", i);
    }
    return RAY_OK;
}

/* Fills INFO's bundles from BUNDLES (N) in one allocation, freed by the
 * caller with free(*BLOCK). */
static int fill_bundles(Rayc__PlacementGroupInfo *info, const ray_bundle *bundles, size_t n,
                        void **block)
{
    size_t nres = 0;
    for (size_t i = 0; i < n; i++)
        nres += bundles[i].n_resources;
    size_t size = n * (sizeof(Rayc__Bundle *) + sizeof(Rayc__Bundle)) +
                  nres * (sizeof(Rayc__Resource *) + sizeof(Rayc__Resource));
    uint8_t *p = calloc(1, size);
    if (p == NULL)
        return api_fail(RAY_ERR_NOMEM, "out of memory");
    *block = p;
    Rayc__Bundle **bp = (Rayc__Bundle **)p;
    Rayc__Bundle *bs = (Rayc__Bundle *)(bp + n);
    Rayc__Resource **rp = (Rayc__Resource **)(bs + n);
    Rayc__Resource *rs = (Rayc__Resource *)(rp + nres);
    for (size_t i = 0; i < n; i++) {
        rayc__bundle__init(&bs[i]);
        bs[i].index = (int32_t)i;
        bs[i].resources = rp;
        for (size_t k = 0; k < bundles[i].n_resources; k++) {
            rayc__resource__init(rs);
            rs->name = (char *)bundles[i].resources[k].name;
            rs->qty = bundles[i].resources[k].qty;
            if (rs->qty > 0)
                rp[bs[i].n_resources++] = rs++;
        }
        rp += bs[i].n_resources;
        bs[i].node_id = "";
        bp[i] = &bs[i];
    }
    info->bundles = bp;
    info->n_bundles = n;
    return RAY_OK;
}

ray_pg *ray_pg_create(const ray_bundle *bundles, size_t n, const ray_pg_opts *opts)
{
    static const ray_pg_opts defaults;
    const ray_pg_opts *o = opts ? opts : &defaults;
    if (api_check_init("ray_pg_create") != RAY_OK || check_bundles(bundles, n) != RAY_OK)
        return NULL;
    if ((int)o->strategy < RAY_PG_PACK || (int)o->strategy > RAY_PG_STRICT_SPREAD) {
        api_fail(RAY_ERR_INVALID, "ray_pg_create: unknown strategy %d (want PACK, SPREAD, "
                                  "STRICT_PACK or STRICT_SPREAD)", (int)o->strategy);
        return NULL;
    }
    if (o->name != NULL && strlen(o->name) > 256) {
        api_fail(RAY_ERR_INVALID, "ray_pg_create: the name is over 256 bytes");
        return NULL;
    }
    uint64_t k = atomic_fetch_add_explicit(&api_g.counter, 1, memory_order_relaxed);
    ids_pg id = ids_pg_new(api_g.job, api_g.seed, k);
    Rayc__PlacementGroupInfo info = RAYC__PLACEMENT_GROUP_INFO__INIT;
    info.pg_id.data = id.b;
    info.pg_id.len = IDS_PG_LEN;
    info.name = (char *)(o->name ? o->name : "");
    info.namespace_ = (char *)(o->ns ? o->ns : api_g.ns);
    info.strategy = (int32_t)o->strategy;
    info.job_id.data = api_g.job.b;
    info.job_id.len = IDS_JOB_LEN;
    info.detached = o->detached != 0;
    void *block = NULL;
    if (fill_bundles(&info, bundles, n, &block) != RAY_OK)
        return NULL;
    Rayc__Envelope env = RAYC__ENVELOPE__INIT, *reply = NULL;
    Rayc__CreatePlacementGroup c = RAYC__CREATE_PLACEMENT_GROUP__INIT;
    c.pg = &info;
    env.body_case = RAYC__ENVELOPE__BODY_CREATE_PLACEMENT_GROUP;
    env.create_placement_group = &c;
    int rc = pg_request(&env, RAYC__ENVELOPE__BODY_CREATE_PLACEMENT_GROUP_REPLY, &reply,
                        "ray_pg_create");
    free(block);
    if (rc != RAY_OK)
        return NULL;
    const Rayc__CreatePlacementGroupReply *r = reply->create_placement_group_reply;
    ray_pg *pg = NULL;
    if (r->status != RAY_OK)
        api_fail(r->status, "ray_pg_create: %s", r->error);
    else if ((pg = pg_handle(&id, n)) == NULL)
        api_fail(RAY_ERR_NOMEM, "out of memory");
    rayc__envelope__free_unpacked(reply, NULL);
    return pg;
}

/* ---------------------------------------------------------------- wait, remove, find */

int ray_pg_wait(ray_pg *pg, double timeout_s)
{
    int rc = api_check_init("ray_pg_wait");
    if (rc != RAY_OK || pg == NULL)
        return rc != RAY_OK ? rc : api_fail(RAY_ERR_INVALID, "ray_pg_wait: NULL group");
    int64_t deadline = api_deadline(timeout_s);
    int pause = API_PG_POLL_MIN_MS;
    for (;;) {
        Rayc__Envelope *reply = NULL;
        rc = pg_get(&pg->id, NULL, NULL, &reply, "ray_pg_wait");
        if (rc == RAY_OK) {
            const Rayc__PlacementGroupInfo *info = reply->get_placement_group_reply->pg;
            int state = info->state;
            if (state == RAYC__PLACEMENT_GROUP_INFO__STATE__REMOVED)
                rc = api_fail(RAY_ERR_INVALID, "ray_pg_wait: placement group %s was removed%s%s",
                              pg->hex, info->reason[0] ? ": " : "", info->reason);
            rayc__envelope__free_unpacked(reply, NULL);
            if (state != RAYC__PLACEMENT_GROUP_INFO__STATE__PENDING)
                return rc;
        } else if (rc != RAY_ERR_CONNECTION || api_g.broken) {
            return rc; /* RAY_ERR_CONNECTION from the raylet: the GCS is away, go on */
        }
        int64_t now = time_mono_ms();
        if (deadline >= 0 && now >= deadline)
            return api_fail(RAY_ERR_TIMEOUT, "ray_pg_wait: placement group %s is not ready "
                                             "after %.3f s", pg->hex, timeout_s);
        int ms = deadline >= 0 && deadline - now < pause ? (int)(deadline - now) : pause;
        pthread_mutex_lock(&api_g.mu);
        api_pump(ms);
        pthread_mutex_unlock(&api_g.mu);
        pause = pause * 2 > API_PG_POLL_MAX_MS ? API_PG_POLL_MAX_MS : pause * 2;
    }
}

int ray_pg_remove(ray_pg *pg)
{
    int rc = api_check_init("ray_pg_remove");
    if (rc != RAY_OK || pg == NULL)
        return rc != RAY_OK ? rc : api_fail(RAY_ERR_INVALID, "ray_pg_remove: NULL group");
    Rayc__Envelope env = RAYC__ENVELOPE__INIT, *reply = NULL;
    Rayc__RemovePlacementGroup m = RAYC__REMOVE_PLACEMENT_GROUP__INIT;
    m.pg_id.data = pg->id.b;
    m.pg_id.len = IDS_PG_LEN;
    env.body_case = RAYC__ENVELOPE__BODY_REMOVE_PLACEMENT_GROUP;
    env.remove_placement_group = &m;
    rc = pg_request(&env, RAYC__ENVELOPE__BODY_REMOVE_PLACEMENT_GROUP_REPLY, &reply,
                    "ray_pg_remove");
    if (rc != RAY_OK)
        return rc;
    const Rayc__RemovePlacementGroupReply *r = reply->remove_placement_group_reply;
    rc = r->status == RAY_OK ? RAY_OK : api_fail(r->status, "ray_pg_remove: %s", r->error);
    rayc__envelope__free_unpacked(reply, NULL);
    return rc;
}

ray_pg *ray_pg_get(const char *name, const char *ns)
{
    if (api_check_init("ray_pg_get") != RAY_OK)
        return NULL;
    if (name == NULL || name[0] == '\0') {
        api_fail(RAY_ERR_INVALID, "ray_pg_get: no name");
        return NULL;
    }
    Rayc__Envelope *reply = NULL;
    if (pg_get(NULL, name, ns, &reply, "ray_pg_get") != RAY_OK)
        return NULL;
    const Rayc__PlacementGroupInfo *info = reply->get_placement_group_reply->pg;
    ids_pg id;
    ray_pg *pg = NULL;
    if (ids_from_bytes(id.b, IDS_PG_LEN, info->pg_id.data, info->pg_id.len) != 0)
        api_fail(RAY_ERR_CONNECTION, "ray_pg_get: malformed group id");
    else if ((pg = pg_handle(&id, info->n_bundles)) == NULL)
        api_fail(RAY_ERR_NOMEM, "out of memory");
    rayc__envelope__free_unpacked(reply, NULL);
    return pg;
}

int ray_pg_bundle_node(ray_pg *pg, size_t i, char *out, size_t len)
{
    int rc = api_check_init("ray_pg_bundle_node");
    if (rc != RAY_OK || pg == NULL || out == NULL || i >= pg->nbundles)
        return rc != RAY_OK ? rc : api_fail(RAY_ERR_INVALID, "ray_pg_bundle_node: no group, "
                                                             "no buffer or bundle out of range");
    Rayc__Envelope *reply = NULL;
    rc = pg_get(&pg->id, NULL, NULL, &reply, "ray_pg_bundle_node");
    if (rc != RAY_OK)
        return rc;
    const Rayc__PlacementGroupInfo *info = reply->get_placement_group_reply->pg;
    const char *node = "";
    for (size_t k = 0; k < info->n_bundles; k++)
        if (info->bundles[k]->index == (int32_t)i)
            node = info->bundles[k]->node_id;
    if (str_copy(out, len, node) != 0)
        rc = api_fail(RAY_ERR_INVALID, "ray_pg_bundle_node: the buffer is too small");
    rayc__envelope__free_unpacked(reply, NULL);
    return rc;
}

/* ---------------------------------------------------------------- the request rewrite */

/* A resource named "<R>_group_<i>_<G>" (INDEX >= 0) or "<R>_group_<G>",
 * allocated with its name in one block (api_spec_clear frees it). */
static Rayc__Resource *group_res(const char *base, int index, const char *hex, double qty)
{
    char name[160];
    if (index >= 0)
        snprintf(name, sizeof name, "%s_group_%d_%s", base, index, hex);
    else
        snprintf(name, sizeof name, "%s_group_%s", base, hex);
    size_t n = strlen(name) + 1;
    Rayc__Resource *r = malloc(sizeof *r + n);
    if (r == NULL)
        return NULL;
    rayc__resource__init(r);
    r->name = (char *)(r + 1);
    memcpy(r->name, name, n);
    r->qty = qty;
    return r;
}

int api_pg_rewrite(Rayc__TaskSpec *spec, const ray_pg *pg, int index, const char *what)
{
    if (pg == NULL)
        return RAY_OK;
    if (index < RAY_BUNDLE_ANY || (index >= 0 && (size_t)index >= pg->nbundles))
        return api_fail(RAY_ERR_INVALID, "%s: bundle_index %d is out of range: placement group "
                                         "%s has %zu bundles (RAY_BUNDLE_ANY for any)", what,
                        index, pg->hex, pg->nbundles);
    size_t n = spec->n_resources;
    Rayc__Resource **v = realloc(spec->resources, (n + 1) * sizeof *v);
    if (v == NULL)
        return api_fail(RAY_ERR_NOMEM, "out of memory");
    spec->resources = v;
    for (size_t i = 0; i < n; i++) {
        Rayc__Resource *g = group_res(v[i]->name, index, pg->hex, v[i]->qty);
        if (g == NULL)
            return api_fail(RAY_ERR_NOMEM, "out of memory");
        free(v[i]);
        v[i] = g;
    }
    /* The bundle's marker: places even a task that asks for nothing. */
    if ((v[n] = group_res("bundle", index, pg->hex, 0.001)) == NULL)
        return api_fail(RAY_ERR_NOMEM, "out of memory");
    spec->n_resources = n + 1;
    spec->placement_group_id.data = (uint8_t *)pg->id.b;
    spec->placement_group_id.len = IDS_PG_LEN;
    spec->bundle_index = index;
    return RAY_OK;
}
