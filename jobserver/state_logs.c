/* /api/v0/logs (the log files of a node, by category) and /api/v0/logs/file
 * (the last lines of one, or of the worker that ran an actor or a task).
 * Files of other nodes come from that node's job agent, which serves the
 * same routes for its own node. */
#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/util.h"
#include "common/dbuf.h"
#include "jobserver/jobs_agent_http.h"
#include "jobserver/state_int.h"

#define LOG_READ_MAX (16u * 1024 * 1024)   /* bytes of one answer */
#define AGENT_CONNECT_TIMEOUT_S 2L
#define AGENT_TIMEOUT_S 10L

/* ---------------------------------------------------------------- where */

/* Finds the node Q names (this one when none).  Answers R and returns -1
 * when it cannot be reached. */
static int find_node(jobs_server *srv, http_request *r, const state_query *q, state_log_target *t)
{
    memset(t, 0, sizeof *t);
    if ((q->node_id[0] == '\0' && q->node_ip[0] == '\0') || strcmp(q->node_id, srv->node_id) == 0 ||
        (q->node_id[0] == '\0' && strcmp(q->node_ip, srv->node_ip) == 0)) {
        t->local = 1;
        return 0;
    }
    Rayc__Envelope req = RAYC__ENVELOPE__INIT, *rep = NULL;
    Rayc__GetAllNodes get = RAYC__GET_ALL_NODES__INIT;
    req.body_case = RAYC__ENVELOPE__BODY_GET_ALL_NODES;
    req.get_all_nodes = &get;
    char err[300], msg[500];
    if (state_gcs_call(srv, &req, &rep, err, sizeof err) != 0 ||
        rep->body_case != RAYC__ENVELOPE__BODY_NODE_LIST) {
        snprintf(msg, sizeof msg, "Failed to query the GCS: %s", rep ? "bad reply" : err);
        if (rep)
            rayc__envelope__free_unpacked(rep, NULL);
        state_respond_error(r, 500, msg);
        return -1;
    }
    int found = 0;
    for (size_t i = 0; i < rep->node_list->n_nodes && !found; i++) {
        const Rayc__NodeInfo *n = rep->node_list->nodes[i];
        if (q->node_id[0] ? strcmp(n->node_id, q->node_id) != 0
                          : strcmp(n->address, q->node_ip) != 0)
            continue;
        found = n->state == RAYC__NODE_INFO__STATE__ALIVE && n->agent_port > 0 ? 1 : -1;
        str_copy(t->node_id, sizeof t->node_id, n->node_id);
        snprintf(t->url_base, sizeof t->url_base, "%s://%s:%d", jobs_agent_scheme(),
                 n->address, n->agent_port);
    }
    rayc__envelope__free_unpacked(rep, NULL);
    if (found != 1) {
        snprintf(msg, sizeof msg, found ? "Node %.100s is dead or has no job agent"
                                        : "Node %.100s is not found in the cluster",
                 q->node_id[0] ? q->node_id : q->node_ip);
        state_respond_error(r, 404, msg);
        return -1;
    }
    return 0;
}

static size_t write_cb(char *data, size_t size, size_t nmemb, void *arg)
{
    return dbuf_add(arg, data, size * nmemb) == 0 ? size * nmemb : 0;
}

