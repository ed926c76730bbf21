/* GCS placement groups: choosing nodes for bundles from the resource view,
 * and reserving them on the raylets in two phases (gcs_pg.h). */
#include "gcs/gcs_pg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/res_map.h"
#include "common/util.h"
#include "ray/ray.h"

/* ---------------------------------------------------------------- the view */

/* One alive, connected node's free plain resources for a placement. */
typedef struct pnode {
    gcs_node *n;
    size_t nres;
    const char **names;          /* borrowed from the node's record */
    double *avail;
    int nb;                      /* bundles of the group being placed on it */
} pnode;

typedef struct pview {
    pnode *nodes;
    size_t n;
} pview;

static double *avail_of(pnode *p, const char *name)
{
    for (size_t i = 0; i < p->nres; i++)
        if (strcmp(p->names[i], name) == 0)
            return &p->avail[i];
    return NULL;
}

static int fits(pnode *p, const Rayc__Bundle *b)
{
    for (size_t k = 0; k < b->n_resources; k++) {
        double *a = avail_of(p, b->resources[k]->name);
        if (!res_fits(a == NULL ? 0.0 : *a, b->resources[k]->qty))
            return 0;
    }
    return 1;
}

/* Takes (SIGN 1) or gives back (-1) B's resources on P. */
static void take(pnode *p, const Rayc__Bundle *b, double sign)
{
    for (size_t k = 0; k < b->n_resources; k++) {
        double *a = avail_of(p, b->resources[k]->name);
        if (a != NULL)
            *a -= sign * b->resources[k]->qty;
    }
}

static pnode *view_find(pview *v, const char *node_id)
{
    for (size_t i = 0; i < v->n; i++)
        if (strcmp(v->nodes[i].n->info->node_id, node_id) == 0)
            return &v->nodes[i];
    return NULL;
}

static void view_free(pview *v)
{
    for (size_t i = 0; i < v->n; i++) {
        free(v->nodes[i].names);
        free(v->nodes[i].avail);
    }
    free(v->nodes);
    v->nodes = NULL;
    v->n = 0;
}

/* Gives back to the view PG's bundles being returned that their node's
 * last report may still show reserved: the report showed the reservation,
 * came after the in-place credit of gcs_pg__give_back, and was not sent
 * after the node answered. */
static void view_credit(pview *v, gcs_pg *pg)
{
    for (gcs_pg_return *e = pg->returns; e != NULL; e = e->next) {
        pnode *p = view_find(v, e->node);
        if (p == NULL || gcs_pg__return_done(p->n, e))
            continue;
        uint64_t seq = p->n->report_seq;
        int shown = e->shown_after == 0 || seq > e->shown_after;
        if (shown && seq > e->credited_seq)
            take(p, pg->info->bundles[e->index], -1);
    }
}

/* Charges every placed bundle that its node's reports do not show yet, and
 * credits the bundles given back that they may still show. */
static void view_charge(gcs_server *srv, pview *v)
{
    for (gcs_pg *pg = srv->pgs->head; pg != NULL; pg = pg->next) {
        view_credit(v, pg);
        if (pg->info->state == RAYC__PLACEMENT_GROUP_INFO__STATE__REMOVED)
            continue;
        for (size_t i = 0; i < pg->info->n_bundles; i++) {
            pnode *p = view_find(v, pg->info->bundles[i]->node_id);
            if (p != NULL && pg->shown_after[i] != 0 && p->n->report_seq <= pg->shown_after[i])
                take(p, pg->info->bundles[i], 1);
        }
    }
}

