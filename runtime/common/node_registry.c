/* Where this host's nodes keep their files, and the registry `ray stop` reads. */
#include "common/node_registry.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/net.h"
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

/* ---------------------------------------------------------------- the registry dir */

/* Refuses a registry directory another user could write entries into. */
static int check_private_dir(const char *dir)
{
    struct stat st;
    if (lstat(dir, &st) != 0)
        return -errno;
    if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 022) != 0)
        return -EPERM;
    return 0;
}

int node_registry_dir(char *out, size_t outlen, int create)
{
    const char *env = getenv("RAYC_NODE_REGISTRY");
    int n = env != NULL && *env != '\0'
                ? snprintf(out, outlen, "%s", env)
                : snprintf(out, outlen, "/tmp/ray_nodes_%u", (unsigned)geteuid());
    if (n < 0 || (size_t)n >= outlen)
        return -ENAMETOOLONG;
    int rc = check_private_dir(out);
    if (rc != -ENOENT || !create)
        return rc;
    /* mkdir of the last component fails on anything planted meanwhile. */
    if ((rc = fs_mkdir_p(out, 0700)) != 0)
        return rc;
    return check_private_dir(out);
}

/* ---------------------------------------------------------------- node dirs */

static int write_info(const node_record *rec)
{
    char path[PATH_MAX + 16], text[PATH_MAX + 1024];
    snprintf(path, sizeof path, "%s/node.info", rec->dir);
    int n = snprintf(text, sizeof text,
                     "ip %s\nport %d\nhead %d\nnode_id %s\ngcs %s\nshm_dir %s\nspill_dir %s\n",
                     rec->ip, rec->port, rec->is_head, rec->node_id, rec->gcs_address,
                     rec->shm_dir, rec->spill_dir);
    return fs_write_file(path, text, (size_t)n, 0600);
}

int node_dir_create(const char *session_dir, const char *ip, int port, int is_head,
                    const char *node_id, const char *gcs_address, node_record *rec)
{
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
        int rc = fs_path_join(sub, sizeof sub, rec->dir, subdirs[i]);
        if (rc == 0)
            rc = fs_mkdir_p(sub, 0700);
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

/* ---------------------------------------------------------------- entries */

static int registry_path(const node_record *rec, int create, char *out, size_t outlen)
{
    char dir[PATH_MAX];
    int rc = node_registry_dir(dir, sizeof dir, create);
    if (rc != 0)
        return rc;
    if (snprintf(out, outlen, "%s/%s_%d", dir, rec->ip, rec->port) >= (int)outlen)
        return -ENAMETOOLONG;
    return 0;
}

int node_register(const node_record *rec)
{
    char link[PATH_MAX + 96];
    int rc = registry_path(rec, 1, link, sizeof link);
    if (rc != 0)
        return rc;
    unlink(link);
    return symlink(rec->dir, link) == 0 ? 0 : -errno;
}

void node_unregister(const node_record *rec)
{
    char link[PATH_MAX + 96];
    if (registry_path(rec, 0, link, sizeof link) == 0)
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
        else if (strcmp(line, "shm_dir") == 0)
            str_copy(rec->shm_dir, sizeof rec->shm_dir, val);
        else if (strcmp(line, "spill_dir") == 0)
            str_copy(rec->spill_dir, sizeof rec->spill_dir, val);
    }
    free(text);
    return rec->ip[0] ? 0 : -EINVAL;
}

/* Calls FN for the entry NAME of registry DIR with its link's mtime (when
 * it was registered).  Returns 1 when it was a node, 0 otherwise. */
static int visit_entry(const char *dir, const char *name,
                       void (*fn)(const node_record *rec, long long mtime, void *data),
                       void *data)
{
    char link[PATH_MAX + 300], target[PATH_MAX];
    ssize_t n = fs_path_join(link, sizeof link, dir, name) == 0
                    ? readlink(link, target, sizeof target - 1) : -1;
    struct stat st;
    if (n <= 0 || lstat(link, &st) != 0)
        return 0;
    target[n] = '\0';
    node_record rec;
    if (node_read(target, &rec) != 0) {
        unlink(link); /* the node dir is gone: a stale entry */
        return 0;
    }
    fn(&rec, (long long)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec, data);
    return 1;
}

