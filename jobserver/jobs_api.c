/* The HTTP API: Ray's Job Submission REST routes, authentication and the
 * browser guard, answered from the job table. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "jobserver/dash.h"
#include "common/tls.h"
#include "common/util.h"
#include "jobserver/http_auth.h"
#include "jobserver/http_server.h"
#include "jobserver/jobs_buf.h"
#include "jobserver/jobs_logs.h"
#include "jobserver/jobs_request.h"
#include "jobserver/jobs_server.h"
#include "jobserver/pkg_store.h"
#include "jobserver/serve_api.h"
#include "jobserver/state_api.h"

#define CT_JSON "application/json; charset=utf-8"
#define LIST_MAX (1u << 30)
#define LOGS_JSON_MAX (8u * JOBS_LOG_MAX_READ)

enum route_id {
    R_NONE, R_HEALTHZ, R_AUTH_MODE, R_AUTHENTICATE, R_VERSION, R_JOBS, R_JOB, R_JOB_LOGS,
    R_JOB_TAIL, R_JOB_STOP, R_PACKAGE, R_DASH, R_STATE, R_SERVE,
};

/* What a request matched, kept on the request between the two callbacks. */
typedef struct api_route {
    enum route_id id;
    char arg1[JOBS_ID_MAX + 1];      /* job id, or package protocol */
    char arg2[PKG_NAME_MAX + 1];     /* package name */
    char tmp_path[PATH_MAX];         /* package upload */
} api_route;

/* ---------------------------------------------------------------- routing */

/* Copies path segment S (up to '/' or the end) into OUT; returns its length
 * or -1 when it does not fit. */
static int segment(const char *s, char *out, size_t outlen)
{
    size_t n = strcspn(s, "/");
    if (n >= outlen)
        return -1;
    memcpy(out, s, n);
    out[n] = '\0';
    return (int)n;
}

static enum route_id match_job_path(const char *rest, api_route *rt)
{
    int n = segment(rest, rt->arg1, sizeof rt->arg1);
    if (n <= 0)
        return n < 0 ? R_JOB : R_NONE;   /* an over-long id simply does not exist */
    rest += n;
    if (*rest == '\0') return R_JOB;
    if (strcmp(rest, "/logs") == 0) return R_JOB_LOGS;
    if (strcmp(rest, "/logs/tail") == 0) return R_JOB_TAIL;
    if (strcmp(rest, "/stop") == 0) return R_JOB_STOP;
    return R_NONE;
}

static enum route_id match_path(const char *path, api_route *rt)
{
    if (strcmp(path, "/api/healthz") == 0) return R_HEALTHZ;
    if (strcmp(path, "/api/authentication_mode") == 0) return R_AUTH_MODE;
    if (strcmp(path, "/api/authenticate") == 0) return R_AUTHENTICATE;
    if (strcmp(path, "/api/version") == 0) return R_VERSION;
    if (strcmp(path, "/api/jobs") == 0 || strcmp(path, "/api/jobs/") == 0) return R_JOBS;
    if (strncmp(path, "/api/jobs/", 10) == 0) return match_job_path(path + 10, rt);
    if (strncmp(path, "/api/v0/", 8) == 0) return R_STATE;   /* state_api.c */
    if (serve_api_path(path)) return R_SERVE;                /* serve_api.c */
    if (strncmp(path, "/api/packages/", 14) == 0) {
        const char *rest = path + 14;
        int n = segment(rest, rt->arg1, sizeof rt->arg1);
        if (n <= 0 || rest[n] != '/')
            return R_NONE;
        int m = segment(rest + n + 1, rt->arg2, sizeof rt->arg2);
        return m > 0 && rest[n + 1 + m] == '\0' ? R_PACKAGE : R_NONE;
    }
    if (dash_path(path)) return R_DASH;
    return R_NONE;
}

static int method_allowed(enum route_id id, const char *m)
{
    int get = strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0;
    switch (id) {
    case R_JOBS: return get || strcmp(m, "POST") == 0;
    case R_JOB: return get || strcmp(m, "DELETE") == 0;
    case R_JOB_STOP: return strcmp(m, "POST") == 0;
    case R_AUTHENTICATE: return strcmp(m, "POST") == 0;
    case R_PACKAGE: return get || strcmp(m, "PUT") == 0;
    case R_SERVE: return serve_api_method_allowed(m);
    default: return get;
    }
}

static int route_public(enum route_id id)
{
    return id == R_HEALTHZ || id == R_AUTH_MODE || id == R_AUTHENTICATE;
}

static int looks_like_browser(http_request *r)
{
    int has = 0;
    for (int i = 0; http_auth_browser_headers[i] != NULL && !has; i++)
        has = http_request_header(r, http_auth_browser_headers[i]) != NULL;
    return http_auth_is_browser(http_request_header(r, "User-Agent"), has);
}

