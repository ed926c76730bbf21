/* GCS placement groups: create, remove, get, list; requests to raylets and
 * their replies; node, connection and job events (gcs_pg.h). */
#include "gcs/gcs_pg.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/ids.h"
#include "common/log.h"
#include "common/util.h"
#include "ray/ray.h"

static gcs_pgs *pgs_of(gcs_server *srv)
{
    if (srv->pgs == NULL)
        srv->pgs = calloc(1, sizeof *srv->pgs);
    return srv->pgs;
}

/* ---------------------------------------------------------------- records */

void gcs_pg__set_str(char **field, const char *v)
{
    char *copy = strdup(v ? v : "");
    if (copy == NULL)
        return; /* keep the old text */
    if (*field != NULL && *field != protobuf_c_empty_string)
        free(*field);
    *field = copy;
}

void gcs_pg__save(gcs_server *srv, gcs_pg *pg)
{
    if (gcs_store_pg_put(srv->store, pg->info) != 0)
        log_error("cannot store placement group %s: %s", pg->hex, gcs_store_errmsg(srv->store));
}

static gcs_pg *pg_find(gcs_server *srv, const ProtobufCBinaryData *id)
{
    gcs_pgs *t = pgs_of(srv);
    for (gcs_pg *pg = t ? t->head : NULL; pg != NULL; pg = pg->next)
        if (pg->info->pg_id.len == id->len && memcmp(pg->info->pg_id.data, id->data, id->len) == 0)
            return pg;
    return NULL;
}

static gcs_pg *pg_find_named(gcs_server *srv, const char *ns, const char *name)
{
    gcs_pgs *t = pgs_of(srv);
    for (gcs_pg *pg = t ? t->head : NULL; pg != NULL; pg = pg->next)
        if (pg->info->state != RAYC__PLACEMENT_GROUP_INFO__STATE__REMOVED &&
            pg->info->name[0] != '\0' && strcmp(pg->info->name, name) == 0 &&
            strcmp(pg->info->namespace_, ns) == 0)
            return pg;
    return NULL;
}

/* Adds the record INFO (owned from now on).  Returns the group or NULL. */
static gcs_pg *pg_add(gcs_server *srv, Rayc__PlacementGroupInfo *info)
{
    gcs_pgs *t = pgs_of(srv);
    gcs_pg *pg = t ? calloc(1, sizeof *pg) : NULL;
    uint64_t *shown = pg ? calloc(info->n_bundles + 1, sizeof *shown) : NULL;
    if (shown == NULL) {
        free(pg);
        return NULL;
    }
    pg->info = info;
    pg->shown_after = shown;
    ids_hex(info->pg_id.data, GCS_PG_ID_LEN, pg->hex);
    if (t->tail != NULL)
        t->tail->next = pg;
    else
        t->head = pg;
    t->tail = pg;
    return pg;
}

/* ---------------------------------------------------------------- requests to raylets */

int gcs_pg__request(gcs_server *srv, gcs_client *cl, Rayc__Envelope *env, gcs_pg *pg,
                    const char *node,
                    void (*cb)(gcs_server *srv, gcs_pg_call *c, const Rayc__Envelope *reply))
{
    gcs_pgs *t = pgs_of(srv);
    if (cl == NULL || cl->closed)
        return -ENOTCONN;
    gcs_pg_call *c = t ? calloc(1, sizeof *c) : NULL;
    if (c == NULL)
        return -ENOMEM;
    c->id = ++srv->next_request_id;
    c->cl = cl;
    c->cb = cb;
    c->pg = pg;
    str_copy(c->node, sizeof c->node, node ? node : "");
    env->request_id = c->id;
    int rc = gcs_send(cl, env);
    if (rc != 0) {
        free(c);
        return rc;
    }
    c->next = t->calls;
    t->calls = c;
    return 0;
}

/* Takes the call answered by REPLY on CL off the list (NULL when none). */
static gcs_pg_call *take_call(gcs_server *srv, gcs_client *cl, uint64_t id)
{
    for (gcs_pg_call **p = &pgs_of(srv)->calls; *p != NULL; p = &(*p)->next) {
        if ((*p)->cl == cl && (*p)->id == id) {
            gcs_pg_call *c = *p;
            *p = c->next;
            return c;
        }
    }
    return NULL;
}

