/* `ray exec`, `ray submit` and `ray monitor`: a command on the head node.
 *
 * The command runs through the same login shell as `ray up`'s commands,
 * with a pty when stdin is a terminal (like Ray's ssh -tt) and plain pipes
 * otherwise, so scripted use keeps stdout and stderr apart.  The exit code
 * of `ray exec` is the command's. */
#include "launcher/exec_cmd.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "launcher/down_cmd.h"
#include "launcher/lctx.h"
#include "launcher/ldocker.h"
#include "launcher/ldocker_cp.h"
#include "launcher/lopt.h"
#include "launcher/lshell.h"
#include "launcher/ssh_exec.h"
#include "launcher/ssh_fwd.h"
#include "launcher/ssh_xfer.h"
#include "launcher/up_cmd.h"

#define MAX_FORWARDS 16

typedef struct exec_req {
    const char *cmdname;        /* "exec", "submit", "monitor" */
    const char *usage;
    const char *config;
    cfg_overrides ov;
    int start, stop, screen, tmux;
    int ports[MAX_FORWARDS];
    size_t n_ports;
    char **rest;                /* positional arguments after the config */
    int n_rest;
    int lines;                  /* monitor */
    lctx_run_env run_env;       /* --run-env: where the command runs (docker) */
} exec_req;

enum { O_START = 256, O_STOP, O_SCREEN, O_TMUX, O_NO_CACHE, O_RUN_ENV, O_LINES, O_ARGS,
       O_IGNORED, O_IGNORED_ARG, O_HELP };

static const struct option exec_longopts[] = {
    {"start", no_argument, NULL, O_START},
    {"stop", no_argument, NULL, O_STOP},
    {"screen", no_argument, NULL, O_SCREEN},
    {"tmux", no_argument, NULL, O_TMUX},
    {"cluster-name", required_argument, NULL, 'n'},
    {"no-config-cache", no_argument, NULL, O_NO_CACHE},
    {"port-forward", required_argument, NULL, 'p'},
    {"run-env", required_argument, NULL, O_RUN_ENV},
    {"lines", required_argument, NULL, O_LINES},
    {"args", required_argument, NULL, O_ARGS},
    {"disable-usage-stats", no_argument, NULL, O_IGNORED},
    {"extra-screen-args", required_argument, NULL, O_IGNORED_ARG},
    {"verbose", no_argument, NULL, 'v'},
    {"log-style", required_argument, NULL, O_IGNORED_ARG},
    {"log-color", required_argument, NULL, O_IGNORED_ARG},
    {"help", no_argument, NULL, O_HELP},
    {NULL, 0, NULL, 0},
};

/* ---------------------------------------------------------------- options */

static int add_port(exec_req *r, const char *arg)
{
    int port;
    if (r->n_ports >= MAX_FORWARDS)
        return lopt_usage_error(r->cmdname, r->usage, "at most %d --port-forward", MAX_FORWARDS);
    if (lopt_int(r->cmdname, r->usage, "--port-forward", arg, &port) != 0)
        return LOPT_USAGE;
    r->ports[r->n_ports++] = port;
    return 0;
}

static int parse_one(exec_req *r, int c, const char *bad)
{
    switch (c) {
    case O_START: r->start = 1; return 0;
    case O_STOP: r->stop = 1; return 0;
    case O_SCREEN: r->screen = 1; return 0;
    case O_TMUX: r->tmux = 1; return 0;
    case 'n': r->ov.cluster_name = optarg; return 0;
    case 'p': return add_port(r, optarg);
    case O_LINES: return lopt_int(r->cmdname, r->usage, "--lines", optarg, &r->lines);
    case O_RUN_ENV:
        if (strcmp(optarg, "auto") && strcmp(optarg, "host") && strcmp(optarg, "docker"))
            return lopt_usage_error(r->cmdname, r->usage,
                                    "Invalid value for '--run-env': '%s' is not one of 'auto', "
                                    "'host', 'docker'.", optarg);
        r->run_env = !strcmp(optarg, "host") ? LCTX_RUN_HOST
                     : !strcmp(optarg, "docker") ? LCTX_RUN_DOCKER : LCTX_RUN_AUTO;
        return 0;
    case O_ARGS: case O_NO_CACHE: case O_IGNORED: case O_IGNORED_ARG: case 'v': return 0;
    case O_HELP:
        printf("Usage: ray %s %s\n", r->cmdname, r->usage);
        return -1;
    default: return lopt_usage_error(r->cmdname, r->usage, "No such option: %s", bad);
    }
}

/* Parses ARGV into R; NEED is the number of positional arguments after the
 * config file that must be there.  Returns 0, -1 after --help, or an exit
 * code. */
