/* `ray down CLUSTER.yaml`: stop the Ray runtime on every node, in parallel.
 *
 * Ray's `ray down` runs `ray stop` on the head only and leaves workers to a
 * head-side monitor; rayc stops the runtime on every node itself.  On each
 * node it runs the `ray stop` lines of that node's start commands (so a ray
 * outside PATH or a --temp-dir is honoured), or plain `ray stop` when the
 * start commands have none.  Nodes recorded in the state but no longer in
 * the YAML are stopped too.  An unreachable node is reported, not fatal.
 *
 * Only nodes whose state says this cluster ran its start commands there
 * (and has not stopped them since) are touched: a YAML address this cluster
 * never set up (its `ray up` failed at the head, say) may well belong to
 * another running cluster, and `ray stop` there would kill it.  Those are
 * listed as skipped. */
#include "launcher/down_cmd.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"
#include "launcher/lctx.h"
#include "launcher/ldocker.h"
#include "launcher/lopt.h"
#include "launcher/ssh_exec.h"
#include "launcher/up_display.h"
#include "launcher/up_pool.h"

#define DOWN_CONNECT_S 10

static const char usage[] = "[OPTIONS] CLUSTER_CONFIG_FILE";

typedef struct down_opts {
    const char *config;
    cfg_overrides ov;
    int yes, workers_only, keep_min_workers;
} down_opts;

typedef struct down_node {
    char ip[256];
    int is_head;
    int unreachable, failed;
    char message[512];
} down_node;

typedef struct down_run {
    down_opts o;
    lctx x;
    char head_ip[64];
    down_node *nodes;           /* the nodes to stop */
    size_t n;
    down_node *skipped;         /* candidates this cluster never set up */
    size_t n_skipped;
    up_display *disp;
} down_run;

/* ---------------------------------------------------------------- options */

enum { O_WORKERS_ONLY = 256, O_KEEP_MIN, O_IGNORED_ARG, O_HELP };

static const struct option down_longopts[] = {
    {"yes", no_argument, NULL, 'y'},
    {"workers-only", no_argument, NULL, O_WORKERS_ONLY},
    {"cluster-name", required_argument, NULL, 'n'},
    {"keep-min-workers", no_argument, NULL, O_KEEP_MIN},
    {"verbose", no_argument, NULL, 'v'},
    {"log-style", required_argument, NULL, O_IGNORED_ARG},
    {"log-color", required_argument, NULL, O_IGNORED_ARG},
    {"help", no_argument, NULL, O_HELP},
    {NULL, 0, NULL, 0},
};

static void print_help(void)
{
    printf("Usage: ray down %s\n\n  Tear down a Ray cluster: stop the Ray runtime on every node.\n\n"
           "Options:\n"
           "  -y, --yes               Don't ask for confirmation.\n"
           "  --workers-only          Only destroy the workers.\n"
           "  -n, --cluster-name TEXT Override the configured cluster name.\n"
           "  --keep-min-workers      Retain the minimal amount of workers specified in the "
           "config.\n"
           "  --help                  Show this message and exit.\n", usage);
}

static int parse_args(down_opts *o, int argc, char **argv)
{
    memset(o, 0, sizeof *o);
    o->ov.min_workers = o->ov.max_workers = -1;
    lopt_reset();
    int c;
    while ((c = getopt_long(argc, argv, "yn:v", down_longopts, NULL)) != -1) {
        switch (c) {
        case 'y': o->yes = 1; break;
        case 'n': o->ov.cluster_name = optarg; break;
        case O_WORKERS_ONLY: o->workers_only = 1; break;
        case O_KEEP_MIN: o->keep_min_workers = 1; break;
        case 'v': case O_IGNORED_ARG: break;
        case O_HELP: print_help(); return -1;
        default: return lopt_usage_error("down", usage, "No such option: %s", argv[optind - 1]);
        }
    }
    if (optind >= argc)
        return lopt_usage_error("down", usage, "Missing argument 'CLUSTER_CONFIG_FILE'.");
    if (optind + 1 < argc)
        return lopt_usage_error("down", usage, "Got unexpected extra argument (%s)",
                                argv[optind + 1]);
    o->config = argv[optind];
    return 0;
}

/* ---------------------------------------------------------------- which nodes */

static int has_node(const down_node *v, size_t n, const char *ip)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i].ip, ip) == 0)
            return 1;
    return 0;
}