/* Asks T's agent for PATH with Q's parameters and relays its answer. */
static void forward(jobs_server *srv, http_request *r, const state_log_target *t, const char *path,
                    const state_query *q, const char *filename)
{
    char url[2048], auth[TOKEN_MAX + 32], lines[32], cerr[CURL_ERROR_SIZE] = "";
    snprintf(url, sizeof url, "%s/api/v0/%s", t->url_base, path);
    jobs_url_add_query(url, sizeof url, "node_id", t->node_id);
    jobs_url_add_query(url, sizeof url, "filename", filename);
    jobs_url_add_query(url, sizeof url, "glob", q->glob);
    snprintf(lines, sizeof lines, "%ld", q->lines);
    jobs_url_add_query(url, sizeof url, "lines", lines);
    jobs_url_add_query(url, sizeof url, "format", q->format);
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", srv->token);
    dbuf out;
    dbuf_init(&out, LOG_READ_MAX);
    CURL *c = curl_easy_init();
    struct curl_slist *hl = curl_slist_append(NULL, auth);
    long status = 0;
    CURLcode res = CURLE_OUT_OF_MEMORY;
    if (c != NULL && hl != NULL) {
        curl_easy_setopt(c, CURLOPT_URL, url);
        jobs_agent_curl_setup(c);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, AGENT_CONNECT_TIMEOUT_S);
        curl_easy_setopt(c, CURLOPT_TIMEOUT, AGENT_TIMEOUT_S);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_cb);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &out);
        curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr);
        res = curl_easy_perform(c);
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    }
    char *ct = NULL;
    if (c != NULL)
        curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct);
    if (res != CURLE_OK) {
        char msg[600];
        snprintf(msg, sizeof msg, "Failed to reach the job agent of node %.100s at %s: %s",
                 t->node_id, t->url_base, cerr[0] ? cerr : curl_easy_strerror(res));
        state_respond_error(r, 502, msg);
    } else {
        http_respond(r, (int)status, ct ? ct : "text/plain; charset=utf-8",
                     out.data ? out.data : "", out.len);
    }
    curl_slist_free_all(hl);
    if (c != NULL)
        curl_easy_cleanup(c);
    dbuf_free(&out);
}

/* ---------------------------------------------------------------- this node */

static const char *category(const char *name)
{
    if (strncmp(name, "raylet", 6) == 0) return "raylet";
    if (strncmp(name, "gcs_server", 10) == 0) return "gcs_server";
    if (strncmp(name, "ray_jobserver", 13) == 0) return "dashboard";
    if (strncmp(name, "worker-", 7) == 0) return "worker_out";
    if (strncmp(name, "job-driver-", 11) == 0) return "driver";
    return "internal";
}

static void list_local(jobs_server *srv, http_request *r, const state_query *q)
{
    DIR *d = opendir(srv->logs_dir);
    if (d == NULL) {
        state_respond_error(r, 500, "cannot read this node's log directory");
        return;
    }
    json_t *cats = json_object();
    struct dirent *e;
    while (cats != NULL && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || (q->glob[0] && fnmatch(q->glob, e->d_name, 0) != 0))
            continue;
        const char *cat = category(e->d_name);
        json_t *list = json_object_get(cats, cat);
        if (list == NULL) {
            list = json_array();
            json_object_set_new(cats, cat, list);
        }
        json_array_append_new(list, json_string(e->d_name));
    }
    closedir(d);
    state_respond_ok(r, "", json_pack("{s:o}", "result", cats ? cats : json_object()));
}

/* The last Q->lines lines (all for -1) of logs_dir/NAME, framed as one
 * chunk of Ray's log stream ("1" then the text). */
static void file_local(jobs_server *srv, http_request *r, const state_query *q, const char *name)
{
    char path[PATH_MAX + 300], msg[400];
    if (name[0] == '\0' || name[0] == '.' || strchr(name, '/') != NULL) {
        state_respond_error(r, 400, "filename must name a file of the node's log directory");
        return;
    }
    /* A name too long for a path is no file of the directory (-ENAMETOOLONG
     * leaves PATH empty, and open("") fails). */
    fs_path_join(path, sizeof path, srv->logs_dir, name);
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        if (fd >= 0)
            close(fd);
        snprintf(msg, sizeof msg, "Log file %.200s is not found on this node", name);
        state_respond_error(r, 404, msg);
        return;
    }
    off_t from = st.st_size > (off_t)LOG_READ_MAX ? st.st_size - (off_t)LOG_READ_MAX : 0;
    size_t len = (size_t)(st.st_size - from);
    char *buf = malloc(len + 1);
    ssize_t got = buf ? pread(fd, buf, len, from) : -1;
    close(fd);
    if (got < 0) {
        free(buf);
        state_respond_error(r, 500, "cannot read the log file");
        return;
    }
    size_t start = str_tail_start(buf, (size_t)got, q->lines);   /* lines < 0: all of it */
    /* Ray's log stream framing (format=leading_1, its default): each chunk
     * of the body starts with "1" (success) or "0" (an error message
     * follows), which Ray's log clients strip; format=text is the bare text. */
    size_t lead = strcmp(q->format, "text") == 0 ? 0 : 1;
    memmove(buf + lead, buf + start, (size_t)got - start);
    if (lead)
        buf[0] = '1';
    http_respond_take(r, 200, "text/plain; charset=utf-8", buf, (size_t)got - start + lead);
}

