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

static void close_walk_cb(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

void raylet_exit(raylet *r, int code)
{
    if (r->closing)
        return;
    r->closing = 1;
    r->stopping = 1;
    r->exit_code = code;
    /* Connections first, so their close callbacks run and their memory is
     * released by the rpc layer; then every remaining handle (timers,
     * listeners, signals) embedded in R. */
    raylet_gcs_close(r);
    raylet_server_close(r);
    uv_walk(r->loop, close_walk_cb, NULL);
}

/* ---------------------------------------------------------------- files */

int raylet_ready_write(raylet *r)
{
    char line[NODE_ID_HEX_LEN + 2];
    int n = snprintf(line, sizeof line, "%s\n", r->opts->node_id);
    int rc = fs_write_file(r->ready_path, line, (size_t)n, 0644);
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
