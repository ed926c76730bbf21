/* `ray exec`, `ray submit`, `ray monitor`: commands run on the head node. */
#ifndef RAYC_LAUNCHER_EXEC_CMD_H
#define RAYC_LAUNCHER_EXEC_CMD_H

/* `ray exec CLUSTER.yaml CMD [--start] [--stop] [--screen|--tmux] [-p PORT]...
 * [-n NAME]`.  Returns the command's exit status (1 when it could not run or
 * was killed, 2 on a usage error). */
int exec_main(int argc, char **argv);

/* `ray submit CLUSTER.yaml SCRIPT [-- ARGS...]`: uploads SCRIPT to ~/ on the
 * head and runs it (python for .py, bash for .sh, else directly).  Returns
 * the script's exit status. */
int submit_main(int argc, char **argv);

/* `ray monitor CLUSTER.yaml [--lines N]`: follows the head node's logs. */
int monitor_main(int argc, char **argv);

#endif
