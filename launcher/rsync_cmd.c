/* `ray rsync-up` / `ray rsync-down`: files to and from the cluster over SFTP.
 *
 * rsync's trailing-slash rule applies, as Ray runs rsync: a directory SOURCE
 * without a trailing '/' lands inside TARGET under its own name, with one
 * its contents go into TARGET; a file goes into TARGET when TARGET ends with
 * '/' or is an existing directory.  rsync_exclude and rsync_filter apply to
 * uploads, rsync_exclude to downloads. */
#include "launcher/info_cmd.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/util.h"
#include "launcher/info_opts.h"
#include "launcher/lctx.h"
#include "launcher/ssh_xfer.h"
#include "launcher/sync_tree.h"

static const char usage[] = "[OPTIONS] CLUSTER_CONFIG_FILE [SOURCE] [TARGET]";

static const char *base_name(const char *path, char *buf, size_t buflen)
{
    snprintf(buf, buflen, "%s", path);
    size_t n = strlen(buf);
    while (n > 1 && buf[n - 1] == '/')
        buf[--n] = '\0';
    const char *slash = strrchr(buf, '/');
    return slash != NULL ? slash + 1 : buf;
}

static int ends_with_slash(const char *s)
{
    size_t n = strlen(s);
    return n > 0 && s[n - 1] == '/';
}

/* ---------------------------------------------------------------- up */

/* The remote path SRC goes to, by rsync's rules. */
static int up_target(ssh_conn *conn, const char *src, const char *dst, char *out, size_t outlen,
                     char *err, size_t errlen)
{
    char abs[PATH_MAX], name[PATH_MAX];
    struct stat st;
    ssh_xfer_stat rst;
    int rc = ssh_conn_expand(conn, dst, abs, sizeof abs, err, errlen);
    if (rc != 0)
        return rc;
    if (stat(src, &st) != 0) {
        snprintf(err, errlen, "%s: %s", src, strerror(errno));
        return -errno;
    }
    int into = S_ISDIR(st.st_mode) ? !ends_with_slash(src) : ends_with_slash(dst);
    if (!into && S_ISREG(st.st_mode) &&
        ssh_xfer_stat_path(conn, abs, &rst, err, errlen) == 0 && rst.is_dir)
        into = 1;
    rc = into ? fs_path_join(out, outlen, abs, base_name(src, name, sizeof name))
              : str_copy(out, outlen, abs);
    if (rc != 0)
        str_printf(err, errlen, "remote path too long: %s", abs);
    return rc;
}

static int up_one(lctx *x, ssh_conn *conn, const char *src, const char *dst)
{
    const cluster_config *c = x->cfg;
    char target[PATH_MAX], err[1024];
    sync_spec spec = {c->rsync_exclude.v, c->rsync_exclude.n, c->rsync_filter.v,
                      c->rsync_filter.n};
    sync_stats st = {0};
    int rc = up_target(conn, src, dst, target, sizeof target, err, sizeof err);
    if (rc == 0)
        rc = sync_up(conn, src, target, &spec, &st, err, sizeof err);
    if (rc != 0) {
        fprintf(stderr, "Error: %s -> %s:%s: %s\n", src, ssh_conn_host(conn), dst, err);
        return 1;
    }
    printf("%s -> %s:%s (%zu file%s sent, %zu unchanged)\n", src, ssh_conn_host(conn), target,
           st.files_sent, st.files_sent == 1 ? "" : "s", st.files_same);
    return 0;
}

/* Uploads SOURCE to TARGET, or every file mount when there are none. */
static int up_node(lctx *x, const info_opts *o, const char *ip, int is_head)
{
    ssh_conn *conn = lctx_connect(x, ip, is_head);
    int rc = conn == NULL;
    if (conn != NULL && o->n_rest == 2)
        rc = up_one(x, conn, o->rest[0], o->rest[1]);
    for (size_t i = 0; conn != NULL && o->n_rest == 0 && i < x->cfg->n_mounts; i++) {
        char src[PATH_MAX + 2];
        struct stat st;
        const cfg_mount *m = &x->cfg->mounts[i];
        snprintf(src, sizeof src, "%s%s", m->local,
                 stat(m->local, &st) == 0 && S_ISDIR(st.st_mode) ? "/" : "");
        rc |= up_one(x, conn, src, m->remote);
    }
    ssh_conn_close(conn);
    return rc;
}

/* The start both rsync commands share: options (an optional source and
 * target, both or neither) and the cluster context.  Returns -1 when X is
 * open and the command goes on, else the exit code to return. */
