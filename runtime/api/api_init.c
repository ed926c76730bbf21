/* ray_init and ray_shutdown: finding the node, the job, registering as a driver. */
#include "api/api.h"

#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/token.h"
#include "common/util.h"

static pthread_mutex_t init_mu = PTHREAD_MUTEX_INITIALIZER;
static char python_exe[PATH_MAX];

int api_set_python(const char *exe)
{
    if (exe != NULL && *exe != '\0' && (exe[0] != '/' || strlen(exe) >= sizeof python_exe))
        return api_fail(RAY_ERR_INVALID, "the Python interpreter must be an absolute path");
    str_copy(python_exe, sizeof python_exe, exe ? exe : "");
    api_set_submit_language(python_exe[0] ? RAYC__LANGUAGE__PYTHON : RAYC__LANGUAGE__C);
    return RAY_OK;
}

/* What RegisterDriver carries, collected before connecting. */
typedef struct driver_info {
    char cwd[PATH_MAX];
    char *paths[64];
    size_t npaths;
    Rayc__KeyValue *env[256];
    size_t nenv;
    int owns_job;
} driver_info;

/* ---------------------------------------------------------------- code search path */

/* Adds ENTRY (relative entries against the cwd) to INFO. */
static int add_path(driver_info *info, const char *entry, size_t len)
{
    char buf[PATH_MAX];
    if (len == 0)
        return RAY_OK;
    if (info->npaths == sizeof info->paths / sizeof info->paths[0] || len >= sizeof buf)
        return api_fail(RAY_ERR_INVALID, "ray_init: code search path entry too long or too many");
    if (entry[0] == '/')
        snprintf(buf, sizeof buf, "%.*s", (int)len, entry);
    else if ((size_t)snprintf(buf, sizeof buf, "%s/%.*s", info->cwd, (int)len, entry) >= sizeof buf)
        return api_fail(RAY_ERR_INVALID, "ray_init: code search path entry too long");
    info->paths[info->npaths] = strdup(buf);
    return info->paths[info->npaths++] ? RAY_OK : RAY_ERR_NOMEM;
}

