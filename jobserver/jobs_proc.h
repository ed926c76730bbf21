/* Process facts the supervisor needs to recognise its jobs after a restart,
 * and the job wrapper that records a job's exit status on disk. */
#ifndef RAYC_JOBSERVER_JOBS_PROC_H
#define RAYC_JOBSERVER_JOBS_PROC_H

#include <stddef.h>
#include <stdint.h>

/* The first argument that turns ray_jobserver into a job wrapper. */
#define JOBS_WRAPPER_FLAG "--job-wrapper"

/* The first argument of a spare wrapper, started before its job is known
 * (jobs_spare.c).  It waits on fd JOBS_SPARE_CTL_FD, a SOCK_SEQPACKET
 * socket, for one message: 8 bytes, the length of the job's description,
 * with two descriptors (SCM_RIGHTS): the job's log, for stdout and stderr,
 * and a memfd holding the description: NUL-terminated strings, namely
 * JOBS_SPARE_MAGIC, PIDFILE, EXITFILE, the working directory ("" keeps
 * the wrapper's), the number N of command words in decimal, the N words,
 * then the job's environment ("NAME=VALUE") to the end.  At most
 * JOBS_SPARE_MAX_BYTES.  End of file instead of the message: it exits 0. */
#define JOBS_WRAPPER_SPARE_FLAG "--job-wrapper-spare"
#define JOBS_SPARE_CTL_FD 3
#define JOBS_SPARE_MAGIC "rayc-job/1"
#define JOBS_SPARE_MAX_BYTES (64u << 20)

/* True when PID exists, is not a zombie and, when START is not 0, started at
 * START (so a recycled pid is not mistaken for the job). */
int jobs_proc_alive(int pid, int64_t start);

/* Sends SIG to ROOT and every descendant of it (by parent links in /proc)
 * whose process group is not SKIP_PGID (0 skips none), so that processes
 * that left the job's group are reached too.  Returns how many were
 * signalled, or -errno when /proc cannot be read. */
int jobs_proc_signal_tree(int root, int sig, int skip_pgid);

/* Reads the job wrapper's pid file, "PID START" (START 0 when missing, as in
 * files of older wrappers).  Returns 0, -ENOENT or -EINVAL. */
int jobs_proc_read_pidfile(const char *path, long *pid, int64_t *start);

/* Reads a file holding one decimal integer.  Returns 0, -ENOENT or -EINVAL. */
int jobs_proc_read_int(const char *path, long *out);

/* Writes "N\n" to PATH atomically.  Returns 0 or -errno. */
int jobs_proc_write_int(const char *path, long n);

/* The job wrapper: ARGV = {exe, JOBS_WRAPPER_FLAG, PIDFILE, EXITFILE, CMD...},
 * or {exe, JOBS_WRAPPER_SPARE_FLAG} for the same with the job received later.
 * Writes its pid to PIDFILE, runs CMD as its child in its own process group,
 * survives the stop signals itself, and writes the child's exit code (or
 * -SIGNAL) to EXITFILE.  It is the child subreaper of the job: when a stop
 * signal came, it exits only once every descendant has ended (the
 * supervisor SIGKILLs the tree after the grace period).  Exits with the
 * child's status.  Returns the exit code. */
int jobs_wrapper_main(int argc, char **argv);

#endif
