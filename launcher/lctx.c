/* The context every launcher command works in: config, state, ssh settings. */
#include "launcher/lctx.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/net.h"
#include "common/util.h"
#include "launcher/ldocker.h"
#include "launcher/lshell.h"

int lctx_open(lctx *x, const char *path, const cfg_overrides *ov)
{
    char err[1024], dir[PATH_MAX];
    memset(x, 0, sizeof *x);
    x->login_shells = 1;
    if (cfg_load(path, ov, &x->cfg, err, sizeof err) != 0) {
        fprintf(stderr, "Error: %s\n", err);
        return -1;
    }
    if (lstate_open(NULL, &x->state, err, sizeof err) != 0) {
        fprintf(stderr, "Error: %s\n", err);
        lctx_close(x);
        return -1;
    }
    const char *kh = getenv("RAYC_KNOWN_HOSTS");
    lstate_dir(dir, sizeof dir - 32);
    if (kh != NULL && kh[0] != '\0')
        snprintf(x->known_hosts, sizeof x->known_hosts, "%s", kh);
    else
        fs_path_join(x->known_hosts, sizeof x->known_hosts, dir, "known_hosts"); /* DIR is capped above */
    const char *home = getenv("HOME");
    snprintf(x->known_hosts_also, sizeof x->known_hosts_also, "%s/.ssh/known_hosts",
             home != NULL ? home : "/nonexistent");
    return 0;
}

void lctx_close(lctx *x)
{
    cfg_free(x->cfg);
    lstate_close(x->state);
    memset(x, 0, sizeof *x);
}

void lctx_target(const lctx *x, const char *host, ssh_target *t)
{
    const cluster_config *c = x->cfg;
    memset(t, 0, sizeof *t);
    t->host = host;
    t->port = c->ssh_port;
    t->user = c->ssh_user;
    t->key_path = c->ssh_private_key;
    t->proxy_command = c->ssh_proxy_command;
    t->known_hosts = x->known_hosts;
    t->known_hosts_also = access(x->known_hosts_also, R_OK) == 0 ? x->known_hosts_also : NULL;
    t->connect_timeout_s = 10;
}

char *lctx_command(const lctx *x, const char *cmd, const char *head_ip)
{
    lshell_env env[6] = {{"RAY_AUTH_TOKEN_PATH", x->cfg->auth_token_path}};
    size_t n = 1;
    if (x->cfg->tls) {
        env[n++] = (lshell_env){"RAY_USE_TLS", "1"};
        env[n++] = (lshell_env){"RAY_TLS_SERVER_CERT", x->cfg->tls_cert};
        env[n++] = (lshell_env){"RAY_TLS_SERVER_KEY", x->cfg->tls_key};
        env[n++] = (lshell_env){"RAY_TLS_CA_CERT", x->cfg->tls_ca};
    }
    if (head_ip != NULL)
        env[n++] = (lshell_env){"RAY_HEAD_IP", head_ip};
    return lshell_wrap(cmd, env, n, x->login_shells);
}

char *lctx_command_in(const lctx *x, const char *cmd, const char *head_ip, lctx_run_env env,
                      int tty)
{
    const cluster_config *c = x->cfg;
    if (!c->docker_enabled || env == LCTX_RUN_HOST ||
        (env == LCTX_RUN_AUTO && ldocker_auto_host(c, cmd)))
        return lctx_command(x, cmd, head_ip);
    char *inner = lctx_command(x, cmd, head_ip);
    char *exec = inner != NULL ? ldocker_exec(c, inner, tty && x->login_shells) : NULL;
    char *line = exec != NULL ? lshell_wrap(exec, NULL, 0, x->login_shells) : NULL;
    free(inner);
    free(exec);
    return line;
}

int lctx_head_ip(const lctx *x, char *out, size_t outlen)
{
    return net_resolve_ipv4(x->cfg->head_ip, out, outlen);
}

int lctx_token_path(const char *name, char *out, size_t outlen)
{
    char dir[PATH_MAX];
    int rc = lstate_dir(dir, sizeof dir);
    if (rc != 0)
        return rc;
    int n = snprintf(out, outlen, "%s/launcher/%s/auth_token", dir, name);
    return n > 0 && (size_t)n < outlen ? 0 : -ENAMETOOLONG;
}

/* ---------------------------------------------------------------- the head */

int lctx_find_head(const lctx *x, int allow_uninit, char *ip, size_t iplen)
{
    const cluster_config *c = x->cfg;
    lstate_node n;
    if (lstate_node_get(x->state, c->cluster_name, c->head_ip, &n) == 0 &&
        strcmp(n.status, LSTATE_TERMINATED) != 0) {
        if (strcmp(n.status, LSTATE_UP_TO_DATE) == 0 || allow_uninit) {
            if (strcmp(n.status, LSTATE_UP_TO_DATE) != 0)
                fprintf(stderr, "Warning: Head node (%s) is in state %s.\n", n.ip, n.status);
            snprintf(ip, iplen, "%s", n.ip);
            return 0;
        }
        fprintf(stderr, "Warning: Head node (%s) is in state %s.\n", n.ip, n.status);
    }
    fprintf(stderr, "Error: Head node of cluster (%s) not found!\n", c->cluster_name);
    return -1;
}

ssh_conn *lctx_connect(const lctx *x, const char *ip, int is_head)
{
    char err[1024];
    ssh_target t;
    ssh_conn *conn = NULL;
    if (ssh_conn_global_init() != 0) {
        fprintf(stderr, "Error: cannot initialise libssh\n");
        return NULL;
    }
    lctx_target(x, is_head ? cfg_head_ssh_host(x->cfg) : ip, &t);
    if (ssh_conn_open(&t, &conn, err, sizeof err) != 0) {
        fprintf(stderr, "Error: cannot reach %s: %s\n", t.host, err);
        return NULL;
    }
    return conn;
}

/* ---------------------------------------------------------------- prompt */

static int read_answer(void)
{
    char line[128];
    for (;;) {
        if (fgets(line, sizeof line, stdin) == NULL)
            return 0;
        if (line[0] == '\n')
            return 0;                   /* the default is No */
        line[strcspn(line, "\r\n")] = '\0';
        for (char *p = line; *p; p++)
            *p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
        if (!strcmp(line, "y") || !strcmp(line, "yes") || !strcmp(line, "true") ||
            !strcmp(line, "1"))
            return 1;
        if (!strcmp(line, "n") || !strcmp(line, "no") || !strcmp(line, "false") ||
            !strcmp(line, "0"))
            return 0;
        printf("Invalid answer: %s. Expected y/yes/true/1 or n/no/false/0\nConfirm [y/N]: ",
               line);
        fflush(stdout);
    }
}

int lctx_confirm(const char *msg, int yes)
{
    if (!yes && !isatty(STDIN_FILENO)) {
        fprintf(stderr, "This command requires user confirmation. When running "
                        "non-interactively, supply --yes to skip.\n");
        return -1;
    }
    if (yes) {
        printf("%s Confirm [y/N]: y [automatic, due to --yes]\n", msg);
        fflush(stdout);
        return 1;
    }
    printf("%s Confirm [y/N]: ", msg);
    fflush(stdout);
    if (read_answer())
        return 1;
    printf("Exiting...\n");
    return 0;
}
