/* Where this host's nodes keep their files, and the registry `ray stop` reads. */
#include "cli/node_registry.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/util.h"

void node_temp_root(const char *flag, char *out, size_t outlen)
{
    const char *env = getenv("RAY_TMPDIR");
    if (flag != NULL && *flag != '\0')
        str_copy(out, outlen, flag);
    else if (env != NULL && *env != '\0')
        snprintf(out, outlen, "%s", env);
    else
        str_copy(out, outlen, "/tmp/ray");
}

static int write_info(const node_record *rec)
{
    char path[PATH_MAX + 16], text[1024];
    snprintf(path, sizeof path, "%s/node.info", rec->dir);
    int n = snprintf(text, sizeof text, "ip %s\nport %d\nhead %d\nnode_id %s\ngcs %s\n",
                     rec->ip, rec->port, rec->is_head, rec->node_id, rec->gcs_address);
    return fs_write_file(path, text, (size_t)n, 0600);
}

int node_dir_create(const char *session_dir, const char *ip, int port, int is_head,
                    const char *node_id, const char *gcs_address, node_record *rec)
{
    memset(rec, 0, sizeof *rec);
    if (snprintf(rec->dir, sizeof rec->dir, "%s/node_%s_%d", session_dir, ip, port) >=
        (int)sizeof rec->dir)
        return -ENAMETOOLONG;
    str_copy(rec->ip, sizeof rec->ip, ip);
    rec->port = port;
    rec->is_head = is_head;
    str_copy(rec->node_id, sizeof rec->node_id, node_id);
    str_copy(rec->gcs_address, sizeof rec->gcs_address, gcs_address);
    static const char *subdirs[] = {"logs", "sockets", "pids"};
    for (size_t i = 0; i < sizeof subdirs / sizeof subdirs[0]; i++) {
        char sub[PATH_MAX + 16];
        snprintf(sub, sizeof sub, "%s/%s", rec->dir, subdirs[i]);
        int rc = fs_mkdir_p(sub, 0700);
        if (rc != 0)
            return rc;
    }
    return write_info(rec);
}

int node_write_pid(const node_record *rec, const char *name, pid_t pid)
{
    char path[PATH_MAX + 64], text[32];
    snprintf(path, sizeof path, "%s/pids/%s.pid", rec->dir, name);
    int n = snprintf(text, sizeof text, "%d\n", (int)pid);
    return fs_write_file(path, text, (size_t)n, 0600);
}

static void registry_path(const char *root, const node_record *rec, char *out, size_t outlen)
{
    snprintf(out, outlen, "%s/nodes/%s_%d", root, rec->ip, rec->port);
}

int node_register(const char *root, const node_record *rec)
{
    char dir[PATH_MAX], link[PATH_MAX + 96];
    snprintf(dir, sizeof dir, "%s/nodes", root);
    int rc = fs_mkdir_p(dir, 0755);
    if (rc != 0)
        return rc;
    registry_path(root, rec, link, sizeof link);
    unlink(link);
    return symlink(rec->dir, link) == 0 ? 0 : -errno;
}

void node_unregister(const char *root, const node_record *rec)
{
    char link[PATH_MAX + 96];
    registry_path(root, rec, link, sizeof link);
    unlink(link);
}

int node_read(const char *dir, node_record *rec)
{
    char path[PATH_MAX + 16], *text;
    memset(rec, 0, sizeof *rec);
    snprintf(path, sizeof path, "%s/node.info", dir);
    int rc = fs_read_file(path, 4096, &text, NULL);
    if (rc != 0)
        return rc;
    str_copy(rec->dir, sizeof rec->dir, dir);
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *val = strchr(line, ' ');
        if (val == NULL)
            continue;
        *val++ = '\0';
        if (strcmp(line, "ip") == 0)
            str_copy(rec->ip, sizeof rec->ip, val);
        else if (strcmp(line, "port") == 0)
            rec->port = (int)strtol(val, NULL, 10);
        else if (strcmp(line, "head") == 0)
            rec->is_head = strcmp(val, "1") == 0;
        else if (strcmp(line, "node_id") == 0)
            str_copy(rec->node_id, sizeof rec->node_id, val);
        else if (strcmp(line, "gcs") == 0)
            str_copy(rec->gcs_address, sizeof rec->gcs_address, val);
    }
    free(text);
    return rec->ip[0] ? 0 : -EINVAL;
}

int node_each(const char *root, void (*fn)(const node_record *rec, void *data), void *data)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s/nodes", root);
    DIR *d = opendir(dir);
    if (d == NULL)
        return 0;
    int count = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char link[PATH_MAX + 300], target[PATH_MAX];
        snprintf(link, sizeof link, "%s/%s", dir, e->d_name);
        ssize_t n = readlink(link, target, sizeof target - 1);
        if (n <= 0)
            continue;
        target[n] = '\0';
        node_record rec;
        if (node_read(target, &rec) != 0) {
            unlink(link); /* the node dir is gone: a stale entry */
            continue;
        }
        fn(&rec, data);
        count++;
    }
    closedir(d);
    return count;
}