static int view_build(gcs_server *srv, pview *v)
{
    v->n = 0;
    v->nodes = calloc(srv->nodes.n + 1, sizeof *v->nodes);
    if (v->nodes == NULL)
        return -1;
    for (size_t i = 0; i < srv->nodes.n; i++) {
        gcs_node *n = srv->nodes.list[i];
        const Rayc__NodeInfo *ni = n->info;
        if (ni->state != RAYC__NODE_INFO__STATE__ALIVE || n->conn == NULL || n->conn->closed)
            continue;
        pnode *p = &v->nodes[v->n++];
        p->n = n;
        p->names = calloc(ni->n_resources_available + 1, sizeof *p->names);
        p->avail = calloc(ni->n_resources_available + 1, sizeof *p->avail);
        if (p->names == NULL || p->avail == NULL) {
            view_free(v);
            return -1;
        }
        for (size_t k = 0; k < ni->n_resources_available; k++) {
            p->names[k] = ni->resources_available[k]->key;
            p->avail[k] = ni->resources_available[k]->value;
        }
        p->nres = ni->n_resources_available;
    }
    view_charge(srv, v);
    return 0;
}

/* ---------------------------------------------------------------- placing */

/* The node for bundle B under strategy S, given the nodes used so far
 * (pnode.nb), or NULL. */
static pnode *pick(pview *v, const Rayc__Bundle *b, int s)
{
    pnode *best = NULL;
    for (size_t i = 0; i < v->n; i++) {
        pnode *p = &v->nodes[i];
        if (!fits(p, b) || (s == RAY_PG_STRICT_SPREAD && p->nb > 0))
            continue;
        if (best == NULL)
            best = p;
        else if ((s == RAY_PG_PACK || s == RAY_PG_STRICT_PACK) && p->nb > best->nb)
            best = p; /* pack: where the group already is */
        else if (s == RAY_PG_SPREAD && p->nb < best->nb)
            best = p; /* spread: where it is least */
    }
    return best;
}

/* Places every bundle of INFO on one node (the one already used, if any).
 * Fills OUT and returns 0, or -1. */
static int place_together(pview *v, const Rayc__PlacementGroupInfo *info, pnode **out)
{
    for (size_t i = 0; i < v->n; i++) {
        pnode *p = &v->nodes[i];
        size_t done = 0;
        int used = 0;
        for (size_t k = 0; k < v->n; k++)
            used |= v->nodes[k].nb > 0;
        if (used && p->nb == 0)
            continue;
        for (; done < info->n_bundles; done++) {
            if (info->bundles[done]->node_id[0] != '\0')
                continue;
            if (!fits(p, info->bundles[done]))
                break;
            take(p, info->bundles[done], 1);
            out[done] = p;
        }
        if (done == info->n_bundles)
            return 0;
        while (done-- > 0)
            if (out[done] == p) {
                take(p, info->bundles[done], -1);
                out[done] = NULL;
            }
    }
    return -1;
}

/* Chooses a node for every unplaced bundle of PG (OUT[i], NULL for the
 * placed ones).  Returns 0, or -1 with WHY set when it does not fit now. */
static int place(pview *v, gcs_pg *pg, pnode **out, char *why, size_t whylen)
{
    const Rayc__PlacementGroupInfo *info = pg->info;
    int s = info->strategy;
    for (size_t i = 0; i < info->n_bundles; i++) {
        pnode *p = view_find(v, info->bundles[i]->node_id);
        if (p != NULL)
            p->nb++;
    }
    if (s == RAY_PG_STRICT_PACK || s == RAY_PG_PACK) {
        if (place_together(v, info, out) == 0)
            return 0;
        if (s == RAY_PG_STRICT_PACK) {
            snprintf(why, whylen, "no node has room for all %zu bundles together",
                     info->n_bundles);
            return -1;
        }
    }
    for (size_t i = 0; i < info->n_bundles; i++) {
        if (info->bundles[i]->node_id[0] != '\0')
            continue;
        pnode *p = pick(v, info->bundles[i], s);
        if (p == NULL) {
            snprintf(why, whylen, "bundle %zu does not fit on any %snode now", i,
                     s == RAY_PG_STRICT_SPREAD ? "unused " : "");
            return -1;
        }
        take(p, info->bundles[i], 1);
        p->nb++;
        out[i] = p;
    }
    return 0;
}

/* ---------------------------------------------------------------- the try */

