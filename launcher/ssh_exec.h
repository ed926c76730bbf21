/* Running one command on a node over an ssh_conn: output streamed to a
 * callback, exit status returned, optional pty, optional time limit, and
 * keepalives while the command is silent. */
#ifndef RAYC_LAUNCHER_SSH_EXEC_H
#define RAYC_LAUNCHER_SSH_EXEC_H

#include <stddef.h>

#include "launcher/ssh_conn.h"

/* Receives LEN bytes the command wrote (IS_STDERR says which stream; with a
 * pty everything arrives as stdout).  BUF is valid only during the call. */
typedef void (*ssh_output_cb)(void *data, int is_stderr, const char *buf, size_t len);

/* An ssh_output_cb that copies the output to this process's stdout and
 * stderr, flushed at once (DATA unused). */
void ssh_output_stdio(void *data, int is_stderr, const char *buf, size_t len);

typedef struct ssh_run_opts {
    int pty;                    /* ask for a pseudo-terminal (merged output) */
    int timeout_s;              /* 0: no limit */
    ssh_output_cb on_output;    /* NULL: output is dropped */
    void *data;
} ssh_run_opts;

/* Exit status reported when the remote side sent none (killed by a signal). */
#define SSH_EXIT_NONE (-1)

/* Runs COMMAND (a shell command line, run by the user's login shell as sshd
 * does) on C.  Stdin is closed at once.  On completion stores the exit status
 * (or SSH_EXIT_NONE) in *EXIT_STATUS and returns 0.  Errors: -ETIMEDOUT (the
 * time limit passed; the channel is closed), -ECONNRESET (the connection
 * failed), -EPROTO (the server refused the session); ERR says why. */
int ssh_run(ssh_conn *c, const char *command, const ssh_run_opts *o, int *exit_status,
            char *err, size_t errlen);

#endif
