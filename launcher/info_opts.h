/* Options of the small companion commands (attach, dashboard, rsync-up,
 * rsync-down, get-head-ip, get-worker-ips), parsed the same way. */
#ifndef RAYC_LAUNCHER_INFO_OPTS_H
#define RAYC_LAUNCHER_INFO_OPTS_H

#include "launcher/cfg.h"

typedef struct info_opts {
    const char *cmd;            /* "attach", ... (set by the caller) */
    const char *usage;          /* set by the caller */
    const char *config;
    cfg_overrides ov;
    int all_nodes, tmux, screen, new_session, start;
    int port, remote_port;      /* dashboard (defaults set by the caller) */
    char **rest;                /* positional arguments after the config */
    int n_rest;
} info_opts;

/* Parses ARGV into O, which needs between MIN_REST and MAX_REST positional
 * arguments after the config file.  Returns 0, -1 after --help (exit 0), or
 * an exit code after printing the error. */
int info_opts_parse(info_opts *o, int argc, char **argv, int min_rest, int max_rest);

/* Runs `ray up CONFIG -y` (for --start).  Returns its exit code. */
int info_opts_chain_up(const info_opts *o);

#endif
