/* `ray up CLUSTER.yaml`: the head first, then every worker in parallel. */
#include "launcher/up_cmd.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/token.h"
#include "common/util.h"
#include "launcher/lopt.h"
#include "launcher/lshell.h"
#include "launcher/ssh_exec.h"
#include "launcher/sync_tree.h"
#include "launcher/up_pool.h"

static const char usage[] = "[OPTIONS] CLUSTER_CONFIG_FILE";

typedef struct up_opts {
    const char *config;
    cfg_overrides ov;
    int yes, no_restart, restart_only, no_config_cache, normal_shells;
} up_opts;

/* Everything one `ray up` works with. */
typedef struct up_run {
    up_opts o;
    lctx x;
    int lock_fd;
    char token[TOKEN_MAX + 1];
    char token_path[PATH_MAX];
    char head_ip[64];
    char files_hash[UP_HASH_HEX];
    char log_dir[PATH_MAX];
    char synced_cache[PATH_MAX];
    up_display *disp;
    up_plan plan;
    up_tls tls;
    up_job *jobs;               /* [0] is the head */
    size_t n_jobs;
} up_run;

/* ---------------------------------------------------------------- options */

static void print_help(void)
{
    printf("Usage: ray up %s\n\n  Create or update a Ray cluster.\n\nOptions:\n"
           "  --min-workers INTEGER           Override the configured min worker node count.\n"
           "  --max-workers INTEGER           Override the configured max worker node count.\n"
           "  --no-restart                    Skip restarting Ray services during the update.\n"
           "  --restart-only                  Skip setup commands and only restart Ray.\n"
           "  -y, --yes                       Don't ask for confirmation.\n"
           "  -n, --cluster-name TEXT         Override the configured cluster name.\n"
           "  --no-config-cache               Ignore the recorded node state (full update).\n"
           "  --redirect-command-output       Accepted; command output always goes to the\n"
           "                                  per-node log under ~/.ray/launcher/.\n"
           "  --use-login-shells / --use-normal-shells\n"
           "                                  Run commands in bash --login -i (default).\n"
           "  --help                          Show this message and exit.\n", usage);
}

enum { O_MIN = 256, O_MAX, O_NO_RESTART, O_RESTART_ONLY, O_NO_CACHE, O_REDIRECT, O_LOGIN,
       O_NORMAL, O_IGNORED, O_IGNORED_ARG, O_HELP };

static const struct option up_longopts[] = {
    {"min-workers", required_argument, NULL, O_MIN},
    {"max-workers", required_argument, NULL, O_MAX},
    {"no-restart", no_argument, NULL, O_NO_RESTART},
    {"restart-only", no_argument, NULL, O_RESTART_ONLY},
    {"yes", no_argument, NULL, 'y'},
    {"cluster-name", required_argument, NULL, 'n'},
    {"no-config-cache", no_argument, NULL, O_NO_CACHE},
    {"redirect-command-output", no_argument, NULL, O_REDIRECT},
    {"use-login-shells", no_argument, NULL, O_LOGIN},
    {"use-normal-shells", no_argument, NULL, O_NORMAL},
    {"disable-usage-stats", no_argument, NULL, O_IGNORED},
    {"verbose", no_argument, NULL, 'v'},
    {"log-style", required_argument, NULL, O_IGNORED_ARG},
    {"log-color", required_argument, NULL, O_IGNORED_ARG},
    {"help", no_argument, NULL, O_HELP},
    {NULL, 0, NULL, 0},
};

static int parse_opt(up_opts *o, int c, const char *arg, const char *bad)
{
    switch (c) {
    case O_MIN: return lopt_int("up", usage, "--min-workers", arg, &o->ov.min_workers);
    case O_MAX: return lopt_int("up", usage, "--max-workers", arg, &o->ov.max_workers);
    case O_NO_RESTART: o->no_restart = 1; return 0;
    case O_RESTART_ONLY: o->restart_only = 1; return 0;
    case 'y': o->yes = 1; return 0;
    case 'n': o->ov.cluster_name = arg; return 0;
    case O_NO_CACHE: o->no_config_cache = 1; return 0;
    case O_LOGIN: o->normal_shells = 0; return 0;
    case O_NORMAL: o->normal_shells = 1; return 0;
    case O_REDIRECT: case O_IGNORED: case O_IGNORED_ARG: case 'v': return 0;
    case O_HELP: print_help(); return -1;
    default: return lopt_usage_error("up", usage, "No such option: %s", bad);
    }
}

