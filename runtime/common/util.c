/* Small helpers with no daemon knowledge: files, directories, time, ids. */
#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rand.h>

int fs_mkdir_p(const char *path, mode_t mode)
{
    char buf[PATH_MAX];
    if (str_copy(buf, sizeof buf, path) != 0)
        return -ENAMETOOLONG;
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, mode) != 0 && errno != EEXIST)
            return -errno;
        *p = '/';
    }
    if (mkdir(buf, mode) != 0 && errno != EEXIST)
        return -errno;
    return 0;
}

int fs_private_dir(const char *path)
{
    int rc = fs_mkdir_p(path, 0700);
    if (rc != 0)
        return rc;
    return chmod(path, 0700) == 0 ? 0 : -errno;
}

int fs_private_file(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return -errno;
    int rc = fchmod(fd, 0600) == 0 ? 0 : -errno;
    close(fd);
    return rc;
}

int fs_write_file(const char *path, const void *data, size_t len, mode_t mode)
{
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof tmp, "%s.tmp.%d", path, (int)getpid()) >= (int)sizeof tmp)
        return -ENAMETOOLONG;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0)
        return -errno;
    const char *p = data;
    size_t left = len;
    while (left > 0) {
        ssize_t n = write(fd, p, left);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int e = errno;
            close(fd);
            unlink(tmp);
            return -e;
        }
        p += n;
        left -= (size_t)n;
    }
    if (fchmod(fd, mode) != 0 || close(fd) != 0 || rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return -e;
    }
    return 0;
}

int fs_read_file(const char *path, size_t max, char **out, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap + 1);
    int rc = buf ? 0 : -ENOMEM;
    while (rc == 0) {
        if (n == cap) {
            char *p = cap >= max + 1 ? NULL : realloc(buf, cap * 2 + 1);
            if (p == NULL) {
                rc = cap >= max + 1 ? -EFBIG : -ENOMEM;
                break;
            }
            buf = p;
            cap *= 2;
        }
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            rc = -errno;
        else if (r == 0)
            break;
        else
            n += (size_t)r;
    }
    close(fd);
    if (rc == 0 && n > max)
        rc = -EFBIG;
    if (rc != 0) {
        free(buf);
        return rc;
    }
    buf[n] = '\0';
    *out = buf;
    if (len != NULL)
        *len = n;
    return 0;
}

static int rm_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)type;
    (void)ftw;
    return remove(path) != 0 && errno != ENOENT ? -1 : 0;
}

int fs_rm_rf(const char *path)
{
    if (nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS) != 0)
        return errno == ENOENT ? 0 : -errno;
    return 0;
}

int64_t time_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t time_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int ids_random_hex(char *out, size_t nbytes)
{
    unsigned char raw[256];
    if (nbytes > sizeof raw || RAND_bytes(raw, (int)nbytes) != 1)
        return -EIO;
    for (size_t i = 0; i < nbytes; i++)
        snprintf(out + 2 * i, 3, "%02x", raw[i]);
    out[2 * nbytes] = '\0';
    return 0;
}

size_t str_tail_start(const char *buf, size_t len, long nlines)
{
    if (nlines <= 0)
        return nlines == 0 ? len : 0;
    size_t pos = len;
    long seen = 0;
    if (pos > 0 && buf[pos - 1] == '\n')
        pos--;
    while (pos > 0 && !(buf[pos - 1] == '\n' && ++seen == nlines))
        pos--;
    return pos;
}

int str_copy(char *dst, size_t n, const char *src)
{
    size_t len = strlen(src);
    if (n == 0)
        return -ENAMETOOLONG;
    if (len >= n) {
        memcpy(dst, src, n - 1);
        dst[n - 1] = '\0';
        return -ENAMETOOLONG;
    }
    memcpy(dst, src, len + 1);
    return 0;
}

size_t str_printf(char *dst, size_t n, const char *fmt, ...)
{
    if (n == 0)
        return 0;
    va_list ap;
    va_start(ap, fmt);
    int len = vsnprintf(dst, n, fmt, ap);
    va_end(ap);
    if (len < 0) {
        dst[0] = '\0';
        return 0;
    }
    return (size_t)len < n ? (size_t)len : n - 1;
}

int fs_path_join(char *out, size_t n, const char *dir, const char *name)
{
    int len = snprintf(out, n, "%s/%s", dir, name);
    if (len < 0 || (size_t)len >= n) {
        if (n > 0)
            out[0] = '\0';
        return -ENAMETOOLONG;
    }
    return 0;
}

int fs_owner_socket_path(char *out, size_t n, const char *dir, int pid)
{
    char name[32];
    snprintf(name, sizeof name, "owner-%d", pid);
    return fs_path_join(out, n, dir, name);
}

int fs_path_join_ext(char *out, size_t n, const char *dir, const char *name, const char *ext)
{
    int len = snprintf(out, n, "%s/%s%s", dir, name, ext);
    if (len < 0 || (size_t)len >= n) {
        if (n > 0)
            out[0] = '\0';
        return -ENAMETOOLONG;
    }
    return 0;
}

int parse_long(const char *s, long min, long max, long *out)
{
    char *end;
    if (s == NULL || *s == '\0')
        return -EINVAL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < min || v > max)
        return -EINVAL;
    *out = v;
    return 0;
}

int parse_double(const char *s, double *out)
{
    char *end;
    if (s == NULL || *s == '\0')
        return -EINVAL;
    errno = 0;
    double v = strtod(s, &end);
    if (errno != 0 || *end != '\0' || !isfinite(v) || v < 0)
        return -EINVAL;
    *out = v;
    return 0;
}

int proc_cmdline_has(pid_t pid, const char *needle)
{
    char path[64], *text;
    size_t len;
    snprintf(path, sizeof path, "/proc/%d/cmdline", (int)pid);
    if (fs_read_file(path, 64 * 1024, &text, &len) != 0)
        return 0;
    int found = 0;
    for (size_t off = 0; off < len && !found; off += strlen(text + off) + 1)
        found = strstr(text + off, needle) != NULL;
    free(text);
    return found;
}