void gcs_pg_on_reply(gcs_client *cl, const Rayc__Envelope *reply)
{
    gcs_server *srv = cl->srv;
    if (reply->request_id == 0 || srv->pgs == NULL)
        return;
    gcs_pg_call *c = take_call(srv, cl, reply->request_id);
    if (c == NULL)
        return;
    if (c->cb != NULL)
        c->cb(srv, c, reply->body_case == RAYC__ENVELOPE__BODY_ERROR ? NULL : reply);
    free(c);
}

void gcs_pg_conn_closed(gcs_server *srv, gcs_client *cl)
{
    for (size_t i = 0; i < srv->nodes.n; i++)
        if (srv->nodes.list[i]->conn == cl)
            srv->nodes.list[i]->conn = NULL;
    if (srv->pgs == NULL)
        return;
    /* One at a time: a callback may send new requests (on other nodes). */
    for (;;) {
        gcs_pg_call *c = srv->pgs->calls;
        while (c != NULL && c->cl != cl)
            c = c->next;
        if (c == NULL)
            break;
        take_call(srv, cl, c->id);
        if (c->cb != NULL)
            c->cb(srv, c, NULL);
        free(c);
    }
}

/* Drops PG's give-back records of request CALL_ID (0: all of them). */
static void returns_drop(gcs_pg *pg, uint64_t call_id)
{
    for (gcs_pg_return **p = &pg->returns; *p != NULL;) {
        gcs_pg_return *e = *p;
        if (call_id == 0 || e->call_id == call_id) {
            *p = e->next;
            free(e);
        } else {
            p = &e->next;
        }
    }
}

void gcs_pg__cancel_calls(gcs_server *srv, gcs_pg *pg)
{
    for (gcs_pg_call **p = &pgs_of(srv)->calls; *p != NULL;) {
        gcs_pg_call *c = *p;
        if (c->pg == pg) {
            *p = c->next;
            returns_drop(pg, c->id);
            free(c);
        } else {
            p = &c->next;
        }
    }
}

/* The node answered a ReturnBundles (REPLY NULL: it did not, its
 * connection closed): its next report shows the bundles gone. */
static void returned_cb(gcs_server *srv, gcs_pg_call *c, const Rayc__Envelope *reply)
{
    gcs_node *n = gcs_node_table_find(&srv->nodes, c->node);
    if (reply == NULL || n == NULL) {
        returns_drop(c->pg, c->id);
        return;
    }
    for (gcs_pg_return *e = c->pg->returns; e != NULL; e = e->next) {
        if (e->call_id == c->id) {
            e->call_id = 0;
            e->gone_after = n->report_seq;
        }
    }
}

int gcs_pg__return_done(const gcs_node *n, const gcs_pg_return *e)
{
    return e->call_id == 0 && n->report_seq > e->gone_after;
}

void gcs_pg__returns_prune(gcs_server *srv)
{
    for (gcs_pg *pg = srv->pgs ? srv->pgs->head : NULL; pg != NULL; pg = pg->next) {
        for (gcs_pg_return **p = &pg->returns; *p != NULL;) {
            gcs_pg_return *e = *p;
            gcs_node *n = gcs_node_table_find(&srv->nodes, e->node);
            if (n == NULL || gcs_pg__return_done(n, e)) {
                *p = e->next;
                free(e);
            } else {
                p = &e->next;
            }
        }
    }
}

uint64_t gcs_pg__send_return(gcs_server *srv, gcs_client *cl, Rayc__Envelope *env, gcs_pg *pg,
                             const char *node)
{
    if (gcs_pg__request(srv, cl, env, pg, node, returned_cb) != 0)
        return 0;
    return env->request_id;
}

