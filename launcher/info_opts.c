/* Shared option parsing for the small companion commands. */
#include "launcher/info_opts.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "launcher/lopt.h"
#include "launcher/up_cmd.h"

enum { O_TMUX = 256, O_SCREEN, O_NEW, O_START, O_REMOTE_PORT, O_IGNORED, O_IGNORED_ARG,
       O_HELP };

static const struct option info_longopts[] = {
    {"cluster-name", required_argument, NULL, 'n'},
    {"all-nodes", no_argument, NULL, 'A'},
    {"tmux", no_argument, NULL, O_TMUX},
    {"screen", no_argument, NULL, O_SCREEN},
    {"new", no_argument, NULL, 'N'},
    {"start", no_argument, NULL, O_START},
    {"port", required_argument, NULL, 'p'},
    {"remote-port", required_argument, NULL, O_REMOTE_PORT},
    {"no-config-cache", no_argument, NULL, O_IGNORED},
    {"verbose", no_argument, NULL, 'v'},
    {"log-style", required_argument, NULL, O_IGNORED_ARG},
    {"log-color", required_argument, NULL, O_IGNORED_ARG},
    {"help", no_argument, NULL, O_HELP},
    {NULL, 0, NULL, 0},
};

static int parse_one(info_opts *o, int c, const char *bad)
{
    switch (c) {
    case 'n': o->ov.cluster_name = optarg; return 0;
    case 'A': o->all_nodes = 1; return 0;
    case O_TMUX: o->tmux = 1; return 0;
    case O_SCREEN: o->screen = 1; return 0;
    case 'N': o->new_session = 1; return 0;
    case O_START: o->start = 1; return 0;
    case 'p':
        if (strcmp(o->cmd, "dashboard") != 0)
            return lopt_usage_error(o->cmd, o->usage,
                                    "--port-forward is not supported by rayc's `ray %s`",
                                    o->cmd);
        return lopt_int(o->cmd, o->usage, "--port", optarg, &o->port);
    case O_REMOTE_PORT: return lopt_int(o->cmd, o->usage, "--remote-port", optarg,
                                        &o->remote_port);
    case O_IGNORED: case O_IGNORED_ARG: case 'v': return 0;
    case O_HELP: printf("Usage: ray %s %s\n", o->cmd, o->usage); return -1;
    default: return lopt_usage_error(o->cmd, o->usage, "No such option: %s", bad);
    }
}

int info_opts_parse(info_opts *o, int argc, char **argv, int min_rest, int max_rest)
{
    int c, rc;
    o->ov.min_workers = o->ov.max_workers = -1;
    lopt_reset();
    while ((c = getopt_long(argc, argv, "n:Ap:Nv", info_longopts, NULL)) != -1)
        if ((rc = parse_one(o, c, argv[optind - 1])) != 0)
            return rc;
    if (optind >= argc)
        return lopt_usage_error(o->cmd, o->usage, "Missing argument 'CLUSTER_CONFIG_FILE'.");
    o->config = argv[optind];
    o->rest = argv + optind + 1;
    o->n_rest = argc - optind - 1;
    if (o->n_rest > max_rest)
        return lopt_usage_error(o->cmd, o->usage, "Got unexpected extra argument (%s)",
                                o->rest[max_rest]);
    if (o->n_rest < min_rest)
        return lopt_usage_error(o->cmd, o->usage, "Missing argument.");
    if (o->tmux && o->screen) {
        fprintf(stderr, "`--screen` and `--tmux` are incompatible.\n");
        return 1;
    }
    return 0;
}

int info_opts_chain_up(const info_opts *o)
{
    char *argv[5] = {"up", (char *)o->config, "-y", NULL, NULL};
    char name[300];
    int argc = 3;
    if (o->ov.cluster_name != NULL) {
        snprintf(name, sizeof name, "--cluster-name=%s", o->ov.cluster_name);
        argv[argc++] = name;
    }
    return up_main(argc, argv);
}
