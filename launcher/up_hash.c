/* SHA-256 hashes of a node's prepared configuration and of the file mounts. */
#include "launcher/up_hash.h"
#include "launcher/ldocker.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "launcher/sync_tree.h"

/* Every field is written as "<length>:<bytes>" so that no two different
 * configurations produce the same byte stream. */
static void add_str(EVP_MD_CTX *ctx, const char *s)
{
    char len[32];
    int n = snprintf(len, sizeof len, "%zu:", strlen(s));
    EVP_DigestUpdate(ctx, len, (size_t)n);
    EVP_DigestUpdate(ctx, s, strlen(s));
}

static void add_strv(EVP_MD_CTX *ctx, const char *label, const cfg_strv *v)
{
    char count[32];
    add_str(ctx, label);
    snprintf(count, sizeof count, "%zu", v->n);
    add_str(ctx, count);
    for (size_t i = 0; i < v->n; i++)
        add_str(ctx, v->v[i]);
}

static void finish(EVP_MD_CTX *ctx, char out[UP_HASH_HEX])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_DigestFinal_ex(ctx, md, &len);
    for (unsigned int i = 0; i < len && i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* ---------------------------------------------------------------- files */

typedef struct file_hasher {
    EVP_MD_CTX *ctx;
    char *err;
    size_t errlen;
} file_hasher;

static int hash_file(void *data, const char *abs, const char *rel)
{
    file_hasher *fh = data;
    char buf[65536], mode[16];
    struct stat st;
    int fd = open(abs, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) != 0) {
        int e = errno;
        snprintf(fh->err, fh->errlen, "cannot read %s: %s", abs, strerror(e));
        if (fd >= 0)
            close(fd);
        return -e;
    }
    add_str(fh->ctx, rel);
    snprintf(mode, sizeof mode, "%o", (unsigned int)(st.st_mode & 07777));
    add_str(fh->ctx, mode);
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0)
        EVP_DigestUpdate(fh->ctx, buf, (size_t)n);
    close(fd);
    if (n < 0) {
        snprintf(fh->err, fh->errlen, "cannot read %s", abs);
        return -EIO;
    }
    return 0;
}

static int mount_cmp(const void *a, const void *b)
{
    return strcmp((*(const cfg_mount *const *)a)->remote, (*(const cfg_mount *const *)b)->remote);
}

int up_hash_files(const cluster_config *c, char out[UP_HASH_HEX], char *err, size_t errlen)
{
    sync_spec spec = {c->rsync_exclude.v, c->rsync_exclude.n, c->rsync_filter.v,
                      c->rsync_filter.n};
    const cfg_mount **sorted = calloc(c->n_mounts + 1, sizeof *sorted);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int rc = sorted == NULL || ctx == NULL || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL)
                 ? -ENOMEM : 0;
    if (rc != 0)
        snprintf(err, errlen, "out of memory");
    for (size_t i = 0; rc == 0 && i < c->n_mounts; i++)
        sorted[i] = &c->mounts[i];
    if (rc == 0)
        qsort(sorted, c->n_mounts, sizeof *sorted, mount_cmp);
    file_hasher fh = {.ctx = ctx, .err = err, .errlen = errlen};
    for (size_t i = 0; rc == 0 && i < c->n_mounts; i++) {
        add_str(ctx, sorted[i]->remote);
        rc = sync_walk(sorted[i]->local, &spec, hash_file, &fh, err, errlen);
    }
    if (rc == 0)
        finish(ctx, out);
    EVP_MD_CTX_free(ctx);
    free(sorted);
    return rc;
}

int up_hash_dir(const char *dir, const char *mix, char out[UP_HASH_HEX], char *err,
                size_t errlen)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (ctx == NULL || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL)) {
        EVP_MD_CTX_free(ctx);
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    file_hasher fh = {.ctx = ctx, .err = err, .errlen = errlen};
    add_str(ctx, mix);
    int rc = sync_walk(dir, NULL, hash_file, &fh, err, errlen);
    if (rc == 0)
        finish(ctx, out);
    EVP_MD_CTX_free(ctx);
    return rc;
}

/* ---------------------------------------------------------------- runtime */

int up_hash_runtime(const cluster_config *c, int is_head, const char *head_ip,
                    const char *files_hash, char out[UP_HASH_HEX])
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (ctx == NULL || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL)) {
        EVP_MD_CTX_free(ctx);
        return -ENOMEM;
    }
    add_str(ctx, "rayc-runtime-v1");
    add_str(ctx, is_head ? "head" : "worker");
    add_strv(ctx, "initialization_commands", &c->initialization_commands);
    add_strv(ctx, "setup_commands", is_head ? &c->head_setup_commands : &c->worker_setup_commands);
    add_strv(ctx, "start_ray_commands",
             is_head ? &c->head_start_ray_commands : &c->worker_start_ray_commands);
    for (size_t i = 0; i < c->n_mounts; i++) {
        add_str(ctx, c->mounts[i].remote);
        add_str(ctx, c->mounts[i].local);
    }
    add_strv(ctx, "cluster_synced_files", &c->cluster_synced_files);
    add_str(ctx, c->auth_token_path);
    add_str(ctx, is_head ? "" : head_ip);
    if (c->docker_enabled) {
        /* As in Ray (which hashes the whole config): the node's container
         * settings; left out without docker so older hashes still match. */
        add_str(ctx, "docker");
        add_str(ctx, ldocker_cmd(c));
        add_str(ctx, c->docker.container_name);
        add_str(ctx, ldocker_image(c, is_head));
        add_strv(ctx, "run_options", &c->docker.run_options);
        add_strv(ctx, "kind_run_options",
                 is_head ? &c->docker.head_run_options : &c->docker.worker_run_options);
    }
    if (!c->file_mounts_sync_continuously)
        add_str(ctx, files_hash);
    finish(ctx, out);
    EVP_MD_CTX_free(ctx);
    return 0;
}
