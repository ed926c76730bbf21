/* Loading the cluster YAML: parse, check, merge over the defaults, prepare. */
#include "launcher/cfg.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"

typedef struct loader {
    const char *name;           /* file name for messages */
    const cfg_node *user;       /* the user's document */
    const cfg_node *defaults;   /* Ray's defaults */
    cluster_config *c;
    char *err;
    size_t errlen;
} loader;

/* ---------------------------------------------------------------- small helpers */

int cfg_strv_push(cfg_strv *v, const char *s)
{
    char **bigger = realloc(v->v, (v->n + 1) * sizeof *v->v);
    if (bigger == NULL)
        return -ENOMEM;
    v->v = bigger;
    if ((v->v[v->n] = strdup(s)) == NULL)
        return -ENOMEM;
    v->n++;
    return 0;
}

void cfg_strv_free(cfg_strv *v)
{
    for (size_t i = 0; i < v->n; i++)
        free(v->v[i]);
    free(v->v);
    v->v = NULL;
    v->n = 0;
}

void cfg_free(cluster_config *c)
{
    if (c == NULL)
        return;
    free(c->path);
    free(c->cluster_name);
    free(c->head_ip);
    free(c->external_head_ip);
    cfg_strv_free(&c->worker_ips);
    free(c->ssh_user);
    free(c->ssh_private_key);
    free(c->ssh_proxy_command);
    for (size_t i = 0; i < c->n_mounts; i++) {
        free(c->mounts[i].remote);
        free(c->mounts[i].local);
    }
    free(c->mounts);
    cfg_strv *lists[] = {&c->cluster_synced_files, &c->rsync_exclude, &c->rsync_filter,
                         &c->initialization_commands, &c->setup_commands,
                         &c->head_setup_commands,
                         &c->worker_setup_commands, &c->head_start_ray_commands,
                         &c->worker_start_ray_commands, &c->warnings};
    for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++)
        cfg_strv_free(lists[i]);
    free(c->auth_token_path);
    free(c->tls_dir);
    free(c->tls_cert);
    free(c->tls_key);
    free(c->tls_ca);
    free(c->docker.image);
    free(c->docker.head_image);
    free(c->docker.worker_image);
    free(c->docker.container_name);
    cfg_strv_free(&c->docker.run_options);
    cfg_strv_free(&c->docker.head_run_options);
    cfg_strv_free(&c->docker.worker_run_options);
    free(c);
}

const char *cfg_head_ssh_host(const cluster_config *c)
{
    if (c->external_head_ip != NULL && !c->use_internal_ips)
        return c->external_head_ip;
    return c->head_ip;
}

size_t cfg_worker_count(const cluster_config *c)
{
    size_t n = c->max_workers < 0 ? 0 : (size_t)c->max_workers;
    return n < c->worker_ips.n ? n : c->worker_ips.n;
}

/* Makes a local path absolute: "~" is $HOME, relative paths are taken from
 * the current directory (as Ray does).  Returns a new string or NULL. */
static char *local_path(const char *p)
{
    char buf[PATH_MAX * 2];
    const char *home = getenv("HOME");
    if ((strcmp(p, "~") == 0 || strncmp(p, "~/", 2) == 0) && home != NULL) {
        snprintf(buf, sizeof buf, "%s%s", home, p + 1);
    } else if (p[0] != '/') {
        char cwd[PATH_MAX];
        if (getcwd(cwd, sizeof cwd) == NULL)
            return NULL;
        if (fs_path_join(buf, sizeof buf, cwd, p) != 0)
            return NULL;
    } else {
        snprintf(buf, sizeof buf, "%s", p);
    }
    return strdup(buf);
}

static int fail_at(loader *l, const cfg_node *n, const char *path, const char *what)
{
    int line = n != NULL ? n->line : 1, col = n != NULL ? n->col : 1;
    snprintf(l->err, l->errlen, "%s:%d:%d: %s: %s", l->name, line, col, path, what);
    return -EINVAL;
}

/* The user's value of top-level KEY, else the default's (top-level merge). */
static const cfg_node *top(const loader *l, const char *key)
{
    const cfg_node *n = cfg_map_get(l->user, key);
    return n != NULL ? n : cfg_map_get(l->defaults, key);
}

static int dup_scalar(const cfg_node *n, char **out)
{
    *out = NULL;
    if (n == NULL || n->kind != CFG_SCALAR || cfg_scalar_type(n) == CFG_T_NULL)
        return 0;
    return (*out = strdup(n->text)) != NULL ? 0 : -ENOMEM;
}