static void try_free(gcs_pg *pg)
{
    if (pg->busy == NULL)
        return;
    free(pg->busy->node);
    free(pg->busy->prepared);
    free(pg->busy);
    pg->busy = NULL;
}

/* The body of one request to a raylet. */
typedef union pg_msg {
    Rayc__PrepareBundles prepare;
    Rayc__CommitBundles commit;
    Rayc__ReturnBundles ret;
} pg_msg;

/* Sends the request FILL builds (into ENV and M, for the try's bundles on
 * NODE) to every node of PG's try (ONLY_PREPARED: the nodes that prepared),
 * CB getting the answers; a node it cannot be sent to fails the try.  With
 * CB NULL the request is a ReturnBundles instead, and the try's prepared
 * bundles are given back (gcs_pg__give_back).  Returns how many were sent. */
typedef void (*fill_fn)(gcs_pg *pg, const char *node, Rayc__Envelope *env, pg_msg *m,
                        void *scratch);

static int each_node(gcs_server *srv, gcs_pg *pg, int only_prepared, fill_fn fill,
                     void (*cb)(gcs_server *, gcs_pg_call *, const Rayc__Envelope *))
{
    gcs_pg_try *t = pg->busy;
    size_t nb = pg->info->n_bundles;
    int sent = 0;
    char (*done)[GCS_MAX_ID_LEN + 1] = calloc(nb + 1, sizeof *done);
    void *scratch = calloc(nb + 1, sizeof(Rayc__Bundle *) + sizeof(int32_t));
    size_t ndone = 0;
    for (size_t i = 0; done && scratch && i < nb; i++) {
        const char *node = t->node[i];
        int seen = 0;
        if (node[0] == '\0' || (only_prepared && !t->prepared[i]))
            continue;
        for (size_t k = 0; k < ndone; k++)
            seen |= strcmp(done[k], node) == 0;
        if (seen)
            continue;
        str_copy(done[ndone++], sizeof done[0], node);
        gcs_node *n = gcs_node_table_find(&srv->nodes, node);
        Rayc__Envelope env = RAYC__ENVELOPE__INIT;
        pg_msg m;
        fill(pg, node, &env, &m, scratch);
        if (cb == NULL) {
            uint64_t call = n ? gcs_pg__send_return(srv, n->conn, &env, pg, node) : 0;
            for (size_t b = 0; call != 0 && b < nb; b++)
                if (t->prepared[b] && strcmp(t->node[b], node) == 0)
                    gcs_pg__give_back(srv, pg, b, node, call);
            sent += call != 0;
        } else if (n != NULL && gcs_pg__request(srv, n->conn, &env, pg, node, cb) == 0) {
            sent++;
        } else {
            t->failed = 1;
            str_copy(t->why, sizeof t->why, "a chosen node has no connection");
        }
    }
    free(done);
    free(scratch);
    return sent;
}

static void fill_prepare(gcs_pg *pg, const char *node, Rayc__Envelope *env, pg_msg *m,
                         void *scratch)
{
    Rayc__Bundle **list = scratch;
    rayc__prepare_bundles__init(&m->prepare);
    m->prepare.pg_id = pg->info->pg_id;
    m->prepare.bundles = list;
    for (size_t i = 0; i < pg->info->n_bundles; i++)
        if (strcmp(pg->busy->node[i], node) == 0)
            list[m->prepare.n_bundles++] = pg->info->bundles[i];
    env->body_case = RAYC__ENVELOPE__BODY_PREPARE_BUNDLES;
    env->prepare_bundles = &m->prepare;
}

/* The indexes of the try's bundles on NODE, in SCRATCH. */
static size_t indexes_on(gcs_pg *pg, const char *node, int32_t *idx, int only_prepared)
{
    size_t n = 0;
    for (size_t i = 0; i < pg->info->n_bundles; i++)
        if (strcmp(pg->busy->node[i], node) == 0 && (!only_prepared || pg->busy->prepared[i]))
            idx[n++] = (int32_t)i;
    return n;
}

