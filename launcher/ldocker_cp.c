/* `ENGINE cp` between a node's host and its container (ldocker_cp.h). */
#include "launcher/ldocker_cp.h"

#include <stdio.h>
#include <stdlib.h>

#include "common/dbuf.h"
#include "launcher/ldocker.h"
#include "launcher/lshell.h"
#include "launcher/ssh_exec.h"

#define CP_LINE_MAX 65536

/* VAR='PATH' with a leading "~" made the container's home. */
static void set_container_path(dbuf *b, const cluster_config *c, const char *var,
                               const char *path)
{
    const char *engine = ldocker_cmd(c), *name = c->docker.container_name;
    dbuf_printf(b, "%s=", var);
    lshell_quote(b, path);
    dbuf_printf(b, "; case \"$%s\" in \"~\"|\"~/\"*) %s=\"$(%s exec %s printenv HOME)${%s#\"~\"}\";; "
                "esac; ", var, var, engine, name, var);
}

/* Runs the host command B holds on CONN; WHAT names it in errors. */
static int run_on_host(lctx *x, ssh_conn *conn, dbuf *b, const char *what, char *err,
                       size_t errlen)
{
    char *cmd = dbuf_take(b, NULL);
    char *line = cmd != NULL ? lctx_command_in(x, cmd, NULL, LCTX_RUN_HOST, 0) : NULL;
    free(cmd);
    if (line == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    int status = 0;
    ssh_run_opts o = {.on_output = ssh_output_stdio};
    int rc = ssh_run(conn, line, &o, &status, err, errlen);
    free(line);
    if (rc == 0 && status != 0)
        snprintf(err, errlen, "`%s cp` %s container %s failed with exit code %d",
                 ldocker_cmd(x->cfg), what, x->cfg->docker.container_name, status);
    return rc == 0 && status == 0 ? 0 : -1;
}

int ldocker_cp_in(lctx *x, ssh_conn *conn, const char *host_path, int is_dir,
                  const char *target, char *err, size_t errlen)
{
    const cluster_config *c = x->cfg;
    const char *engine = ldocker_cmd(c), *name = c->docker.container_name;
    dbuf b;
    dbuf_init(&b, CP_LINE_MAX);
    set_container_path(&b, c, "T", target);
    dbuf_printf(&b, "if [ \"$(%s inspect -f '{{.State.Running}}' %s 2>/dev/null)\" != true ]; "
                "then echo \"container %s is not running: the files stay on the host in \"",
                engine, name, name);
    lshell_quote(&b, host_path);
    dbuf_printf(&b, " >&2; else %s exec %s mkdir -p \"$(dirname \"$T\")\" && %s cp ", engine,
                name, engine);
    lshell_quote(&b, host_path);
    dbuf_printf(&b, "%s %s:\"$T\"; fi", is_dir ? "/." : "", name);
    return run_on_host(x, conn, &b, "into", err, errlen);
}

int ldocker_cp_out(lctx *x, ssh_conn *conn, const char *source, const char *host_path,
                   char *err, size_t errlen)
{
    const cluster_config *c = x->cfg;
    const char *engine = ldocker_cmd(c), *name = c->docker.container_name;
    dbuf b;
    dbuf_init(&b, CP_LINE_MAX);
    set_container_path(&b, c, "S", source);
    dbuf_printf(&b, "H=");
    lshell_quote(&b, host_path);
    dbuf_printf(&b, "; mkdir -p \"$(dirname \"$H\")\" && if %s exec %s test -d \"$S\"; then "
                "mkdir -p \"$H\" && %s cp %s:\"$S\"/. \"$H\"; else %s cp %s:\"$S\" \"$H\"; fi",
                engine, name, engine, name, engine, name);
    return run_on_host(x, conn, &b, "out of", err, errlen);
}