static int parse_args(exec_req *r, int argc, char **argv, int need, const char *missing)
{
    int c, rc;
    r->ov.min_workers = r->ov.max_workers = -1;
    lopt_reset();
    while ((c = getopt_long(argc, argv, "n:p:vN", exec_longopts, NULL)) != -1)
        if ((rc = parse_one(r, c, argv[optind - 1])) != 0)
            return rc;
    if (optind >= argc)
        return lopt_usage_error(r->cmdname, r->usage, "Missing argument 'CLUSTER_CONFIG_FILE'.");
    r->config = argv[optind];
    r->rest = argv + optind + 1;
    r->n_rest = argc - optind - 1;
    if (r->n_rest < need)
        return lopt_usage_error(r->cmdname, r->usage, "Missing argument '%s'.", missing);
    if (r->screen && r->tmux) {
        fprintf(stderr, "`--screen` and `--tmux` are incompatible.\n");
        return 1;
    }
    return 0;
}

/* ---------------------------------------------------------------- running */

/* Ray's --screen / --tmux: the command runs detached in a session. */
static char *wrap_session(const exec_req *r, const char *cmd)
{
    dbuf b;
    dbuf_init(&b, 1024 * 1024);
    dbuf_puts(&b, r->tmux ? "tmux new -d bash -c " : "screen -L -dm bash -c ");
    char *inner = malloc(strlen(cmd) + 16);
    if (inner == NULL)
        return NULL;
    snprintf(inner, strlen(cmd) + 16, "%s; exec bash", cmd);
    lshell_quote(&b, inner);
    free(inner);
    return dbuf_take(&b, NULL);
}

static volatile sig_atomic_t never;

static int run_on(lctx *x, ssh_conn *conn, const exec_req *r, const char *cmd)
{
    char err[1024];
    int status = SSH_EXIT_NONE, rc;
    char *session = r->screen || r->tmux ? wrap_session(r, cmd) : NULL;
    int tty = isatty(STDIN_FILENO);
    char *line = lctx_command_in(x, session != NULL ? session : cmd, NULL, r->run_env,
                                 tty && r->n_ports == 0);
    free(session);
    if (line == NULL)
        return 1;
    if (r->n_ports > 0) {
        ssh_fwd_port fwd[MAX_FORWARDS];
        for (size_t i = 0; i < r->n_ports; i++)
            fwd[i] = (ssh_fwd_port){r->ports[i], "127.0.0.1", r->ports[i]};
        rc = ssh_fwd_run(conn, fwd, r->n_ports, line, ssh_output_stdio, NULL, NULL, NULL, &never,
                         &status, err, sizeof err);
    } else {
        ssh_run_opts o = {.pty = tty, .on_output = ssh_output_stdio};
        rc = ssh_run(conn, line, &o, &status, err, sizeof err);
    }
    free(line);
    if (rc != 0) {
        fprintf(stderr, "Error: %s\n", err);
        return 1;
    }
    if (r->screen || r->tmux)
        printf("Run `ray attach %s%s` to check command status.\n", r->config,
               r->tmux ? " --tmux" : " --screen");
    return status == SSH_EXIT_NONE ? 1 : status;
}

/* `ray up -y` / `ray down -y` for --start / --stop. */
static int chain(const exec_req *r, int up)
{
    char *argv[5] = {up ? "up" : "down", (char *)r->config, "-y", NULL, NULL};
    int argc = 3;
    char name[300];
    if (r->ov.cluster_name != NULL) {
        snprintf(name, sizeof name, "--cluster-name=%s", r->ov.cluster_name);
        argv[argc++] = name;
    }
    return up ? up_main(argc, argv) : down_main(argc, argv);
}

/* Runs CMD on the head of R's cluster with --start / --stop around it.
 * PREPARE (may be NULL) runs first on the open connection (submit's upload). */
static int on_head(const exec_req *r, const char *cmd,
                   int (*prepare)(lctx *, ssh_conn *, const exec_req *, char **cmd_out))
{
    lctx x;
    char ip[256];
    char *made = NULL;
    if (r->start && chain(r, 1) != 0)
        return 1;
    if (lctx_open(&x, r->config, &r->ov) != 0)
        return 1;
    ssh_conn *conn = NULL;
    int rc = 1;
    if (lctx_find_head(&x, 1, ip, sizeof ip) == 0 && (conn = lctx_connect(&x, ip, 1)) != NULL &&
        (prepare == NULL || prepare(&x, conn, r, &made) == 0))
        rc = run_on(&x, conn, r, made != NULL ? made : cmd);
    free(made);
    ssh_conn_close(conn);
    lctx_close(&x);
    if (r->stop && rc == 0)
        rc = chain(r, 0);
    return rc;
}