static enum http_auth_result check_token(jobs_server *srv, http_request *r)
{
    return http_auth_check(http_request_header(r, "Authorization"),
                           http_request_header(r, "X-Ray-Authorization"),
                           http_request_cookie(r, HTTP_AUTH_COOKIE), srv->token);
}

/* Refuses R when its token is missing or wrong; returns non-zero then. */
static int refuse_unauthenticated(jobs_server *srv, http_request *r)
{
    switch (check_token(srv, r)) {
    case HTTP_AUTH_OK: return 0;
    case HTTP_AUTH_MISSING: http_respond_text(r, 401, HTTP_AUTH_MISSING_TEXT); return 1;
    default: http_respond_text(r, 403, HTTP_AUTH_INVALID_TEXT); return 1;
    }
}

/* Prepares a package upload: the body goes straight to a temporary file. */
static int begin_upload(jobs_server *srv, http_request *r, api_route *rt)
{
    char err[160];
    if (strcmp(rt->arg1, "gcs") != 0) {
        http_respond_text(r, 400, "Only gcs:// packages can be uploaded");
        return 1;
    }
    if (pkg_name_check(rt->arg2, err, sizeof err) != 0) {
        http_respond_text(r, 400, err);
        return 1;
    }
    int rc = pkg_store_tmp_path(srv->packages_dir, rt->tmp_path, sizeof rt->tmp_path);
    if (rc == 0)
        rc = http_request_body_to_file(r, rt->tmp_path);
    if (rc != 0) {
        snprintf(err, sizeof err, "Cannot store the package: %s", strerror(-rc));
        http_respond_text(r, rc == -ENOSPC || rc == -EDQUOT ? 507 : 500, err);
        return 1;
    }
    return 0;
}

static int on_headers(void *arg, http_request *r)
{
    jobs_server *srv = arg;
    api_route *rt = calloc(1, sizeof *rt);
    if (rt == NULL) {
        http_respond_text(r, 500, "Out of memory");
        return 1;
    }
    http_request_set_user(r, rt);
    rt->id = match_path(http_request_path(r), rt);
    const char *method = http_request_method(r);
    if (rt->id == R_NONE) {
        http_respond_text(r, 404, "404: Not Found");
        return 1;
    }
    if (!method_allowed(rt->id, method)) {
        http_respond_text(r, 405, "405: Method Not Allowed");
        return 1;
    }
    if (http_auth_method_mutates(method) && rt->id != R_AUTHENTICATE && looks_like_browser(r)) {
        http_respond_text(r, 405, HTTP_AUTH_BROWSER_TEXT);
        return 1;
    }
    if (!route_public(rt->id) && !(rt->id == R_DASH && dash_public(http_request_path(r))) &&
        refuse_unauthenticated(srv, r))
        return 1;
    if (rt->id == R_PACKAGE && strcmp(method, "PUT") == 0)
        return begin_upload(srv, r, rt);
    if (rt->id == R_SERVE)
        serve_api_limit_body(r);
    return 0;
}

/* ---------------------------------------------------------------- handlers */

static void respond_json_buf(http_request *r, int status, dbuf *b)
{
    size_t len;
    char *body = dbuf_take(b, &len);
    if (body == NULL) {
        http_respond_text(r, 500, "Out of memory");
        return;
    }
    http_respond_take(r, status, CT_JSON, body, len);
}

static void handle_version(jobs_server *srv, http_request *r)
{
    dbuf b;
    dbuf_init(&b, 4096);
    dbuf_puts(&b, "{\"version\": \"" JOBS_API_VERSION "\", \"ray_version\": \""
                      JOBS_RAY_VERSION "\", \"ray_commit\": \"rayc\", \"session_name\": ");
    jobs_buf_json_str_or_null(&b, srv->session_name);
    dbuf_puts(&b, "}");
    respond_json_buf(r, 200, &b);
}

static void handle_authenticate(jobs_server *srv, http_request *r)
{
    enum http_auth_result a = http_auth_check(http_request_header(r, "Authorization"), NULL,
                                              NULL, srv->token);
    if (a != HTTP_AUTH_OK) {
        http_respond_text(r, a == HTTP_AUTH_MISSING ? 401 : 403,
                          a == HTTP_AUTH_MISSING ? HTTP_AUTH_MISSING_TEXT : HTTP_AUTH_INVALID_TEXT);
        return;
    }
    char cookie[TOKEN_MAX + 128];
    snprintf(cookie, sizeof cookie, "%s=%s; HttpOnly; SameSite=Strict; Path=/%s", HTTP_AUTH_COOKIE,
             srv->token, http_server_is_tls(srv->http) ? "; Secure" : "");
    http_request_add_response_header(r, "Set-Cookie", cookie);
    http_respond(r, 200, CT_JSON, "{\"message\": \"Successfully authenticated\"}", 41);
}

