/* `ray rsync-up` / `ray rsync-down`: files to and from the cluster over SFTP.
 *
 * rsync's trailing-slash rule applies, as Ray runs rsync: a directory SOURCE
 * without a trailing '/' lands inside TARGET under its own name, with one
 * its contents go into TARGET; a file goes into TARGET when TARGET ends with
 * '/' or is an existing directory.  rsync_exclude and rsync_filter apply to
 * uploads, rsync_exclude to downloads.  With a docker section the files go
 * through the host's mount directory and `ENGINE cp`, as Ray's
 * DockerCommandRunner does (ldocker_cp.h). */
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
#include "launcher/ldocker.h"
#include "launcher/ldocker_cp.h"
#include "launcher/ssh_xfer.h"
#include "launcher/sync_tree.h"

static const char usage[] = "[OPTIONS] CLUSTER_CONFIG_FILE [SOURCE] [TARGET]";

/* Drops S's trailing slashes, keeping a lone "/". */
static void trim_slashes(char *s)
{
    size_t n = strlen(s);
    while (n > 1 && s[n - 1] == '/')
        s[--n] = '\0';
}

static const char *base_name(const char *path, char *buf, size_t buflen)
{
    snprintf(buf, buflen, "%s", path);
    trim_slashes(buf);
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

/* With a docker section (Ray's DockerCommandRunner.run_rsync_up): SRC goes
 * to DST's place in the host's mount directory, then `ENGINE cp` copies it
 * to DST in the container.  TARGET is DST after rsync's rules (whether a
 * file's DST is a directory is not asked of the container: a file lands in
 * DST when DST ends with '/'). */
static int up_one_docker(lctx *x, ssh_conn *conn, const char *src, const char *dst,
                         const sync_spec *spec, sync_stats *st, char *target, size_t tlen,
                         char *err, size_t errlen)
{
    struct stat lst;
    char host[PATH_MAX], name[PATH_MAX], dir_of[PATH_MAX];
    if (stat(src, &lst) != 0) {
        snprintf(err, errlen, "%s: %s", src, strerror(errno));
        return -1;
    }
    int dir = S_ISDIR(lst.st_mode);
    int into = dir ? !ends_with_slash(src) : ends_with_slash(dst);
    int rc = str_copy(dir_of, sizeof dir_of, dst);
    trim_slashes(dir_of);
    if (rc == 0)
        rc = into ? fs_path_join(target, tlen, strcmp(dir_of, "/") == 0 ? "" : dir_of,
                                 base_name(src, name, sizeof name))
                  : str_copy(target, tlen, dst);
    if (rc == 0)
        rc = ldocker_host_path(x->cfg, target, host, sizeof host);
    if (rc != 0) {
        snprintf(err, errlen, "path too long: %s", dst);
        return -1;
    }
    if (ssh_xfer_mkparent(conn, host, err, errlen) != 0 ||
        sync_up(conn, src, host, spec, st, err, errlen) != 0)
        return -1;
    return ldocker_cp_in(x, conn, host, dir, target, err, errlen);
}

static int up_one(lctx *x, ssh_conn *conn, const char *src, const char *dst, int docker)
{
    const cluster_config *c = x->cfg;
    char target[PATH_MAX], err[1024];
    sync_spec spec = {c->rsync_exclude.v, c->rsync_exclude.n, c->rsync_filter.v,
                      c->rsync_filter.n};
    sync_stats st = {0};
    int rc = docker ? up_one_docker(x, conn, src, dst, &spec, &st, target, sizeof target, err,
                                    sizeof err)
                    : up_target(conn, src, dst, target, sizeof target, err, sizeof err);
    if (rc == 0 && !docker)
        rc = sync_up(conn, src, target, &spec, &st, err, sizeof err);
    if (rc != 0) {
        fprintf(stderr, "Error: %s -> %s:%s: %s\n", src, ssh_conn_host(conn), dst, err);
        return 1;
    }
    printf("%s -> %s:%s%s%s (%zu file%s sent, %zu unchanged)\n", src, ssh_conn_host(conn),
           target, docker ? " in container " : "", docker ? c->docker.container_name : "",
           st.files_sent, st.files_sent == 1 ? "" : "s", st.files_same);
    return 0;
}

/* Uploads SOURCE to TARGET, or every file mount when there are none. */
static int up_node(lctx *x, const info_opts *o, const char *ip, int is_head)
{
    ssh_conn *conn = lctx_connect(x, ip, is_head);
    int rc = conn == NULL;
    if (conn != NULL && o->n_rest == 2)
        rc = up_one(x, conn, o->rest[0], o->rest[1], x->cfg->docker_enabled);
    for (size_t i = 0; conn != NULL && o->n_rest == 0 && i < x->cfg->n_mounts; i++) {
        char src[PATH_MAX + 2];
        struct stat st;
        char remote[PATH_MAX];
        const cfg_mount *m = &x->cfg->mounts[i];
        snprintf(src, sizeof src, "%s%s", m->local,
                 stat(m->local, &st) == 0 && S_ISDIR(st.st_mode) ? "/" : "");
        /* A container sees its file mounts through bind mounts of the
         * host's mount directory: the host copy is the container's. */
        if (x->cfg->docker_enabled &&
            ldocker_host_path(x->cfg, m->remote, remote, sizeof remote) != 0) {
            fprintf(stderr, "Error: path too long: %s\n", m->remote);
            rc = 1;
            continue;
        }
        rc |= up_one(x, conn, src, x->cfg->docker_enabled ? remote : m->remote, 0);
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

/* With a docker section (Ray's DockerCommandRunner.run_rsync_down): SRC's
 * place in the host's mount directory, into ABS; unless SRC is a file mount
 * (EXACT: the container sees the host's copy through a bind mount), `ENGINE
 * cp` first copies SRC out of the container to there. */
static int down_source_docker(lctx *x, ssh_conn *conn, const char *src, int exact, char *abs,
                              size_t abslen, char *err, size_t errlen)
{
    char host[PATH_MAX];
    if (ldocker_host_path(x->cfg, src, abs, abslen) != 0 || str_copy(host, sizeof host, abs)) {
        snprintf(err, errlen, "path too long: %s", src);
        return -1;
    }
    trim_slashes(host);
    return exact ? 0 : ldocker_cp_out(x, conn, src, host, err, errlen);
}

/* Downloads SRC to DST; EXACT makes DST the path itself (file mounts). */
static int down_one(lctx *x, ssh_conn *conn, const char *src, const char *dst, int exact)
{
    const cluster_config *c = x->cfg;
    char abs[PATH_MAX], target[PATH_MAX * 2], name[PATH_MAX], err[1024];
    sync_spec spec = {c->rsync_exclude.v, c->rsync_exclude.n, NULL, 0};
    sync_stats st = {0};
    ssh_xfer_stat rst = {0};
    struct stat lst;
    int rc = x->cfg->docker_enabled
                 ? down_source_docker(x, conn, src, exact, abs, sizeof abs, err, sizeof err)
                 : ssh_conn_expand(conn, src, abs, sizeof abs, err, sizeof err);
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
