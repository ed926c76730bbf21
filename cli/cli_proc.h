/* Starting and stopping a node's daemons from the CLI (libuv processes). */
#ifndef RAYC_CLI_CLI_PROC_H
#define RAYC_CLI_CLI_PROC_H

#include <stddef.h>
#include <sys/types.h>

/* Path of a sibling program of the running `ray` binary (bin/NAME) in OUT.
 * Returns 0, or -ENOENT when it is not there. */
int proc_sibling_path(const char *name, char *out, size_t outlen);

/* Starts ARGV[0] (a full path) detached in its own session with stdin from
 * /dev/null and stdout/stderr appended to LOG_OUT.  Returns the pid, or a
 * negative errno with a message in ERR. */
pid_t proc_spawn_daemon(char **argv, const char *log_out, char *err, size_t errlen);

/* True while PID runs (a zombie child counts as gone; it is reaped here). */
int proc_alive(pid_t pid);

/* Sends SIG to every pid in PIDS, waits up to GRACE_MS for them to exit,
 * then SIGKILLs the rest (unless GRACE_MS < 0: no SIGKILL).  Returns how
 * many of them are gone at the end. */
int proc_stop_all(const pid_t *pids, size_t n, int sig, int grace_ms);

/* Prints the last LINES lines of PATH to stderr, indented. */
void proc_print_tail(const char *path, int lines);

#endif