static int push_node(down_node **v, size_t *n, const char *ip, int is_head, const char *why)
{
    down_node *bigger = realloc(*v, (*n + 1) * sizeof *bigger);
    if (bigger == NULL)
        return -ENOMEM;
    *v = bigger;
    down_node *nd = &bigger[(*n)++];
    memset(nd, 0, sizeof *nd);
    snprintf(nd->ip, sizeof nd->ip, "%s", ip);
    snprintf(nd->message, sizeof nd->message, "%s", why != NULL ? why : "");
    nd->is_head = is_head;
    return 0;
}

/* Adds IP to the nodes to stop when the state says this cluster started
 * Ray there, else to the skipped ones with the reason. */
static int add_node(down_run *d, const char *ip, int is_head)
{
    lstate_node rec;
    if (has_node(d->nodes, d->n, ip) || has_node(d->skipped, d->n_skipped, ip))
        return 0;
    if (lstate_node_get(d->x.state, d->x.cfg->cluster_name, ip, &rec) != 0)
        return push_node(&d->skipped, &d->n_skipped, ip, is_head,
                         "this cluster never set it up");
    if (strcmp(rec.status, LSTATE_TERMINATED) == 0)
        return push_node(&d->skipped, &d->n_skipped, ip, is_head,
                         "already stopped by an earlier `ray down`");
    if (!rec.started)
        return push_node(&d->skipped, &d->n_skipped, ip, is_head,
                         "this cluster's `ray up` never started Ray there");
    return push_node(&d->nodes, &d->n, ip, is_head, NULL);
}

/* The head (unless --workers-only), the workers `ray up` uses (past the
 * first min_workers with --keep-min-workers), and recorded nodes not
 * terminated (e.g. workers since dropped from the YAML). */
static int pick_nodes(down_run *d)
{
    const cluster_config *c = d->x.cfg;
    size_t keep = d->o.keep_min_workers ? (size_t)c->min_workers : 0;
    lstate_node *rec = NULL;
    size_t n_rec = 0;
    int rc = 0;
    if (!d->o.workers_only)
        rc = add_node(d, c->head_ip, 1);
    for (size_t i = keep; rc == 0 && i < cfg_worker_count(c); i++)
        rc = add_node(d, c->worker_ips.v[i], 0);
    lstate_nodes(d->x.state, c->cluster_name, &rec, &n_rec);
    for (size_t i = 0; rc == 0 && i < n_rec; i++) {
        int head = strcmp(rec[i].kind, "head") == 0;
        int kept = 0;
        for (size_t k = 0; k < keep && k < c->worker_ips.n; k++)
            kept |= strcmp(c->worker_ips.v[k], rec[i].ip) == 0;
        if (strcmp(rec[i].status, LSTATE_TERMINATED) != 0 && !kept &&
            !(head && d->o.workers_only))
            rc = add_node(d, rec[i].ip, head);
    }
    free(rec);
    return rc;
}

/* ---------------------------------------------------------------- stopping */

static int run_stop_commands(down_run *d, down_node *nd, ssh_conn *conn);

static int stop_commands(const down_run *d, int is_head, cfg_strv *out)
{
    const cfg_strv *start = is_head ? &d->x.cfg->head_start_ray_commands
                                    : &d->x.cfg->worker_start_ray_commands;
    for (size_t i = 0; i < start->n; i++)
        if (strstr(start->v[i], "ray stop") != NULL && cfg_strv_push(out, start->v[i]) != 0)
            return -ENOMEM;
    return out->n > 0 ? 0 : cfg_strv_push(out, "ray stop");
}

/* Runs CMD in the host's shell.  Returns its exit status, or -1 with ERR. */
static int host_status(down_run *d, ssh_conn *conn, const char *cmd, char *err, size_t errlen)
{
    int status;
    char *line = lctx_command_in(&d->x, cmd, NULL, LCTX_RUN_HOST, 0);
    ssh_run_opts o = {0};
    int rc = line != NULL ? ssh_run(conn, line, &o, &status, err, errlen) : -ENOMEM;
    free(line);
    if (rc == -ENOMEM)
        snprintf(err, errlen, "out of memory");
    return rc != 0 ? -1 : status;
}

/* With a docker section: whether the node's container runs (1, 0, or -1
 * with the reason in ND->message). */
