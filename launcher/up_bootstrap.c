/* The head's ~/ray_bootstrap_config.yaml, built the way Ray's
 * get_or_create_head_node builds it from the prepared config. */
#include "launcher/up_bootstrap.h"

#include <jansson.h>
#include <stdlib.h>

/* Ray's name for the local provider's single node type. */
#define LOCAL_NODE_TYPE "local.cluster.node"

static json_t *strv_json(const cfg_strv *v)
{
    json_t *a = json_array();
    for (size_t i = 0; a != NULL && i < v->n; i++)
        json_array_append_new(a, json_string(v->v[i]));
    return a;
}

static json_t *provider_json(const cluster_config *c)
{
    json_t *p = json_pack("{s:s, s:s, s:o, s:b, s:s}", "type", "local", "head_ip", c->head_ip,
                          "worker_ips", strv_json(&c->worker_ips), "use_internal_ips",
                          c->use_internal_ips, "auth_token_path", c->auth_token_path);
    if (p != NULL && c->external_head_ip != NULL)
        json_object_set_new(p, "external_head_ip", json_string(c->external_head_ip));
    return p;
}

/* auth without the proxy command (the head reaches workers directly) and
 * with the key at the head's copy. */
static json_t *auth_json(const cluster_config *c)
{
    json_t *a = json_object();
    if (a != NULL && c->ssh_user != NULL)
        json_object_set_new(a, "ssh_user", json_string(c->ssh_user));
    if (a != NULL && c->ssh_private_key != NULL)
        json_object_set_new(a, "ssh_private_key", json_string(UP_BOOTSTRAP_KEY));
    return a;
}

/* On the head every mount is already at its remote path. */
static json_t *mounts_json(const cluster_config *c)
{
    json_t *m = json_object();
    for (size_t i = 0; m != NULL && i < c->n_mounts; i++)
        json_object_set_new(m, c->mounts[i].remote, json_string(c->mounts[i].remote));
    return m;
}

static json_t *node_types_json(const cluster_config *c)
{
    return json_pack("{s:{s:{}, s:{}, s:i, s:i}}", LOCAL_NODE_TYPE, "node_config", "resources",
                     "min_workers", c->min_workers, "max_workers", c->max_workers);
}

char *up_bootstrap_json(const cluster_config *c, int no_restart)
{
    json_t *o = json_pack(
        "{s:s, s:i, s:f, s:f, s:o, s:o, s:{}, s:o, s:o, s:b, s:o, s:o}", "cluster_name",
        c->cluster_name, "max_workers", c->max_workers, "upscaling_speed", c->upscaling_speed,
        "idle_timeout_minutes", c->idle_timeout_minutes, "provider", provider_json(c), "auth",
        auth_json(c), "docker", "file_mounts", mounts_json(c), "cluster_synced_files",
        strv_json(&c->cluster_synced_files), "file_mounts_sync_continuously",
        c->file_mounts_sync_continuously, "rsync_exclude", strv_json(&c->rsync_exclude),
        "rsync_filter", strv_json(&c->rsync_filter));
    if (o == NULL)
        return NULL;
    const struct { const char *key; const cfg_strv *v; } lists[] = {
        {"initialization_commands", &c->initialization_commands},
        {"setup_commands", &c->setup_commands},
        {"head_setup_commands", &c->head_setup_commands},
        {"worker_setup_commands", &c->worker_setup_commands},
        {"head_start_ray_commands", &c->head_start_ray_commands},
        {"worker_start_ray_commands", &c->worker_start_ray_commands},
    };
    for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++)
        json_object_set_new(o, lists[i].key, strv_json(lists[i].v));
    json_object_set_new(o, "available_node_types", node_types_json(c));
    json_object_set_new(o, "head_node_type", json_string(LOCAL_NODE_TYPE));
    json_object_set_new(o, "no_restart", json_boolean(no_restart));
    char *text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(o);
    return text;
}
