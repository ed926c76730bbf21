/* Helpers shared by the node commands: flag errors, the cluster address, the token. */
#ifndef RAYC_CLI_CLI_COMMON_H
#define RAYC_CLI_CLI_COMMON_H

#include <getopt.h>
#include <stddef.h>

#include "common/rpc_client.h"

/* Prints click's usage error ("Usage: ray CMD [OPTIONS]", "Try ...",
 * "Error: No such option: X") for the getopt failure at ARGV[optind-1] and
 * returns the exit code 2. */
int cli_bad_flag(const char *cmd, char **argv);

/* Finds the GCS address to talk to: FLAG, else $RAY_ADDRESS (when it is a
 * host:port, not an http URL), else ROOT/ray_current_cluster.  Fills HOST and
 * PORT and returns 0, or -ENOENT when there is none (message printed). */
int cli_find_gcs(const char *flag, const char *root, char *host, size_t hostlen, int *port);

/* Finds the cluster token for a client of the head whose files live in ROOT
 * (env, ~/.ray/auth_token, then ROOT/session_latest/auth_token).
 * Returns 0, or prints one line and returns a negative errno. */
int cli_find_token(const char *root, char *token, size_t tokenlen);

/* Connects to the GCS at HOST:PORT as KIND; prints Ray's one-line error and
 * returns NULL when it cannot. */
rpc_client *cli_connect_gcs(const char *host, int port, const char *token, const char *kind);

#endif
