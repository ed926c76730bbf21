/* Daemon logging: timestamped lines to a file or stderr. */
#include "common/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static FILE *log_file;
static char log_name[32] = "rayc";
static enum log_level log_min = LOG_INFO;

int log_open(const char *path)
{
    if (path == NULL) {
        log_file = NULL;
        return 0;
    }
    /* Daemon logs may quote job environments: owner only. */
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0)
        return -errno;
    FILE *f = fdopen(fd, "a");
    if (f == NULL) {
        int e = errno;
        close(fd);
        return -e;
    }
    setvbuf(f, NULL, _IOLBF, 0);
    if (log_file != NULL)
        fclose(log_file);
    log_file = f;
    return 0;
}

void log_setup(const char *process_name, enum log_level min_level)
{
    snprintf(log_name, sizeof log_name, "%s", process_name);
    log_min = min_level;
}

void log_write(enum log_level level, const char *fmt, ...)
{
    static const char *names[] = {"DEBUG", "INFO", "WARN", "ERROR"};
    if (level < log_min)
        return;
    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    localtime_r(&tv.tv_sec, &tm);
    char stamp[32];
    strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", &tm);

    FILE *out = log_file != NULL ? log_file : stderr;
    va_list ap;
    va_start(ap, fmt);
    fprintf(out, "%s.%03ld %-5s %s[%d] ", stamp, (long)(tv.tv_usec / 1000),
            names[level], log_name, (int)getpid());
    vfprintf(out, fmt, ap);
    fputc('\n', out);
    va_end(ap);
}
