/* Reading a process's /proc/PID/stat with libc alone, so that both the job
 * server and the job wrapper (which links nothing but libc) use one parser. */
#ifndef RAYC_JOBSERVER_JOBS_PROCSTAT_H
#define RAYC_JOBSERVER_JOBS_PROCSTAT_H

#include <stdint.h>

/* The fields of /proc/PID/stat that the supervisor uses. */
typedef struct {
    char state;
    int ppid, pgid;
    int64_t start;   /* clock ticks since boot (field 22) */
} jobs_procstat;

/* Reads /proc/PID/stat (PID 0: the calling process) into *OUT.  Returns 0,
 * or -ENOENT when there is no such process or its line cannot be parsed.
 * Reading another process's stat while it is inside execve waits until the
 * exec is done, so the server never calls this right after a spawn. */
int jobs_procstat_read(int pid, jobs_procstat *out);

#endif
