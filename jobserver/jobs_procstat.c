/* /proc/PID/stat, libc only (the job wrapper links this file too). */
#include "jobserver/jobs_procstat.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The stat line: comm is at most 64 bytes, the numbers a few hundred. */
#define STAT_MAX 1024

static int parse_stat(char *text, jobs_procstat *out)
{
    /* The command name may hold spaces and ')': fields start after the last ')'. */
    char *p = strrchr(text, ')');
    if (p == NULL || p[1] != ' ')
        return -ENOENT;
    p += 2;
    out->state = *p;
    /* p is at field 3; ppid is 4, pgrp 5, starttime 22. */
    for (int field = 3; field < 22 && p != NULL; field++) {
        p = strchr(p, ' ');
        if (p != NULL)
            p++;
        if (p != NULL && field == 3)
            out->ppid = (int)strtol(p, NULL, 10);
        if (p != NULL && field == 4)
            out->pgid = (int)strtol(p, NULL, 10);
    }
    if (p == NULL)
        return -ENOENT;
    out->start = strtoll(p, NULL, 10);
    return 0;
}

int jobs_procstat_read(int pid, jobs_procstat *out)
{
    char path[64], text[STAT_MAX];
    if (pid == 0)
        snprintf(path, sizeof path, "/proc/self/stat");
    else
        snprintf(path, sizeof path, "/proc/%d/stat", pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -ENOENT;
    ssize_t n;
    while ((n = read(fd, text, sizeof text - 1)) < 0 && errno == EINTR)
        ;
    close(fd);
    if (n <= 0)
        return -ENOENT;
    text[n] = '\0';
    return parse_stat(text, out);
}