static int read_strv(const cfg_node *n, cfg_strv *out)
{
    for (size_t i = 0; n != NULL && n->kind == CFG_SEQ && i < n->n; i++)
        if (cfg_strv_push(out, n->items[i]->text) != 0)
            return -ENOMEM;
    return 0;
}

static int read_bool(const cfg_node *n, int dflt)
{
    int b;
    return cfg_scalar_bool(n, &b) == 0 ? b : dflt;
}

static long long read_int(const cfg_node *n, long long dflt)
{
    long long v;
    return cfg_scalar_int(n, &v) == 0 ? v : dflt;
}

static int warn(loader *l, const char *text)
{
    return cfg_strv_push(&l->c->warnings, text);
}

/* ---------------------------------------------------------------- sections */

/* Ray's prepare_local: the local provider has one node type and refuses
 * provider-specific node configs. */
static int check_local(loader *l, const cfg_node *provider)
{
    const cfg_node *type = cfg_map_get(provider, "type");
    char what[300];
    if (strcmp(type->text, "local") != 0) {
        snprintf(what, sizeof what,
                 "rayc's launcher supports only the local provider (on-premises hosts), "
                 "got \"%.100s\"", type->text);
        return fail_at(l, type, "provider.type", what);
    }
    static const char *const unsupported[] = {"head_node", "worker_nodes",
                                              "available_node_types"};
    for (size_t i = 0; i < 3; i++) {
        const cfg_node *n = cfg_map_get(l->user, unsupported[i]);
        if (n != NULL && n->kind == CFG_MAP && n->n > 0) {
            snprintf(what, sizeof what,
                     "The field %s is not supported for on-premise clusters.", unsupported[i]);
            return fail_at(l, n, unsupported[i], what);
        }
    }
    const cfg_node *coord = cfg_map_get(provider, "coordinator_address");
    if (coord != NULL)
        return fail_at(l, coord, "provider.coordinator_address",
                       "automatically managed on-premise clusters (a coordinator server) "
                       "are not supported by rayc; list the hosts in head_ip and worker_ips");
    return 0;
}

/* One node per address: the head is not also a worker, no worker twice. */
static int check_addresses(loader *l, const cfg_node *workers)
{
    const cfg_strv *w = &l->c->worker_ips;
    char path[64], what[300];
    for (size_t i = 0; i < w->n; i++) {
        int dup = strcmp(w->v[i], l->c->head_ip) == 0;
        for (size_t k = 0; k < i && !dup; k++)
            dup = strcmp(w->v[k], w->v[i]) == 0;
        if (!dup)
            continue;
        snprintf(path, sizeof path, "provider.worker_ips[%zu]", i);
        snprintf(what, sizeof what, "%.200s is listed twice (as head_ip or another worker)",
                 w->v[i]);
        return fail_at(l, workers->items[i], path, what);
    }
    return 0;
}

/* DIR/NAME in a new string, or NULL. */
static char *path_in(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *out = malloc(n);
    if (out != NULL)
        snprintf(out, n, "%s/%s", dir, name);
    return out;
}

static int load_provider(loader *l)
{
    cluster_config *c = l->c;
    const cfg_node *p = cfg_map_get(l->user, "provider");
    int rc = check_local(l, p);
    if (rc != 0)
        return rc;
    const cfg_node *head = cfg_map_get(p, "head_ip"), *workers = cfg_map_get(p, "worker_ips");
    if (head == NULL || workers == NULL)
        return fail_at(l, p, "provider",
                       "Please supply a `head_ip` and list of `worker_ips`.");
    if ((rc = dup_scalar(head, &c->head_ip)) != 0 ||
        (rc = dup_scalar(cfg_map_get(p, "external_head_ip"), &c->external_head_ip)) != 0 ||
        (rc = dup_scalar(cfg_map_get(p, "auth_token_path"), &c->auth_token_path)) != 0 ||
        (rc = dup_scalar(cfg_map_get(p, "tls_dir"), &c->tls_dir)) != 0 ||
        (rc = read_strv(workers, &c->worker_ips)) != 0)
        return rc;
    if ((rc = check_addresses(l, workers)) != 0)
        return rc;
    if (c->auth_token_path == NULL &&
        (c->auth_token_path = strdup(CFG_DEFAULT_TOKEN_PATH)) == NULL)
        return -ENOMEM;
    if ((c->tls_dir == NULL && (c->tls_dir = strdup(CFG_DEFAULT_TLS_DIR)) == NULL) ||
        (c->tls_cert = path_in(c->tls_dir, "node.crt")) == NULL ||
        (c->tls_key = path_in(c->tls_dir, "node.key")) == NULL ||
        (c->tls_ca = path_in(c->tls_dir, "ca.crt")) == NULL)
        return -ENOMEM;
    c->use_internal_ips = read_bool(cfg_map_get(p, "use_internal_ips"), 0);
    c->ssh_port = (int)read_int(cfg_map_get(p, "ssh_port"), 22);
    c->ssh_wait_timeout_s = (int)read_int(cfg_map_get(p, "ssh_wait_timeout_s"),
                                          CFG_DEFAULT_SSH_WAIT_S);
    c->max_parallel = (int)read_int(cfg_map_get(p, "max_parallel"), CFG_DEFAULT_MAX_PARALLEL);
    return 0;
}