int exec_main(int argc, char **argv)
{
    exec_req r = {.cmdname = "exec", .usage = "[OPTIONS] CLUSTER_CONFIG_FILE CMD"};
    int rc = parse_args(&r, argc, argv, 1, "CMD");
    if (rc != 0)
        return rc < 0 ? 0 : rc;
    if (r.n_rest > 1)
        return lopt_usage_error("exec", r.usage, "Got unexpected extra argument (%s)", r.rest[1]);
    return on_head(&r, r.rest[0], NULL);
}

/* ---------------------------------------------------------------- submit */

/* Uploads the script to ~/NAME and builds the command that runs it:
 * `python ~/x.py ARGS` for Python (as Ray), `bash ~/x.sh ARGS` for shell
 * scripts, `~/x ARGS` for anything else (its mode is kept). */
static int submit_prepare(lctx *x, ssh_conn *conn, const exec_req *r, char **cmd_out)
{
    char remote[PATH_MAX], err[1024];
    const char *script = r->rest[0], *base = strrchr(script, '/');
    base = base != NULL ? base + 1 : script;
    (void)x;
    snprintf(remote, sizeof remote, "~/%s", base);
    char abs[PATH_MAX];
    int docker = x->cfg->docker_enabled && r->run_env != LCTX_RUN_HOST;
    int rc = docker ? ldocker_host_path(x->cfg, remote, abs, sizeof abs)
                    : ssh_conn_expand(conn, remote, abs, sizeof abs, err, sizeof err);
    if (rc == -ENAMETOOLONG)
        snprintf(err, sizeof err, "path too long");
    if (rc != 0 || (docker && ssh_xfer_mkparent(conn, abs, err, sizeof err) != 0) ||
        ssh_xfer_put(conn, script, abs, err, sizeof err) != 0 ||
        (docker && ldocker_cp_in(x, conn, abs, 0, remote, err, sizeof err) != 0)) {
        fprintf(stderr, "Error: cannot upload %s: %s\n", script, err);
        return -1;
    }
    size_t len = strlen(base);
    const char *runner = len > 3 && strcmp(base + len - 3, ".py") == 0 ? "python "
                         : len > 3 && strcmp(base + len - 3, ".sh") == 0 ? "bash " : "";
    dbuf b;
    dbuf_init(&b, 1024 * 1024);
    dbuf_printf(&b, "%s~/", runner);
    lshell_quote(&b, base);
    for (int i = 1; i < r->n_rest; i++) {
        dbuf_puts(&b, " ");
        lshell_quote(&b, r->rest[i]);
    }
    *cmd_out = dbuf_take(&b, NULL);
    return *cmd_out != NULL ? 0 : -1;
}

int submit_main(int argc, char **argv)
{
    exec_req r = {.cmdname = "submit",
                  .usage = "[OPTIONS] CLUSTER_CONFIG_FILE SCRIPT [SCRIPT_ARGS]..."};
    int rc = parse_args(&r, argc, argv, 1, "SCRIPT");
    if (rc != 0)
        return rc < 0 ? 0 : rc;
    return on_head(&r, NULL, submit_prepare);
}

/* ---------------------------------------------------------------- monitor */

/* The --temp-dir of the head's `ray start`, else RAY_TMPDIR's default. */
static void head_temp_dir(const cluster_config *c, char *out, size_t outlen)
{
    snprintf(out, outlen, "${RAY_TMPDIR:-/tmp/ray}");
    for (size_t i = 0; i < c->head_start_ray_commands.n; i++) {
        const char *s = strstr(c->head_start_ray_commands.v[i], "--temp-dir");
        if (s == NULL)
            continue;
        s += strlen("--temp-dir");
        s += strspn(s, "= ");
        size_t n = strcspn(s, " ;&|'\"");
        if (n > 0 && n < outlen)
            snprintf(out, outlen, "%.*s", (int)n, s);
    }
}

int monitor_main(int argc, char **argv)
{
    exec_req r = {.cmdname = "monitor", .usage = "[OPTIONS] CLUSTER_CONFIG_FILE", .lines = 100};
    char cmd[PATH_MAX * 2], temp[PATH_MAX];
    cluster_config *c = NULL;
    int rc = parse_args(&r, argc, argv, 0, "");
    if (rc != 0)
        return rc < 0 ? 0 : rc;
    if (cfg_load(r.config, &r.ov, &c, cmd, sizeof cmd) != 0) {
        fprintf(stderr, "Error: %s\n", cmd);
        return 1;
    }
    head_temp_dir(c, temp, sizeof temp);
    snprintf(cmd, sizeof cmd, "tail -n %d -f %s/session_latest/node_%s_*/logs/*.log", r.lines,
             temp, c->head_ip);
    cfg_free(c);
    return on_head(&r, cmd, NULL);
}
