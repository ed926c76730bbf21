/* The serving side of the object manager: answers PullObject with one
 * chunk of a local object (or its inline value). */
#include "raylet/objmgr.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/ids.h"
#include "common/log.h"
#include "objstore/objstore.h"
#include "raylet/otable.h"

static void reply(raylet_client *cl, uint64_t req_id, Rayc__PullObjectReply *rep)
{
    Rayc__Envelope env = RAYC__ENVELOPE__INIT;
    env.request_id = req_id;
    env.body_case = RAYC__ENVELOPE__BODY_PULL_OBJECT_REPLY;
    env.pull_object_reply = rep;
    raylet_client_send(cl, &env);
}

static void reply_error(raylet_client *cl, uint64_t req_id, int status, const char *msg)
{
    Rayc__PullObjectReply rep = RAYC__PULL_OBJECT_REPLY__INIT;
    rep.status = status;
    rep.error = (char *)msg;
    reply(cl, req_id, &rep);
}

/* Reads LEN bytes at OFF of pinned object HEX into BUF.  Returns 0 or -errno. */
static int read_chunk(raylet *r, const char *hex, uint64_t off, uint8_t *buf, size_t len)
{
    int fd;
    uint64_t base, size;
    int rc = objstore_locate(r->store, hex, &fd, &base, &size);
    if (rc != 0)
        return rc;
    size_t got = 0;
    while (got < len) {
        ssize_t n = pread(fd, buf + got, len - got, (off_t)(base + off + got));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n < 0 ? -errno : -EIO;
        got += (size_t)n;
    }
    return 0;
}

static void serve_store(raylet_client *cl, uint64_t req_id, otable_obj *o,
                        const Rayc__PullObject *m)
{
    raylet *r = cl->r;
    char hex[2 * IDS_OBJECT_LEN + 1], path[PATH_MAX], msg[256];
    uint64_t size;
    ids_hex(o->id.b, IDS_OBJECT_LEN, hex);
    int rc = objstore_get(r->store, hex, path, sizeof path, &size);
    if (rc != 0) {
        snprintf(msg, sizeof msg, "object %s cannot be read on node %s: %s", hex,
                 r->opts->node_ip, strerror(-rc));
        reply_error(cl, req_id, RAY_ERR_OBJECT_LOST, msg);
        return;
    }
    uint64_t len = m->length < OBJMGR_MAX_CHUNK ? m->length : OBJMGR_MAX_CHUNK;
    uint64_t off = m->offset < size ? m->offset : size;
    if (len > size - off)
        len = size - off;
    uint8_t *buf = malloc(len ? len : 1);
    rc = buf == NULL ? -ENOMEM : read_chunk(r, hex, off, buf, len);
    objstore_release(r->store, hex);
    if (rc != 0) {
        snprintf(msg, sizeof msg, "object %s cannot be read on node %s: %s", hex,
                 r->opts->node_ip, strerror(-rc));
        reply_error(cl, req_id, RAY_ERR_OBJECT_LOST, msg);
        free(buf);
        return;
    }
    Rayc__PullObjectReply rep = RAYC__PULL_OBJECT_REPLY__INIT;
    rep.type = o->type;
    rep.size = size;
    rep.in_store = 1;
    rep.offset = off;
    rep.data.data = buf;
    rep.data.len = len;
    rep.checksum = objmgr_checksum(buf, len);
    reply(cl, req_id, &rep);
    free(buf);
}

static void serve(raylet_client *cl, uint64_t req_id, const Rayc__PullObject *m);

/* ---------------------------------------------------------------- failure injection
 *
 * RAY_testing_pull_delay_ms=N in a raylet's environment makes it answer
 * every pull N ms late (like Ray's RAY_testing_asio_delay_us): tests use it
 * to kill a node while an object is being copied from it. */

typedef struct delayed_pull {
    uv_timer_t timer;
    raylet_client *cl;             /* referenced */
    uint64_t req_id;
    Rayc__PullObject m;
    uint8_t id[IDS_OBJECT_LEN];
} delayed_pull;

static void delayed_closed_cb(uv_handle_t *h)
{
    free(h->data);
}

static void delayed_cb(uv_timer_t *t)
{
    delayed_pull *d = t->data;
    if (raylet_client_alive(d->cl) && !d->cl->r->closing)
        serve(d->cl, d->req_id, &d->m);
    raylet_client_unref(d->cl);
    uv_close((uv_handle_t *)&d->timer, delayed_closed_cb);
}

/* Delays M when the testing knob is set.  Returns 1 when it did. */
static int delay_pull(raylet_client *cl, uint64_t req_id, const Rayc__PullObject *m)
{
    const char *env = getenv("RAY_testing_pull_delay_ms");
    long ms = env != NULL ? strtol(env, NULL, 10) : 0;
    if (ms <= 0 || ms > 60000 || m->object_id.len != IDS_OBJECT_LEN)
        return 0;
    delayed_pull *d = calloc(1, sizeof *d);
    if (d == NULL)
        return 0;
    d->cl = cl;
    raylet_client_ref(cl);
    d->req_id = req_id;
    d->m = *m;
    memcpy(d->id, m->object_id.data, IDS_OBJECT_LEN);
    d->m.object_id.data = d->id;
    uv_timer_init(cl->r->loop, &d->timer);
    d->timer.data = d;
    uv_timer_start(&d->timer, delayed_cb, (uint64_t)ms, 0);
    /* Tests wait for this line to know a copy from this node has begun. */
    char hex[2 * IDS_OBJECT_LEN + 1];
    ids_hex(d->id, IDS_OBJECT_LEN, hex);
    log_info("pull of object %s delayed %ld ms (RAY_testing_pull_delay_ms)", hex, ms);
    return 1;
}

void objmgr_on_pull(raylet_client *cl, uint64_t req_id, const Rayc__PullObject *m)
{
    if (!delay_pull(cl, req_id, m))
        serve(cl, req_id, m);
}

static void serve(raylet_client *cl, uint64_t req_id, const Rayc__PullObject *m)
{
    raylet *r = cl->r;
    ids_object id;
    char hex[2 * IDS_OBJECT_LEN + 1], msg[256];
    otable_obj *o = ids_from_bytes(id.b, IDS_OBJECT_LEN, m->object_id.data,
                                   m->object_id.len) == 0 ? otable_find(r, &id) : NULL;
    if (o == NULL || o->state == OTABLE_PENDING) {
        ids_hex(id.b, IDS_OBJECT_LEN, hex);
        snprintf(msg, sizeof msg, "object %s is %s on node %s", hex,
                 o == NULL ? "not (or no longer)" : "not ready yet", r->opts->node_ip);
        reply_error(cl, req_id, RAY_ERR_OBJECT_LOST, msg);
    } else if (o->state == OTABLE_FAILED) {
        reply_error(cl, req_id, o->status, o->error);
    } else if (!o->in_store) {
        Rayc__PullObjectReply rep = RAYC__PULL_OBJECT_REPLY__INIT;
        rep.type = o->type;
        rep.size = o->len;
        rep.data.data = o->data;
        rep.data.len = o->len;
        rep.checksum = objmgr_checksum(o->data, o->len);
        reply(cl, req_id, &rep);
    } else {
        serve_store(cl, req_id, o, m);
    }
}