static int each_entry(void (*fn)(const node_record *rec, long long mtime, void *data),
                      void *data)
{
    char dir[PATH_MAX];
    if (node_registry_dir(dir, sizeof dir, 0) != 0)
        return 0;
    DIR *d = opendir(dir);
    if (d == NULL)
        return 0;
    int count = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            count += visit_entry(dir, e->d_name, fn, data);
    closedir(d);
    return count;
}

typedef struct each_ctx {
    void (*fn)(const node_record *rec, void *data);
    void *data;
} each_ctx;

static void each_cb(const node_record *rec, long long mtime, void *data)
{
    (void)mtime;
    each_ctx *ctx = data;
    ctx->fn(rec, ctx->data);
}

int node_each(void (*fn)(const node_record *rec, void *data), void *data)
{
    each_ctx ctx = {fn, data};
    return each_entry(each_cb, &ctx);
}

/* ---------------------------------------------------------------- lookups */

int node_running(const node_record *rec)
{
    char dir[PATH_MAX + 8];
    snprintf(dir, sizeof dir, "%s/pids", rec->dir);
    DIR *d = opendir(dir);
    if (d == NULL)
        return 0;
    int running = 0;
    struct dirent *e;
    while (!running && (e = readdir(d)) != NULL) {
        char path[PATH_MAX + 300], *text;
        long pid;
        if (e->d_name[0] == '.' || fs_path_join(path, sizeof path, dir, e->d_name) != 0 ||
            fs_read_file(path, 64, &text, NULL) != 0)
            continue;
        text[strcspn(text, "\n")] = '\0';
        running = parse_long(text, 1, INT_MAX, &pid) == 0 && proc_cmdline_has((pid_t)pid, rec->dir);
        free(text);
    }
    closedir(d);
    return running;
}

typedef struct find_ctx {
    node_record best;
    long long best_mtime;
    int found;
} find_ctx;

static void find_cb(const node_record *rec, long long mtime, void *data)
{
    find_ctx *ctx = data;
    if (!net_is_local_ipv4(rec->ip) || !node_running(rec))
        return;
    int better = !ctx->found || (rec->is_head && !ctx->best.is_head) ||
                 (rec->is_head == ctx->best.is_head && mtime > ctx->best_mtime);
    if (better) {
        ctx->best = *rec;
        ctx->best_mtime = mtime;
        ctx->found = 1;
    }
}

int node_find_local(node_record *rec)
{
    find_ctx *ctx = calloc(1, sizeof *ctx);
    if (ctx == NULL)
        return -ENOMEM;
    each_entry(find_cb, ctx);
    int rc = ctx->found ? 0 : -ENOENT;
    if (rc == 0)
        *rec = ctx->best;
    free(ctx);
    return rc;
}

void node_token_path(const node_record *rec, char *out, size_t outlen)
{
    if (!rec->is_head) {
        snprintf(out, outlen, "%s/auth_token", rec->dir);
        return;
    }
    const char *slash = strrchr(rec->dir, '/');
    int len = slash != NULL ? (int)(slash - rec->dir) : 0;
    snprintf(out, outlen, "%.*s/auth_token", len, rec->dir);
}

int node_current_gcs(const char *root, char *out, size_t outlen)
{
    node_record *rec = malloc(sizeof *rec);
    if (rec != NULL && node_find_local(rec) == 0 && rec->gcs_address[0] != '\0') {
        int rc = str_copy(out, outlen, rec->gcs_address);
        free(rec);
        return rc;
    }
    free(rec);
    char dflt[PATH_MAX], path[PATH_MAX + 32], *text;
    if (root == NULL) {
        node_temp_root(NULL, dflt, sizeof dflt);
        root = dflt;
    }
    snprintf(path, sizeof path, "%s/ray_current_cluster", root);
    if (fs_read_file(path, 1024, &text, NULL) != 0)
        return -ENOENT;
    text[strcspn(text, " \r\n")] = '\0';
    int rc = text[0] == '\0' ? -ENOENT : str_copy(out, outlen, text);
    free(text);
    return rc;
}

void node_token_fallback(const char *root, char *out, size_t outlen)
{
    node_record *rec = malloc(sizeof *rec);
    if (rec != NULL && node_find_local(rec) == 0) {
        node_token_path(rec, out, outlen);
        free(rec);
        return;
    }
    free(rec);
    char dflt[PATH_MAX];
    if (root == NULL) {
        node_temp_root(NULL, dflt, sizeof dflt);
        root = dflt;
    }
    snprintf(out, outlen, "%s/session_latest/auth_token", root);
}
