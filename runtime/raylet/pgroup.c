/* Placement group bundles on this node: prepare, commit, return, and the
 * group resources they turn into (pgroup.h). */
#include "raylet/pgroup.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "raylet/actor.h"
#include "raylet/sched.h"
#include "raylet/sched_remote.h"

/* What a bundle's marker resources are worth (Ray's value). */
#define PG_MARKER_QTY 1000.0
/* Most bundles in one GCS request. */
#define PG_MAX_BUNDLES 10000

/* One bundle held here. */
typedef struct pg_bundle {
    ids_pg pg;
    int index;
    int committed;
    sched_res plain;               /* taken from the node's plain resources */
    struct pg_bundle *next;
} pg_bundle;

typedef struct pgroup_table {
    pg_bundle *bundles;
} pgroup_table;

/* ---------------------------------------------------------------- ids */

int pgroup_id_eq(const ProtobufCBinaryData *p, const ids_pg *g)
{
    return p->len == IDS_PG_LEN && memcmp(p->data, g->b, IDS_PG_LEN) == 0;
}

int pgroup_of_spec(const Rayc__TaskSpec *spec, ids_pg *g)
{
    return ids_from_bytes(g->b, IDS_PG_LEN, spec->placement_group_id.data,
                          spec->placement_group_id.len) == 0;
}

static pg_bundle *find(raylet *r, const ids_pg *g, int index)
{
    for (pg_bundle *b = r->pgroups->bundles; b != NULL; b = b->next)
        if (b->index == index && memcmp(b->pg.b, g->b, IDS_PG_LEN) == 0)
            return b;
    return NULL;
}

size_t pgroup_bundles_of(raylet *r, const ids_pg *g)
{
    size_t n = 0;
    for (pg_bundle *b = r->pgroups->bundles; b != NULL; b = b->next)
        n += memcmp(b->pg.b, g->b, IDS_PG_LEN) == 0;
    return n;
}

/* ---------------------------------------------------------------- group resources */

/* Index of NAME in raylet.total, or -1. */
static int res_index(raylet *r, const char *name)
{
    for (size_t i = 0; i < r->total.len; i++)
        if (strcmp(r->total.items[i].name, name) == 0)
            return (int)i;
    return -1;
}

/* Adds QTY of NAME to the node's total and available, creating it in a
 * free slot or at the end (total and available keep one layout). */
static int res_add(raylet *r, const char *name, double qty)
{
    int i = res_index(r, name);
    if (i >= 0) {
        r->total.items[i].qty += qty;
        r->available.items[i].qty += qty;
        return 0;
    }
    for (size_t k = 0; k < r->total.len; k++) {
        if (r->total.items[k].name[0] != '\0')
            continue;
        int rc = res_map_rename_at(&r->total, k, name, qty);
        if (rc == 0 && (rc = res_map_rename_at(&r->available, k, name, qty)) != 0)
            res_map_rename_at(&r->total, k, "", 0);
        return rc;
    }
    int rc = res_map_append(&r->total, name, qty);
    if (rc == 0 && (rc = res_map_append(&r->available, name, qty)) != 0) {
        /* Leave a free slot rather than two maps of different lengths. */
        res_map_rename_at(&r->total, r->total.len - 1, "", 0);
        rc = -ENOMEM;
    }
    return rc;
}

/* Takes QTY of NAME off the total and available; an entry whose total
 * reaches zero becomes a free slot. */
static void res_sub(raylet *r, const char *name, double qty)
{
    int i = res_index(r, name);
    if (i < 0)
        return;
    r->total.items[i].qty -= qty;
    r->available.items[i].qty -= qty;
    if (r->total.items[i].qty <= RES_EPS) {
        res_map_rename_at(&r->total, (size_t)i, "", 0);
        res_map_rename_at(&r->available, (size_t)i, "", 0);
    }
}

/* Calls FN with the four kinds of group resource name of resource BASE of
 * bundle B (indexed, wildcard) and its quantity.  Returns the first
 * non-zero result of FN. */
typedef int (*res_fn)(raylet *r, const char *name, double qty);

static int each_name(raylet *r, const pg_bundle *b, const char *base, double qty, res_fn fn)
{
    char hex[2 * IDS_PG_LEN + 1], name[RES_NAME_MAX + 1];
    ids_hex(b->pg.b, IDS_PG_LEN, hex);
    snprintf(name, sizeof name, "%s_group_%d_%s", base, b->index, hex);
    int rc = fn(r, name, qty);
    snprintf(name, sizeof name, "%s_group_%s", base, hex);
    return rc ? rc : fn(r, name, qty);
}

static int sub_fn(raylet *r, const char *name, double qty)
{
    res_sub(r, name, qty);
    return 0;
}

/* Runs FN over every group resource of B (its resources and markers). */
static int each_group_res(raylet *r, const pg_bundle *b, res_fn fn)
{
    int rc = 0;
    for (int i = 0; rc == 0 && i < b->plain.n; i++) {
        char base[RES_NAME_MAX + 1]; /* copied: FN may move the map's entries */
        snprintf(base, sizeof base, "%s", r->total.items[b->plain.idx[i]].name);
        rc = each_name(r, b, base, b->plain.qty[i], fn);
    }
    return rc ? rc : each_name(r, b, "bundle", PG_MARKER_QTY, fn);
}