static int container_running(down_run *d, down_node *nd, ssh_conn *conn)
{
    char cmd[512], err[512];
    const cluster_config *c = d->x.cfg;
    snprintf(cmd, sizeof cmd, "[ \"$(%s inspect -f '{{.State.Running}}' %s 2>/dev/null)\" = "
             "true ]", ldocker_cmd(c), c->docker.container_name);
    int st = host_status(d, conn, cmd, err, sizeof err);
    if (st < 0)
        str_printf(nd->message, sizeof nd->message, "cannot check the container: %s", err);
    return st < 0 ? -1 : st == 0;
}

/* Ray's teardown for local nodes with a container: `ENGINE stop NAME`.  It
 * was started with --rm; the engine's removal may come later (podman does
 * it from a separate cleanup process), so it is removed here as well and the
 * name is checked to be free. */
static int stop_container(down_run *d, down_node *nd, ssh_conn *conn)
{
    char cmd[1024], err[512];
    const cluster_config *c = d->x.cfg;
    const char *e = ldocker_cmd(c), *n = c->docker.container_name;
    snprintf(cmd, sizeof cmd, "%s stop %s && { %s rm -f %s >/dev/null 2>&1; ! %s inspect %s "
             ">/dev/null 2>&1; }", e, n, e, n, e, n);
    int st = host_status(d, conn, cmd, err, sizeof err);
    if (st != 0)
        str_printf(nd->message, sizeof nd->message, "`%s` failed: %s", cmd,
                   st < 0 ? err : "non-zero exit code");
    return st == 0 ? 0 : -EIO;
}

static int run_stop(down_run *d, down_node *nd, ssh_conn *conn)
{
    if (d->x.cfg->docker_enabled) {
        int running = container_running(d, nd, conn);
        if (running <= 0) {
            if (running == 0)
                str_printf(nd->message, sizeof nd->message, "container %s not running",
                           d->x.cfg->docker.container_name);
            return running < 0 ? -EIO : 0;
        }
        int rc = run_stop_commands(d, nd, conn);
        if (rc == 0 && (rc = stop_container(d, nd, conn)) == 0)
            str_printf(nd->message, sizeof nd->message, "Ray runtime stopped, container %s "
                       "stopped and removed", d->x.cfg->docker.container_name);
        return rc;
    }
    return run_stop_commands(d, nd, conn);
}

static int run_stop_commands(down_run *d, down_node *nd, ssh_conn *conn)
{
    cfg_strv cmds = {0};
    char err[512];
    int rc = stop_commands(d, nd->is_head, &cmds);
    for (size_t i = 0; rc == 0 && i < cmds.n; i++) {
        int status;
        char *line = lctx_command_in(&d->x, cmds.v[i], nd->is_head ? NULL : d->head_ip,
                                     LCTX_RUN_AUTO, d->x.login_shells);
        ssh_run_opts o = {.pty = d->x.login_shells};
        rc = line != NULL ? ssh_run(conn, line, &o, &status, err, sizeof err) : -ENOMEM;
        free(line);
        if (rc != 0)
            str_printf(nd->message, sizeof nd->message, "`%s` could not run: %s", cmds.v[i], err);
        else if (status != 0)
            snprintf(nd->message, sizeof nd->message, "`%s` failed with exit code %d",
                     cmds.v[i], status);
        if (rc == 0 && status != 0)
            rc = -EIO;
    }
    cfg_strv_free(&cmds);
    return rc;
}

static void stop_node(void *ctx, size_t i)
{
    down_run *d = ctx;
    down_node *nd = &d->nodes[i];
    const char *kind = nd->is_head ? "head" : "worker";
    const char *name = d->x.cfg->cluster_name;
    char err[1024];
    ssh_target t;
    ssh_conn *conn = NULL;
    lctx_target(&d->x, nd->is_head ? cfg_head_ssh_host(d->x.cfg) : nd->ip, &t);
    up_display_set(d->disp, i, UP_STEP_NONE, "stopping", "connecting");
    int64_t deadline = time_mono_ms() + DOWN_CONNECT_S * 1000;
    int rc = ssh_conn_wait(&t, deadline, NULL, NULL, &conn, err, sizeof err);
    if (rc != 0) {
        nd->unreachable = 1;
        str_printf(nd->message, sizeof nd->message, "unreachable: %s", err);
        up_display_set(d->disp, i, UP_STEP_NONE, "unreachable", nd->message);
        lstate_node_status(d->x.state, name, nd->ip, kind, LSTATE_TERMINATED,
                           "unreachable during ray down; its runtime may still be running");
    }
    if (rc == 0) {
        up_display_set(d->disp, i, UP_STEP_NONE, "stopping", "ray stop");
        rc = run_stop(d, nd, conn);
        nd->failed = rc != 0;
        up_display_set(d->disp, i, UP_STEP_NONE, rc ? "stop-failed" : LSTATE_TERMINATED,
                       rc || nd->message[0] ? nd->message : "Ray runtime stopped");
        if (rc == 0)
            lstate_node_status(d->x.state, name, nd->ip, kind, LSTATE_TERMINATED, NULL);
    }
    up_display_done(d->disp, i);
    ssh_conn_close(conn);
}