void gcs_pg__broadcast_removed(gcs_server *srv, gcs_pg *pg)
{
    Rayc__Envelope env = RAYC__ENVELOPE__INIT;
    Rayc__ReturnBundles m = RAYC__RETURN_BUNDLES__INIT;
    m.pg_id = pg->info->pg_id;
    m.removed = 1;
    m.reason = pg->info->reason;
    env.body_case = RAYC__ENVELOPE__BODY_RETURN_BUNDLES;
    env.return_bundles = &m;
    for (size_t i = 0; i < srv->nodes.n; i++) {
        gcs_node *n = srv->nodes.list[i];
        if (n->info->state != RAYC__NODE_INFO__STATE__ALIVE || n->conn == NULL)
            continue;
        uint64_t call = gcs_pg__send_return(srv, n->conn, &env, pg, n->info->node_id);
        for (size_t b = 0; call != 0 && b < pg->info->n_bundles; b++)
            if (strcmp(pg->info->bundles[b]->node_id, n->info->node_id) == 0)
                gcs_pg__give_back(srv, pg, b, n->info->node_id, call);
    }
}

/* ---------------------------------------------------------------- create */

/* Why IN cannot be a new group (NULL when it can). */
static const char *create_refusal(gcs_server *srv, const Rayc__PlacementGroupInfo *in,
                                  char *buf, size_t len)
{
    if (in == NULL || in->pg_id.len != GCS_PG_ID_LEN)
        return "create_placement_group: a malformed group id";
    if (in->n_bundles == 0 || in->n_bundles > GCS_PG_MAX_BUNDLES)
        return "create_placement_group: a group needs 1 to 1000 bundles";
    if (in->strategy < RAY_PG_PACK || in->strategy > RAY_PG_STRICT_SPREAD)
        return "create_placement_group: unknown strategy";
    for (size_t i = 0; i < in->n_bundles; i++) {
        const Rayc__Bundle *b = in->bundles[i];
        double sum = 0;
        for (size_t k = 0; k < b->n_resources; k++) {
            const Rayc__Resource *x = b->resources[k];
            if (x->name == NULL || x->name[0] == '\0' || !(x->qty >= 0) || !isfinite(x->qty) ||
                strlen(x->name) > 64)
                return "create_placement_group: a bundle has a bad resource";
            sum += x->qty;
        }
        if (b->index != (int32_t)i || sum <= 0) {
            snprintf(buf, len, "create_placement_group: bundle %zu is empty or misnumbered", i);
            return buf;
        }
    }
    if (in->name[0] != '\0' && pg_find_named(srv, in->namespace_, in->name) != NULL) {
        snprintf(buf, len, "a placement group named '%.200s' already exists in namespace "
                 "'%.200s'", in->name, in->namespace_);
        return buf;
    }
    return NULL;
}

static void create_reply(gcs_client *cl, uint64_t id, int status, const char *error)
{
    Rayc__CreatePlacementGroupReply r = RAYC__CREATE_PLACEMENT_GROUP_REPLY__INIT;
    r.status = status;
    r.error = (char *)error;
    Rayc__Envelope env = RAYC__ENVELOPE__INIT;
    env.body_case = RAYC__ENVELOPE__BODY_CREATE_PLACEMENT_GROUP_REPLY;
    env.create_placement_group_reply = &r;
    gcs_reply(cl, id, &env);
}

void gcs_handle_create_pg(gcs_client *cl, uint64_t id, const Rayc__CreatePlacementGroup *req)
{
    gcs_server *srv = cl->srv;
    char buf[600];
    const Rayc__PlacementGroupInfo *in = req->pg;
    if (in != NULL && pg_find(srv, &in->pg_id) != NULL) {
        create_reply(cl, id, RAY_OK, ""); /* asked again: it exists */
        return;
    }
    const char *why = create_refusal(srv, in, buf, sizeof buf);
    if (why != NULL) {
        create_reply(cl, id, RAY_ERR_INVALID, why);
        return;
    }
    Rayc__PlacementGroupInfo *info = (Rayc__PlacementGroupInfo *)gcs_msg_dup(&in->base);
    gcs_pg *pg = info ? pg_add(srv, info) : NULL;
    if (pg == NULL) {
        if (info != NULL)
            rayc__placement_group_info__free_unpacked(info, NULL);
        create_reply(cl, id, RAY_ERR_NOMEM, "the GCS is out of memory");
        return;
    }
    info->state = RAYC__PLACEMENT_GROUP_INFO__STATE__PENDING;
    info->create_time_ms = time_now_ms();
    for (size_t i = 0; i < info->n_bundles; i++)
        gcs_pg__set_str(&info->bundles[i]->node_id, "");
    gcs_pg__save(srv, pg);
    log_info("placement group %s%s%s: %zu bundles, strategy %d, pending", pg->hex,
             info->name[0] ? " " : "", info->name, info->n_bundles, info->strategy);
    create_reply(cl, id, RAY_OK, "");
    gcs_pg_schedule(srv);
}