/* Returns 0 to go on, -1 after --help (exit 0), or an exit code. */
static int parse_args(up_opts *o, int argc, char **argv)
{
    memset(o, 0, sizeof *o);
    o->ov.min_workers = o->ov.max_workers = -1;
    lopt_reset();
    int c, rc;
    while ((c = getopt_long(argc, argv, "yn:v", up_longopts, NULL)) != -1)
        if ((rc = parse_opt(o, c, optarg, argv[optind - 1])) != 0)
            return rc;
    if (optind >= argc)
        return lopt_usage_error("up", usage, "Missing argument 'CLUSTER_CONFIG_FILE'.");
    if (optind + 1 < argc)
        return lopt_usage_error("up", usage, "Got unexpected extra argument (%s)", argv[optind + 1]);
    o->config = argv[optind];
    if (o->restart_only && o->no_restart) {
        fprintf(stderr, "`--restart-only` is incompatible with `--no-restart`.\n");
        return 1;
    }
    return 0;
}

/* ---------------------------------------------------------------- before the run */

static int head_exists(up_run *u)
{
    lstate_node n;
    const cluster_config *c = u->x.cfg;
    return lstate_node_get(u->x.state, c->cluster_name, c->head_ip, &n) == 0 &&
           strcmp(n.status, LSTATE_TERMINATED) != 0;
}

/* Ray's prompts. */
static int confirm(up_run *u)
{
    const up_opts *o = &u->o;
    if (!head_exists(u))
        return lctx_confirm("No head node found. Launching a new cluster.", o->yes);
    if (o->restart_only)
        return lctx_confirm("Updating cluster configuration and restarting the cluster Ray "
                            "runtime. Setup commands will not be run due to `--restart-only`.",
                            o->yes);
    if (o->no_restart) {
        printf("Cluster Ray runtime will not be restarted due to `--no-restart`.\n");
        return lctx_confirm("Updating cluster configuration and running setup commands.",
                            o->yes);
    }
    printf("Updating cluster configuration and running full setup.\n");
    return lctx_confirm("Cluster Ray runtime will be restarted.", o->yes);
}

static int prepare_dirs(up_run *u)
{
    char dir[PATH_MAX];
    const char *name = u->x.cfg->cluster_name;
    lstate_dir(dir, sizeof dir);
    int n = snprintf(u->log_dir, sizeof u->log_dir, "%s/launcher/%s", dir, name);
    int rc = n < 0 || (size_t)n >= sizeof u->log_dir ? -ENAMETOOLONG : 0;
    if (rc == 0)
        rc = fs_path_join(u->synced_cache, sizeof u->synced_cache, u->log_dir, "synced");
    if (rc == 0)
        rc = fs_mkdir_p(u->log_dir, 0700);
    if (rc != 0)
        fprintf(stderr, "Error: cannot create %s: %s\n", u->log_dir, strerror(-rc));
    return rc;
}

/* The cluster token: made once per cluster, kept in the state, and copied
 * to ~/.ray/launcher/NAME/auth_token for `ray job` on this machine. */
static int prepare_token(up_run *u)
{
    char err[512];
    const cluster_config *c = u->x.cfg;
    int rc = lstate_cluster_ensure(u->x.state, c->cluster_name, c->path, c->head_ip, u->token,
                                   sizeof u->token, NULL, err, sizeof err);
    if (rc == 0 && (rc = lctx_token_path(c->cluster_name, u->token_path,
                                         sizeof u->token_path)) == 0)
        rc = token_write_file(u->token_path, u->token);
    if (rc != 0)
        fprintf(stderr, "Error: %s\n", err[0] ? err : strerror(-rc));
    return rc;
}

/* The cluster CA (made on the first `ray up`), unless `tls: false`. */
static int prepare_tls(up_run *u)
{
    char err[512] = "";
    if (!u->x.cfg->tls)
        return 0;
    int rc = up_tls_prepare(&u->tls, u->x.cfg->cluster_name, err, sizeof err);
    if (rc != 0)
        fprintf(stderr, "Error: TLS: %s\n", err);
    return rc;
}