static int rsync_begin(const char *cmd, int argc, char **argv, info_opts *o, lctx *x)
{
    *o = (info_opts){.cmd = cmd, .usage = usage};
    int rc = info_opts_parse(o, argc, argv, 0, 2);
    if (rc != 0)
        return rc < 0 ? 0 : rc;
    if (o->n_rest == 1) {
        fprintf(stderr, "Error: Expected either both a source and a target, or neither.\n");
        return 1;
    }
    if (lctx_open(x, o->config, &o->ov) != 0)
        return 1;
    /* Ray copies between the host's mount directory and the container with
     * `docker cp`; rayc does not yet, and a transfer to the host alone would
     * miss the container that the commands see. */
    if (x->cfg->docker_enabled) {
        fprintf(stderr, "Error: ray %s with a docker section is not supported by rayc yet (the "
                "files would reach the host, not container %s); use file_mounts and "
                "`ray up`, or `ray exec`.\n", cmd, x->cfg->docker.container_name);
        lctx_close(x);
        return 1;
    }
    return -1;
}

int rsync_up_main(int argc, char **argv)
{
    info_opts o;
    lctx x;
    char ip[256];
    int rc = rsync_begin("rsync-up", argc, argv, &o, &x);
    if (rc >= 0)
        return rc;
    rc = lctx_find_head(&x, 0, ip, sizeof ip) != 0 || up_node(&x, &o, ip, 1) != 0;
    lstate_node *nodes = NULL;
    size_t n = 0;
    if (rc == 0 && o.all_nodes && lstate_nodes(x.state, x.cfg->cluster_name, &nodes, &n) == 0)
        for (size_t i = 0; i < n; i++)
            if (strcmp(nodes[i].kind, "worker") == 0 &&
                strcmp(nodes[i].status, LSTATE_TERMINATED) != 0)
                rc |= up_node(&x, &o, nodes[i].ip, 0);
    free(nodes);
    lctx_close(&x);
    return rc ? 1 : 0;
}

/* ---------------------------------------------------------------- down */

/* Downloads SRC to DST; EXACT makes DST the path itself (file mounts). */
static int down_one(lctx *x, ssh_conn *conn, const char *src, const char *dst, int exact)
{
    const cluster_config *c = x->cfg;
    char abs[PATH_MAX], target[PATH_MAX * 2], name[PATH_MAX], err[1024];
    sync_spec spec = {c->rsync_exclude.v, c->rsync_exclude.n, NULL, 0};
    sync_stats st = {0};
    ssh_xfer_stat rst = {0};
    struct stat lst;
    int rc = ssh_conn_expand(conn, src, abs, sizeof abs, err, sizeof err);
    if (rc == 0)
        rc = ssh_xfer_stat_path(conn, abs, &rst, err, sizeof err);
    int into = !exact && (rst.is_dir ? !ends_with_slash(src)
                                     : ends_with_slash(dst) ||
                                           (stat(dst, &lst) == 0 && S_ISDIR(lst.st_mode)));
    if (into)
        snprintf(target, sizeof target, "%s%s%s", dst, ends_with_slash(dst) ? "" : "/",
                 base_name(abs, name, sizeof name));
    else
        snprintf(target, sizeof target, "%s", dst);
    if (rc == 0)
        rc = sync_down(conn, abs, target, &spec, &st, err, sizeof err);
    if (rc != 0) {
        fprintf(stderr, "Error: %s:%s -> %s: %s\n", ssh_conn_host(conn), src, dst, err);
        return 1;
    }
    printf("%s:%s -> %s (%zu file%s received, %zu unchanged)\n", ssh_conn_host(conn), abs,
           target, st.files_sent, st.files_sent == 1 ? "" : "s", st.files_same);
    return 0;
}

int rsync_down_main(int argc, char **argv)
{
    info_opts o;
    lctx x;
    char ip[256];
    int rc = rsync_begin("rsync-down", argc, argv, &o, &x);
    if (rc >= 0)
        return rc;
    ssh_conn *conn = NULL;
    rc = lctx_find_head(&x, 0, ip, sizeof ip) != 0 || (conn = lctx_connect(&x, ip, 1)) == NULL;
    if (rc == 0 && o.n_rest == 2)
        rc = down_one(&x, conn, o.rest[0], o.rest[1], 0);
    for (size_t i = 0; rc == 0 && o.n_rest == 0 && i < x.cfg->n_mounts; i++)
        rc |= down_one(&x, conn, x.cfg->mounts[i].remote, x.cfg->mounts[i].local, 1);
    ssh_conn_close(conn);
    lctx_close(&x);
    return rc ? 1 : 0;
}