/* ---------------------------------------------------------------- remove */

void gcs_pg__give_back(gcs_server *srv, gcs_pg *pg, size_t i, const char *node_id,
                       uint64_t call_id)
{
    gcs_node *n = gcs_node_table_find(&srv->nodes, node_id);
    gcs_pg_return *ret = n ? calloc(1, sizeof *ret) : NULL;
    if (ret != NULL) {
        ret->index = i;
        str_copy(ret->node, sizeof ret->node, node_id);
        ret->call_id = call_id;
        ret->shown_after = pg->shown_after[i];
        ret->credited_seq = n->report_seq;
        ret->next = pg->returns;
        pg->returns = ret;
    }
    if (n == NULL || (pg->shown_after[i] != 0 && n->report_seq <= pg->shown_after[i]))
        return; /* no report showed the reservation: nothing to give back yet */
    const Rayc__Bundle *b = pg->info->bundles[i];
    Rayc__NodeInfo *ni = n->info;
    for (size_t k = 0; k < b->n_resources; k++) {
        double total = 0;
        for (size_t j = 0; j < ni->n_resources_total; j++)
            if (strcmp(ni->resources_total[j]->key, b->resources[k]->name) == 0)
                total = ni->resources_total[j]->value;
        for (size_t j = 0; j < ni->n_resources_available; j++) {
            Rayc__NodeInfo__ResourcesAvailableEntry *e = ni->resources_available[j];
            if (strcmp(e->key, b->resources[k]->name) == 0)
                e->value = e->value + b->resources[k]->qty > total ? total
                                                                   : e->value + b->resources[k]->qty;
        }
    }
}

/* Marks PG removed with REASON, stores it and tells the raylets (at once,
 * or when its try in flight ends). */
static void pg_remove(gcs_server *srv, gcs_pg *pg, const char *reason)
{
    if (pg->info->state == RAYC__PLACEMENT_GROUP_INFO__STATE__REMOVED)
        return;
    pg->info->state = RAYC__PLACEMENT_GROUP_INFO__STATE__REMOVED;
    gcs_pg__set_str(&pg->info->reason, reason);
    gcs_pg__save(srv, pg);
    log_info("placement group %s removed: %s", pg->hex, reason);
    if (pg->busy != NULL)
        pg->remove_asked = 1; /* the try's end gives its bundles back */
    gcs_pg__broadcast_removed(srv, pg);
}

static void remove_reply(gcs_client *cl, uint64_t id, int status, const char *error)
{
    Rayc__RemovePlacementGroupReply r = RAYC__REMOVE_PLACEMENT_GROUP_REPLY__INIT;
    r.status = status;
    r.error = (char *)error;
    Rayc__Envelope env = RAYC__ENVELOPE__INIT;
    env.body_case = RAYC__ENVELOPE__BODY_REMOVE_PLACEMENT_GROUP_REPLY;
    env.remove_placement_group_reply = &r;
    gcs_reply(cl, id, &env);
}

void gcs_handle_remove_pg(gcs_client *cl, uint64_t id, const Rayc__RemovePlacementGroup *req)
{
    gcs_pg *pg = pg_find(cl->srv, &req->pg_id);
    if (pg == NULL) {
        remove_reply(cl, id, RAY_ERR_NOT_FOUND, "no such placement group");
        return;
    }
    pg_remove(cl->srv, pg, "ray_pg_remove was called");
    remove_reply(cl, id, RAY_OK, "");
    gcs_pg_schedule(cl->srv);
}

