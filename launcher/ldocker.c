/* Shell text for Ray's docker section (run, exec, inspect, mount paths). */
#include "launcher/ldocker.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/dbuf.h"
#include "launcher/lshell.h"

#define LDOCKER_MAX (4u * 1024 * 1024)

/* Ray's defaults: 30% of the available memory for the object store, at most
 * 200 GB; the shm is sized 10% above that. */
#define SHM_PROPORTION 0.3
#define SHM_MAX_BYTES 200e9

const char *ldocker_cmd(const cluster_config *c)
{
    return c->docker.use_podman ? "podman" : "docker";
}

const char *ldocker_image(const cluster_config *c, int is_head)
{
    const char *kind = is_head ? c->docker.head_image : c->docker.worker_image;
    return kind != NULL ? kind : c->docker.image;
}

int ldocker_auto_host(const cluster_config *c, const char *cmd)
{
    const char *engine = ldocker_cmd(c);
    return cmd == NULL || cmd[0] == '\0' || strncmp(cmd, engine, strlen(engine)) == 0;
}

char *ldocker_exec(const cluster_config *c, const char *inner, int tty)
{
    dbuf b;
    dbuf_init(&b, LDOCKER_MAX);
    dbuf_printf(&b, "%s exec %s%s /bin/bash -c ", ldocker_cmd(c), tty ? "-it " : "",
                c->docker.container_name);
    lshell_quote(&b, inner);
    return dbuf_take(&b, NULL);
}

char *ldocker_inspect(const cluster_config *c, const char *tmpl)
{
    dbuf b;
    dbuf_init(&b, 4096);
    dbuf_printf(&b, "%s inspect -f '{{%s}}' %s || true", ldocker_cmd(c), tmpl,
                c->docker.container_name);
    return dbuf_take(&b, NULL);
}

char *ldocker_pull(const cluster_config *c, int is_head)
{
    const char *engine = ldocker_cmd(c);
    dbuf b;
    dbuf_init(&b, 8192);
    if (!c->docker.pull_before_run) {
        dbuf_printf(&b, "%s image inspect ", engine);
        lshell_quote(&b, ldocker_image(c, is_head));
        dbuf_printf(&b, " 1> /dev/null  2>&1 || ");
    }
    dbuf_printf(&b, "%s pull ", engine);
    lshell_quote(&b, ldocker_image(c, is_head));
    return dbuf_take(&b, NULL);
}

int ldocker_host_path(const cluster_config *c, const char *remote, char *out, size_t outlen)
{
    while (*remote == '/')
        remote++;
    int n = snprintf(out, outlen, "%s/%s/%s", LDOCKER_MOUNT_PREFIX, c->cluster_name, remote);
    return n > 0 && (size_t)n < outlen ? 0 : -ENAMETOOLONG;
}

int ldocker_expand(const char *remote, const char *home, char *out, size_t outlen)
{
    int n;
    if (remote[0] == '~' && (remote[1] == '/' || remote[1] == '\0'))
        n = snprintf(out, outlen, "%s%s", home, remote + 1);
    else
        n = snprintf(out, outlen, "%s", remote);
    return n > 0 && (size_t)n < outlen ? 0 : -ENAMETOOLONG;
}

/* -v HOST:CONTAINER for every file mount (Ray leaves the bootstrap files
 * out; rayc's file mounts never hold them: they are copied in). */
static void add_mounts(dbuf *b, const cluster_config *c, const char *home)
{
    char host[4096], dst[4096];
    for (size_t i = 0; i < c->n_mounts; i++) {
        if (ldocker_host_path(c, c->mounts[i].remote, host, sizeof host) != 0 ||
            ldocker_expand(c->mounts[i].remote, home, dst, sizeof dst) != 0) {
            b->failed = 1;
            return;
        }
        dbuf_puts(b, "-v ");
        lshell_quote(b, host);
        dbuf_puts(b, ":");
        lshell_quote(b, dst);
        dbuf_puts(b, " ");
    }
}

/* The user's options joined with spaces, as Ray joins them: they are shell
 * text (an option may carry its own quotes). */
static void add_options(dbuf *b, const cfg_strv *v)
{
    for (size_t i = 0; i < v->n; i++)
        dbuf_printf(b, "%s ", v->v[i]);
}

char *ldocker_run(const cluster_config *c, int is_head, const char *home, const char *extra)
{
    const cfg_docker *k = &c->docker;
    dbuf b;
    dbuf_init(&b, LDOCKER_MAX);
    dbuf_printf(&b, "%s run --rm --name %s -d -it ", ldocker_cmd(c), k->container_name);
    add_mounts(&b, c, home);
    dbuf_puts(&b, "-e LC_ALL=C.UTF-8 -e LANG=C.UTF-8 ");
    add_options(&b, &k->run_options);
    add_options(&b, is_head ? &k->head_run_options : &k->worker_run_options);
    if (extra != NULL && extra[0] != '\0')
        dbuf_printf(&b, "%s ", extra);
    dbuf_puts(&b, "--net=host ");
    lshell_quote(&b, ldocker_image(c, is_head));
    dbuf_puts(&b, " bash");
    return dbuf_take(&b, NULL);
}

void ldocker_shm_option(const char *meminfo, char *out, size_t outlen)
{
    const char *p = strstr(meminfo, "MemAvailable:");
    out[0] = '\0';
    if (p == NULL)
        return;
    char *end;
    double kib = strtod(p + strlen("MemAvailable:"), &end);
    if (end == p + strlen("MemAvailable:") || kib <= 0)
        return;
    double bytes = kib * 1024 * SHM_PROPORTION * 1.1;
    if (bytes > SHM_MAX_BYTES)
        bytes = SHM_MAX_BYTES;
    snprintf(out, outlen, "--shm-size='%.0fb'", bytes);
}