static void fill_commit(gcs_pg *pg, const char *node, Rayc__Envelope *env, pg_msg *m,
                        void *scratch)
{
    rayc__commit_bundles__init(&m->commit);
    m->commit.pg_id = pg->info->pg_id;
    m->commit.indexes = scratch;
    m->commit.n_indexes = indexes_on(pg, node, scratch, 0);
    env->body_case = RAYC__ENVELOPE__BODY_COMMIT_BUNDLES;
    env->commit_bundles = &m->commit;
}

static void fill_return(gcs_pg *pg, const char *node, Rayc__Envelope *env, pg_msg *m,
                        void *scratch)
{
    rayc__return_bundles__init(&m->ret);
    m->ret.pg_id = pg->info->pg_id;
    m->ret.indexes = scratch;
    m->ret.n_indexes = indexes_on(pg, node, scratch, 1);
    m->ret.removed = pg->remove_asked;
    m->ret.reason = pg->info->reason;
    env->body_case = RAYC__ENVELOPE__BODY_RETURN_BUNDLES;
    env->return_bundles = &m->ret;
}

/* The try of PG is over: failed (give back what was prepared, stay pending
 * or removed) or committed (placed). */
static void try_end(gcs_server *srv, gcs_pg *pg)
{
    gcs_pg_try *t = pg->busy;
    Rayc__PlacementGroupInfo *info = pg->info;
    if (t->failed || pg->remove_asked) {
        each_node(srv, pg, 1, fill_return, NULL);
        if (!pg->remove_asked) {
            gcs_pg__set_str(&info->reason, t->why);
            log_info("placement group %s: reservation failed (%s); will retry", pg->hex, t->why);
        }
    } else {
        for (size_t i = 0; i < info->n_bundles; i++)
            if (t->node[i][0] != '\0')
                gcs_pg__set_str(&info->bundles[i]->node_id, t->node[i]);
        info->state = RAYC__PLACEMENT_GROUP_INFO__STATE__CREATED;
        gcs_pg__set_str(&info->reason, "");
        gcs_pg__save(srv, pg);
        log_info("placement group %s created", pg->hex);
    }
    try_free(pg);
    pg->remove_asked = 0;
    srv->pgs->scheduling = 0;
    gcs_pg_schedule(srv);
}

static void commit_cb(gcs_server *srv, gcs_pg_call *c, const Rayc__Envelope *reply)
{
    gcs_pg *pg = c->pg;
    gcs_pg_try *t = pg->busy;
    if (t == NULL || t->phase != 2)
        return;
    const Rayc__CommitBundlesReply *r = reply ? reply->commit_bundles_reply : NULL;
    if (r == NULL || !r->ok) {
        t->failed = 1;
        snprintf(t->why, sizeof t->why, "node %s: %s", c->node,
                 r ? r->error : "the connection closed");
    }
    if (--t->waiting == 0)
        try_end(srv, pg);
}

static void prepare_cb(gcs_server *srv, gcs_pg_call *c, const Rayc__Envelope *reply)
{
    gcs_pg *pg = c->pg;
    gcs_pg_try *t = pg->busy;
    if (t == NULL || t->phase != 1)
        return;
    const Rayc__PrepareBundlesReply *r = reply ? reply->prepare_bundles_reply : NULL;
    gcs_node *n = gcs_node_table_find(&srv->nodes, c->node);
    if (r != NULL && r->ok) {
        for (size_t i = 0; i < pg->info->n_bundles; i++) {
            if (strcmp(t->node[i], c->node) != 0)
                continue;
            t->prepared[i] = 1;
            pg->shown_after[i] = n ? n->report_seq : 0;
        }
    } else {
        t->failed = 1;
        snprintf(t->why, sizeof t->why, "%s", r ? r->error : "a node's connection closed");
    }
    if (--t->waiting > 0)
        return;
    if (t->failed || pg->remove_asked) {
        try_end(srv, pg);
        return;
    }
    t->phase = 2;
    t->waiting = each_node(srv, pg, 0, fill_commit, commit_cb);
    if (t->waiting == 0)
        try_end(srv, pg);
}

