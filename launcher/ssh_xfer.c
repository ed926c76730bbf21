/* SFTP file operations: stat, list, mkdir -p, atomic upload and download. */
#include "launcher/ssh_xfer.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "common/util.h"

#define XFER_CHUNK 32768

static int sftp_fail(ssh_conn *c, sftp_session sf, const char *what, const char *path,
                     char *err, size_t errlen)
{
    snprintf(err, errlen, "%s %s on %s: %s (sftp error %d)", what, path, ssh_conn_host(c),
             ssh_get_error(ssh_conn_session(c)), sftp_get_error(sf));
    return -EIO;
}

static void fill_stat(const sftp_attributes a, ssh_xfer_stat *st)
{
    memset(st, 0, sizeof *st);
    st->exists = 1;
    st->is_dir = a->type == SSH_FILEXFER_TYPE_DIRECTORY;
    st->is_file = a->type == SSH_FILEXFER_TYPE_REGULAR;
    st->size = a->size;
    st->mtime = a->mtime64 != 0 ? (int64_t)a->mtime64 : (int64_t)a->mtime;
    st->mode = a->permissions & 07777;
}

int ssh_xfer_stat_path(ssh_conn *c, const char *path, ssh_xfer_stat *st, char *err,
                       size_t errlen)
{
    sftp_session sf;
    int rc = ssh_conn_sftp(c, &sf, err, errlen);
    if (rc != 0)
        return rc;
    memset(st, 0, sizeof *st);
    sftp_attributes a = sftp_stat(sf, path);
    if (a == NULL) {
        int e = sftp_get_error(sf);
        return e == SSH_FX_NO_SUCH_FILE ? 0 : sftp_fail(c, sf, "cannot stat", path, err, errlen);
    }
    fill_stat(a, st);
    sftp_attributes_free(a);
    return 0;
}

int ssh_xfer_list(ssh_conn *c, const char *dir, ssh_xfer_entry_cb cb, void *data, char *err,
                  size_t errlen)
{
    sftp_session sf;
    int rc = ssh_conn_sftp(c, &sf, err, errlen);
    if (rc != 0)
        return rc;
    sftp_dir d = sftp_opendir(sf, dir);
    if (d == NULL)
        return sftp_get_error(sf) == SSH_FX_NO_SUCH_FILE
                   ? 0 : sftp_fail(c, sf, "cannot list", dir, err, errlen);
    size_t count = 0;
    sftp_attributes a;
    while (rc == 0 && (a = sftp_readdir(sf, d)) != NULL) {
        if (++count > SSH_XFER_MAX_DIR_ENTRIES) {
            snprintf(err, errlen, "%s on %s has too many entries", dir, ssh_conn_host(c));
            rc = -E2BIG;
        } else if (a->name != NULL && strcmp(a->name, ".") != 0 &&
                   strcmp(a->name, "..") != 0 && strlen(a->name) < NAME_MAX + 1) {
            ssh_xfer_stat st;
            fill_stat(a, &st);
            cb(data, a->name, &st);
        }
        sftp_attributes_free(a);
    }
    if (rc == 0 && !sftp_dir_eof(d))
        rc = sftp_fail(c, sf, "cannot list", dir, err, errlen);
    sftp_closedir(d);
    return rc;
}

int ssh_xfer_mkdir(ssh_conn *c, const char *dir, char *err, size_t errlen)
{
    sftp_session sf;
    ssh_xfer_stat st;
    int rc = ssh_conn_sftp(c, &sf, err, errlen);
    if (rc != 0 || sftp_mkdir(sf, dir, 0755) == 0)
        return rc;
    if (ssh_xfer_stat_path(c, dir, &st, err, errlen) != 0 || !st.is_dir)
        return sftp_fail(c, sf, "cannot create directory", dir, err, errlen);
    return 0;
}

int ssh_xfer_mkdirs(ssh_conn *c, const char *dir, char *err, size_t errlen)
{
    char path[PATH_MAX];
    sftp_session sf;
    int rc = ssh_conn_sftp(c, &sf, err, errlen);
    if (rc != 0)
        return rc;
    if (str_copy(path, sizeof path, dir) != 0) {
        snprintf(err, errlen, "path too long: %s", dir);
        return -EIO;
    }
    for (char *p = path + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char saved = *p;
        *p = '\0';
        if (sftp_mkdir(sf, path, 0755) != 0 &&
            sftp_get_error(sf) != SSH_FX_FILE_ALREADY_EXISTS) {
            ssh_xfer_stat st;
            if (ssh_xfer_stat_path(c, path, &st, err, errlen) != 0 || !st.is_dir)
                return sftp_fail(c, sf, "cannot create directory", path, err, errlen);
        }
        *p = saved;
        if (saved == '\0')
            return 0;
    }
}

