/* The blocking half of forwarding jobs, run on libuv's thread pool: asking
 * the GCS for nodes that fit, copying gcs:// packages to an agent, submitting,
 * refreshing, stopping and deleting there with libcurl. */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/net.h"
#include "common/res_map.h"
#include "common/rpc_client.h"
#include "common/util.h"
#include "jobserver/jobs_agent_http.h"
#include "common/dbuf.h"
#include "jobserver/jobs_logs.h"
#include "jobserver/jobs_remote.h"
#include "jobserver/pkg_store.h"

#define GCS_CONNECT_TIMEOUT_MS 1000
#define GCS_CALL_TIMEOUT_MS 2000
#define HTTP_CONNECT_TIMEOUT_S 2L
#define HTTP_TIMEOUT_S 10L
#define HTTP_UPLOAD_TIMEOUT_S 600L
#define HTTP_SMALL_MAX (64u * 1024)
#define LOGS_JSON_MAX (8u * JOBS_LOG_MAX_READ)

/* ---------------------------------------------------------------- HTTP */

static size_t write_cb(char *data, size_t size, size_t nmemb, void *arg)
{
    return dbuf_add(arg, data, size * nmemb) == 0 ? size * nmemb : 0;
}

/* Sends METHOD PATH to agent T with BODY (JSON, may be NULL) or the file
 * UPLOAD (may be NULL).  On an answer returns 0 with *STATUS and the body in
 * *RESP (caller frees; at most MAX bytes).  Otherwise -EIO with ERR. */
static int http_call(const remote_target *t, const char *method, const char *path,
                     const char *body, const char *upload, size_t max, long *status,
                     char **resp, char *err, size_t errlen)
{
    CURL *c = curl_easy_init();
    if (c == NULL) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    char url[1024], auth[TOKEN_MAX + 32], cerr[CURL_ERROR_SIZE] = "";
    snprintf(url, sizeof url, "%s://%s:%d%s", jobs_agent_scheme(), t->host, t->port, path);
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", t->token);
    struct curl_slist *hl = curl_slist_append(NULL, auth);
    hl = curl_slist_append(hl, "Content-Type: application/json");
    hl = curl_slist_append(hl, "Expect:");
    dbuf out;
    dbuf_init(&out, max);
    FILE *f = NULL;
    curl_easy_setopt(c, CURLOPT_URL, url);
    jobs_agent_curl_setup(c);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "rayc-jobserver");
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, HTTP_CONNECT_TIMEOUT_S);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, upload ? HTTP_UPLOAD_TIMEOUT_S : HTTP_TIMEOUT_S);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_cb);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &out);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    struct stat st;
    if (upload != NULL && (f = fopen(upload, "rbe")) != NULL && fstat(fileno(f), &st) == 0) {
        curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(c, CURLOPT_READDATA, f);
        curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)st.st_size);
    } else if (body != NULL) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
    }
    CURLcode res = curl_easy_perform(c);
    int rc = 0;
    if (res != CURLE_OK) {
        str_printf(err, errlen, "%s %s: %s", method, url, cerr[0] ? cerr : curl_easy_strerror(res));
        rc = -EIO;
    } else {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
        *resp = dbuf_take(&out, NULL);
        if (*resp == NULL) {
            snprintf(err, errlen, "out of memory");
            rc = -ENOMEM;
        }
    }
    if (f != NULL)
        fclose(f);
    dbuf_free(&out);
    curl_slist_free_all(hl);
    curl_easy_cleanup(c);
    return rc;
}

int jobs__remote_parse_address(const char *address, remote_target *t)
{
    if (address == NULL || strncmp(address, "http://", 7) != 0)
        return -EINVAL;
    return net_parse_hostport(address + 7, -1, t->host, sizeof t->host, &t->port) == 0 &&
                   t->port > 0
               ? 0
               : -EINVAL;
}

/* ---------------------------------------------------------------- picking a node */

static double map_get(Rayc__NodeInfo__ResourcesAvailableEntry **e, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (e[i]->key != NULL && strcmp(e[i]->key, key) == 0)
            return e[i]->value;
    return 0;
}

/* True when NI's available resources cover OP's request. */
static int node_fits(const remote_op *op, const Rayc__NodeInfo *ni)
{
    Rayc__NodeInfo__ResourcesAvailableEntry **e = ni->resources_available;
    size_t n = ni->n_resources_available;
    if (!res_fits(map_get(e, n, "CPU"), op->cpus) || !res_fits(map_get(e, n, "GPU"), op->gpus) ||
        !res_fits(map_get(e, n, "memory"), op->memory))
        return 0;
    if (op->custom_json == NULL)
        return 1;
    json_t *obj = json_loads(op->custom_json, 0, NULL);
    int ok = json_is_object(obj);
    const char *key;
    json_t *v;
    if (ok)
        json_object_foreach(obj, key, v) {
            if (!json_is_number(v) || !res_fits(map_get(e, n, key), json_number_value(v)))
                ok = 0;
        }
    json_decref(obj);
    return ok;
}

