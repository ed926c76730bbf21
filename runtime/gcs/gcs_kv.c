/* GCS internal KV requests: put, get, delete (exact or by prefix), keys. */
#include "gcs/gcs_server.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Checks a namespace and key from a peer; replies with an error and returns
 * -1 when one is over its cap. */
static int check_ns_key(gcs_client *cl, uint64_t id, const char *ns, ProtobufCBinaryData key)
{
    if (strlen(ns) > GCS_MAX_NS_LEN) {
        gcs_reply_error(cl, id, RPC_E_INVALID, "kv: namespace longer than %d bytes", GCS_MAX_NS_LEN);
        return -1;
    }
    if (key.len > GCS_MAX_KEY_LEN) {
        gcs_reply_error(cl, id, RPC_E_INVALID, "kv: key longer than %d bytes", GCS_MAX_KEY_LEN);
        return -1;
    }
    return 0;
}

static gcs_bytes bytes_of(ProtobufCBinaryData b)
{
    gcs_bytes out = {b.data, b.len};
    return out;
}

/* Replies with the store's error. */
static void store_failed(gcs_client *cl, uint64_t id, const char *op, int rc)
{
    gcs_reply_error(cl, id, RPC_E_INTERNAL, "%s failed: %s", op,
                    rc == -ENOMEM ? "out of memory" : gcs_store_errmsg(cl->srv->store));
}

void gcs_handle_kv_put(gcs_client *cl, uint64_t id, const Rayc__KvPut *req)
{
    if (check_ns_key(cl, id, req->ns, req->key) != 0)
        return;
    int added = 0;
    int rc = gcs_store_kv_put(cl->srv->store, req->ns, bytes_of(req->key), bytes_of(req->value),
                              req->overwrite, &added);
    if (rc != 0) {
        store_failed(cl, id, "kv_put", rc);
        return;
    }
    Rayc__KvPutReply r = RAYC__KV_PUT_REPLY__INIT;
    r.added = added;
    Rayc__Envelope env = RAYC__ENVELOPE__INIT;
    env.body_case = RAYC__ENVELOPE__BODY_KV_PUT_REPLY;
    env.kv_put_reply = &r;
    gcs_reply(cl, id, &env);
}

void gcs_handle_kv_get(gcs_client *cl, uint64_t id, const Rayc__KvGet *req)
{
    if (check_ns_key(cl, id, req->ns, req->key) != 0)
        return;
    uint8_t *value = NULL;
    size_t len = 0;
    int rc = gcs_store_kv_get(cl->srv->store, req->ns, bytes_of(req->key), &value, &len);
    if (rc != 0 && rc != -ENOENT) {
        store_failed(cl, id, "kv_get", rc);
        return;
    }
    Rayc__KvGetReply r = RAYC__KV_GET_REPLY__INIT;
    r.found = rc == 0;
    r.value.data = value;
    r.value.len = len;
    Rayc__Envelope env = RAYC__ENVELOPE__INIT;
    env.body_case = RAYC__ENVELOPE__BODY_KV_GET_REPLY;
    env.kv_get_reply = &r;
    gcs_reply(cl, id, &env);
    free(value);
}

void gcs_handle_kv_del(gcs_client *cl, uint64_t id, const Rayc__KvDel *req)
{
    if (check_ns_key(cl, id, req->ns, req->key) != 0)
        return;
    int64_t deleted = 0;
    int rc = gcs_store_kv_del(cl->srv->store, req->ns, bytes_of(req->key), req->by_prefix,
                              &deleted);
    if (rc != 0) {
        store_failed(cl, id, "kv_del", rc);
        return;
    }
    Rayc__KvDelReply r = RAYC__KV_DEL_REPLY__INIT;
    r.deleted = deleted;
    Rayc__Envelope env = RAYC__ENVELOPE__INIT;
    env.body_case = RAYC__ENVELOPE__BODY_KV_DEL_REPLY;
    env.kv_del_reply = &r;
    gcs_reply(cl, id, &env);
}

void gcs_handle_kv_keys(gcs_client *cl, uint64_t id, const Rayc__KvKeys *req)
{
    if (check_ns_key(cl, id, req->ns, req->prefix) != 0)
        return;
    gcs_key_list keys = {0};
    /* Half the frame cap leaves room for each key's framing in the reply. */
    int rc = gcs_store_kv_keys(cl->srv->store, req->ns, bytes_of(req->prefix),
                               cl->srv->cfg.max_frame / 2, &keys);
    if (rc == -EMSGSIZE) {
        gcs_reply_error(cl, id, RPC_E_INVALID, "kv_keys: the matching keys do not fit in one "
                        "reply; use a longer prefix");
    } else if (rc != 0) {
        store_failed(cl, id, "kv_keys", rc);
    } else {
        Rayc__KvKeysReply r = RAYC__KV_KEYS_REPLY__INIT;
        r.n_keys = keys.n;
        r.keys = keys.items;
        Rayc__Envelope env = RAYC__ENVELOPE__INIT;
        env.body_case = RAYC__ENVELOPE__BODY_KV_KEYS_REPLY;
        env.kv_keys_reply = &r;
        gcs_reply(cl, id, &env);
    }
    gcs_key_list_free(&keys);
}