void gcs_pg_job_finished(gcs_server *srv, const char *job_hex)
{
    gcs_pgs *t = pgs_of(srv);
    char hex[2 * IDS_JOB_LEN + 1], reason[128];
    snprintf(reason, sizeof reason, "its job %.16s finished", job_hex);
    for (gcs_pg *pg = t ? t->head : NULL; pg != NULL; pg = pg->next) {
        if (pg->info->detached || pg->info->job_id.len != IDS_JOB_LEN)
            continue;
        ids_hex(pg->info->job_id.data, IDS_JOB_LEN, hex);
        if (strcmp(hex, job_hex) == 0)
            pg_remove(srv, pg, reason);
    }
}

/* ---------------------------------------------------------------- get, list */

void gcs_handle_get_pg(gcs_client *cl, uint64_t id, const Rayc__GetPlacementGroup *req)
{
    gcs_pg *pg = req->pg_id.len ? pg_find(cl->srv, &req->pg_id)
                                : pg_find_named(cl->srv, req->namespace_, req->name);
    Rayc__GetPlacementGroupReply r = RAYC__GET_PLACEMENT_GROUP_REPLY__INIT;
    if (pg == NULL) {
        r.status = RAY_ERR_NOT_FOUND;
        r.error = req->pg_id.len ? "no such placement group" : "no placement group of that name";
    } else {
        r.pg = pg->info;
    }
    Rayc__Envelope env = RAYC__ENVELOPE__INIT;
    env.body_case = RAYC__ENVELOPE__BODY_GET_PLACEMENT_GROUP_REPLY;
    env.get_placement_group_reply = &r;
    gcs_reply(cl, id, &env);
}

void gcs_handle_get_all_pgs(gcs_client *cl, uint64_t id)
{
    gcs_pgs *t = pgs_of(cl->srv);
    size_t n = 0;
    for (gcs_pg *pg = t ? t->head : NULL; pg != NULL; pg = pg->next)
        n++;
    Rayc__PlacementGroupInfo **list = calloc(n + 1, sizeof *list);
    if (list == NULL) {
        gcs_reply_error(cl, id, RPC_E_INTERNAL, "get_all_placement_groups: out of memory");
        return;
    }
    n = 0;
    for (gcs_pg *pg = t ? t->head : NULL; pg != NULL; pg = pg->next)
        list[n++] = pg->info;
    Rayc__PlacementGroupList r = RAYC__PLACEMENT_GROUP_LIST__INIT;
    r.pgs = list;
    r.n_pgs = n;
    Rayc__Envelope env = RAYC__ENVELOPE__INIT;
    env.body_case = RAYC__ENVELOPE__BODY_PLACEMENT_GROUP_LIST;
    env.placement_group_list = &r;
    gcs_reply(cl, id, &env);
    free(list);
}

/* ---------------------------------------------------------------- node events */

void gcs_pg_node_registered(gcs_server *srv, gcs_node *n, gcs_client *cl)
{
    gcs_pgs *t = pgs_of(srv);
    size_t k = 0, cap = 0;
    /* A cluster that never had a group has nothing to clean up (and its
     * raylets' connections see no requests of the GCS). */
    if (t == NULL || t->head == NULL)
        return;
    for (gcs_pg *pg = t ? t->head : NULL; pg != NULL; pg = pg->next)
        cap += pg->info->n_bundles;
    ProtobufCBinaryData *ids = calloc(cap + 1, sizeof *ids);
    int32_t *idx = calloc(cap + 1, sizeof *idx);
    for (gcs_pg *pg = t ? t->head : NULL; ids && idx && pg != NULL; pg = pg->next) {
        if (pg->info->state == RAYC__PLACEMENT_GROUP_INFO__STATE__REMOVED)
            continue;
        for (size_t i = 0; i < pg->info->n_bundles; i++) {
            if (strcmp(pg->info->bundles[i]->node_id, n->info->node_id) != 0)
                continue;
            ids[k] = pg->info->pg_id;
            idx[k++] = (int32_t)i;
        }
    }
    if (ids != NULL && idx != NULL) {
        /* The raylet keeps what we know as placed there, nothing else: a
         * bundle prepared for a try the GCS forgot (it restarted) goes. */
        Rayc__Envelope env = RAYC__ENVELOPE__INIT;
        Rayc__ReleaseUnusedBundles m = RAYC__RELEASE_UNUSED_BUNDLES__INIT;
        m.pg_ids = ids;
        m.n_pg_ids = k;
        m.indexes = idx;
        m.n_indexes = k;
        env.body_case = RAYC__ENVELOPE__BODY_RELEASE_UNUSED_BUNDLES;
        env.release_unused_bundles = &m;
        gcs_pg__request(srv, cl, &env, NULL, n->info->node_id, NULL);
    }
    free(ids);
    free(idx);
    gcs_pg_schedule(srv);
}

