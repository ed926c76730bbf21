/* Job driver logs: paths and reading. */
#include "jobserver/jobs_logs.h"

#include <errno.h>
#include <sys/statvfs.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/dbuf.h"
#include "common/util.h"

int jobs_log_path(const char *logs_dir, const char *id, char *out, size_t outlen)
{
    int n = snprintf(out, outlen, "%s/job-driver-%s.log", logs_dir, id);
    return n < 0 || (size_t)n >= outlen ? -ENAMETOOLONG : 0;
}

/* Reads LEN bytes at OFF of FD into a new NUL-terminated buffer. */
static int read_range(int fd, off_t off, size_t len, char **out, size_t *got)
{
    char *buf = malloc(len + 1);
    if (buf == NULL)
        return -ENOMEM;
    size_t n = 0;
    while (n < len) {
        ssize_t r = pread(fd, buf + n, len - n, off + (off_t)n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int e = errno;
            free(buf);
            return -e;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    buf[n] = '\0';
    *out = buf;
    *got = n;
    return 0;
}

static int open_log(const char *path, int *fd, struct stat *st)
{
    *fd = open(path, O_RDONLY | O_CLOEXEC);
    if (*fd < 0)
        return -errno;
    if (fstat(*fd, st) != 0) {
        int e = errno;
        close(*fd);
        return -e;
    }
    return 0;
}

/* Prefixes the tail in *BUF (after its first partial line) with Ray's note. */
static int mark_truncated(char **buf, size_t *len, uint64_t total)
{
    char *nl = memchr(*buf, '\n', *len);
    size_t skip = nl ? (size_t)(nl - *buf) + 1 : 0;
    dbuf b;
    dbuf_init(&b, *len + 256);
    int rc = total >= (1ull << 30)
                 ? dbuf_printf(&b, "[LOG TRUNCATED \xe2\x80\x94 showing last %u MiB of %.1f GiB total]\n",
                                   JOBS_LOG_MAX_READ >> 20, (double)total / (1 << 30))
                 : dbuf_printf(&b, "[LOG TRUNCATED \xe2\x80\x94 showing last %u MiB of %.1f MiB total]\n",
                                   JOBS_LOG_MAX_READ >> 20, (double)total / (1 << 20));
    if (rc == 0)
        rc = dbuf_add(&b, *buf + skip, *len - skip);
    free(*buf);
    *buf = NULL;
    if (rc != 0) {
        dbuf_free(&b);
        return rc;
    }
    *buf = dbuf_take(&b, len);
    return *buf ? 0 : -ENOMEM;
}

int jobs_log_read_all(const char *path, char **out, size_t *len)
{
    int fd;
    struct stat st;
    int rc = open_log(path, &fd, &st);
    if (rc == -ENOENT) {
        *out = strdup("");
        *len = 0;
        return *out ? 0 : -ENOMEM;
    }
    if (rc != 0)
        return rc;
    uint64_t size = (uint64_t)st.st_size;
    off_t off = size > JOBS_LOG_MAX_READ ? (off_t)(size - JOBS_LOG_MAX_READ) : 0;
    rc = read_range(fd, off, (size_t)(size - (uint64_t)off), out, len);
    close(fd);
    if (rc == 0 && off > 0)
        rc = mark_truncated(out, len, size);
    return rc;
}

int jobs_log_tail_lines(const char *path, int nlines, size_t maxchars, char **out)
{
    int fd;
    struct stat st;
    int rc = open_log(path, &fd, &st);
    if (rc == -ENOENT) {
        *out = strdup("");
        return *out ? 0 : -ENOMEM;
    }
    if (rc != 0)
        return rc;
    /* Read at most 4 * MAXCHARS bytes from the end: enough for MAXCHARS
     * characters of any UTF-8 text. */
    size_t want = maxchars * 4 + 1;
    off_t off = (size_t)st.st_size > want ? st.st_size - (off_t)want : 0;
    size_t n;
    char *buf;
    rc = read_range(fd, off, (size_t)(st.st_size - off), &buf, &n);
    close(fd);
    if (rc != 0)
        return rc;
    size_t end = n, start = str_tail_start(buf, n, nlines);
    /* Keep at most MAXCHARS characters from the end (UTF-8 aware). */
    size_t chars = 0, cut = end;
    while (cut > start && chars < maxchars) {
        cut--;
        if (((unsigned char)buf[cut] & 0xc0) != 0x80)
            chars++;
    }
    memmove(buf, buf + cut, end - cut);
    buf[end - cut] = '\0';
    *out = buf;
    return 0;
}

/* Number of bytes at the end of BUF (N bytes) that start a UTF-8 character
 * whose remaining bytes have not been written yet. */
static size_t incomplete_tail(const char *buf, size_t n)
{
    for (size_t back = 1; back <= 3 && back <= n; back++) {
        unsigned char c = (unsigned char)buf[n - back];
        if ((c & 0xc0) == 0x80)
            continue;
        size_t need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
        return need > back ? back : 0;
    }
    return 0;
}

int jobs_log_read_from(const char *path, uint64_t *offset, size_t max, int final, char **out,
                       size_t *len)
{
    int fd;
    struct stat st;
    *out = NULL;
    *len = 0;
    int rc = open_log(path, &fd, &st);
    if (rc != 0)
        return rc;
    if ((uint64_t)st.st_size < *offset)
        *offset = 0;   /* the log was truncated: start over */
    uint64_t avail = (uint64_t)st.st_size - *offset;
    if (avail == 0) {
        close(fd);
        return 0;
    }
    char *buf;
    size_t n;
    rc = read_range(fd, (off_t)*offset, avail > max ? max : (size_t)avail, &buf, &n);
    close(fd);
    if (rc != 0)
        return rc;
    size_t keep = final && n == avail ? n : n - incomplete_tail(buf, n);
    if (keep == 0) {
        free(buf);
        return 0;
    }
    buf[keep] = '\0';
    *offset += keep;
    *out = buf;
    *len = keep;
    return 0;
}

int jobs_log_disk_full(const char *logs_dir)
{
    struct statvfs st;
    if (statvfs(logs_dir, &st) != 0)
        return 0;
    return (uint64_t)st.f_bavail * st.f_frsize < JOBS_LOG_DISK_FULL_BYTES;
}

int jobs_log_append(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return -errno;
    size_t n = strlen(text);
    int rc = 0;
    while (n > 0) {
        ssize_t w = write(fd, text, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            rc = -errno;
            break;
        }
        text += w;
        n -= (size_t)w;
    }
    close(fd);
    return rc;
}
