/* Helpers shared by the node commands: flag errors, the cluster address, the token. */
#include "cli/cli_common.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cmdline.h"
#include "common/net.h"
#include "common/node_registry.h"
#include "common/token.h"
#include "common/util.h"

int cli_bad_flag(const char *cmd, char **argv)
{
    char prog[64];
    snprintf(prog, sizeof prog, "ray %s", cmd);
    const char *arg = optind > 0 ? argv[optind - 1] : "?";
    if (optopt != 0 && strncmp(arg, "--", 2) != 0)
        return cmdline_usage_error(prog, "[OPTIONS]", "No such option: -%c", optopt);
    /* getopt_long names the option (optopt) when it exists but its value is
     * missing, or given to an option that takes none. */
    int rc = optopt == 0 ? CMDLINE_UNKNOWN
             : strchr(arg, '=') == NULL ? CMDLINE_MISSING : CMDLINE_NOT_VALUED;
    return cmdline_option_error(prog, "[OPTIONS]", rc, arg);
}

int cli_find_gcs(const char *flag, const char *root, char *host, size_t hostlen, int *port)
{
    const char *addr = flag;
    const char *env = getenv("RAY_ADDRESS");
    char local[256];
    if ((addr == NULL || *addr == '\0' || strcmp(addr, "auto") == 0) && env != NULL &&
        *env != '\0' && strstr(env, "://") == NULL && strcmp(env, "auto") != 0)
        addr = env;
    if ((addr == NULL || *addr == '\0' || strcmp(addr, "auto") == 0) &&
        node_current_gcs(root, local, sizeof local) == 0)
        addr = local;
    if (addr == NULL || *addr == '\0' || strcmp(addr, "auto") == 0) {
        fprintf(stderr, "ConnectionError: Could not find any running Ray instance. Please "
                        "specify the one to connect to by setting `--address` flag or "
                        "`RAY_ADDRESS` environment variable.\n");
        return -ENOENT;
    }
    int rc = net_parse_hostport(addr, 6379, host, hostlen, port);
    if (rc != 0)
        fprintf(stderr, "Error: malformed address '%s' (want HOST:PORT)\n", addr);
    return rc;
}

int cli_find_token(const char *root, char *token, size_t tokenlen)
{
    char fallback[PATH_MAX], source[PATH_MAX];
    node_token_fallback(root, fallback, sizeof fallback);
    int rc = token_find(token, tokenlen, fallback, source, sizeof source);
    if (rc == -ENOENT && !token_env_set())
        fprintf(stderr, "Error: no cluster token found: set RAY_AUTH_TOKEN or "
                        "RAY_AUTH_TOKEN_PATH, or put it in ~/.ray/auth_token\n");
    else if (rc != 0)
        fprintf(stderr, "Error: cannot read the cluster token from %s: %s.\n", source,
                token_error(rc));
    return rc;
}

rpc_client *cli_connect_gcs(const char *host, int port, const char *token, const char *kind)
{
    rpc_client *c = NULL;
    char err[512];
    int rc = rpc_client_connect(host, port, token, kind, 5000, &c, err, sizeof err);
    if (rc == -EACCES) {
        fprintf(stderr, "Error: the cluster at %s:%d refused the token (%s). Use the token "
                        "of that cluster (RAY_AUTH_TOKEN, RAY_AUTH_TOKEN_PATH or "
                        "~/.ray/auth_token).\n", host, port, err);
    } else if (rc != 0) {
        fprintf(stderr, "ConnectionError: Unable to connect to GCS at %s:%d (%s). Check that "
                        "(1) Ray GCS with matching version started successfully at the "
                        "specified address, and (2) there is no firewall setting preventing "
                        "access.\n", host, port, err);
    }
    return rc == 0 ? c : NULL;
}
