/* objstore_files: the object store's files: names, leftovers of a crashed
 * run, the arena file, and copying byte ranges between files. */
#include "objstore/objstore_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Bounce buffer of the read/write fallback copy. */
#define COPY_CHUNK (1u << 20)

int objstore__file_path(const objstore *s, const char *dir, const char *name, char *path, size_t len)
{
    int n = snprintf(path, len, "%s/%s%s", dir, s->prefix, name);
    return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* ---------------------------------------------------------------- leftovers */

static int is_regular(int dirfd, const struct dirent *e)
{
    if (e->d_type == DT_REG)
        return 1;
    if (e->d_type != DT_UNKNOWN)
        return 0;
    struct stat st;
    return fstatat(dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode);
}

int objstore__remove_leftovers(const char *dir, const char *prefix)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return -errno;
    size_t plen = strlen(prefix);
    int rc = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, prefix, plen) != 0 || !is_regular(dirfd(d), e))
            continue;
        if (unlinkat(dirfd(d), e->d_name, 0) != 0 && errno != ENOENT && rc == 0)
            rc = -errno;
    }
    closedir(d);
    return rc;
}

/* ---------------------------------------------------------------- the arena */

int objstore__arena_create(const char *path, uint64_t size, int prefault, int *fd)
{
    int f = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (f < 0)
        return -errno;
    int rc = 0;
    if (ftruncate(f, (off_t)size) != 0)
        rc = -errno;
    else if (prefault && (rc = posix_fallocate(f, 0, (off_t)size)) != 0)
        rc = -rc;
    if (rc != 0) {
        close(f);
        unlink(path);
        return rc;
    }
    *fd = f;
    return 0;
}

/* ---------------------------------------------------------------- copies */

/* Copies with read/write through a buffer, for file pairs the kernel will
 * not copy directly (tmpfs to another filesystem). */
static int copy_by_buffer(int in, uint64_t in_off, int out, uint64_t out_off, uint64_t n)
{
    char *buf = malloc(COPY_CHUNK);
    if (buf == NULL)
        return -ENOMEM;
    int rc = 0;
    while (n > 0 && rc == 0) {
        size_t want = n < COPY_CHUNK ? (size_t)n : COPY_CHUNK;
        ssize_t r = pread(in, buf, want, (off_t)in_off);
        if (r <= 0) {
            rc = r == 0 ? -EIO : errno == EINTR ? 0 : -errno;
            continue;
        }
        for (ssize_t done = 0; done < r && rc == 0;) {
            ssize_t w = pwrite(out, buf + done, (size_t)(r - done), (off_t)(out_off + (uint64_t)done));
            if (w > 0)
                done += w;
            else if (w == 0)
                rc = -EIO;
            else if (errno != EINTR)
                rc = -errno;
        }
        in_off += (uint64_t)r;
        out_off += (uint64_t)r;
        n -= (uint64_t)r;
    }
    free(buf);
    return rc;
}

int objstore__copy_range(int in, uint64_t in_off, int out, uint64_t out_off, uint64_t n)
{
    loff_t ioff = (loff_t)in_off, ooff = (loff_t)out_off;
    while (n > 0) {
        size_t want = n < (1u << 30) ? (size_t)n : (1u << 30);
        ssize_t r = copy_file_range(in, &ioff, out, &ooff, want, 0);
        if (r > 0) {
            n -= (uint64_t)r;
            continue;
        }
        if (r == 0)
            return -EIO;
        if (errno == EINTR)
            continue;
        if (errno == EXDEV || errno == EINVAL || errno == EOPNOTSUPP || errno == ENOSYS)
            return copy_by_buffer(in, (uint64_t)ioff, out, (uint64_t)ooff, n);
        return -errno;
    }
    return 0;
}
