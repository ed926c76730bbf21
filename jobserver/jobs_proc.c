/* Process facts for restart recovery (the job wrapper is jobs_wrapper.c). */
#include "jobserver/jobs_proc.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/util.h"

/* Reads /proc/PID/stat; *STATE gets the state letter. */
static int read_stat(int pid, char *state, int64_t *start)
{
    char path[64], *text;
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    int rc = fs_read_file(path, 4096, &text, NULL);
    if (rc != 0)
        return -ENOENT;
    /* The command name may hold spaces and ')': fields start after the last ')'. */
    char *p = strrchr(text, ')');
    rc = -ENOENT;
    if (p != NULL && p[1] == ' ') {
        *state = p[2];
        p += 2;
        /* p is at field 3; starttime is field 22. */
        for (int field = 3; field < 22 && p != NULL; field++) {
            p = strchr(p, ' ');
            if (p != NULL)
                p++;
        }
        if (p != NULL) {
            *start = strtoll(p, NULL, 10);
            rc = 0;
        }
    }
    free(text);
    return rc;
}

int jobs_proc_start_time(int pid, int64_t *out)
{
    char state;
    return read_stat(pid, &state, out);
}

int jobs_proc_alive(int pid, int64_t start)
{
    char state;
    int64_t st;
    if (pid <= 0 || read_stat(pid, &state, &st) != 0)
        return 0;
    if (state == 'Z' || state == 'X')
        return 0;
    return start == 0 || st == start;
}

int jobs_proc_read_int(const char *path, long *out)
{
    char *text;
    int rc = fs_read_file(path, 64, &text, NULL);
    if (rc != 0)
        return rc == -ENOENT ? -ENOENT : -EINVAL;
    size_t n = strlen(text);
    while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == ' '))
        text[--n] = '\0';
    rc = parse_long(text, -1000000, 1000000, out) == 0 ? 0 : -EINVAL;
    free(text);
    return rc;
}

int jobs_proc_write_int(const char *path, long n)
{
    char line[32];
    int len = snprintf(line, sizeof line, "%ld\n", n);
    return fs_write_file(path, line, (size_t)len, 0644);
}