void gcs_pg_node_dead(gcs_server *srv, gcs_node *n)
{
    gcs_pgs *t = pgs_of(srv);
    for (gcs_pg *pg = t ? t->head : NULL; pg != NULL; pg = pg->next) {
        if (pg->info->state == RAYC__PLACEMENT_GROUP_INFO__STATE__REMOVED)
            continue;
        size_t lost = 0;
        for (size_t i = 0; i < pg->info->n_bundles; i++) {
            if (strcmp(pg->info->bundles[i]->node_id, n->info->node_id) != 0)
                continue;
            gcs_pg__set_str(&pg->info->bundles[i]->node_id, "");
            lost++;
        }
        if (pg->busy != NULL)
            gcs_pg__try_abort(srv, pg, "a node died during the reservation");
        if (lost == 0)
            continue;
        /* Only the lost bundles are placed again; the others keep running. */
        pg->info->state = RAYC__PLACEMENT_GROUP_INFO__STATE__PENDING;
        gcs_pg__set_str(&pg->info->reason, "rescheduling the bundles of a dead node");
        gcs_pg__save(srv, pg);
        log_info("placement group %s: %zu bundles were on dead node %s; placing them again",
                 pg->hex, lost, n->info->node_id);
    }
    gcs_pg_schedule(srv);
}

/* ---------------------------------------------------------------- load, free */

static int load_one(Rayc__PlacementGroupInfo *info, void *data)
{
    gcs_server *srv = data;
    if (info->pg_id.len != GCS_PG_ID_LEN || pg_find(srv, &info->pg_id) != NULL) {
        rayc__placement_group_info__free_unpacked(info, NULL);
        return 0;
    }
    gcs_pg *pg = pg_add(srv, info);
    if (pg == NULL) {
        rayc__placement_group_info__free_unpacked(info, NULL);
        return -ENOMEM;
    }
    return 0;
}

int gcs_pg_load(gcs_server *srv)
{
    int rc = gcs_store_pgs_load(srv->store, load_one, srv);
    size_t n = 0, live = 0;
    for (gcs_pg *pg = srv->pgs ? srv->pgs->head : NULL; pg != NULL; pg = pg->next) {
        n++;
        live += pg->info->state != RAYC__PLACEMENT_GROUP_INFO__STATE__REMOVED;
    }
    if (rc == 0 && n > 0)
        log_info("loaded %zu placement groups from the store (%zu not removed)", n, live);
    return rc;
}

void gcs_pg_free(gcs_server *srv)
{
    gcs_pgs *t = srv->pgs;
    if (t == NULL)
        return;
    while (t->calls != NULL) {
        gcs_pg_call *c = t->calls;
        t->calls = c->next;
        free(c);
    }
    while (t->head != NULL) {
        gcs_pg *pg = t->head;
        t->head = pg->next;
        if (pg->busy != NULL) {
            free(pg->busy->node);
            free(pg->busy->prepared);
            free(pg->busy);
        }
        rayc__placement_group_info__free_unpacked(pg->info, NULL);
        returns_drop(pg, 0);
        free(pg->shown_after);
        free(pg);
    }
    free(t);
    srv->pgs = NULL;
}
