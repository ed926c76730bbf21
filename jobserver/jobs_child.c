/* Starting a child without copying the server's memory.  uv_spawn (libuv
 * 1.44) forks: the kernel copies the page tables of the whole server and
 * write-protects its pages, the child tears that copy down again in execve,
 * and the server then takes a copy-on-write fault on every page it writes.
 * Where page faults and TLB flushes are dear (a paravirtualised VM: each
 * is an exit to the hypervisor) that costs tens of milliseconds per job.
 * posix_spawn shares the memory until the exec instead; the child's exit
 * comes back as a readable pidfd watched with uv_poll. */
#include "jobserver/jobs_child.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---------------------------------------------------------------- the parent */

static void child_poll_cb(uv_poll_t *h, int status, int events)
{
    jobs_child *c = (jobs_child *)h;
    int ws;
    pid_t r;
    while ((r = waitpid(c->pid, &ws, WNOHANG)) < 0 && errno == EINTR)
        ;
    if (r == 0)
        return;   /* not yet reapable: wait for the next wake-up */
    uv_poll_stop(h);
    if (r < 0)
        c->exit_cb(c, 127, 0);   /* reaped by someone else: the status is lost */
    else if (WIFSIGNALED(ws))
        c->exit_cb(c, 0, WTERMSIG(ws));
    else
        c->exit_cb(c, WEXITSTATUS(ws), 0);
}

/* posix_spawn: the child shares our memory until it execs (glibc uses
 * clone(CLONE_VM|CLONE_VFORK)), so no page table is copied and the server
 * takes no copy-on-write faults afterwards, and exec errors come back here. */
int jobs_child_start(const jobs_child_opts *opt, pid_t *pid)
{
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    sigset_t all, none;
    sigfillset(&all);
    sigemptyset(&none);
    int rc = posix_spawn_file_actions_init(&fa);
    if (rc != 0)
        return -rc;
    if ((rc = posix_spawnattr_init(&at)) != 0) {
        posix_spawn_file_actions_destroy(&fa);
        return -rc;
    }
    if (rc == 0)
        rc = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    if (rc == 0)
        rc = posix_spawn_file_actions_adddup2(&fa, opt->out_fd, 1);
    if (rc == 0)
        rc = posix_spawn_file_actions_adddup2(&fa, opt->out_fd, 2);
    if (rc == 0 && opt->ctl_fd > 0)
        rc = posix_spawn_file_actions_adddup2(&fa, opt->ctl_fd, JOBS_CHILD_CTL_FD);
    if (rc == 0 && opt->cwd != NULL)
        rc = posix_spawn_file_actions_addchdir_np(&fa, opt->cwd);
    if (rc == 0)
        rc = posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGDEF |
                                               POSIX_SPAWN_SETSIGMASK);
    if (rc == 0)
        rc = posix_spawnattr_setsigdefault(&at, &all);
    if (rc == 0)
        rc = posix_spawnattr_setsigmask(&at, &none);
    if (rc == 0)
        rc = posix_spawn(pid, opt->file, &fa, &at, opt->args, opt->env);
    posix_spawnattr_destroy(&at);
    posix_spawn_file_actions_destroy(&fa);
    return -rc;
}

int jobs_child_spawn(uv_loop_t *loop, jobs_child *c, const jobs_child_opts *opt,
                     jobs_child_exit_cb cb)
{
    pid_t pid;
    int err = jobs_child_start(opt, &pid);
    return err != 0 ? err : jobs_child_watch(loop, c, pid, cb);
}

int jobs_child_watch(uv_loop_t *loop, jobs_child *c, pid_t pid, jobs_child_exit_cb cb)
{
    int err;
    int fd = pidfd_open(pid, 0);
    if (fd < 0 || (err = uv_poll_init(loop, &c->poll, fd)) != 0) {
        err = fd < 0 ? -errno : err;
        if (fd >= 0)
            close(fd);
        /* Without a way to see it end, the child must not run at all. */
        kill(pid, SIGKILL);
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
            ;
        return err;
    }
    c->pidfd = fd;
    c->pid = pid;
    c->exit_cb = cb;
    uv_poll_start(&c->poll, UV_READABLE, child_poll_cb);
    return 0;
}

void jobs_child_close(jobs_child *c, uv_close_cb close_cb)
{
    uv_close((uv_handle_t *)&c->poll, close_cb);
    close(c->pidfd);
    c->pidfd = -1;
}
