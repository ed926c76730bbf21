/* Starting and stopping a node's daemons from the CLI (libuv processes). */
#include "cli/cli_proc.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "common/util.h"

int proc_sibling_path(const char *name, char *out, size_t outlen)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        return -ENOENT;
    self[n] = '\0';
    char *slash = strrchr(self, '/');
    if (slash != NULL)
        *slash = '\0';
    if (fs_path_join(out, outlen, self, name) != 0)
        return -ENAMETOOLONG;
    return access(out, X_OK) == 0 ? 0 : -ENOENT;
}

pid_t proc_spawn_daemon(char **argv, const char *log_out, char *err, size_t errlen)
{
    int out = open(log_out, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (out < 0) {
        snprintf(err, errlen, "cannot open %s: %s", log_out, strerror(errno));
        return -errno;
    }
    int in = open("/dev/null", O_RDONLY | O_CLOEXEC);
    uv_loop_t loop;
    uv_loop_init(&loop);
    uv_process_t proc;
    uv_stdio_container_t stdio[3] = {
        {.flags = UV_INHERIT_FD, .data.fd = in},
        {.flags = UV_INHERIT_FD, .data.fd = out},
        {.flags = UV_INHERIT_FD, .data.fd = out},
    };
    uv_process_options_t opts = {
        .file = argv[0],
        .args = argv,
        .flags = UV_PROCESS_DETACHED,
        .stdio_count = 3,
        .stdio = stdio,
    };
    int rc = uv_spawn(&loop, &proc, &opts);
    pid_t pid = rc == 0 ? proc.pid : rc;
    if (rc != 0)
        snprintf(err, errlen, "cannot start %s: %s", argv[0], uv_strerror(rc));
    else
        uv_unref((uv_handle_t *)&proc);
    uv_close((uv_handle_t *)&proc, NULL);
    uv_run(&loop, UV_RUN_NOWAIT);
    uv_loop_close(&loop);
    close(out);
    if (in >= 0)
        close(in);
    return pid;
}

int proc_alive(pid_t pid)
{
    if (pid <= 0)
        return 0;
    int status;
    if (waitpid(pid, &status, WNOHANG) == pid)
        return 0;
    if (kill(pid, 0) != 0 && errno == ESRCH)
        return 0;
    /* A zombie that is not our child still shows up to kill(0). */
    char path[64], *text;
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    if (fs_read_file(path, 4096, &text, NULL) != 0)
        return 0;
    char *paren = strrchr(text, ')');
    int zombie = paren != NULL && paren[1] == ' ' && paren[2] == 'Z';
    free(text);
    return !zombie;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Counts the pids in PIDS that no longer run. */
static int count_gone(const pid_t *pids, size_t n)
{
    int gone = 0;
    for (size_t i = 0; i < n; i++)
        gone += !proc_alive(pids[i]);
    return gone;
}

int proc_stop_all(const pid_t *pids, size_t n, int sig, int grace_ms)
{
    for (size_t i = 0; i < n; i++)
        if (proc_alive(pids[i]))
            kill(pids[i], sig);
    int64_t deadline = time_mono_ms() + (grace_ms > 0 ? grace_ms : 0);
    while ((size_t)count_gone(pids, n) < n && time_mono_ms() < deadline)
        sleep_ms(20);
    if (grace_ms >= 0 && (size_t)count_gone(pids, n) < n) {
        for (size_t i = 0; i < n; i++)
            if (proc_alive(pids[i]))
                kill(pids[i], SIGKILL);
        deadline = time_mono_ms() + 2000;
        while ((size_t)count_gone(pids, n) < n && time_mono_ms() < deadline)
            sleep_ms(20);
    }
    return count_gone(pids, n);
}

void proc_print_tail(const char *path, int lines)
{
    char *text;
    size_t len;
    if (fs_read_file(path, 16 * 1024 * 1024, &text, &len) != 0)
        return;
    size_t start = str_tail_start(text, len, lines);
    fprintf(stderr, "  --- last lines of %s ---\n", path);
    for (char *p = text + start; *p;) {
        char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        fprintf(stderr, "  %.*s\n", (int)n, p);
        p += n + (nl != NULL);
    }
    free(text);
}