static int load_auth(loader *l)
{
    cluster_config *c = l->c;
    const cfg_node *a = top(l, "auth");
    char *key = NULL;
    int rc;
    if ((rc = dup_scalar(cfg_map_get(a, "ssh_user"), &c->ssh_user)) != 0 ||
        (rc = dup_scalar(cfg_map_get(a, "ssh_proxy_command"), &c->ssh_proxy_command)) != 0 ||
        (rc = dup_scalar(cfg_map_get(a, "ssh_private_key"), &key)) != 0)
        return rc;
    if (key != NULL) {
        c->ssh_private_key = local_path(key);
        free(key);
        if (c->ssh_private_key == NULL)
            return -ENOMEM;
    }
    return 0;
}

static int load_mounts(loader *l)
{
    cluster_config *c = l->c;
    const cfg_node *m = top(l, "file_mounts");
    if (m == NULL || m->kind != CFG_MAP || m->n == 0)
        return 0;
    if ((c->mounts = calloc(m->n, sizeof *c->mounts)) == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < m->n; i++, c->n_mounts++) {
        c->mounts[i].remote = strdup(m->pairs[i].key);
        c->mounts[i].local = local_path(m->pairs[i].value->text);
        if (c->mounts[i].remote == NULL || c->mounts[i].local == NULL) {
            c->n_mounts++;
            return -ENOMEM;
        }
    }
    return 0;
}

/* Ray's merge_setup_commands: common setup first, then the node kind's own. */
static int load_commands(loader *l)
{
    cluster_config *c = l->c;
    const cfg_node *common = top(l, "setup_commands");
    if (read_strv(top(l, "initialization_commands"), &c->initialization_commands) ||
        read_strv(common, &c->setup_commands) ||
        read_strv(common, &c->head_setup_commands) ||
        read_strv(top(l, "head_setup_commands"), &c->head_setup_commands) ||
        read_strv(common, &c->worker_setup_commands) ||
        read_strv(top(l, "worker_setup_commands"), &c->worker_setup_commands) ||
        read_strv(top(l, "head_start_ray_commands"), &c->head_start_ray_commands) ||
        read_strv(top(l, "worker_start_ray_commands"), &c->worker_start_ray_commands))
        return -ENOMEM;
    return 0;
}

static int load_files(loader *l)
{
    cluster_config *c = l->c;
    c->file_mounts_sync_continuously = read_bool(top(l, "file_mounts_sync_continuously"), 0);
    c->tls = read_bool(top(l, "tls"), 1);
    if (read_strv(top(l, "cluster_synced_files"), &c->cluster_synced_files) ||
        read_strv(top(l, "rsync_exclude"), &c->rsync_exclude) ||
        read_strv(top(l, "rsync_filter"), &c->rsync_filter))
        return -ENOMEM;
    return load_mounts(l);
}

/* A docker option list: every item a scalar (numbers are kept as written). */
static int read_options(loader *l, const cfg_node *d, const char *key, cfg_strv *out)
{
    char path[64];
    const cfg_node *n = cfg_map_get(d, key);
    for (size_t i = 0; n != NULL && n->kind == CFG_SEQ && i < n->n; i++) {
        if (n->items[i]->kind != CFG_SCALAR) {
            snprintf(path, sizeof path, "docker.%s[%zu]", key, i);
            return fail_at(l, n->items[i], path, "must be a string");
        }
        if (cfg_strv_push(out, n->items[i]->text) != 0)
            return -ENOMEM;
    }
    return 0;
}

