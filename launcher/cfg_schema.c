/* Ray's cluster YAML schema (python/ray/autoscaler/ray-schema.json) as tables,
 * and the check that walks a parsed document against them.
 *
 * Ray lets `provider` hold any key; rayc knows the keys of Ray's schema plus
 * the local provider's own and rayc's extensions, and reports anything else
 * as a typo, because a misspelt key silently ignored is a classic cause of
 * "my setting does nothing". */
#include "launcher/cfg.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "common/util.h"

typedef enum sch_type {
    S_ANY,          /* anything */
    S_STR,          /* a string scalar */
    S_STR_NULL,     /* a string or null */
    S_INT,          /* an integer */
    S_NUM,          /* an integer or a float */
    S_BOOL,
    S_MAP,          /* any mapping */
    S_OBJ,          /* a mapping with the keys in .fields */
    S_SEQ,          /* any list */
    S_STRSEQ,       /* a list of strings */
    S_STRMAP,       /* a mapping of strings to strings */
} sch_type;

typedef struct sch_key {
    const char *name;
    sch_type type;
    const struct sch_key *fields;   /* S_OBJ */
    int has_min, has_max;
    double min, max;
    const char *const *choices;     /* S_STR: allowed values */
    int required;
} sch_key;

#define KEY(n, t) {.name = (n), .type = (t)}
#define KEY_MIN(n, t, lo) {.name = (n), .type = (t), .has_min = 1, .min = (lo)}
#define KEY_OBJ(n, f) {.name = (n), .type = S_OBJ, .fields = (f)}

static const char *const autoscaling_modes[] = {"default", "aggressive", NULL};

static const sch_key provider_keys[] = {
    {.name = "type", .type = S_STR, .required = 1},
    KEY("head_ip", S_STR),
    KEY("worker_ips", S_STRSEQ),
    KEY("external_head_ip", S_STR),
    KEY("use_internal_ips", S_BOOL),
    KEY("use_external_head_ip", S_BOOL),
    KEY("coordinator_address", S_STR),
    /* rayc's own */
    KEY("auth_token_path", S_STR),
    KEY("tls_dir", S_STR),
    {.name = "ssh_port", .type = S_INT, .has_min = 1, .min = 1, .has_max = 1, .max = 65535},
    KEY_MIN("ssh_wait_timeout_s", S_INT, 1),
    {.name = "max_parallel", .type = S_INT, .has_min = 1, .min = 1, .has_max = 1, .max = 1024},
    /* the rest of Ray's schema (other providers) */
    KEY("region", S_STR), KEY("module", S_STR), KEY("namespace", S_STR),
    KEY("location", S_STR), KEY("resource_group", S_STR), KEY("tags", S_MAP),
    KEY("subscription_id", S_STR), KEY("msi_identity_id", S_STR),
    KEY("msi_identity_principal_id", S_STR), KEY("subnet_id", S_STR),
    KEY("autoscaler_service_account", S_MAP), KEY("autoscaler_role", S_MAP),
    KEY("autoscaler_role_binding", S_MAP), KEY("cache_stopped_nodes", S_BOOL),
    KEY("availability_zone", S_STR), KEY("project_id", S_STR_NULL),
    KEY("security_group", S_MAP), KEY("disable_node_updaters", S_BOOL),
    KEY("gcp_credentials", S_MAP), KEY("cloudwatch", S_MAP),
    {0},
};

static const sch_key auth_keys[] = {
    KEY("ssh_user", S_STR), KEY("ssh_public_key", S_STR), KEY("ssh_private_key", S_STR),
    KEY("ssh_proxy_command", S_STR), {0},
};

static const sch_key docker_keys[] = {
    KEY("image", S_STR), KEY("container_name", S_STR), KEY("pull_before_run", S_BOOL),
    KEY("run_options", S_SEQ), KEY("head_image", S_STR), KEY("head_run_options", S_SEQ),
    KEY("worker_image", S_STR), KEY("worker_run_options", S_SEQ),
    KEY("disable_automatic_runtime_detection", S_BOOL),
    KEY("disable_shm_size_detection", S_BOOL), KEY("use_podman", S_BOOL), {0},
};