static int prepare_hashes(up_run *u)
{
    char err[1024];
    if (lctx_head_ip(&u->x, u->head_ip, sizeof u->head_ip) != 0) {
        fprintf(stderr, "Error: cannot resolve provider.head_ip %s\n", u->x.cfg->head_ip);
        return -1;
    }
    if (up_hash_files(u->x.cfg, u->files_hash, err, sizeof err) != 0) {
        fprintf(stderr, "Error: file_mounts: %s\n", err);
        return -1;
    }
    if (u->o.no_config_cache)
        lstate_forget_hashes(u->x.state, u->x.cfg->cluster_name);
    return 0;
}

static int make_jobs(up_run *u)
{
    const cluster_config *c = u->x.cfg;
    u->n_jobs = 1 + cfg_worker_count(c);
    u->jobs = calloc(u->n_jobs, sizeof *u->jobs);
    u->disp = up_display_new(stdout, u->n_jobs, isatty(STDOUT_FILENO));
    if (u->jobs == NULL || u->disp == NULL) {
        fprintf(stderr, "Error: out of memory\n");
        return -1;
    }
    u->plan = (up_plan){.x = &u->x, .disp = u->disp, .token = u->token,
                        .tls = u->x.cfg->tls ? &u->tls : NULL, .head_ip = u->head_ip,
                        .log_dir = u->log_dir, .restart_only = u->o.restart_only,
                        .no_restart = u->o.no_restart};
    for (size_t i = 0; i < u->n_jobs; i++) {
        up_job *j = &u->jobs[i];
        j->plan = &u->plan;
        j->line = i;
        j->is_head = i == 0;
        j->ip = j->is_head ? c->head_ip : c->worker_ips.v[i - 1];
        j->ssh_host = j->is_head ? cfg_head_ssh_host(c) : j->ip;
        snprintf(j->files_hash, sizeof j->files_hash, "%s", u->files_hash);
        up_hash_runtime(c, j->is_head, u->head_ip, u->files_hash, j->runtime_hash);
        up_display_name(u->disp, i, j->ip, j->is_head ? "head" : "worker");
    }
    return 0;
}

/* Nodes recorded for this cluster but no longer part of it keep running
 * until `ray down` (which stops them too); say so. */
static void warn_dropped(up_run *u)
{
    lstate_node *rec = NULL;
    size_t n = 0;
    lstate_nodes(u->x.state, u->x.cfg->cluster_name, &rec, &n);
    for (size_t i = 0; i < n; i++) {
        int used = 0;
        for (size_t k = 0; k < u->n_jobs && !used; k++)
            used = strcmp(u->jobs[k].ip, rec[i].ip) == 0;
        if (!used && strcmp(rec[i].status, LSTATE_TERMINATED) != 0)
            fprintf(stderr, "Warning: %s (%s) is no longer in the cluster config; its Ray "
                            "runtime keeps running until `ray down`.\n", rec[i].ip, rec[i].kind);
    }
    free(rec);
}

/* ---------------------------------------------------------------- the run */

static void run_job(void *ctx, size_t i)
{
    up_node_update(&((up_job *)ctx)[i]);
}

/* Copies cluster_synced_files from the head into the local cache (entry I
 * as SYNCED_CACHE/I) and folds their contents into the workers' files hash. */
static int fetch_synced(up_run *u)
{
    const cluster_config *c = u->x.cfg;
    char err[1024], src[PATH_MAX], dst[PATH_MAX + 32], hash[UP_HASH_HEX];
    ssh_target t;
    ssh_conn *conn = NULL;
    if (c->cluster_synced_files.n == 0)
        return 0;
    lctx_target(&u->x, cfg_head_ssh_host(c), &t);
    fs_rm_rf(u->synced_cache);
    int rc = ssh_conn_open(&t, &conn, err, sizeof err);
    for (size_t i = 0; rc == 0 && i < c->cluster_synced_files.n; i++) {
        snprintf(dst, sizeof dst, "%s/%zu", u->synced_cache, i);
        rc = ssh_conn_expand(conn, c->cluster_synced_files.v[i], src, sizeof src, err,
                             sizeof err);
        if (rc == 0 && (rc = sync_down(conn, src, dst, NULL, NULL, err, sizeof err)) == -ENOENT)
            rc = 0;                     /* Ray skips paths the head does not have */
    }
    ssh_conn_close(conn);
    if (rc == 0 && fs_mkdir_p(u->synced_cache, 0700) == 0 &&
        (rc = up_hash_dir(u->synced_cache, u->files_hash, hash, err, sizeof err)) == 0) {
        for (size_t i = 1; i < u->n_jobs; i++)
            snprintf(u->jobs[i].files_hash, sizeof u->jobs[i].files_hash, "%s", hash);
        u->plan.synced_cache = u->synced_cache;
        return 0;
    }
    fprintf(stderr, "Error: cluster_synced_files from the head: %s\n", err);
    return -1;
}