static int code_paths(driver_info *info, const char *const *given)
{
    int rc = RAY_OK;
    const char *env = getenv("RAY_CODE_SEARCH_PATH");
    if (given != NULL) {
        for (size_t i = 0; given[i] != NULL && rc == RAY_OK; i++)
            rc = add_path(info, given[i], strlen(given[i]));
    } else if (env != NULL && *env != '\0') {
        for (const char *p = env; rc == RAY_OK && *p;) {
            size_t n = strcspn(p, ":");
            rc = add_path(info, p, n);
            p += n + (p[n] == ':');
        }
    } else {
        char exe[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
        if (n > 0) {
            exe[n] = '\0';
            char *slash = strrchr(exe, '/');
            rc = add_path(info, exe, slash ? (size_t)(slash - exe) : (size_t)n);
        }
    }
    return rc;
}

/* ---------------------------------------------------------------- env vars */

static int add_env(driver_info *info, const char *key, size_t klen, const char *value)
{
    if (info->nenv == sizeof info->env / sizeof info->env[0])
        return api_fail(RAY_ERR_INVALID, "ray_init: more than %zu env_vars",
                        sizeof info->env / sizeof info->env[0]);
    Rayc__KeyValue *kv = malloc(sizeof *kv);
    if (kv == NULL)
        return RAY_ERR_NOMEM;
    rayc__key_value__init(kv);
    kv->key = strndup(key, klen);
    kv->value = strdup(value);
    info->env[info->nenv++] = kv;
    return kv->key && kv->value ? RAY_OK : RAY_ERR_NOMEM;
}

/* The runtime_env env_vars of a job-server job: their expanded values are
 * in our own environment already. */
static int job_config_env(driver_info *info)
{
    const char *cfg = getenv("RAY_JOB_CONFIG_JSON_ENV_VAR");
    if (cfg == NULL)
        return RAY_OK;
    json_t *root = json_loads(cfg, 0, NULL);
    json_t *vars = json_object_get(json_object_get(root, "runtime_env"), "env_vars");
    const char *key;
    json_t *val;
    int rc = RAY_OK;
    json_object_foreach(vars, key, val) {
        const char *now = getenv(key);
        if (rc == RAY_OK && (now != NULL || json_is_string(val)))
            rc = add_env(info, key, strlen(key), now ? now : json_string_value(val));
    }
    json_decref(root);
    return rc;
}

static int env_vars(driver_info *info, const char *const *given)
{
    int rc = job_config_env(info);
    for (size_t i = 0; given != NULL && given[i] != NULL && rc == RAY_OK; i++) {
        const char *eq = strchr(given[i], '=');
        if (eq == NULL || eq == given[i])
            return api_fail(RAY_ERR_INVALID, "ray_init: env var '%s' is not KEY=VALUE", given[i]);
        rc = add_env(info, given[i], (size_t)(eq - given[i]), eq + 1);
    }
    return rc;
}

static void info_free(driver_info *info)
{
    for (size_t i = 0; i < info->npaths; i++)
        free(info->paths[i]);
    for (size_t i = 0; i < info->nenv; i++) {
        free(info->env[i]->key);
        free(info->env[i]->value);
        free(info->env[i]);
    }
}

/* ---------------------------------------------------------------- the job */

/* Gets a job id: $RAY_JOB_ID (a job-server job) or a new one from the GCS. */
static int find_job(rpc_client *gcs, driver_info *info, int timeout_ms)
{
    const char *env = getenv("RAY_JOB_ID");
    if (env != NULL && *env != '\0') {
        if (ids_from_hex(env, api_g.job.b, IDS_JOB_LEN) != 0)
            return api_fail(RAY_ERR_INVALID, "ray_init: RAY_JOB_ID '%s' is not a job id", env);
        return RAY_OK;
    }
    Rayc__Envelope req = RAYC__ENVELOPE__INIT, *reply;
    Rayc__GetNextJobId next = RAYC__GET_NEXT_JOB_ID__INIT;
    req.body_case = RAYC__ENVELOPE__BODY_GET_NEXT_JOB_ID;
    req.get_next_job_id = &next;
    int rc = api_gcs_call(gcs, &req, RAYC__ENVELOPE__BODY_GET_NEXT_JOB_ID_REPLY, timeout_ms,
                          &reply, "GetNextJobId");
    if (rc != RAY_OK)
        return rc;
    rc = ids_from_hex(reply->get_next_job_id_reply->job_id, api_g.job.b, IDS_JOB_LEN);
    rayc__envelope__free_unpacked(reply, NULL);
    if (rc != 0)
        return api_fail(RAY_ERR_CONNECTION, "ray_init: the GCS sent a bad job id");
    char hex[9], exe[PATH_MAX] = "";
    ids_hex(api_g.job.b, IDS_JOB_LEN, hex);
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    exe[n > 0 ? n : 0] = '\0';
    Rayc__AddJob add = RAYC__ADD_JOB__INIT;
    Rayc__JobInfo job = RAYC__JOB_INFO__INIT;
    job.job_id = hex;
    job.entrypoint = exe;
    job.driver_pid = (int32_t)getpid();
    job.namespace_ = api_g.ns;
    add.job = &job;
    req.body_case = RAYC__ENVELOPE__BODY_ADD_JOB;
    req.add_job = &add;
    rc = api_gcs_call(gcs, &req, RAYC__ENVELOPE__BODY_ADD_JOB_REPLY, timeout_ms, &reply, "AddJob");
    if (rc == RAY_OK)
        rayc__envelope__free_unpacked(reply, NULL);
    info->owns_job = 1;
    return rc;
}

/* Finds the raylet through the GCS (or $RAY_RAYLET_SOCKET) and the job id. */
static int locate(const ray_init_opts *o, const char *token, driver_info *info, char *sock,
                  size_t socklen, int timeout_ms)
{
    int rc = api_find_gcs(o->address, api_g.gcs_address, sizeof api_g.gcs_address);
    rpc_client *gcs = NULL;
    if (rc == RAY_OK)
        rc = api_gcs_connect(api_g.gcs_address, token, timeout_ms, &gcs);
    const char *env = getenv("RAY_RAYLET_SOCKET");
    if (rc == RAY_OK && env != NULL && *env != '\0')
        snprintf(sock, socklen, "%s", env);
    else if (rc == RAY_OK)
        rc = api_find_raylet(gcs, api_g.gcs_address, timeout_ms, sock, socklen);
    if (rc == RAY_OK)
        rc = find_job(gcs, info, timeout_ms);
    rpc_client_close(gcs);
    return rc;
}

/* ---------------------------------------------------------------- registering */

static int register_driver(driver_info *info, int timeout_ms)
{
    Rayc__Envelope req = RAYC__ENVELOPE__INIT, *reply = NULL;
    Rayc__RegisterDriver reg = RAYC__REGISTER_DRIVER__INIT;
    reg.job_id.data = api_g.job.b;
    reg.job_id.len = IDS_JOB_LEN;
    reg.pid = (int32_t)getpid();
    reg.cwd = info->cwd;
    reg.code_search_path = info->paths;
    reg.n_code_search_path = info->npaths;
    reg.env = info->env;
    reg.n_env = info->nenv;
    reg.namespace_ = api_g.ns;
    reg.owns_job = info->owns_job;
    reg.python_executable = python_exe;
    req.body_case = RAYC__ENVELOPE__BODY_REGISTER_DRIVER;
    req.register_driver = &reg;
    int rc = api_request(&req, timeout_ms, &reply);
    if (rc != 0)
        return api_conn_fail(rc, "ray_init: registering with the raylet");
    const Rayc__RegisterClientReply *r = reply->register_client_reply;
    if (reply->body_case != RAYC__ENVELOPE__BODY_REGISTER_CLIENT_REPLY || r->status != RAY_OK) {
        rc = api_fail(RAY_ERR_CONNECTION, "ray_init: the raylet refused the driver: %s",
                      reply->body_case == RAYC__ENVELOPE__BODY_REGISTER_CLIENT_REPLY ? r->error
                                                                                  : "bad reply");
    } else {
        str_copy(api_g.node_id, sizeof api_g.node_id, r->node_id);
        str_copy(api_g.node_ip, sizeof api_g.node_ip, r->node_ip);
        if (r->namespace_ != NULL && *r->namespace_)
            str_copy(api_g.ns, sizeof api_g.ns, r->namespace_);
        api_g.num_cpus = r->num_cpus;
    }
    rayc__envelope__free_unpacked(reply, NULL);
    return rc;
}

static void pick_namespace(const ray_init_opts *o)
{
    const char *ns = o->ns ? o->ns : getenv("RAY_NAMESPACE");
    api_g.ns[0] = '\0';
    if (ns != NULL)
        str_copy(api_g.ns, sizeof api_g.ns, ns);
}

static int connect_driver(const ray_init_opts *o, driver_info *info)
{
    char token[TOKEN_MAX + 1], sock[PATH_MAX];
    int timeout_ms = o->timeout_s > 0 ? (int)(o->timeout_s * 1000) : 30000;
    if (getcwd(info->cwd, sizeof info->cwd) == NULL)
        return api_fail(RAY_ERR_INVALID, "ray_init: cannot read the current directory");
    pick_namespace(o);
    int rc = code_paths(info, o->code_search_path);
    if (rc == RAY_OK)
        rc = env_vars(info, o->env_vars);
    if (rc == RAY_OK)
        rc = api_find_token(o->token, token, sizeof token);
    if (rc == RAY_OK)
        rc = locate(o, token, info, sock, sizeof sock, timeout_ms);
    if (rc != RAY_OK)
        return rc;
    int fd = api_connect_raylet(sock, token, "driver", timeout_ms);
    if (fd < 0)
        return -fd;
    rc = register_driver(info, timeout_ms);
    if (rc != RAY_OK) {
        char keep[API_ERROR_MAX];
        snprintf(keep, sizeof keep, "%s", ray_last_error());
        api_conn_close();
        api_fail_msg(rc, keep);
    }
    return rc;
}

int ray_init(const ray_init_opts *opts)
{
    static const ray_init_opts defaults;
    pthread_mutex_lock(&init_mu);
    if (api_g.initialized) {
        pthread_mutex_unlock(&init_mu);
        if (api_g.is_worker)
            return RAY_OK; /* a task library calling ray_init: already connected */
        return api_fail(RAY_ERR_INVALID, "ray_init: already initialised");
    }
    api_clear_error();
    driver_info info;
    memset(&info, 0, sizeof info);
    int rc = connect_driver(opts ? opts : &defaults, &info);
    info_free(&info);
    if (rc == RAY_OK) {
        api_g.seed = ids_seed();
        ids_hex(api_g.job.b, IDS_JOB_LEN, api_g.job_hex);
        api_g.initialized = 1;
    }
    pthread_mutex_unlock(&init_mu);
    return rc;
}

void ray_shutdown(void)
{
    pthread_mutex_lock(&init_mu);
    if (!api_g.initialized || api_g.is_worker) {
        pthread_mutex_unlock(&init_mu);
        return;
    }
    pthread_mutex_lock(&api_g.mu);
    api_flush_releases();
    pthread_mutex_unlock(&api_g.mu);
    api_conn_close();
    pthread_mutex_lock(&api_g.mu);
    api_objtab_clear();
    api_g.initialized = 0;
    api_g.job_hex[0] = '\0';
    pthread_mutex_unlock(&api_g.mu);
    pthread_mutex_unlock(&init_mu);
}

int ray_is_initialized(void)
{
    return api_g.initialized;
}

const char *ray_job_id(void)
{
    return api_g.job_hex;
}