static const sch_key top_keys[] = {
    KEY("cluster_name", S_STR),
    KEY_MIN("min_workers", S_INT, 0),
    KEY_MIN("max_workers", S_INT, 0),
    KEY_MIN("initial_workers", S_INT, 0),
    {.name = "autoscaling_mode", .type = S_STR, .choices = autoscaling_modes},
    {.name = "target_utilization_fraction", .type = S_NUM, .has_min = 1, .min = 0,
     .has_max = 1, .max = 1},
    KEY_MIN("upscaling_speed", S_NUM, 0),
    KEY_MIN("idle_timeout_minutes", S_NUM, 0),
    {.name = "provider", .type = S_OBJ, .fields = provider_keys, .required = 1},
    KEY_OBJ("auth", auth_keys),
    KEY_OBJ("docker", docker_keys),
    /* Ray's prepare_local overwrites head_node_type with its one local node
     * type, so whatever a file says (example-minimal-automatic has `{}`) is
     * accepted and ignored. */
    KEY("head_node_type", S_ANY), KEY("worker_default_node_type", S_STR),
    KEY("head_node", S_MAP), KEY("worker_nodes", S_MAP),
    KEY("file_mounts", S_STRMAP), KEY("cluster_synced_files", S_STRSEQ),
    KEY("file_mounts_sync_continuously", S_BOOL),
    KEY("rsync_exclude", S_STRSEQ), KEY("rsync_filter", S_STRSEQ), KEY("metadata", S_MAP),
    KEY("initialization_commands", S_STRSEQ), KEY("setup_commands", S_STRSEQ),
    KEY("head_setup_commands", S_STRSEQ), KEY("worker_setup_commands", S_STRSEQ),
    KEY("head_start_ray_commands", S_STRSEQ), KEY("worker_start_ray_commands", S_STRSEQ),
    KEY("no_restart", S_ANY), KEY("available_node_types", S_MAP),
    /* rayc's own: TLS between the nodes (default true) */
    KEY("tls", S_BOOL),
    {0},
};

typedef struct checker {
    const char *name;
    char *err;
    size_t errlen;
} checker;

static int check_node(checker *ck, const sch_key *k, const cfg_node *n, const char *path);

/* ---------------------------------------------------------------- messages */

static int report(checker *ck, int line, int col, const char *path, const char *what)
{
    snprintf(ck->err, ck->errlen, "%s:%d:%d: %s: %s", ck->name, line, col, path, what);
    return -EINVAL;
}

/* Ray's examples ship placeholders such as TYPICALLY_THE_NUMBER_OF_WORKER_IPS
 * where a number belongs (Ray itself fails on them with a TypeError). */
static int is_placeholder(const cfg_node *n)
{
    if (n->kind != CFG_SCALAR || n->quoted || strlen(n->text) < 6 || !strchr(n->text, '_'))
        return 0;
    return strspn(n->text, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") == strlen(n->text);
}

static int report_type(checker *ck, const cfg_node *n, const char *path, const char *want)
{
    char what[400];
    int k = snprintf(what, sizeof what, "expected %s, got %s", want, cfg_node_describe(n));
    if (is_placeholder(n) && k > 0 && (size_t)k < sizeof what)
        snprintf(what + k, sizeof what - (size_t)k, " (%.100s is a placeholder from Ray's "
                 "example: put a value there or remove the line)", n->text);
    return report(ck, n->line, n->col, path, what);
}

/* Edit distance between short keys, for "did you mean"; capped at 9. */
static int distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 40 || lb > 40)
        return 9;
    int row[41];
    for (size_t j = 0; j <= lb; j++)
        row[j] = (int)j;
    for (size_t i = 1; i <= la; i++) {
        int diag = row[0];
        row[0] = (int)i;
        for (size_t j = 1; j <= lb; j++) {
            int up = row[j];
            int best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb] > 9 ? 9 : row[lb];
}

static const char *closest_key(const sch_key *fields, const char *key)
{
    const char *best = NULL;
    int best_d = 3;
    for (const sch_key *f = fields; f->name != NULL; f++) {
        int d = distance(key, f->name);
        if (d < best_d)
            best_d = d, best = f->name;
    }
    return best;
}

static void join_path(char *out, size_t outlen, const char *parent, const char *key)
{
    if (parent[0] == '\0')
        snprintf(out, outlen, "%s", key);
    else
        snprintf(out, outlen, "%s.%s", parent, key);
}

/* ---------------------------------------------------------------- scalars */

static int check_range(checker *ck, const sch_key *k, const cfg_node *n, const char *path,
                       double v)
{
    char what[160];
    if (isnan(v) || (k->has_min && v < k->min)) {
        snprintf(what, sizeof what, "must be at least %g, got %s", k->min, n->text);
        return report(ck, n->line, n->col, path, what);
    }
    if (k->has_max && v > k->max) {
        snprintf(what, sizeof what, "must be at most %g, got %s", k->max, n->text);
        return report(ck, n->line, n->col, path, what);
    }
    return 0;
}

static int check_choice(checker *ck, const sch_key *k, const cfg_node *n, const char *path)
{
    char what[300];
    if (k->choices == NULL)
        return 0;
    for (const char *const *c = k->choices; *c != NULL; c++)
        if (strcmp(*c, n->text) == 0)
            return 0;
    snprintf(what, sizeof what, "\"%.100s\" is not one of", n->text);
    for (const char *const *c = k->choices; *c != NULL; c++)
        snprintf(what + strlen(what), sizeof what - strlen(what), " %s", *c);
    return report(ck, n->line, n->col, path, what);
}