static int run_nodes(up_run *u)
{
    int parallel = u->x.cfg->max_parallel;
    up_display_tick(u->disp);
    up_pool_run(1, 1, run_job, u->jobs, u->disp);
    if (!u->jobs[0].ok) {
        for (size_t i = 1; i < u->n_jobs; i++)
            up_display_set(u->disp, i, UP_STEP_NONE, "uninitialized", "not started: the head failed");
        up_display_tick(u->disp);
        return -1;
    }
    if (u->n_jobs > 1 && fetch_synced(u) != 0)
        return -1;
    up_pool_run(u->n_jobs - 1, parallel, run_job, u->jobs + 1, u->disp);
    return 0;
}

static int finish(up_run *u, int64_t start_ms)
{
    const cluster_config *c = u->x.cfg;
    char name_flag[300] = "";
    size_t failed = up_report_failures(u->jobs, u->n_jobs);
    if (!u->jobs[0].ok) {
        fprintf(stderr, "\nError: Failed to setup head node %s.\n", u->jobs[0].ip);
        return 1;
    }
    if (failed > 0) {
        fprintf(stderr, "\nError: `ray up` failed on %zu of %zu nodes:", failed, u->n_jobs);
        for (size_t i = 0, k = 0; i < u->n_jobs; i++)
            if (!u->jobs[i].ok)
                fprintf(stderr, "%s %s (%s)", k++ ? "," : "", u->jobs[i].ip,
                        u->jobs[i].is_head ? "head" : "worker");
        fprintf(stderr, ". The other nodes are up.\n");
        return 1;
    }
    printf("\nCluster %s is up: %zu node%s up-to-date (1 head, %zu worker%s) in %.1f s.\n",
           c->cluster_name, u->n_jobs, u->n_jobs == 1 ? "" : "s", u->n_jobs - 1,
           u->n_jobs == 2 ? "" : "s", (double)(time_mono_ms() - start_ms) / 1000.0);
    if (u->o.ov.cluster_name != NULL)
        snprintf(name_flag, sizeof name_flag, " --cluster-name=%s", c->cluster_name);
    char ca_path[PATH_MAX];
    int tls = c->tls && up_tls_ca_path(c->cluster_name, ca_path, sizeof ca_path) == 0;
    up_report_useful(c->path, name_flag, u->token_path, tls ? ca_path : NULL);
    return 0;
}

static int prepare(up_run *u)
{
    const cluster_config *c = u->x.cfg;
    char err[512];
    for (size_t i = 0; i < c->warnings.n; i++)
        fprintf(stderr, "Warning: %s\n", c->warnings.v[i]);
    printf("Cluster: %s\n\n", c->cluster_name);
    if ((u->lock_fd = lstate_lock(c->cluster_name, err, sizeof err)) < 0) {
        fprintf(stderr, "Error: %s\n", err);
        return -1;
    }
    int ok = confirm(u);
    if (ok <= 0)
        return -1;
    if (prepare_dirs(u) != 0 || prepare_token(u) != 0 || prepare_tls(u) != 0 ||
        prepare_hashes(u) != 0 ||
        make_jobs(u) != 0)
        return -1;
    warn_dropped(u);
    return 0;
}

int up_main(int argc, char **argv)
{
    up_run u;
    int rc = parse_args(&u.o, argc, argv);
    if (rc != 0)
        return rc < 0 ? 0 : rc;
    u.lock_fd = -1;
    u.jobs = NULL;
    u.disp = NULL;
    u.plan.synced_cache = NULL;
    memset(&u.tls, 0, sizeof u.tls);
    if (lctx_open(&u.x, u.o.config, &u.o.ov) != 0)
        return 1;
    u.x.login_shells = !u.o.normal_shells;
    int64_t start = time_mono_ms();
    rc = prepare(&u) == 0 && ssh_conn_global_init() == 0 ? 0 : 1;
    if (rc == 0) {
        run_nodes(&u);
        rc = finish(&u, start);
    }
    free(u.jobs);
    up_tls_free(&u.tls);
    up_display_free(u.disp);
    if (u.lock_fd >= 0)
        close(u.lock_fd);
    lctx_close(&u.x);
    return rc;
}
