/* Process facts for restart recovery (the job wrapper is jobs_wrapper.c). */
#include "jobserver/jobs_proc.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"
#include "jobserver/jobs_procstat.h"

typedef jobs_procstat proc_stat;

static int read_stat(int pid, proc_stat *out)
{
    return pid > 0 ? jobs_procstat_read(pid, out) : -ENOENT;
}

int jobs_proc_alive(int pid, int64_t start)
{
    proc_stat st;
    if (pid <= 0 || read_stat(pid, &st) != 0)
        return 0;
    if (st.state == 'Z' || st.state == 'X')
        return 0;
    return start == 0 || st.start == start;
}

/* ---------------------------------------------------------------- process trees */

/* At most this many processes are looked at; a node with more is broken anyway. */
#define TREE_SCAN_MAX 1000000

typedef struct {
    int pid, ppid, pgid;
    int in_tree;
} tree_entry;

/* Every process of /proc with its parent and group.  Returns the count, or
 * -errno; *OUT is the caller's to free. */
static long scan_procs(tree_entry **out)
{
    DIR *d = opendir("/proc");
    if (d == NULL)
        return -errno;
    size_t cap = 256, n = 0;
    tree_entry *v = malloc(cap * sizeof *v);
    struct dirent *e;
    while (v != NULL && (e = readdir(d)) != NULL && n < TREE_SCAN_MAX) {
        long pid;
        proc_stat st;
        if (parse_long(e->d_name, 1, INT32_MAX, &pid) != 0 || read_stat((int)pid, &st) != 0)
            continue;
        if (n == cap) {
            tree_entry *bigger = realloc(v, 2 * cap * sizeof *v);
            if (bigger == NULL)
                break;
            v = bigger;
            cap *= 2;
        }
        v[n++] = (tree_entry){.pid = (int)pid, .ppid = st.ppid, .pgid = st.pgid};
    }
    closedir(d);
    if (v == NULL)
        return -ENOMEM;
    *out = v;
    return (long)n;
}

int jobs_proc_signal_tree(int root, int sig, int skip_pgid)
{
    tree_entry *v = NULL;
    long n = scan_procs(&v);
    if (n < 0)
        return (int)n;
    int grew = 1, sent = 0;
    for (long i = 0; i < n; i++)
        v[i].in_tree = v[i].pid == root;
    /* Parents are not listed before their children, so grow until still. */
    while (grew) {
        grew = 0;
        for (long i = 0; i < n; i++) {
            if (v[i].in_tree)
                continue;
            for (long k = 0; k < n; k++) {
                if (v[k].in_tree && v[k].pid == v[i].ppid) {
                    v[i].in_tree = grew = 1;
                    break;
                }
            }
        }
    }
    for (long i = 0; i < n; i++) {
        if (v[i].in_tree && v[i].pgid != skip_pgid && kill(v[i].pid, sig) == 0)
            sent++;
    }
    free(v);
    return sent;
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

int jobs_proc_read_pidfile(const char *path, long *pid, int64_t *start)
{
    char *text;
    int rc = fs_read_file(path, 64, &text, NULL);
    if (rc != 0)
        return rc == -ENOENT ? -ENOENT : -EINVAL;
    char *sp = strchr(text, ' ');
    long long st = 0;
    if (sp != NULL) {
        *sp = '\0';
        st = strtoll(sp + 1, NULL, 10);
    }
    size_t n = strlen(text);
    while (n > 0 && text[n - 1] == '\n')
        text[--n] = '\0';
    rc = parse_long(text, 1, 4194304, pid) == 0 && st >= 0 ? 0 : -EINVAL;
    *start = st;
    free(text);
    return rc;
}

int jobs_proc_write_int(const char *path, long n)
{
    char line[32];
    int len = snprintf(line, sizeof line, "%ld\n", n);
    return fs_write_file(path, line, (size_t)len, 0600);
}