static int check_scalar(checker *ck, const sch_key *k, const cfg_node *n, const char *path)
{
    int b;
    long long i;
    double d;
    cfg_type t = n->kind == CFG_SCALAR ? cfg_scalar_type(n) : CFG_T_NULL;
    switch (k->type) {
    case S_STR:
        if (n->kind != CFG_SCALAR || t != CFG_T_STR)
            return report_type(ck, n, path, "a string");
        return check_choice(ck, k, n, path);
    case S_STR_NULL:
        if (n->kind != CFG_SCALAR || (t != CFG_T_STR && t != CFG_T_NULL))
            return report_type(ck, n, path, "a string or null");
        return 0;
    case S_INT:
        if (n->kind != CFG_SCALAR || cfg_scalar_int(n, &i) != 0)
            return report_type(ck, n, path, "an integer");
        return check_range(ck, k, n, path, (double)i);
    case S_NUM:
        if (n->kind != CFG_SCALAR || t == CFG_T_BOOL || cfg_scalar_number(n, &d) != 0)
            return report_type(ck, n, path, "a number");
        return check_range(ck, k, n, path, d);
    case S_BOOL:
        if (n->kind != CFG_SCALAR || cfg_scalar_bool(n, &b) != 0)
            return report_type(ck, n, path, "true or false");
        return 0;
    default:
        return 0;
    }
}

/* ---------------------------------------------------------------- containers */

static int check_strseq(checker *ck, const cfg_node *n, const char *path)
{
    char item_path[512];
    if (n->kind != CFG_SEQ)
        return report_type(ck, n, path, "a list of strings");
    for (size_t i = 0; i < n->n; i++) {
        const cfg_node *it = n->items[i];
        str_printf(item_path, sizeof item_path, "%s[%zu]", path, i);
        if (it->kind != CFG_SCALAR || cfg_scalar_type(it) != CFG_T_STR)
            return report_type(ck, it, item_path, "a string");
    }
    return 0;
}

static int check_strmap(checker *ck, const cfg_node *n, const char *path)
{
    char item_path[512];
    if (n->kind != CFG_MAP)
        return report_type(ck, n, path, "a mapping of remote paths to local paths");
    for (size_t i = 0; i < n->n; i++) {
        const cfg_node *v = n->pairs[i].value;
        str_printf(item_path, sizeof item_path, "%s[\"%.300s\"]", path, n->pairs[i].key);
        if (v->kind != CFG_SCALAR || cfg_scalar_type(v) != CFG_T_STR)
            return report_type(ck, v, item_path, "a string");
    }
    return 0;
}

static const sch_key *find_field(const sch_key *fields, const char *name)
{
    for (const sch_key *f = fields; f->name != NULL; f++)
        if (strcmp(f->name, name) == 0)
            return f;
    return NULL;
}

static int check_unknown(checker *ck, const sch_key *fields, const cfg_pair *p,
                         const char *path)
{
    char what[200];
    const char *near = closest_key(fields, p->key);
    if (near != NULL)
        snprintf(what, sizeof what, "unknown key (did you mean %s?)", near);
    else
        snprintf(what, sizeof what, "unknown key");
    return report(ck, p->line, p->col, path, what);
}

static int check_obj(checker *ck, const sch_key *k, const cfg_node *n, const char *path)
{
    char sub[512];
    int rc;
    if (n->kind != CFG_MAP)
        return report_type(ck, n, path, "a mapping");
    for (size_t i = 0; i < n->n; i++) {
        const cfg_pair *p = &n->pairs[i];
        join_path(sub, sizeof sub, path, p->key);
        const sch_key *f = find_field(k->fields, p->key);
        if (f == NULL)
            return check_unknown(ck, k->fields, p, sub);
        if ((rc = check_node(ck, f, p->value, sub)) != 0)
            return rc;
    }
    for (const sch_key *f = k->fields; f->name != NULL; f++) {
        if (f->required && cfg_map_get(n, f->name) == NULL) {
            join_path(sub, sizeof sub, path, f->name);
            return report(ck, n->line, n->col, sub, "missing required key");
        }
    }
    return 0;
}

static int check_node(checker *ck, const sch_key *k, const cfg_node *n, const char *path)
{
    switch (k->type) {
    case S_ANY: return 0;
    case S_MAP: return n->kind == CFG_MAP ? 0 : report_type(ck, n, path, "a mapping");
    case S_SEQ: return n->kind == CFG_SEQ ? 0 : report_type(ck, n, path, "a list");
    case S_OBJ: return check_obj(ck, k, n, path);
    case S_STRSEQ: return check_strseq(ck, n, path);
    case S_STRMAP: return check_strmap(ck, n, path);
    default: return check_scalar(ck, k, n, path);
    }
}

int cfg_validate(const char *name, const cfg_node *root, char *err, size_t errlen)
{
    checker ck = {.name = name, .err = err, .errlen = errlen};
    static const sch_key top = {.name = "", .type = S_OBJ, .fields = top_keys};
    if (root->kind != CFG_MAP) {
        snprintf(err, errlen, "%s:%d:%d: the cluster config must be a mapping, got %s", name,
                 root->line, root->col, cfg_node_describe(root));
        return -EINVAL;
    }
    return check_obj(&ck, &top, root, "");
}