/* Copies docker.KEY when it is a non-empty string (Ray treats "" as unset). */
static int read_name(const cfg_node *d, const char *key, char **out)
{
    const cfg_node *v = cfg_map_get(d, key);
    if (v == NULL || v->kind != CFG_SCALAR || v->text[0] == '\0' ||
        cfg_scalar_type(v) == CFG_T_NULL)
        return 0;
    return (*out = strdup(v->text)) != NULL ? 0 : -ENOMEM;
}

/* Ray's validate_docker_config: a container name and an image for both kinds
 * of node go together; with neither, docker is off. */
static int check_docker(loader *l, const cfg_node *d)
{
    cfg_docker *k = &l->c->docker;
    int image = k->image != NULL || (k->head_image != NULL && k->worker_image != NULL);
    if (k->container_name == NULL && !image)
        return 0;
    if (k->container_name == NULL || !image)
        return fail_at(l, cfg_map_get(d, k->container_name == NULL ? "image" : "container_name"),
                       "docker", "Must provide a container & image name (container_name, "
                       "and image or both head_image and worker_image)");
    if (strpbrk(k->container_name, " \t\n'\"$`\\;&|<>()") != NULL ||
        strlen(k->container_name) > 128)
        return fail_at(l, cfg_map_get(d, "container_name"), "docker.container_name",
                       "must not contain spaces or shell characters, and at most 128 of them");
    l->c->docker_enabled = 1;
    return 0;
}

static int load_docker(loader *l)
{
    const cfg_node *d = top(l, "docker");
    cfg_docker *k = &l->c->docker;
    const char *keys[] = {"image", "container_name", "head_image", "worker_image"};
    char **fields[] = {&k->image, &k->container_name, &k->head_image, &k->worker_image};
    int rc;
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        if ((rc = read_name(d, keys[i], fields[i])) != 0)
            return rc;
        const cfg_node *v = cfg_map_get(d, keys[i]);
        if (*fields[i] != NULL && l->c->docker_line == 0) {
            l->c->docker_line = v->line;
            l->c->docker_col = v->col;
        }
    }
    k->pull_before_run = read_bool(cfg_map_get(d, "pull_before_run"), 1);
    k->use_podman = read_bool(cfg_map_get(d, "use_podman"), 0);
    k->no_runtime_detection =
        read_bool(cfg_map_get(d, "disable_automatic_runtime_detection"), 0);
    k->no_shm_detection = read_bool(cfg_map_get(d, "disable_shm_size_detection"), 0);
    if ((rc = read_options(l, d, "run_options", &k->run_options)) != 0 ||
        (rc = read_options(l, d, "head_run_options", &k->head_run_options)) != 0 ||
        (rc = read_options(l, d, "worker_run_options", &k->worker_run_options)) != 0)
        return rc;
    return check_docker(l, d);
}

/* ---------------------------------------------------------------- workers */

/* Ray's "`X` override provided on the command line" warning. */
static int apply_int_override(loader *l, const char *key, int value, int *field)
{
    char line[300];
    if (value < 0)
        return 0;
    if (cfg_map_get(l->user, key) != NULL) {
        snprintf(line, sizeof line,
                 "`%s` override provided on the command line.\n  Using %d "
                 "[configuration file has %d]", key, value, *field);
        if (warn(l, line) != 0)
            return -ENOMEM;
    }
    *field = value;
    return 0;
}

/* Ray's prepare_manual: min and max default to the number of worker_ips and
 * are capped at it, with a warning. */
static int cap_workers(loader *l, const char *key, int *field)
{
    char line[300];
    int n = (int)l->c->worker_ips.n;
    if (*field <= n)
        return 0;
    snprintf(line, sizeof line,
             "The value of `%s` supplied (%d) is greater than the number of available worker "
             "ips (%d). Setting `%s=%d`.", key, *field, n, key, n);
    *field = n;
    return warn(l, line);
}

static int load_workers(loader *l, const cfg_overrides *ov)
{
    cluster_config *c = l->c;
    int n = (int)c->worker_ips.n, rc;
    c->min_workers = (int)read_int(cfg_map_get(l->user, "min_workers"), n);
    c->max_workers = (int)read_int(cfg_map_get(l->user, "max_workers"), n);
    if (ov != NULL && ((rc = apply_int_override(l, "min_workers", ov->min_workers,
                                                &c->min_workers)) != 0 ||
                       (rc = apply_int_override(l, "max_workers", ov->max_workers,
                                                &c->max_workers)) != 0))
        return rc;
    if ((rc = cap_workers(l, "min_workers", &c->min_workers)) != 0 ||
        (rc = cap_workers(l, "max_workers", &c->max_workers)) != 0)
        return rc;
    return 0;
}