int ssh_xfer_mkparent(ssh_conn *c, const char *path, char *err, size_t errlen)
{
    char dir[PATH_MAX];
    if (str_copy(dir, sizeof dir, path) != 0) {
        snprintf(err, errlen, "path too long: %s", path);
        return -EIO;
    }
    char *slash = strrchr(dir, '/');
    if (slash == NULL || slash == dir)
        return 0;
    *slash = '\0';
    return ssh_xfer_mkdirs(c, dir, err, errlen);
}

/* ---------------------------------------------------------------- upload */

/* "DIR/.NAME.rayc-RANDOM" next to REMOTE, so the rename stays on one fs. */
static int temp_name(const char *remote, char *out, size_t outlen)
{
    char rnd[17];
    const char *slash = strrchr(remote, '/');
    if (slash == NULL || ids_random_hex(rnd, 8) != 0)
        return -EINVAL;
    int n = snprintf(out, outlen, "%.*s/.%s.rayc-%s", (int)(slash - remote), remote, slash + 1,
                     rnd);
    return n > 0 && (size_t)n < outlen ? 0 : -ENAMETOOLONG;
}

static int parent_of(const char *remote, char *out, size_t outlen)
{
    const char *slash = strrchr(remote, '/');
    if (slash == NULL || (size_t)(slash - remote) >= outlen)
        return -EINVAL;
    memcpy(out, remote, (size_t)(slash - remote));
    out[slash - remote] = '\0';
    if (out[0] == '\0')
        snprintf(out, outlen, "/");
    return 0;
}

/* Writes the bytes from FD (or DATA/LEN when FD < 0) to the open file F. */
static int write_all(sftp_file f, int fd, const char *data, size_t len)
{
    char buf[XFER_CHUNK];
    for (size_t off = 0;;) {
        ssize_t n;
        if (fd >= 0) {
            n = read(fd, buf, sizeof buf);
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0)
                return -errno;
        } else {
            n = (ssize_t)(len - off < sizeof buf ? len - off : sizeof buf);
            memcpy(buf, data + off, (size_t)n);
            off += (size_t)n;
        }
        if (n == 0)
            return 0;
        if (sftp_write(f, buf, (size_t)n) != n)
            return -EIO;
    }
}

/* Moves TMP over REMOTE: posix-rename where the server has it, else unlink
 * and rename. */
static int replace(sftp_session sf, const char *tmp, const char *remote)
{
    if (sftp_rename(sf, tmp, remote) == 0)
        return 0;
    sftp_unlink(sf, remote);
    return sftp_rename(sf, tmp, remote) == 0 ? 0 : -EIO;
}

typedef struct put_src {
    int fd;                     /* local file, or -1 */
    const char *data;
    size_t len;
    unsigned int mode;
    int64_t mtime;              /* 0: leave as written */
} put_src;