/* Asks the GCS for the nodes and picks the first alive one with an agent
 * whose available resources fit.  Returns 1 (OP->node_id, node_ip, agent set),
 * 0 when none fits, -errno when the GCS did not answer. */
static int pick_node(remote_op *op)
{
    rpc_client *c = NULL;
    int rc = rpc_client_connect(op->gcs_host, op->gcs_port, op->agent.token, "jobserver",
                                GCS_CONNECT_TIMEOUT_MS, &c, op->err, sizeof op->err);
    if (rc != 0)
        return rc;
    Rayc__Envelope env = RAYC__ENVELOPE__INIT, *reply = NULL;
    Rayc__GetAllNodes req = RAYC__GET_ALL_NODES__INIT;
    env.body_case = RAYC__ENVELOPE__BODY_GET_ALL_NODES;
    env.get_all_nodes = &req;
    rc = rpc_client_call(c, &env, GCS_CALL_TIMEOUT_MS, &reply, op->err, sizeof op->err);
    rpc_client_close(c);
    if (rc != 0)
        return rc;
    int found = 0;
    if (reply->body_case == RAYC__ENVELOPE__BODY_NODE_LIST) {
        Rayc__NodeList *l = reply->node_list;
        for (size_t i = 0; i < l->n_nodes && !found; i++) {
            Rayc__NodeInfo *ni = l->nodes[i];
            if (ni->state != RAYC__NODE_INFO__STATE__ALIVE || ni->agent_port <= 0 ||
                ni->node_id == NULL || strcmp(ni->node_id, op->self_node) == 0 ||
                ni->address == NULL || !node_fits(op, ni))
                continue;
            str_copy(op->node_id, sizeof op->node_id, ni->node_id);
            str_copy(op->node_ip, sizeof op->node_ip, ni->address);
            str_copy(op->agent.host, sizeof op->agent.host, ni->address);
            op->agent.port = ni->agent_port;
            found = 1;
        }
    }
    rayc__envelope__free_unpacked(reply, NULL);
    return found;
}

/* ---------------------------------------------------------------- placing */

/* Makes sure every package of the job is on the agent.  Returns 0 or -EIO. */
static int copy_packages(remote_op *op)
{
    for (size_t i = 0; i < op->npackages; i++) {
        char path[PATH_MAX], url[PKG_NAME_MAX + 32];
        long status = 0;
        char *resp = NULL;
        if (pkg_store_path(op->packages_dir, op->packages[i], path, sizeof path) != 0 ||
            !pkg_store_exists(op->packages_dir, op->packages[i]))
            continue;   /* the agent's runtime_env setup reports the missing package */
        snprintf(url, sizeof url, "/api/packages/gcs/%s", op->packages[i]);
        if (http_call(&op->agent, "GET", url, NULL, NULL, HTTP_SMALL_MAX, &status, &resp,
                      op->err, sizeof op->err) != 0)
            return -EIO;
        free(resp);
        resp = NULL;
        if (status == 200)
            continue;
        if (http_call(&op->agent, "PUT", url, NULL, path, HTTP_SMALL_MAX, &status, &resp,
                      op->err, sizeof op->err) != 0)
            return -EIO;
        free(resp);
        if (status != 200) {
            snprintf(op->err, sizeof op->err, "the agent refused package gcs://%s (HTTP %ld)",
                     op->packages[i], status);
            return -EIO;
        }
    }
    return 0;
}

static void do_place(remote_op *op)
{
    int rc = pick_node(op);
    if (rc <= 0) {
        op->placed = 0;
        return;
    }
    long status = 0;
    char *resp = NULL;
    if (copy_packages(op) != 0 ||
        http_call(&op->agent, "POST", "/api/jobs/", op->submit_body, NULL, HTTP_SMALL_MAX,
                  &status, &resp, op->err, sizeof op->err) != 0) {
        op->placed = 0;   /* the agent did not answer: try again (maybe elsewhere) */
        return;
    }
    if (status == 200 || (status == 400 && strstr(resp, "already exists") != NULL)) {
        op->placed = 1;   /* "already exists": an earlier attempt got there */
    } else {
        snprintf(op->err, sizeof op->err, "the job agent at %s:%d refused the job: HTTP %ld: %.300s",
                 op->agent.host, op->agent.port, status, resp);
        op->placed = -1;
    }
    free(resp);
}

