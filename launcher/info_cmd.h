/* `ray get-head-ip`, `ray get-worker-ips`, `ray attach`, `ray dashboard`,
 * `ray rsync-up`, `ray rsync-down`: the smaller companions of `ray up`. */
#ifndef RAYC_LAUNCHER_INFO_CMD_H
#define RAYC_LAUNCHER_INFO_CMD_H

/* Prints the head's address (external_head_ip when set).  Returns 0, or 1
 * when the cluster has no head (Ray's "Head node of cluster (X) not found!"). */
int get_head_ip_main(int argc, char **argv);

/* Prints the workers' addresses, one per line (those not terminated). */
int get_worker_ips_main(int argc, char **argv);

/* `ray attach CLUSTER.yaml [--tmux|--screen] [--new]`: an interactive shell
 * on the head with a pty.  Returns the shell's exit status. */
int attach_main(int argc, char **argv);

/* `ray dashboard CLUSTER.yaml [-p PORT] [--remote-port PORT]`: forwards
 * localhost:PORT to the head's job server until interrupted. */
int dashboard_main(int argc, char **argv);

/* `ray rsync-up CLUSTER.yaml [SOURCE TARGET] [-A]` and `ray rsync-down
 * CLUSTER.yaml [SOURCE TARGET]`: files over SFTP, rsync's trailing-slash
 * rules; without SOURCE and TARGET the file_mounts are synced. */
int rsync_up_main(int argc, char **argv);
int rsync_down_main(int argc, char **argv);

#endif
