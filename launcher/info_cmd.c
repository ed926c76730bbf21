/* The small companions: get-head-ip, get-worker-ips, attach, dashboard. */
#include "launcher/up_tls.h"
#include "launcher/info_cmd.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "launcher/info_opts.h"
#include "launcher/lctx.h"
#include "launcher/lopt.h"
#include "launcher/ssh_exec.h"
#include "launcher/ssh_fwd.h"
#include "launcher/ssh_shell.h"
#include "launcher/up_cmd.h"

/* ---------------------------------------------------------------- addresses */

int get_head_ip_main(int argc, char **argv)
{
    info_opts o = {.cmd = "get-head-ip", .usage = "[OPTIONS] CLUSTER_CONFIG_FILE"};
    lctx x;
    char ip[256];
    int rc = info_opts_parse(&o, argc, argv, 0, 0);
    if (rc != 0)
        return rc < 0 ? 0 : rc;
    if (lctx_open(&x, o.config, &o.ov) != 0)
        return 1;
    rc = lctx_find_head(&x, 1, ip, sizeof ip) == 0 ? 0 : 1;
    if (rc == 0)
        printf("%s\n", x.cfg->use_internal_ips ? x.cfg->head_ip : cfg_head_ssh_host(x.cfg));
    lctx_close(&x);
    return rc;
}

int get_worker_ips_main(int argc, char **argv)
{
    info_opts o = {.cmd = "get-worker-ips", .usage = "[OPTIONS] CLUSTER_CONFIG_FILE"};
    lctx x;
    lstate_node *nodes = NULL;
    size_t n = 0;
    int rc = info_opts_parse(&o, argc, argv, 0, 0);
    if (rc != 0)
        return rc < 0 ? 0 : rc;
    if (lctx_open(&x, o.config, &o.ov) != 0)
        return 1;
    rc = lstate_nodes(x.state, x.cfg->cluster_name, &nodes, &n) == 0 ? 0 : 1;
    for (size_t i = 0; i < n; i++)
        if (strcmp(nodes[i].kind, "worker") == 0 && strcmp(nodes[i].status, LSTATE_TERMINATED))
            printf("%s\n", nodes[i].ip);
    free(nodes);
    lctx_close(&x);
    return rc;
}

/* ---------------------------------------------------------------- attach */

int attach_main(int argc, char **argv)
{
    info_opts o = {.cmd = "attach", .usage = "[OPTIONS] CLUSTER_CONFIG_FILE"};
    lctx x;
    char ip[256], err[1024];
    int rc = info_opts_parse(&o, argc, argv, 0, 0), status = SSH_EXIT_NONE;
    if (rc != 0)
        return rc < 0 ? 0 : rc;
    if (o.new_session && !o.tmux && !o.screen) {
        fprintf(stderr, "Error: --new only makes sense if passing --screen or --tmux\n");
        return 1;
    }
    const char *cmd = o.tmux ? (o.new_session ? "tmux new" : "tmux attach || tmux new")
                      : o.screen ? (o.new_session ? "screen -L" : "screen -L -xRR") : NULL;
    if (o.start && info_opts_chain_up(&o) != 0)
        return 1;
    if (lctx_open(&x, o.config, &o.ov) != 0)
        return 1;
    ssh_conn *conn = NULL;
    rc = 1;
    /* With a docker section the session opens in the head's container, as
     * Ray's attach runs "$SHELL" through `docker exec -it`. */
    char *in_container = x.cfg->docker_enabled
                             ? lctx_command_in(&x, cmd != NULL ? cmd : "$SHELL", NULL,
                                               LCTX_RUN_DOCKER, 1)
                             : NULL;
    if (in_container != NULL)
        cmd = in_container;
    if (lctx_find_head(&x, 1, ip, sizeof ip) == 0 && (conn = lctx_connect(&x, ip, 1)) != NULL) {
        rc = ssh_shell_run(conn, cmd, &status, err, sizeof err) == 0 ? 0 : 1;
        if (rc != 0)
            fprintf(stderr, "Error: %s\n", err);
        else
            rc = status == SSH_EXIT_NONE ? 1 : status;
    }
    ssh_conn_close(conn);
    free(in_container);
    lctx_close(&x);
    return rc;
}

/* ---------------------------------------------------------------- dashboard */

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
}

typedef struct dash_ready {
    int port;
    const char *token_path;
    const char *ca_path;    /* the cluster CA when the cluster runs TLS, else NULL */
} dash_ready;

static void dashboard_ready(void *data)
{
    const dash_ready *d = data;
    const char *s = d->ca_path != NULL ? "s" : "";
    printf("Successfully established connection.\n"
           "The dashboard (job server) is at http%s://localhost:%d/ until you press Ctrl-C.\n"
           "Submit jobs from this machine with:\n"
           "  RAY_AUTH_TOKEN_PATH=%s %s%s%sray job submit --address http%s://localhost:%d -- CMD\n",
           s, d->port, d->token_path, d->ca_path ? "RAY_TLS_CA_CERT=" : "",
           d->ca_path ? d->ca_path : "", d->ca_path ? " " : "", s, d->port);
    fflush(stdout);
}

static int forward_dashboard(lctx *x, ssh_conn *conn, const info_opts *o)
{
    char err[1024], token_path[4096], ca_path[4096];
    int status;
    lctx_token_path(x->cfg->cluster_name, token_path, sizeof token_path);
    int tls = x->cfg->tls && up_tls_ca_path(x->cfg->cluster_name, ca_path, sizeof ca_path) == 0;
    ssh_fwd_port p = {o->port, "127.0.0.1", o->remote_port};
    dash_ready ready = {o->port, token_path, tls ? ca_path : NULL};
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    int rc = ssh_fwd_run(conn, &p, 1, NULL, NULL, NULL, dashboard_ready, &ready, &interrupted,
                         &status, err, sizeof err);
    if (rc == 0)
        return 0;
    fprintf(stderr, "Error: Failed to forward dashboard from remote port %d to local port %d. "
                    "There are a couple possibilities: \n 1. The remote port is incorrectly "
                    "specified \n 2. The local port %d is already in use.\n The exception is: "
                    "%s\n", o->remote_port, o->port, o->port, err);
    return 1;
}

int dashboard_main(int argc, char **argv)
{
    info_opts o = {.cmd = "dashboard", .usage = "[OPTIONS] CLUSTER_CONFIG_FILE",
                   .port = 8265, .remote_port = 8265};
    lctx x;
    char ip[256];
    int rc = info_opts_parse(&o, argc, argv, 0, 0);
    if (rc != 0)
        return rc < 0 ? 0 : rc;
    if (lctx_open(&x, o.config, &o.ov) != 0)
        return 1;
    printf("Attempting to establish dashboard locally at http://localhost:%d/ connected to "
           "remote port %d\n", o.port, o.remote_port);
    fflush(stdout);
    ssh_conn *conn = NULL;
    rc = 1;
    if (lctx_find_head(&x, 1, ip, sizeof ip) == 0 && (conn = lctx_connect(&x, ip, 1)) != NULL)
        rc = forward_dashboard(&x, conn, &o);
    ssh_conn_close(conn);
    lctx_close(&x);
    return rc;
}