/* One line per skipped node, before anything is stopped. */
static void report_skipped(const down_run *d)
{
    if (d->n_skipped == 0)
        return;
    printf("Skipped %zu node%s that this cluster's launcher state does not show as set up "
           "by it (left untouched):\n", d->n_skipped, d->n_skipped == 1 ? "" : "s");
    for (size_t i = 0; i < d->n_skipped; i++)
        printf("  %s (%s): %s\n", d->skipped[i].ip, d->skipped[i].is_head ? "head" : "worker",
               d->skipped[i].message);
}

static int report(const down_run *d)
{
    size_t stopped = 0, unreachable = 0, failed = 0;
    for (size_t i = 0; i < d->n; i++) {
        const down_node *nd = &d->nodes[i];
        stopped += !nd->unreachable && !nd->failed;
        if (nd->unreachable && ++unreachable)
            fprintf(stderr, "Warning: %s (%s) %s\n", nd->ip, nd->is_head ? "head" : "worker",
                    nd->message);
        if (nd->failed && ++failed)
            fprintf(stderr, "Error: %s (%s): %s\n", nd->ip, nd->is_head ? "head" : "worker",
                    nd->message);
    }
    printf("\nStopped the Ray runtime on %zu of %zu node%s.", stopped, d->n, d->n == 1 ? "" : "s");
    if (unreachable > 0)
        printf(" %zu unreachable (reported above).", unreachable);
    printf("\n");
    return failed > 0 ? 1 : 0;
}

static int run(down_run *d)
{
    const cluster_config *c = d->x.cfg;
    char err[512];
    int lock = lstate_lock(c->cluster_name, err, sizeof err);
    if (lock < 0) {
        fprintf(stderr, "Error: %s\n", err);
        return 1;
    }
    int rc = lctx_confirm("Destroying cluster.", d->o.yes) > 0 ? 0 : 1;
    if (rc == 0 && d->o.workers_only)
        printf("The head node will not be shut down. (due to --workers-only)\n");
    if (rc == 0 && d->o.keep_min_workers)
        printf("%d worker nodes will not be shut down. (due to --keep-min-workers)\n",
               c->min_workers);
    if (rc == 0 && (lctx_head_ip(&d->x, d->head_ip, sizeof d->head_ip) != 0 ||
                    pick_nodes(d) != 0 || ssh_conn_global_init() != 0 ||
                    (d->disp = up_display_new(stdout, d->n, isatty(STDOUT_FILENO))) == NULL)) {
        fprintf(stderr, "Error: cannot prepare the teardown of %s\n", c->cluster_name);
        rc = 1;
    }
    if (rc == 0)
        report_skipped(d);
    if (rc == 0) {
        for (size_t i = 0; i < d->n; i++)
            up_display_name(d->disp, i, d->nodes[i].ip, d->nodes[i].is_head ? "head" : "worker");
        up_pool_run(d->n, c->max_parallel, stop_node, d, d->disp);
        rc = report(d);
    }
    close(lock);
    return rc;
}

int down_main(int argc, char **argv)
{
    down_run d;
    memset(&d, 0, sizeof d);
    int rc = parse_args(&d.o, argc, argv);
    if (rc != 0)
        return rc < 0 ? 0 : rc;
    if (lctx_open(&d.x, d.o.config, &d.o.ov) != 0)
        return 1;
    printf("Cluster: %s\n\n", d.x.cfg->cluster_name);
    rc = run(&d);
    up_display_free(d.disp);
    free(d.nodes);
    free(d.skipped);
    lctx_close(&d.x);
    return rc;
}
