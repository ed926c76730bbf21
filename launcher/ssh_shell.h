/* An interactive session on a node (`ray attach`): a pseudo-terminal the
 * size of the local one, the local terminal in raw mode while it lasts,
 * keystrokes and window-size changes forwarded. */
#ifndef RAYC_LAUNCHER_SSH_SHELL_H
#define RAYC_LAUNCHER_SSH_SHELL_H

#include <stddef.h>

#include "launcher/ssh_conn.h"

/* Runs COMMAND (or the user's login shell when NULL) on C with a pty,
 * wired to this process's stdin and stdout, until it exits.  The local
 * terminal (when stdin is one) is restored afterwards.  Stores the exit
 * status in *EXIT_STATUS (SSH_EXIT_NONE when none came) and returns 0, or
 * -EPROTO / -ECONNRESET with ERR set. */
int ssh_shell_run(ssh_conn *c, const char *command, int *exit_status, char *err,
                  size_t errlen);

#endif