static int put(ssh_conn *c, const put_src *src, const char *remote, char *err, size_t errlen)
{
    char tmp[PATH_MAX], dir[PATH_MAX];
    sftp_session sf;
    int rc = ssh_conn_sftp(c, &sf, err, errlen);
    if (rc != 0)
        return rc;
    if (temp_name(remote, tmp, sizeof tmp) != 0 || parent_of(remote, dir, sizeof dir) != 0) {
        snprintf(err, errlen, "bad remote path %s", remote);
        return -EIO;
    }
    /* The directory usually exists: try first, create parents on demand. */
    sftp_file f = sftp_open(sf, tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (f == NULL && sftp_get_error(sf) == SSH_FX_NO_SUCH_FILE) {
        if ((rc = ssh_xfer_mkdirs(c, dir, err, errlen)) != 0)
            return rc;
        f = sftp_open(sf, tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    }
    if (f == NULL)
        return sftp_fail(c, sf, "cannot create", tmp, err, errlen);
    rc = write_all(f, src->fd, src->data, src->len);
    if (sftp_close(f) != 0 && rc == 0)
        rc = -EIO;
    struct timeval tv[2] = {{.tv_sec = src->mtime}, {.tv_sec = src->mtime}};
    if (rc == 0 && (sftp_chmod(sf, tmp, src->mode) != 0 ||
                    (src->mtime > 0 && sftp_utimes(sf, tmp, tv) != 0)))
        rc = -EIO;
    if (rc == 0 && (rc = replace(sf, tmp, remote)) == 0)
        return 0;
    sftp_unlink(sf, tmp);
    if (rc == -EIO)
        return sftp_fail(c, sf, "cannot write", remote, err, errlen);
    snprintf(err, errlen, "cannot read the local file for %s: %s", remote, strerror(-rc));
    return rc;
}

int ssh_xfer_put(ssh_conn *c, const char *local, const char *remote, char *err,
                 size_t errlen)
{
    struct stat st;
    int fd = open(local, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) != 0) {
        int e = errno;
        snprintf(err, errlen, "cannot read %s: %s", local, strerror(e));
        if (fd >= 0)
            close(fd);
        return -e;
    }
    put_src src = {.fd = fd, .mode = st.st_mode & 07777, .mtime = st.st_mtime};
    int rc = put(c, &src, remote, err, errlen);
    close(fd);
    return rc;
}

int ssh_xfer_put_data(ssh_conn *c, const void *data, size_t len, const char *remote,
                      unsigned int mode, char *err, size_t errlen)
{
    put_src src = {.fd = -1, .data = data, .len = len, .mode = mode};
    return put(c, &src, remote, err, errlen);
}

/* ---------------------------------------------------------------- download */

static int read_all(sftp_file f, int fd)
{
    char buf[XFER_CHUNK];
    for (;;) {
        ssize_t n = sftp_read(f, buf, sizeof buf);
        if (n < 0)
            return -EIO;
        if (n == 0)
            return 0;
        for (ssize_t off = 0; off < n;) {
            ssize_t w = write(fd, buf + off, (size_t)(n - off));
            if (w < 0 && errno != EINTR)
                return -errno;
            off += w > 0 ? w : 0;
        }
    }
}

static int local_parent(const char *local)
{
    char dir[PATH_MAX];
    if (str_copy(dir, sizeof dir, local) != 0)
        return -ENAMETOOLONG;
    char *slash = strrchr(dir, '/');
    if (slash == NULL || slash == dir)
        return 0;
    *slash = '\0';
    return fs_mkdir_p(dir, 0755);
}

int ssh_xfer_get(ssh_conn *c, const char *remote, const char *local, char *err,
                 size_t errlen)
{
    char tmp[PATH_MAX];
    sftp_session sf;
    int rc = ssh_conn_sftp(c, &sf, err, errlen);
    if (rc != 0)
        return rc;
    sftp_file f = sftp_open(sf, remote, O_RDONLY, 0);
    if (f == NULL) {
        if (sftp_get_error(sf) == SSH_FX_NO_SUCH_FILE) {
            snprintf(err, errlen, "%s does not exist on %s", remote, ssh_conn_host(c));
            return -ENOENT;
        }
        return sftp_fail(c, sf, "cannot open", remote, err, errlen);
    }
    sftp_attributes a = sftp_fstat(f);
    ssh_xfer_stat st = {0};
    if (a != NULL) {
        fill_stat(a, &st);
        sftp_attributes_free(a);
    }
    snprintf(tmp, sizeof tmp, "%s.rayc-part", local);
    int fd = -1;
    if ((rc = local_parent(local)) == 0 &&
        (fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0)
        rc = -errno;
    if (rc == 0)
        rc = read_all(f, fd);
    sftp_close(f);
    if (fd >= 0) {
        struct timespec ts[2] = {{.tv_sec = st.mtime}, {.tv_sec = st.mtime}};
        if (rc == 0 && st.exists) {
            fchmod(fd, st.mode & 07777);
            futimens(fd, ts);
        }
        close(fd);
    }
    if (rc == 0 && rename(tmp, local) != 0)
        rc = -errno;
    if (rc == 0)
        return 0;
    unlink(tmp);
    if (rc == -EIO)
        return sftp_fail(c, sf, "cannot read", remote, err, errlen);
    snprintf(err, errlen, "cannot write %s: %s", local, strerror(-rc));
    return rc;
}
