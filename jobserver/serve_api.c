/* Ray Serve's REST API (/api/serve/applications/): each request runs a
 * short-lived Python driver that talks to the Serve controller, and is
 * answered, from the loop, when that driver has ended. */
#include "jobserver/serve_api.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "jobserver/jobs_child.h"
#include "jobserver/renv_env.h"

extern char **environ;

#define OUTPUT_TAIL 600          /* bytes of a failed driver's output logged */
#define API_TYPE_MAX 64

/* One request's driver.  The child must stay the first member: its poll
 * handle is how the exit callback finds the op. */
typedef struct serve_op {
    jobs_child child;
    uv_timer_t timer;
    jobs_server *srv;
    http_request *req;       /* NULL once answered */
    struct serve_op *next;
    int handles;             /* libuv handles still open */
    int timed_out;
    char dir[PATH_MAX];      /* this request's files, removed at the end */
} serve_op;

/* ---------------------------------------------------------------- routes */

int serve_api_path(const char *path)
{
    return strcmp(path, SERVE_API_PATH) == 0;
}

int serve_api_method_allowed(const char *m)
{
    return strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0 || strcmp(m, "PUT") == 0 ||
           strcmp(m, "DELETE") == 0;
}

static void respond_too_large(http_request *r)
{
    char msg[128];
    str_printf(msg, sizeof msg, "Request body exceeds the limit of %u bytes",
               SERVE_API_MAX_BODY);
    http_respond_text(r, 413, msg);
}

void serve_api_limit_body(http_request *r)
{
    http_request_limit_body(r, SERVE_API_MAX_BODY);
}

/* ---------------------------------------------------------------- the op's life */

static void unlink_op(serve_op *op)
{
    serve_op **p = &op->srv->serve_ops;
    while (*p != NULL && *p != op)
        p = &(*p)->next;
    if (*p == op)
        *p = op->next;
}

static void op_handle_closed(uv_handle_t *h)
{
    serve_op *op = h->data;
    if (--op->handles > 0)
        return;
    if (op->dir[0] != '\0')
        fs_rm_rf(op->dir);
    free(op);
}

/* Closes OP's handles; OP is freed once they are closed. */
static void op_close(serve_op *op)
{
    unlink_op(op);
    uv_close((uv_handle_t *)&op->timer, op_handle_closed);
    if (op->handles > 1)
        jobs_child_close(&op->child, op_handle_closed);
}

static void answer(serve_op *op, int status, const char *text)
{
    if (op->req != NULL)
        http_respond_text(op->req, status, text);
    op->req = NULL;
}

/* Logs the end of the driver's output (stdout and stderr). */
static void log_output_tail(serve_op *op, const char *why)
{
    char path[PATH_MAX], *out = NULL;
    size_t len = 0;
    if (fs_path_join(path, sizeof path, op->dir, "output.log") == 0)
        fs_read_file(path, 1u << 20, &out, &len);
    const char *tail = out != NULL && len > OUTPUT_TAIL ? out + len - OUTPUT_TAIL : out;
    log_warn("serve api: %s; its output ends: %s", why, tail != NULL ? tail : "(none)");
    free(out);
}

/* Sends the answer the driver wrote: {"status", "content_type", "body"}. */
static int answer_from_result(serve_op *op)
{
    char path[PATH_MAX], *text = NULL;
    if (fs_path_join(path, sizeof path, op->dir, "result.json") != 0 ||
        fs_read_file(path, SERVE_API_MAX_RESULT, &text, NULL) != 0)
        return -ENOENT;
    json_t *root = json_loads(text, 0, NULL);
    free(text);
    json_t *st = json_object_get(root, "status"), *body = json_object_get(root, "body");
    json_t *ct = json_object_get(root, "content_type");
    if (!json_is_integer(st) || !json_is_string(body) || json_integer_value(st) < 100 ||
        json_integer_value(st) > 599) {
        json_decref(root);
        return -EINVAL;
    }
    http_respond(op->req, (int)json_integer_value(st),
                 json_is_string(ct) ? json_string_value(ct) : NULL, json_string_value(body),
                 json_string_length(body));
    op->req = NULL;
    json_decref(root);
    return 0;
}