/* ---------------------------------------------------------------- refreshing */

static char *json_dup_str(json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s != NULL ? strdup(s) : NULL;
}

/* Reads the agent's JobDetails TEXT into OP.  Returns 0 or -EPROTO. */
static int parse_details(remote_op *op, const char *text)
{
    json_t *d = json_loads(text, 0, NULL);
    const char *status = json_string_value(json_object_get(d, "status"));
    if (!json_is_object(d) || status == NULL || jobs_status_parse(status, &op->status) != 0) {
        json_decref(d);
        snprintf(op->err, sizeof op->err, "the job agent sent unreadable job details");
        return -EPROTO;
    }
    op->message = json_dup_str(d, "message");
    op->error_type = json_dup_str(d, "error_type");
    op->job_id = json_dup_str(d, "job_id");
    op->start_time = json_integer_value(json_object_get(d, "start_time"));
    op->end_time = json_integer_value(json_object_get(d, "end_time"));
    json_t *code = json_object_get(d, "driver_exit_code");
    op->has_code = json_is_integer(code);
    op->code = (int)json_integer_value(code);
    op->driver_pid = (int)json_integer_value(
        json_object_get(json_object_get(d, "driver_info"), "pid"));
    json_decref(d);
    return 0;
}

/* Brings the head's copy of the driver log up to the agent's LOGS (logs only
 * grow, so only the new tail is appended). */
static void mirror_log(const char *path, const char *logs, size_t n)
{
    struct stat st;
    size_t have = stat(path, &st) == 0 ? (size_t)st.st_size : 0;
    if (n == have)
        return;
    int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (n > have ? O_APPEND : O_TRUNC);
    int fd = open(path, flags, 0600);
    FILE *f = fd >= 0 ? fdopen(fd, n > have ? "a" : "w") : NULL;
    if (f == NULL) {
        if (fd >= 0)
            close(fd);
        return;
    }
    if (n > have)
        fwrite(logs + have, 1, n - have, f);
    else
        fwrite(logs, 1, n, f);
    fclose(f);
}

static void fetch_logs(remote_op *op)
{
    char path[JOBS_ID_MAX + 32], *resp = NULL;
    long status = 0;
    snprintf(path, sizeof path, "/api/jobs/%s/logs", op->id);
    if (http_call(&op->agent, "GET", path, NULL, NULL, LOGS_JSON_MAX, &status, &resp, op->err,
                  sizeof op->err) != 0)
        return;
    json_t *d = status == 200 ? json_loads(resp, 0, NULL) : NULL;
    json_t *logs = json_object_get(d, "logs");
    if (json_is_string(logs))
        mirror_log(op->log_path, json_string_value(logs), json_string_length(logs));
    json_decref(d);
    free(resp);
}

static void do_poll(remote_op *op)
{
    char path[JOBS_ID_MAX + 32], *resp = NULL;
    long status = 0;
    snprintf(path, sizeof path, "/api/jobs/%s", op->id);
    op->rc = http_call(&op->agent, "GET", path, NULL, NULL, REMOTE_MAX_JOB_JSON, &status, &resp,
                       op->err, sizeof op->err);
    if (op->rc != 0)
        return;
    if (status == 404) {
        op->rc = -ENOENT;
    } else if (status != 200) {
        snprintf(op->err, sizeof op->err, "the job agent answered HTTP %ld", status);
        op->rc = -EIO;
    } else {
        op->rc = parse_details(op, resp);
    }
    free(resp);
    /* Logs after the status: a terminal status then comes with the whole log. */
    if (op->rc == 0)
        fetch_logs(op);
}

static void do_simple(remote_op *op, const char *method, const char *suffix)
{
    char path[JOBS_ID_MAX + 32], *resp = NULL;
    long status = 0;
    snprintf(path, sizeof path, "/api/jobs/%s%s", op->id, suffix);
    op->rc = http_call(&op->agent, method, path, NULL, NULL, HTTP_SMALL_MAX, &status, &resp,
                       op->err, sizeof op->err);
    free(resp);
}

void jobs__remote_work(uv_work_t *w)
{
    remote_op *op = w->data;
    switch (op->kind) {
    case REMOTE_PLACE: do_place(op); break;
    case REMOTE_POLL: do_poll(op); break;
    case REMOTE_STOP: do_simple(op, "POST", "/stop"); break;
    case REMOTE_DELETE: do_simple(op, "DELETE", ""); break;
    }
}