static int commit(raylet *r, pg_bundle *b)
{
    if (b->committed)
        return 0;
    /* Room for every name first (free slots aside), so that the adds below
     * can only fail for want of memory. */
    if (r->total.len + 2 * ((size_t)b->plain.n + 1) > RES_MAP_MAX)
        return -E2BIG;
    b->committed = 1;
    int rc = each_group_res(r, b, res_add);
    if (rc != 0)
        log_error("out of memory committing a placement group bundle");
    return rc;
}

/* Gives B back to the plain pool and frees it. */
static void give_back(raylet *r, pg_bundle *b)
{
    if (b->committed)
        each_group_res(r, b, sub_fn);
    sched_res_release(r, &b->plain);
    for (pg_bundle **p = &r->pgroups->bundles; *p != NULL; p = &(*p)->next) {
        if (*p == b) {
            *p = b->next;
            break;
        }
    }
    free(b);
}

/* ---------------------------------------------------------------- GCS requests */

/* Reserves bundle M for group G.  Returns 0 or -1 with ERR set. */
static int prepare_one(raylet *r, const ids_pg *g, const Rayc__Bundle *m, pg_bundle **out,
                       char *err, size_t errlen)
{
    char why[512];
    *out = NULL;
    if (find(r, g, m->index) != NULL)
        return 0; /* prepared before: the GCS asked again */
    pg_bundle *b = calloc(1, sizeof *b);
    if (b == NULL) {
        snprintf(err, errlen, "the raylet is out of memory");
        return -1;
    }
    if (sched_res_parse(r, (const Rayc__Resource *const *)m->resources, m->n_resources,
                        &b->plain, why, sizeof why) != 0) {
        snprintf(err, errlen, "bundle %d cannot be placed on node %s: %s", m->index,
                 r->opts->node_id, why);
        free(b);
        return -1;
    }
    if (!sched_res_fits(r, &b->plain)) {
        snprintf(err, errlen, "bundle %d does not fit in the free resources of node %s now",
                 m->index, r->opts->node_id);
        free(b);
        return -1;
    }
    sched_res_acquire(r, &b->plain);
    b->pg = *g;
    b->index = m->index;
    b->next = r->pgroups->bundles;
    r->pgroups->bundles = b;
    *out = b;
    return 0;
}

static void on_prepare(raylet *r, uint64_t id, const Rayc__PrepareBundles *m)
{
    Rayc__PrepareBundlesReply rep = RAYC__PREPARE_BUNDLES_REPLY__INIT;
    char err[700] = "";
    ids_pg g;
    pg_bundle **made = calloc(m->n_bundles + 1, sizeof *made);
    size_t n = 0;
    int rc = made == NULL || m->n_bundles > PG_MAX_BUNDLES ||
                     ids_from_bytes(g.b, IDS_PG_LEN, m->pg_id.data, m->pg_id.len) != 0
                 ? -1 : 0;
    if (rc != 0)
        snprintf(err, sizeof err, "a malformed PrepareBundles");
    for (size_t i = 0; rc == 0 && i < m->n_bundles; i++) {
        rc = prepare_one(r, &g, m->bundles[i], &made[n], err, sizeof err);
        n += rc == 0 && made[n] != NULL;
    }
    if (rc != 0) {
        while (n > 0)
            give_back(r, made[--n]); /* all or nothing on this node too */
        log_info("placement group bundles refused: %s", err);
    }
    free(made);
    rep.ok = rc == 0;
    rep.error = err;
    Rayc__Envelope env = RAYC__ENVELOPE__INIT;
    env.body_case = RAYC__ENVELOPE__BODY_PREPARE_BUNDLES_REPLY;
    env.prepare_bundles_reply = &rep;
    raylet_gcs_reply(r, id, &env);
}

static void on_commit(raylet *r, uint64_t id, const Rayc__CommitBundles *m)
{
    Rayc__CommitBundlesReply rep = RAYC__COMMIT_BUNDLES_REPLY__INIT;
    char err[512] = "", hex[2 * IDS_PG_LEN + 1] = "?";
    ids_pg g;
    int rc = ids_from_bytes(g.b, IDS_PG_LEN, m->pg_id.data, m->pg_id.len);
    if (rc == 0)
        ids_hex(g.b, IDS_PG_LEN, hex);
    for (size_t i = 0; rc == 0 && i < m->n_indexes; i++) {
        pg_bundle *b = find(r, &g, m->indexes[i]);
        if (b == NULL)
            snprintf(err, sizeof err, "bundle %d of placement group %s is not prepared on "
                     "node %s", m->indexes[i], hex, r->opts->node_id);
        else if (commit(r, b) != 0)
            snprintf(err, sizeof err, "node %s has no room for more resource names",
                     r->opts->node_id);
        rc = err[0] != '\0' ? -1 : 0;
    }
    if (rc == 0)
        log_info("placement group %s: %zu bundles committed here", hex, m->n_indexes);
    rep.ok = rc == 0;
    rep.error = err;
    Rayc__Envelope env = RAYC__ENVELOPE__INIT;
    env.body_case = RAYC__ENVELOPE__BODY_COMMIT_BUNDLES_REPLY;
    env.commit_bundles_reply = &rep;
    raylet_gcs_reply(r, id, &env);
    sched_park_retry(r);
    sched_dispatch(r);
}