static void handle_list(jobs_server *srv, http_request *r)
{
    dbuf b;
    dbuf_init(&b, LIST_MAX);
    int rc = dbuf_add(&b, "[", 1);
    for (jobs_job *j = jobs_table_first(srv->table); rc == 0 && j != NULL;
         j = jobs_table_next(srv->table, j)) {
        size_t len;
        const char *json = jobs_job_json(j, &len);
        if (json == NULL) {
            rc = -ENOMEM;
            break;
        }
        if (b.len > 1)
            rc = dbuf_add(&b, ", ", 2);
        if (rc == 0)
            rc = dbuf_add(&b, json, len);
    }
    if (rc == 0)
        rc = dbuf_add(&b, "]", 1);
    if (rc != 0) {
        dbuf_free(&b);
        http_respond_text(r, 500, "Out of memory");
        return;
    }
    respond_json_buf(r, 200, &b);
}

static void handle_submit(jobs_server *srv, http_request *r)
{
    size_t len;
    const char *body = http_request_body(r, &len);
    jobs_submit_req req;
    char err[512], msg[600];
    int rc = jobs_request_parse_submit(body, len, &req, err, sizeof err);
    if (rc != 0) {
        http_respond_text(r, rc == -EINVAL ? 400 : 500, rc == -EINVAL ? err : "Out of memory");
        return;
    }
    if (srv->shutting_down) {
        jobs_submit_req_free(&req);
        http_respond_text(r, 503, "The job server is shutting down");
        return;
    }
    jobs_job *j;
    rc = jobs_sup_submit(srv, &req, &j);
    if (rc == -EEXIST) {
        /* 400 as Ray answers: clients (the SDK, KubeRay) match on this sentence. */
        snprintf(msg, sizeof msg, "Job with submission_id %s already exists. Please use a "
                                  "different submission_id.", req.submission_id);
        http_respond_text(r, 400, msg);
    } else if (rc == -ENOSPC) {
        http_respond_text(r, 507, "Cannot record the job in the job store: No space left on "
                                  "device");
    } else if (rc != 0) {
        http_respond_text(r, 500, "Cannot record the job in the job store");
    } else {
        dbuf b;
        dbuf_init(&b, 1024);
        dbuf_printf(&b, "{\"job_id\": \"%s\", \"submission_id\": \"%s\"}", j->submission_id,
                        j->submission_id);
        respond_json_buf(r, 200, &b);
    }
    jobs_submit_req_free(&req);
}

static jobs_job *find_job_or_404(jobs_server *srv, http_request *r, const char *id)
{
    jobs_job *j = jobs_table_find(srv->table, id);
    if (j == NULL) {
        char msg[JOBS_ID_MAX + 64];
        snprintf(msg, sizeof msg, "Job %s does not exist", id);
        http_respond_text(r, 404, msg);
    }
    return j;
}

static void handle_job(jobs_server *srv, http_request *r, const char *id)
{
    jobs_job *j = find_job_or_404(srv, r, id);
    if (j == NULL)
        return;
    if (strcmp(http_request_method(r), "DELETE") == 0) {
        int rc = jobs_sup_delete(srv, j);
        if (rc == -EBUSY) {
            char msg[256];
            snprintf(msg, sizeof msg, "Attempted to delete job '%s', but it is in a non-terminal "
                                      "state %s.", j->submission_id, jobs_status_name(j->status));
            http_respond_text(r, 400, msg);
        } else if (rc == -ENOSPC) {
            http_respond_text(r, 507, "Cannot delete the job from the job store: No space left "
                                      "on device");
        } else if (rc != 0) {
            http_respond_text(r, 500, "Cannot delete the job from the job store");
        } else {
            http_respond(r, 200, CT_JSON, "{\"deleted\": true}", 17);
        }
        return;
    }
    size_t len;
    const char *json = jobs_job_json(j, &len);
    if (json == NULL)
        http_respond_text(r, 500, "Out of memory");
    else
        http_respond(r, 200, CT_JSON, json, len);
}

static void handle_logs(jobs_server *srv, http_request *r, const char *id)
{
    jobs_job *j = find_job_or_404(srv, r, id);
    if (j == NULL)
        return;
    char path[PATH_MAX], *text;
    size_t n;
    jobs_log_path(srv->logs_dir, j->submission_id, path, sizeof path);
    if (jobs_log_read_all(path, &text, &n) != 0) {
        http_respond_text(r, 500, "Cannot read the job's log");
        return;
    }
    dbuf b;
    dbuf_init(&b, LOGS_JSON_MAX);
    int rc = dbuf_puts(&b, "{\"logs\": ");
    if (rc == 0) rc = jobs_buf_json_string(&b, text, n);
    if (rc == 0) rc = dbuf_puts(&b, "}");
    free(text);
    if (rc != 0) {
        dbuf_free(&b);
        http_respond_text(r, 500, "Out of memory");
        return;
    }
    respond_json_buf(r, 200, &b);
}