static void child_exit_cb(jobs_child *c, int64_t exit_status, int term_signal)
{
    serve_op *op = (serve_op *)c;
    char msg[256];
    if (op->req != NULL && op->timed_out) {
        str_printf(msg, sizeof msg, "The Serve REST API did not finish within %d s "
                   "(RAYC_SERVE_REST_TIMEOUT_S); its driver was killed",
                   (int)(uv_timer_get_repeat(&op->timer) / 1000));
        log_output_tail(op, msg);
        answer(op, 504, msg);
    } else if (op->req != NULL && answer_from_result(op) != 0) {
        str_printf(msg, sizeof msg, "Internal error: the Serve REST API driver ended "
                   "(exit code %lld, signal %d) without an answer; see the job server's log",
                   (long long)exit_status, term_signal);
        log_output_tail(op, msg);
        answer(op, 500, msg);
    }
    op_close(op);
}

static void timeout_cb(uv_timer_t *t)
{
    serve_op *op = t->data;
    op->timed_out = 1;
    /* The driver is a session leader (setsid): end its whole group. */
    kill(-op->child.pid, SIGKILL);
}

/* ---------------------------------------------------------------- starting the driver */

static int timeout_ms(void)
{
    const char *v = getenv("RAYC_SERVE_REST_TIMEOUT_S");
    long s;
    if (v == NULL || parse_long(v, 1, 86400, &s) != 0)
        s = SERVE_API_TIMEOUT_S;
    return (int)(s * 1000);
}

static int build_env(jobs_server *srv, renv_envlist *e)
{
    int rc = renv_envlist_init(e, environ);
    if (rc == 0)
        rc = renv_envlist_set(e, "RAY_ADDRESS", srv->gcs_address);
    if (rc == 0 && srv->token_file[0] != '\0')
        rc = renv_envlist_set(e, "RAY_AUTH_TOKEN_PATH", srv->token_file);
    if (rc == 0)
        rc = renv_envlist_set(e, "PYTHONUNBUFFERED", "1");
    if (rc != 0)
        renv_envlist_free(e);
    return rc;
}

/* Runs `PYTHON -m ray.serve._private.rest_api OP RESULT ARG` with its output
 * in OP->dir/output.log.  Returns 0 or -errno. */
static int spawn_driver(serve_op *op, const char *method, const char *arg)
{
    const char *py = getenv("RAYC_PYTHON") ? getenv("RAYC_PYTHON") : "/usr/bin/python3";
    const char *opname = strcmp(method, "PUT") == 0 ? "put" :
                         strcmp(method, "DELETE") == 0 ? "delete" : "get";
    char result[PATH_MAX], output[PATH_MAX];
    if (fs_path_join(result, sizeof result, op->dir, "result.json") != 0 ||
        fs_path_join(output, sizeof output, op->dir, "output.log") != 0)
        return -ENAMETOOLONG;
    char *args[] = {"/usr/bin/env", (char *)py, "-m", "ray.serve._private.rest_api",
                    (char *)opname, result, (char *)arg, NULL};
    renv_envlist env;
    int rc = build_env(op->srv, &env);
    if (rc != 0)
        return rc;
    int fd = open(output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        rc = -errno;
        renv_envlist_free(&env);
        return rc;
    }
    jobs_child_opts opt = {.file = "/usr/bin/env", .args = args, .env = env.vars,
                           .cwd = op->dir, .out_fd = fd};
    rc = jobs_child_spawn(op->srv->loop, &op->child, &opt, child_exit_cb);
    close(fd);
    renv_envlist_free(&env);
    return rc;
}

