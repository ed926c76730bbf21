/* Local port forwarding over an ssh_conn (ssh -L), optionally while a
 * command runs on the same connection: `ray dashboard` forwards a local port
 * to the head's job server, `ray exec -p` forwards ports while its command
 * runs.  One thread drives everything with poll(). */
#ifndef RAYC_LAUNCHER_SSH_FWD_H
#define RAYC_LAUNCHER_SSH_FWD_H

#include <signal.h>
#include <stddef.h>

#include "launcher/ssh_conn.h"
#include "launcher/ssh_exec.h"

/* At most this many forwarded connections are open at once; more wait. */
#define SSH_FWD_MAX_CONNS 64

typedef struct ssh_fwd_port {
    int local_port;             /* listened on 127.0.0.1 */
    const char *remote_host;    /* as seen from the node, e.g. "127.0.0.1" */
    int remote_port;
} ssh_fwd_port;

/* Listens on every port of PORTS, then forwards connections until STOP
 * becomes non-zero (e.g. set by a SIGINT handler) or, when COMMAND is not
 * NULL, until that command (run on the node) exits; its output goes to OUT
 * and its exit status to *EXIT_STATUS.  READY (may be NULL) is called once
 * the ports listen.  Returns 0, -EADDRINUSE (a local port is taken), or
 * -ECONNRESET / -EPROTO with ERR set. */
int ssh_fwd_run(ssh_conn *c, const ssh_fwd_port *ports, size_t n_ports, const char *command,
                ssh_output_cb out, void *out_data, void (*ready)(void *), void *ready_data,
                volatile sig_atomic_t *stop, int *exit_status, char *err, size_t errlen);

#endif
