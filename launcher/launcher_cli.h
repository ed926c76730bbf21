/* The launcher's entry point for the `ray` multi-call binary: `ray up`,
 * `ray down` and their companions (exec, attach, rsync-up, rsync-down,
 * submit, get-head-ip, get-worker-ips, monitor, dashboard). */
#ifndef RAYC_LAUNCHER_LAUNCHER_CLI_H
#define RAYC_LAUNCHER_LAUNCHER_CLI_H

/* Runs the launcher command COMMAND ("up", "down", "exec", "attach",
 * "rsync-up", "rsync-down", "submit", "get-head-ip", "get-worker-ips",
 * "monitor" or "dashboard").  ARGV[0] is the command name and the options
 * and arguments follow, as `ray COMMAND ...` received them.  Prints what the
 * user needs to see and returns the process exit code: 0 on success, 1 on
 * failure, 2 for a usage error (bad flag or missing argument). */
int launcher_main(const char *command, int argc, char **argv);

/* True when COMMAND is one of the launcher's commands. */
int launcher_has_command(const char *command);

#endif
