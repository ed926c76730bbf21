/* What every launcher command starts from: the loaded cluster config, the
 * state database, the known_hosts files, and how commands are sent to a
 * node (login shell, environment).
 *
 * Host keys are recorded in ~/.ray/known_hosts (or $RAYC_KNOWN_HOSTS) on
 * first use; keys already in ~/.ssh/known_hosts are trusted too, and a
 * changed key in either file is refused. */
#ifndef RAYC_LAUNCHER_LCTX_H
#define RAYC_LAUNCHER_LCTX_H

#include <limits.h>
#include <stddef.h>

#include "common/token.h"
#include "launcher/cfg.h"
#include "launcher/lstate.h"
#include "launcher/ssh_conn.h"

typedef struct lctx {
    cluster_config *cfg;
    lstate *state;
    char known_hosts[PATH_MAX];
    char known_hosts_also[PATH_MAX];
    int login_shells;           /* Ray's default: bash --login -c -i */
} lctx;

/* Loads the cluster YAML at PATH (with overrides OV, may be NULL) and opens
 * the state.  On failure prints one line "Error: ..." to stderr and returns
 * -1; on success returns 0 (release with lctx_close). */
int lctx_open(lctx *x, const char *path, const cfg_overrides *ov);

/* Releases what lctx_open took. */
void lctx_close(lctx *x);

/* Fills T to reach HOST with the cluster's auth settings. */
void lctx_target(const lctx *x, const char *host, ssh_target *t);

/* The command line that runs CMD on a node: exports RAY_AUTH_TOKEN_PATH
 * (the node's token file) and, when HEAD_IP is not NULL, RAY_HEAD_IP, then
 * wraps it in the login shell unless normal shells were asked for.
 * Returns a new string (free it) or NULL when out of memory. */
char *lctx_command(const lctx *x, const char *cmd, const char *head_ip);

/* Where a command runs when the cluster has a docker section (Ray's
 * run_env): AUTO runs it in the container unless it starts with the
 * engine's name. */
typedef enum { LCTX_RUN_AUTO, LCTX_RUN_HOST, LCTX_RUN_DOCKER } lctx_run_env;

/* lctx_command with Ray's DockerCommandRunner: in the container, the
 * wrapped command (exports included) becomes `ENGINE exec [-it] NAME
 * /bin/bash -c '...'` (-it with TTY, as Ray does with login shells), itself
 * run in the host's login shell.  Without docker, or on the host, the same
 * as lctx_command.  Returns a new string or NULL when out of memory. */
char *lctx_command_in(const lctx *x, const char *cmd, const char *head_ip, lctx_run_env env,
                      int tty);

/* The head address workers use (provider.head_ip resolved to IPv4 when it
 * is a name) into OUT.  Returns 0 or -EHOSTUNREACH. */
int lctx_head_ip(const lctx *x, char *out, size_t outlen);

/* Finds the head of the cluster in the state into IP (the YAML address):
 * one that is up-to-date, or with ALLOW_UNINIT any head not terminated
 * (with a warning, as Ray's exec and attach do).  Prints Ray's "Head node of
 * cluster (NAME) not found!" and returns -1 when there is none. */
int lctx_find_head(const lctx *x, int allow_uninit, char *ip, size_t iplen);

/* Connects to the node at IP (the head's ssh address when IS_HEAD).  Prints
 * "Error: ..." and returns NULL on failure. */
ssh_conn *lctx_connect(const lctx *x, const char *ip, int is_head);

/* Prints Ray's confirmation prompt MSG and reads the answer from stdin.
 * With YES prints the automatic answer.  Returns 1 to go on, 0 when the
 * user said no ("Exiting..." printed), -1 when stdin is not a terminal and
 * YES is not set (Ray's message printed). */
int lctx_confirm(const char *msg, int yes);

/* Where this launcher keeps the local copy of cluster NAME's token
 * (~/.ray/launcher/NAME/auth_token), into OUT. */
int lctx_token_path(const char *name, char *out, size_t outlen);

#endif
