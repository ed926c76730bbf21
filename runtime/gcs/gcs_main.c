/* gcs_server: the head node's control store (see gcs_server.h). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "common/tls.h"
#include "gcs/gcs_server.h"

/* Runs the daemon with a parsed CFG; returns the exit status. */
static int run(const gcs_config *cfg)
{
    static gcs_server srv;
    char err[512] = "";
    uv_loop_t *loop = uv_default_loop();
    int rc = gcs_server_listen(&srv, loop, cfg, err, sizeof err);
    if (rc == -EADDRINUSE)
        snprintf(err, sizeof err, "port %d is already in use", cfg->port);
    else if (rc == 0)
        rc = gcs_server_open(&srv, err, sizeof err);
    if (rc != 0) {
        /* One line on stderr; the log gets it too when it is a file. */
        if (cfg->log_file != NULL)
            log_error("%s", err);
        fprintf(stderr, "gcs_server: %s\n", err);
    }
    if (rc != 0)
        gcs_server_stop(&srv);
    uv_run(loop, UV_RUN_DEFAULT);
    gcs_server_free(&srv);
    uv_loop_close(loop);
    if (rc == 0)
        log_info("stopped");
    return rc == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    gcs_config cfg;
    char err[512];
    int rc = gcs_config_parse(argc, argv, &cfg, err, sizeof err);
    if (rc == GCS_CONFIG_HELP) {
        fputs(gcs_config_usage(), stdout);
        return 0;
    }
    if (rc != 0) {
        fprintf(stderr, "gcs_server: %s\n", err);
        return 2;
    }
    if (cfg.log_file != NULL && (rc = log_open(cfg.log_file)) != 0) {
        fprintf(stderr, "gcs_server: cannot open the log file %s: %s\n", cfg.log_file,
                strerror(-rc));
        return 1;
    }
    log_setup("gcs_server", LOG_INFO);
    signal(SIGPIPE, SIG_IGN);
    if (tls_init_from_env(err, sizeof err) != 0) {
        log_error("%s", err);
        return 1;
    }
    return run(&cfg);
}