/* Starts the try of PG with the nodes in OUT. */
static int try_start(gcs_server *srv, gcs_pg *pg, pnode **out)
{
    size_t nb = pg->info->n_bundles;
    gcs_pg_try *t = calloc(1, sizeof *t);
    if (t == NULL || (t->node = calloc(nb, sizeof *t->node)) == NULL ||
        (t->prepared = calloc(nb, sizeof *t->prepared)) == NULL) {
        if (t != NULL)
            free(t->node);
        free(t);
        return -1;
    }
    for (size_t i = 0; i < nb; i++)
        if (out[i] != NULL)
            str_copy(t->node[i], sizeof t->node[i], out[i]->n->info->node_id);
    pg->busy = t;
    t->phase = 1;
    t->started_ms = time_mono_ms();
    srv->pgs->scheduling = 1;
    t->waiting = each_node(srv, pg, 0, fill_prepare, prepare_cb);
    if (t->waiting == 0) {
        t->failed = 1;
        try_end(srv, pg);
    }
    return 0;
}

void gcs_pg__try_abort(gcs_server *srv, gcs_pg *pg, const char *why)
{
    (void)srv;
    if (pg->busy == NULL)
        return;
    pg->busy->failed = 1;
    str_copy(pg->busy->why, sizeof pg->busy->why, why);
}

/* ---------------------------------------------------------------- schedule */

/* True when PG has a bundle without a node. */
static int unplaced(const gcs_pg *pg)
{
    for (size_t i = 0; i < pg->info->n_bundles; i++)
        if (pg->info->bundles[i]->node_id[0] == '\0')
            return 1;
    return 0;
}

/* A try whose raylets have not all answered in GCS_PG_TRY_TIMEOUT_MS (a
 * node that hangs without closing its connection) ends as failed; the late
 * answers are dropped with its calls. */
static void expire_try(gcs_server *srv)
{
    for (gcs_pg *pg = srv->pgs->head; pg != NULL; pg = pg->next) {
        if (pg->busy == NULL || time_mono_ms() - pg->busy->started_ms < GCS_PG_TRY_TIMEOUT_MS)
            continue;
        gcs_pg__cancel_calls(srv, pg);
        pg->busy->failed = 1;
        str_copy(pg->busy->why, sizeof pg->busy->why, "a raylet did not answer in time");
        try_end(srv, pg);
        return;
    }
}

void gcs_pg_tick(gcs_server *srv)
{
    if (srv->pgs != NULL && srv->pgs->scheduling)
        expire_try(srv);
    gcs_pg__returns_prune(srv);
    gcs_pg_schedule(srv);
}

void gcs_pg_schedule(gcs_server *srv)
{
    gcs_pgs *t = srv->pgs;
    if (t == NULL || t->scheduling || srv->stopping)
        return;
    for (gcs_pg *pg = t->head; pg != NULL; pg = pg->next) {
        if (pg->info->state != RAYC__PLACEMENT_GROUP_INFO__STATE__PENDING)
            continue;
        if (!unplaced(pg)) { /* every bundle survived: nothing to place */
            pg->info->state = RAYC__PLACEMENT_GROUP_INFO__STATE__CREATED;
            gcs_pg__save(srv, pg);
            continue;
        }
        pview v;
        char why[256];
        pnode **out = calloc(pg->info->n_bundles + 1, sizeof *out);
        if (out == NULL || view_build(srv, &v) != 0) {
            free(out);
            return;
        }
        int rc = place(&v, pg, out, why, sizeof why);
        if (rc == 0)
            rc = try_start(srv, pg, out);
        else if (strcmp(pg->info->reason, why) != 0)
            gcs_pg__set_str(&pg->info->reason, why);
        view_free(&v);
        free(out);
        if (rc == 0)
            return; /* one try at a time */
    }
}