static void handle_stop(jobs_server *srv, http_request *r, const char *id)
{
    jobs_job *j = find_job_or_404(srv, r, id);
    if (j == NULL)
        return;
    int stopped = jobs_sup_stop(srv, j);
    const char *body = stopped ? "{\"stopped\": true}" : "{\"stopped\": false}";
    http_respond(r, 200, CT_JSON, body, strlen(body));
}

static void handle_package(jobs_server *srv, http_request *r, api_route *rt)
{
    char msg[PKG_NAME_MAX + JOBS_ID_MAX + 64];
    if (strcmp(http_request_method(r), "PUT") == 0) {
        if (pkg_store_commit(srv->packages_dir, rt->tmp_path, rt->arg2) != 0) {
            http_respond_text(r, 500, "Cannot store the package");
            return;
        }
        log_info("stored package gcs://%s", rt->arg2);
        http_respond(r, 200, NULL, "", 0);
        return;
    }
    if (strcmp(rt->arg1, "gcs") == 0 && pkg_name_check(rt->arg2, msg, sizeof msg) == 0 &&
        pkg_store_exists(srv->packages_dir, rt->arg2)) {
        http_respond(r, 200, NULL, "", 0);
        return;
    }
    snprintf(msg, sizeof msg, "Package %s://%s does not exist", rt->arg1, rt->arg2);
    http_respond_text(r, 404, msg);
}

static void on_request(void *arg, http_request *r)
{
    jobs_server *srv = arg;
    api_route *rt = http_request_user(r);
    const char *m = http_request_method(r);
    switch (rt->id) {
    case R_HEALTHZ: http_respond_text(r, 200, "success"); break;
    case R_AUTH_MODE:
        http_respond(r, 200, CT_JSON, "{\"authentication_mode\": \"token\"}", 33);
        break;
    case R_AUTHENTICATE: handle_authenticate(srv, r); break;
    case R_VERSION: handle_version(srv, r); break;
    case R_JOBS:
        if (strcmp(m, "POST") == 0)
            handle_submit(srv, r);
        else
            handle_list(srv, r);
        break;
    case R_JOB: handle_job(srv, r, rt->arg1); break;
    case R_JOB_LOGS: handle_logs(srv, r, rt->arg1); break;
    case R_JOB_STOP: handle_stop(srv, r, rt->arg1); break;
    case R_JOB_TAIL: {
        jobs_job *j = find_job_or_404(srv, r, rt->arg1);
        if (j != NULL)
            jobs_tail_start(srv, r, j);
        break;
    }
    case R_PACKAGE: handle_package(srv, r, rt); break;
    case R_DASH: dash_handle(srv, r); break;
    case R_STATE: state_api_handle(srv, r, http_request_path(r) + 8); break;
    case R_SERVE: serve_api_handle(srv, r); break;
    default: http_respond_text(r, 404, "404: Not Found"); break;
    }
}

static void free_route(http_request *r)
{
    free(http_request_user(r));
}

/* With Ray's TLS variables on, the dashboard port serves HTTPS with this
 * node's certificate.  Returns 0 (both NULL when TLS is off) or -errno. */
static int load_tls(char **cert, char **key, char *err, size_t errlen)
{
    *cert = *key = NULL;
    int on = tls_state();
    if (on < 0) {
        snprintf(err, errlen, "%s", tls_init_error());
        return on;
    }
    if (on == 0)
        return 0;
    const char *cp = getenv("RAY_TLS_SERVER_CERT"), *kp = getenv("RAY_TLS_SERVER_KEY");
    int rc = fs_read_file(cp, 1 << 20, cert, NULL);
    if (rc == 0)
        rc = fs_read_file(kp, 1 << 20, key, NULL);
    if (rc != 0) {
        snprintf(err, errlen, "cannot read the TLS certificate or key: %s", strerror(-rc));
        free(*cert);
        *cert = NULL;
    }
    return rc;
}

int jobs_api_start(jobs_server *srv, char *err, size_t errlen)
{
    char *cert, *key;
    int rc = load_tls(&cert, &key, err, errlen);
    if (rc != 0)
        return rc;
    http_server_config cfg = {
        .host = srv->host,
        .port = srv->port,
        .max_body = srv->max_body,
        .on_headers = on_headers,
        .on_request = on_request,
        .on_free = free_route,
        .arg = srv,
        .tls_cert_pem = cert,
        .tls_key_pem = key,
    };
    rc = http_server_start(srv->loop, &cfg, &srv->http, err, errlen);
    free(cert);
    free(key);
    return rc;
}