/* True when INDEX is listed in M (or M lists none: every bundle). */
static int listed(const Rayc__ReturnBundles *m, int index)
{
    for (size_t i = 0; i < m->n_indexes; i++)
        if (m->indexes[i] == index)
            return 1;
    return m->n_indexes == 0;
}

static void on_return(raylet *r, uint64_t id, const Rayc__ReturnBundles *m)
{
    ids_pg g;
    if (ids_from_bytes(g.b, IDS_PG_LEN, m->pg_id.data, m->pg_id.len) == 0) {
        char hex[2 * IDS_PG_LEN + 1], reason[600];
        ids_hex(g.b, IDS_PG_LEN, hex);
        snprintf(reason, sizeof reason, "its placement group %s was removed%s%.400s", hex,
                 m->reason && m->reason[0] ? ": " : "", m->reason ? m->reason : "");
        if (m->removed) {
            /* First the users of the bundles, so that their resources are
             * back in the group's when the bundles go. */
            actor_group_removed(r, &g, reason);
            sched_group_removed(r, &g, reason);
        }
        size_t n = 0;
        for (pg_bundle *b = r->pgroups->bundles, *next; b != NULL; b = next) {
            next = b->next;
            if (memcmp(b->pg.b, g.b, IDS_PG_LEN) == 0 && listed(m, b->index)) {
                give_back(r, b);
                n++;
            }
        }
        if (n > 0)
            log_info("placement group %s: %zu bundles returned%s", hex, n,
                     m->removed ? " (removed)" : "");
    }
    Rayc__ReturnBundlesReply rep = RAYC__RETURN_BUNDLES_REPLY__INIT;
    Rayc__Envelope env = RAYC__ENVELOPE__INIT;
    env.body_case = RAYC__ENVELOPE__BODY_RETURN_BUNDLES_REPLY;
    env.return_bundles_reply = &rep;
    raylet_gcs_reply(r, id, &env);
    sched_dispatch(r);
}

/* True when bundle B is in M's list of bundles to keep. */
static int kept(const Rayc__ReleaseUnusedBundles *m, const pg_bundle *b)
{
    for (size_t i = 0; i < m->n_pg_ids && i < m->n_indexes; i++)
        if (m->indexes[i] == b->index && pgroup_id_eq(&m->pg_ids[i], &b->pg))
            return 1;
    return 0;
}

static void on_release_unused(raylet *r, uint64_t id, const Rayc__ReleaseUnusedBundles *m)
{
    size_t n = 0;
    for (pg_bundle *b = r->pgroups->bundles, *next; b != NULL; b = next) {
        next = b->next;
        if (!kept(m, b)) {
            give_back(r, b);
            n++;
        }
    }
    if (n > 0)
        log_info("returned %zu placement group bundles the GCS does not know as committed", n);
    Rayc__ReleaseUnusedBundlesReply rep = RAYC__RELEASE_UNUSED_BUNDLES_REPLY__INIT;
    Rayc__Envelope env = RAYC__ENVELOPE__INIT;
    env.body_case = RAYC__ENVELOPE__BODY_RELEASE_UNUSED_BUNDLES_REPLY;
    env.release_unused_bundles_reply = &rep;
    raylet_gcs_reply(r, id, &env);
    sched_dispatch(r);
}

int pgroup_on_gcs_request(raylet *r, const Rayc__Envelope *msg)
{
    switch (msg->body_case) {
    case RAYC__ENVELOPE__BODY_PREPARE_BUNDLES:
        on_prepare(r, msg->request_id, msg->prepare_bundles);
        return 1;
    case RAYC__ENVELOPE__BODY_COMMIT_BUNDLES:
        on_commit(r, msg->request_id, msg->commit_bundles);
        return 1;
    case RAYC__ENVELOPE__BODY_RETURN_BUNDLES:
        on_return(r, msg->request_id, msg->return_bundles);
        return 1;
    case RAYC__ENVELOPE__BODY_RELEASE_UNUSED_BUNDLES:
        on_release_unused(r, msg->request_id, msg->release_unused_bundles);
        return 1;
    default:
        return 0;
    }
}

/* ---------------------------------------------------------------- open / free */

int pgroup_open(raylet *r)
{
    r->pgroups = calloc(1, sizeof *r->pgroups);
    return r->pgroups ? 0 : -ENOMEM;
}

void pgroup_free(raylet *r)
{
    if (r->pgroups == NULL)
        return;
    while (r->pgroups->bundles != NULL) {
        pg_bundle *b = r->pgroups->bundles;
        r->pgroups->bundles = b->next;
        free(b);
    }
    free(r->pgroups);
    r->pgroups = NULL;
}
