/* raylet lifecycle: signals, graceful stop, the ready file and teardown. */
#include "raylet/raylet.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"

/* ---------------------------------------------------------------- signals */

static void signal_cb(uv_signal_t *h, int signum)
{
    raylet *r = h->data;
    raylet_stop(r, signum == SIGTERM ? "received SIGTERM" : "received SIGINT");
}

int raylet_signals_start(raylet *r)
{
    int rc = uv_signal_init(r->loop, &r->sigterm);
    if (rc == 0)
        rc = uv_signal_init(r->loop, &r->sigint);
    if (rc != 0)
        return rc;
    r->sigterm.data = r;
    r->sigint.data = r;
    rc = uv_signal_start(&r->sigterm, signal_cb, SIGTERM);
    if (rc == 0)
        rc = uv_signal_start(&r->sigint, signal_cb, SIGINT);
    return rc;
}

/* ---------------------------------------------------------------- stopping */

void raylet_stop(raylet *r, const char *reason)
{
    if (r->stopping)
        return;
    r->stopping = 1;
    log_info("%s; stopping", reason);
    if (!raylet_gcs_unregister(r, reason))
        raylet_exit(r, 0);
}

void raylet_close_handle(uv_handle_t *h)
{
    if (h->type != UV_UNKNOWN_HANDLE && !uv_is_closing(h))
        uv_close(h, NULL);
}

void raylet_exit(raylet *r, int code)
{
    if (r->closing)
        return;
    r->closing = 1;
    r->stopping = 1;
    r->exit_code = code;
    /* Each module closes the handles it opened.  No uv_walk: this may run
     * inside an rpc_conn close callback, before the rpc layer's own
     * uv_close of that connection, and closing a handle twice aborts. */
    raylet_gcs_close(r);
    raylet_server_close(r);
    raylet_runtime_close(r);
    raylet_close_handle((uv_handle_t *)&r->sigterm);
    raylet_close_handle((uv_handle_t *)&r->sigint);
}

/* ---------------------------------------------------------------- files */

int raylet_ready_write(raylet *r)
{
    char line[NODE_ID_HEX_LEN + 2];
    int n = snprintf(line, sizeof line, "%s\n", r->opts->node_id);
    int rc = fs_write_file(r->ready_path, line, (size_t)n, 0600);
    if (rc != 0)
        log_error("cannot write %s: %s", r->ready_path, strerror(-rc));
    return rc;
}

void raylet_files_remove(raylet *r)
{
    if (r->ready_path[0] != '\0' && unlink(r->ready_path) != 0 && errno != ENOENT)
        log_warn("cannot remove %s: %s", r->ready_path, strerror(errno));
    if (r->socket_bound && unlink(r->socket_path) != 0 && errno != ENOENT)
        log_warn("cannot remove %s: %s", r->socket_path, strerror(errno));
}