static int load_name(loader *l, const cfg_overrides *ov)
{
    cluster_config *c = l->c;
    char line[600];
    const char *name = top(l, "cluster_name")->text;
    if (ov != NULL && ov->cluster_name != NULL) {
        if (cfg_map_get(l->user, "cluster_name") != NULL) {
            snprintf(line, sizeof line,
                     "`cluster_name` override provided on the command line.\n  Using %.200s "
                     "[configuration file has %.200s]", ov->cluster_name, name);
            if (warn(l, line) != 0)
                return -ENOMEM;
        }
        name = ov->cluster_name;
    }
    if (name[0] == '\0' || strchr(name, '/') != NULL || strlen(name) > 128)
        return fail_at(l, cfg_map_get(l->user, "cluster_name"), "cluster_name",
                       "must be 1 to 128 characters without '/'");
    c->cluster_name = strdup(name);
    return c->cluster_name != NULL ? 0 : -ENOMEM;
}

static int build(loader *l, const cfg_overrides *ov)
{
    cluster_config *c = l->c;
    int rc;
    c->upscaling_speed = 1.0;
    c->idle_timeout_minutes = 5;
    cfg_scalar_number(top(l, "upscaling_speed"), &c->upscaling_speed);
    cfg_scalar_number(top(l, "idle_timeout_minutes"), &c->idle_timeout_minutes);
    if ((rc = load_provider(l)) != 0 || (rc = load_workers(l, ov)) != 0 ||
        (rc = load_name(l, ov)) != 0 || (rc = load_auth(l)) != 0 ||
        (rc = load_files(l)) != 0 || (rc = load_commands(l)) != 0 ||
        (rc = load_docker(l)) != 0)
        return rc;
    return 0;
}

/* ---------------------------------------------------------------- entry points */

/* Collects the parser's warnings (duplicate keys) until the config exists. */
static int keep_warning(void *data, const char *line)
{
    return cfg_strv_push(data, line);
}

/* Puts the parser's warnings in front of the loader's. */
static int prepend_warnings(cluster_config *c, cfg_strv *early)
{
    for (size_t i = 0; i < c->warnings.n; i++)
        if (cfg_strv_push(early, c->warnings.v[i]) != 0)
            return -ENOMEM;
    cfg_strv_free(&c->warnings);
    c->warnings = *early;
    *early = (cfg_strv){0};
    return 0;
}

int cfg_load_text(const char *name, const char *text, size_t len, const cfg_overrides *ov,
                  cluster_config **out, char *err, size_t errlen)
{
    cfg_node *user = NULL, *defaults = NULL;
    cfg_strv early = {0};
    const char *dtext = cfg_defaults_yaml();
    *out = NULL;
    int rc = cfg_doc_parse(name, text, len, keep_warning, &early, &user, err, errlen);
    if (rc == 0)
        rc = cfg_validate(name, user, err, errlen);
    if (rc == 0)
        rc = cfg_doc_parse("(defaults)", dtext, strlen(dtext), NULL, NULL, &defaults, err,
                           errlen);
    loader l = {.name = name, .user = user, .defaults = defaults, .err = err,
                .errlen = errlen};
    if (rc == 0 && (l.c = calloc(1, sizeof *l.c)) == NULL)
        rc = -ENOMEM;
    if (rc == 0)
        rc = build(&l, ov);
    if (rc == 0)
        rc = prepend_warnings(l.c, &early);
    cfg_strv_free(&early);
    if (rc == -ENOMEM)
        snprintf(err, errlen, "%s: out of memory", name);
    cfg_node_free(user);
    cfg_node_free(defaults);
    if (rc != 0) {
        cfg_free(l.c);
        return rc;
    }
    *out = l.c;
    return 0;
}

int cfg_load(const char *path, const cfg_overrides *ov, cluster_config **out, char *err,
             size_t errlen)
{
    char *text = NULL;
    size_t len = 0;
    *out = NULL;
    int rc = fs_read_file(path, CFG_DOC_MAX_BYTES, &text, &len);
    if (rc != 0) {
        if (rc == -ENOENT)
            snprintf(err, errlen,
                     "Provided cluster configuration file (%s) does not exist", path);
        else
            snprintf(err, errlen, "cannot read %s: %s", path, strerror(-rc));
        return rc;
    }
    rc = cfg_load_text(path, text, len, ov, out, err, errlen);
    free(text);
    if (rc == 0 && ((*out)->path = local_path(path)) == NULL) {
        cfg_free(*out);
        *out = NULL;
        return -ENOMEM;
    }
    return rc;
}
