/* A job wrapper started before its job (jobs_spare.c): handing a job to it
 * costs one message instead of a process start on the submit path. */
#ifndef RAYC_JOBSERVER_JOBS_SPARE_H
#define RAYC_JOBSERVER_JOBS_SPARE_H

#include "jobserver/jobs_child.h"

struct jobs_server;

/* What the wrapper needs to run one job (all borrowed). */
typedef struct jobs_spare_job {
    const char *pidfile;
    const char *exitfile;
    const char *cwd;          /* NULL: the server's */
    char **cmd;               /* NULL-terminated */
    char **env;               /* NULL-terminated */
    int log_fd;               /* the job's stdout and stderr */
} jobs_spare_job;

/* Starts spare wrappers (WRAPPER_EXE) in the background, on the thread
 * pool, until JOBS_SPARES are ready or starting (none once the server is
 * shutting down).
 * Failures are logged; the next job then starts its wrapper itself. */
void jobs_spare_prepare(struct jobs_server *srv, const char *wrapper_exe);

/* Hands JOB to a ready spare, which becomes C (watched as after
 * jobs_child_spawn, CB called when it exits; C->poll.data is the caller's).
 * Returns 0, -EAGAIN when no spare is ready, or another negative errno when
 * the hand-over failed (the spare is then gone); on any error the caller
 * starts the wrapper itself. */
int jobs_spare_take(struct jobs_server *srv, const jobs_spare_job *job, jobs_child *c,
                    jobs_child_exit_cb cb);

/* Ends the ready spares, on shutdown. */
void jobs_spare_stop(struct jobs_server *srv);

#endif