/* ---------------------------------------------------------------- entry points */

void state_logs_list(jobs_server *srv, http_request *r, const state_query *q)
{
    state_log_target t;
    if (find_node(srv, r, q, &t) != 0)
        return;
    if (t.local)
        list_local(srv, r, q);
    else
        forward(srv, r, &t, "logs", q, NULL);
}

/* Resolves Q's actor_id or task_id to the node and log file of its worker.
 * Answers R and returns -1 when it cannot. */
static int worker_log(jobs_server *srv, http_request *r, state_query *q, char *name, size_t len)
{
    int actors = q->actor_id[0] != '\0';
    state_query f = {0};
    char *key = actors ? "actor_id" : q->task_id[0] ? "task_id" : "worker_pid", *eq = "=";
    char pid[32], *nkey = "node_id";
    snprintf(pid, sizeof pid, "%ld", q->pid);
    f.keys[0] = key;
    f.preds[0] = eq;
    f.values[0] = actors ? q->actor_id : q->task_id[0] ? q->task_id : pid;
    f.nkeys = f.npreds = f.nvalues = 1;
    if (!actors && !q->task_id[0] && q->node_id[0]) {
        /* A pid names a worker only on its node. */
        f.keys[1] = nkey;
        f.preds[1] = eq;
        f.values[1] = q->node_id;
        f.nkeys = f.npreds = f.nvalues = 2;
    }
    Rayc__Envelope *rep = state_query_events(srv, r, &f, actors, 1);
    if (rep == NULL)
        return -1;
    const Rayc__TaskEventsReply *e = rep->task_events_reply;
    const char *node = NULL;
    const ProtobufCBinaryData *wid = NULL, *job = NULL;
    if (actors && e->n_actors > 0) {
        node = e->actors[0]->actor->node_id;
        wid = &e->actors[0]->actor->worker_id;
        job = &e->actors[0]->actor->job_id;
    } else if (!actors && e->n_tasks > 0) {
        node = e->tasks[0]->task->node_id;
        wid = &e->tasks[0]->task->worker_id;
        job = &e->tasks[0]->task->job_id;
    }
    json_t *w = wid ? state_hex(wid) : NULL, *j = job ? state_hex(job) : NULL;
    int ok = json_is_string(w) && json_is_string(j) && node && node[0];
    if (ok) {
        snprintf(name, len, "worker-%s-%s.log", json_string_value(w), json_string_value(j));
        str_copy(q->node_id, sizeof q->node_id, node);
    } else {
        char msg[300];
        snprintf(msg, sizeof msg, "No worker is known for %s %.64s (it has not run yet, or its "
                 "events were evicted)", actors ? "actor" : q->task_id[0] ? "task" : "pid",
                 f.values[0]);
        state_respond_error(r, 404, msg);
    }
    json_decref(w);
    json_decref(j);
    rayc__envelope__free_unpacked(rep, NULL);
    return ok ? 0 : -1;
}

int state_logs_resolve(jobs_server *srv, http_request *r, state_query *q, char *name,
                       size_t len, state_log_target *t)
{
    str_copy(name, len, q->filename);
    if (name[0] == '\0' && q->pid > 0 && q->node_id[0] == '\0' && q->node_ip[0] == '\0') {
        state_respond_error(r, 400, "pid needs node_id or node_ip: a pid names a worker only on "
                            "its node");
        return -1;
    }
    if (name[0] == '\0' && (q->actor_id[0] || q->task_id[0] || q->pid > 0) &&
        worker_log(srv, r, q, name, len) != 0)
        return -1;
    if (name[0] == '\0') {
        state_respond_error(r, 400, "one of filename, actor_id, task_id or pid is required");
        return -1;
    }
    return find_node(srv, r, q, t);
}

void state_logs_file(jobs_server *srv, http_request *r, const state_query *cq)
{
    state_query q = *cq;
    char name[300];
    state_log_target t;
    if (state_logs_resolve(srv, r, &q, name, sizeof name, &t) != 0)
        return;
    if (t.local)
        file_local(srv, r, &q, name);
    else
        forward(srv, r, &t, "logs/file", &q, name);
}