/* Creates OP->dir (0700) and writes the PUT body there as body.json. */
static int make_files(serve_op *op, http_request *r, char *body_path, size_t n)
{
    char base[PATH_MAX], id[17];
    int rc = fs_path_join(base, sizeof base, op->srv->node_dir, "serve_api");
    if (rc == 0)
        rc = ids_random_hex(id, 8);
    if (rc == 0)
        rc = fs_path_join(op->dir, sizeof op->dir, base, id);
    if (rc == 0)
        rc = fs_private_dir(op->dir);
    if (rc != 0) {
        op->dir[0] = '\0';
        return rc;
    }
    size_t len;
    const char *body = http_request_body(r, &len);
    rc = fs_path_join(body_path, n, op->dir, "body.json");
    if (rc == 0 && strcmp(http_request_method(r), "PUT") == 0)
        rc = fs_write_file(body_path, body, len, 0600);
    return rc;
}

static int count_ops(const jobs_server *srv)
{
    int n = 0;
    for (const serve_op *o = srv->serve_ops; o != NULL; o = o->next)
        n++;
    return n;
}

static void take_api_type(void *arg, const char *key, const char *value)
{
    if (strcmp(key, "api_type") == 0 && value != NULL)
        str_copy(arg, API_TYPE_MAX, value);
}

/* Starts OP's driver and its deadline.  Returns 0 or -errno (OP unused). */
static int start_op(serve_op *op, http_request *r)
{
    char body_path[PATH_MAX], api_type[API_TYPE_MAX] = "";
    int rc = make_files(op, r, body_path, sizeof body_path);
    if (rc != 0)
        return rc;
    const char *m = http_request_method(r);
    if (strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0)
        http_request_args(r, take_api_type, api_type);
    rc = spawn_driver(op, m, strcmp(m, "PUT") == 0 ? body_path : api_type);
    if (rc != 0)
        return rc;
    op->child.poll.data = op;
    uv_timer_init(op->srv->loop, &op->timer);
    op->timer.data = op;
    op->handles = 2;
    int ms = timeout_ms();
    uv_timer_start(&op->timer, timeout_cb, (uint64_t)ms, (uint64_t)ms);
    return 0;
}

void serve_api_handle(jobs_server *srv, http_request *r)
{
    size_t len;
    http_request_body(r, &len);
    if (len > SERVE_API_MAX_BODY) {
        respond_too_large(r);
        return;
    }
    if (srv->gcs_address[0] == '\0') {
        http_respond_text(r, 503, "Serve's REST API needs the cluster: this job server "
                          "was started without --gcs-address");
        return;
    }
    if (srv->shutting_down) {
        http_respond_text(r, 503, "The job server is shutting down");
        return;
    }
    if (count_ops(srv) >= SERVE_API_MAX_RUNNING) {
        http_respond_text(r, 503, "Too many Serve REST API requests in progress; "
                          "retry later");
        return;
    }
    serve_op *op = calloc(1, sizeof *op);
    if (op == NULL) {
        http_respond_text(r, 500, "Out of memory");
        return;
    }
    op->srv = srv;
    int rc = start_op(op, r);
    if (rc != 0) {
        char msg[256];
        str_printf(msg, sizeof msg, "Cannot start the Serve REST API driver: %s",
                   strerror(-rc));
        log_warn("serve api: %s", msg);
        http_respond_text(r, 500, msg);
        if (op->dir[0] != '\0')
            fs_rm_rf(op->dir);
        free(op);
        return;
    }
    op->req = r;
    op->next = srv->serve_ops;
    srv->serve_ops = op;
    http_request_defer(r);
}

void serve_api_stop(jobs_server *srv)
{
    for (serve_op *op = srv->serve_ops; op != NULL; op = op->next) {
        if (op->req == NULL)
            continue;   /* already stopped */
        kill(-op->child.pid, SIGKILL);
        answer(op, 503, "The job server is shutting down");
    }
}
