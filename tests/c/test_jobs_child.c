/* jobs_child: a job's process started without forking the server; its exit
 * code, its signal, its session, its output and cwd, and exec errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "jobserver/jobs_child.h"

extern char **environ;

typedef struct ended {
    int done;
    int64_t status;
    int signal;
} ended;

static int forks_seen;

static void count_fork(void)
{
    forks_seen++;
}

static void on_exit_cb(jobs_child *c, int64_t status, int sig)
{
    ended *e = c->poll.data;
    e->done = 1;
    e->status = status;
    e->signal = sig;
}

/* Runs /bin/sh -c SCRIPT in CWD with its output in OUT (a file), to its end. */
static int run_sh(const char *script, const char *cwd, int out, ended *e)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    char *args[] = {"/bin/sh", "-c", (char *)script, NULL};
    jobs_child_opts opt = {.file = "/bin/sh", .args = args, .env = environ, .cwd = cwd,
                           .out_fd = out};
    jobs_child c;
    int rc = jobs_child_spawn(&loop, &c, &opt, on_exit_cb);
    if (rc == 0) {
        c.poll.data = e;
        while (!e->done)
            uv_run(&loop, UV_RUN_ONCE);
        jobs_child_close(&c, NULL);
        uv_run(&loop, UV_RUN_DEFAULT);
    }
    uv_loop_close(&loop);
    return rc;
}

static void read_back(int fd, char *buf, size_t len)
{
    ssize_t n = pread(fd, buf, len - 1, 0);
    buf[n > 0 ? n : 0] = '\0';
}

static void child_reports_exit_code_session_output_and_cwd(void **state)
{
    char path[] = "/tmp/rayc-child-XXXXXX";
    int out = mkstemp(path);
    assert_true(out >= 0);
    ended e = {0};
    int rc = run_sh("echo sid=$(cut -d' ' -f6 /proc/$$/stat) pid=$$ cwd=$(pwd); exit 7", "/tmp",
                    out, &e);
    char text[256], want[64];
    read_back(out, text, sizeof text);
    close(out);
    unlink(path);
    assert_int_equal(rc, 0);
    assert_int_equal(e.status, 7);
    assert_int_equal(e.signal, 0);
    int sid = 0, pid = -1;
    assert_int_equal(sscanf(text, "sid=%d pid=%d", &sid, &pid), 2);
    assert_int_equal(sid, pid);   /* a session leader of its own */
    snprintf(want, sizeof want, "cwd=/tmp\n");
    assert_non_null(strstr(text, want));
}

static void child_killed_by_a_signal_reports_it(void **state)
{
    ended e = {0};
    assert_int_equal(run_sh("kill -KILL $$", NULL, 2, &e), 0);
    assert_int_equal(e.signal, 9);
    assert_int_equal(e.status, 0);
}

static void exec_and_cwd_errors_come_back_at_once(void **state)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    char *args[] = {"/nonexistent/ray_job_wrapper", NULL};
    jobs_child c;
    jobs_child_opts opt = {.file = args[0], .args = args, .env = environ, .out_fd = 2};
    assert_int_equal(jobs_child_spawn(&loop, &c, &opt, on_exit_cb), -ENOENT);
    char *sh[] = {"/bin/sh", "-c", "true", NULL};
    jobs_child_opts bad_cwd = {.file = "/bin/sh", .args = sh, .env = environ,
                               .cwd = "/nonexistent-dir", .out_fd = 2};
    assert_int_equal(jobs_child_spawn(&loop, &c, &bad_cwd, on_exit_cb), -ENOENT);
    assert_int_equal(uv_loop_close(&loop), 0);   /* nothing left open */
}

/* uv_spawn forks the whole server (page tables copied, copy-on-write faults
 * afterwards); jobs_child must not: fork handlers never run. */
static void spawning_does_not_fork_the_server(void **state)
{
    pthread_atfork(count_fork, NULL, NULL);
    forks_seen = 0;
    ended e = {0};
    assert_int_equal(run_sh("exit 0", NULL, 2, &e), 0);
    assert_int_equal(e.status, 0);
    assert_int_equal(forks_seen, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(child_reports_exit_code_session_output_and_cwd),
        cmocka_unit_test(child_killed_by_a_signal_reports_it),
        cmocka_unit_test(exec_and_cwd_errors_come_back_at_once),
        cmocka_unit_test(spawning_does_not_fork_the_server),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
