/* A child process started with posix_spawn (no copy of the server's
 * memory), its exit seen through a pidfd on the loop (jobs_child.c). */
#ifndef RAYC_JOBSERVER_JOBS_CHILD_H
#define RAYC_JOBSERVER_JOBS_CHILD_H

#include <stdint.h>
#include <sys/types.h>
#include <uv.h>

typedef struct jobs_child jobs_child;

/* Called once, on the loop, when the child has exited and been reaped:
 * EXIT_STATUS is its exit code (0 when killed), TERM_SIGNAL the signal that
 * killed it (0 when it exited). */
typedef void (*jobs_child_exit_cb)(jobs_child *c, int64_t exit_status, int term_signal);

struct jobs_child {
    uv_poll_t poll;          /* on the pidfd; poll.data is the caller's */
    int pidfd;
    pid_t pid;
    jobs_child_exit_cb exit_cb;
};

typedef struct jobs_child_opts {
    const char *file;        /* absolute path, run with execve */
    char **args;             /* NULL-terminated */
    char **env;              /* NULL-terminated */
    const char *cwd;         /* NULL: the server's */
    int out_fd;              /* stdout and stderr of the child; stdin is /dev/null */
    int ctl_fd;              /* > 0: given to the child as fd JOBS_CHILD_CTL_FD */
} jobs_child_opts;

/* Where the child finds OPT->ctl_fd. */
#define JOBS_CHILD_CTL_FD 3

/* Starts OPT->file as a session leader (setsid) with every signal at its
 * default and none blocked, stdin on /dev/null, stdout and stderr on
 * OPT->out_fd.  Returns 0 once the child has exec'd, with C->pid set and
 * C->poll open (close it with jobs_child_close); or a negative errno (a
 * failed chdir or exec included: no child, nothing to close, CB never
 * called).  C->poll.data is left for the caller. */
int jobs_child_spawn(uv_loop_t *loop, jobs_child *c, const jobs_child_opts *opt,
                     jobs_child_exit_cb cb);

/* The first half of jobs_child_spawn, safe on any thread: starts the child
 * and sets *PID.  Returns 0 once it has exec'd, or a negative errno. */
int jobs_child_start(const jobs_child_opts *opt, pid_t *pid);

/* The second half, on the loop: watches PID, a child of ours not yet
 * reaped, and calls CB once when it has exited (C->pid set, C->poll open as
 * after jobs_child_spawn).  On failure (-errno) PID is killed and reaped,
 * as a child nobody could see end must not run. */
int jobs_child_watch(uv_loop_t *loop, jobs_child *c, pid_t pid, jobs_child_exit_cb cb);

/* Closes C's handle (CLOSE_CB as for uv_close) and its pidfd.  A child still
 * running is left running and unreaped, as uv_close does with uv_process_t. */
void jobs_child_close(jobs_child *c, uv_close_cb close_cb);

#endif
