/* gcs_server's lifecycle: listen, open the store, timers, signals, stop. */
#include "gcs/gcs_server.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"

/* ---------------------------------------------------------------- listen */

/* Resolves the bind address HOST:PORT (IPv4 or IPv6 literal). */
static int bind_addr(const char *host, int port, struct sockaddr_storage *ss)
{
    if (uv_ip4_addr(host, port, (struct sockaddr_in *)ss) == 0)
        return 0;
    return uv_ip6_addr(host, port, (struct sockaddr_in6 *)ss);
}

int gcs_server_listen(gcs_server *srv, uv_loop_t *loop, const gcs_config *cfg,
                      char *err, size_t errlen)
{
    memset(srv, 0, sizeof *srv);
    srv->loop = loop;
    srv->cfg = *cfg;
    int rc = token_read_file(cfg->token_file, srv->token, sizeof srv->token);
    if (rc != 0) {
        snprintf(err, errlen, "cannot read the token file %s: %s", cfg->token_file, token_error(rc));
        return rc;
    }
    struct sockaddr_storage ss;
    if (bind_addr(cfg->host, cfg->port, &ss) != 0) {
        snprintf(err, errlen, "invalid bind address '%s'", cfg->host);
        return -EINVAL;
    }
    uv_tcp_init(loop, &srv->listener);
    srv->listening = 1;
    rc = uv_tcp_bind(&srv->listener, (const struct sockaddr *)&ss, 0);
    if (rc == 0)
        rc = gcs_conn_start(srv); /* libuv reports EADDRINUSE here */
    if (rc != 0)
        snprintf(err, errlen, "cannot listen on %s:%d: %s", cfg->host, cfg->port, uv_strerror(rc));
    return rc == UV_EADDRINUSE ? -EADDRINUSE : rc;
}

/* ---------------------------------------------------------------- session */

/* Keeps the session name stored on the first start; a restarted GCS goes on
 * with it whatever the command line says, like Ray's. */
static int settle_session(gcs_server *srv, char *err, size_t errlen)
{
    gcs_store *st = srv->store;
    int rc = gcs_store_meta_get(st, "session_name", srv->session_name, sizeof srv->session_name);
    if (rc == -ENOENT) {
        str_copy(srv->session_name, sizeof srv->session_name, srv->cfg.session_name);
        rc = gcs_store_meta_set(st, "session_name", srv->session_name);
    } else if (rc == 0 && strcmp(srv->session_name, srv->cfg.session_name) != 0) {
        log_warn("keeping the stored session name %s (the command line says %s)",
                 srv->session_name, srv->cfg.session_name);
    }
    if (rc == 0) {
        /* Mirrored into the KV where Ray's clients look for it. */
        gcs_bytes key = {(const uint8_t *)"session_name", 12};
        gcs_bytes value = {(const uint8_t *)srv->session_name, strlen(srv->session_name)};
        rc = gcs_store_kv_put(st, "session", key, value, 1, NULL);
    }
    if (rc == 0)
        rc = gcs_store_meta_get(st, "cluster_id", srv->cluster_id, sizeof srv->cluster_id);
    if (rc == -ENOENT) {
        rc = ids_random_hex(srv->cluster_id, 28);
        if (rc == 0)
            rc = gcs_store_meta_set(st, "cluster_id", srv->cluster_id);
    }
    if (rc != 0)
        snprintf(err, errlen, "cannot read or write the session in %s: %s", srv->cfg.db_path,
                 rc == -EIO ? gcs_store_errmsg(st) : strerror(-rc));
    return rc;
}

/* ---------------------------------------------------------------- loop handles */

static void tick_cb(uv_timer_t *t)
{
    gcs_server *srv = t->data;
    gcs_health_check(srv);
    gcs_conn_sweep(srv);
    gcs_pg_tick(srv);
    int64_t now = time_mono_ms();
    if (now - srv->last_flush_ms >= GCS_FLUSH_PERIOD_MS) {
        srv->last_flush_ms = now;
        gcs_health_flush(srv);
    }
}

static void reaper_cb(uv_check_t *c)
{
    gcs_conn_reap(c->data);
}

static void signal_cb(uv_signal_t *s, int signum)
{
    gcs_server *srv = s->data;
    log_info("received %s, shutting down", signum == SIGTERM ? "SIGTERM" : "SIGINT");
    gcs_server_stop(srv);
}

/* Starts the tick timer, the reaper and the signal handlers. */
static void start_handles(gcs_server *srv)
{
    uv_timer_init(srv->loop, &srv->tick);
    srv->tick.data = srv;
    uv_timer_start(&srv->tick, tick_cb, GCS_TICK_MS, GCS_TICK_MS);
    uv_check_init(srv->loop, &srv->reaper);
    srv->reaper.data = srv;
    uv_check_start(&srv->reaper, reaper_cb);
    uv_unref((uv_handle_t *)&srv->reaper);
    uv_signal_init(srv->loop, &srv->sigterm);
    uv_signal_init(srv->loop, &srv->sigint);
    srv->sigterm.data = srv->sigint.data = srv;
    uv_signal_start(&srv->sigterm, signal_cb, SIGTERM);
    uv_signal_start(&srv->sigint, signal_cb, SIGINT);
}

int gcs_server_open(gcs_server *srv, char *err, size_t errlen)
{
    int rc = gcs_store_open(srv->cfg.db_path, &srv->store, err, errlen);
    if (rc == 0)
        rc = settle_session(srv, err, errlen);
    if (rc == 0 && (rc = gcs_health_load(srv)) != 0)
        snprintf(err, errlen, "cannot load nodes from %s: %s", srv->cfg.db_path,
                 gcs_store_errmsg(srv->store));
    if (rc == 0 && (rc = gcs_events_open(srv)) != 0)
        snprintf(err, errlen, "out of memory");
    if (rc == 0 && (rc = gcs_pg_load(srv)) != 0)
        snprintf(err, errlen, "cannot load placement groups from %s: %s", srv->cfg.db_path,
                 rc == -EIO ? gcs_store_errmsg(srv->store) : strerror(-rc));
    if (rc != 0)
        return rc;
    srv->last_flush_ms = time_mono_ms();
    start_handles(srv);
    gcs_metrics_start(srv);
    log_info("serving session %s on %s:%d (db %s, health timeout %lld ms, frame cap %zu)",
             srv->session_name, srv->cfg.host, srv->cfg.port, srv->cfg.db_path,
             (long long)srv->cfg.health_timeout_ms, srv->cfg.max_frame);
    return 0;
}

/* ---------------------------------------------------------------- stop */

static void close_handle(uv_handle_t *h)
{
    if (h->loop != NULL && !uv_is_closing(h))
        uv_close(h, NULL);
}

void gcs_server_stop(gcs_server *srv)
{
    if (srv->stopping)
        return;
    srv->stopping = 1;
    if (srv->listening)
        close_handle((uv_handle_t *)&srv->listener);
    gcs_conn_close_all(srv, "server shutting down");
    gcs_metrics_stop(srv);
    close_handle((uv_handle_t *)&srv->tick);
    close_handle((uv_handle_t *)&srv->reaper);
    close_handle((uv_handle_t *)&srv->sigterm);
    close_handle((uv_handle_t *)&srv->sigint);
    if (srv->store != NULL)
        gcs_health_flush(srv);
}

void gcs_server_free(gcs_server *srv)
{
    gcs_conn_reap(srv);
    gcs_pg_free(srv);
    gcs_events_free(srv);
    gcs_node_table_free(&srv->nodes);
    gcs_store_close(srv->store);
    srv->store = NULL;
}
