/* `ray down` (and `ray-down`): stop the Ray runtime on every node. */
#ifndef RAYC_LAUNCHER_DOWN_CMD_H
#define RAYC_LAUNCHER_DOWN_CMD_H

/* Runs `ray down` with ARGV (ARGV[0] is "down").  Returns 0 when every
 * reachable node stopped (unreachable ones are reported as warnings), 1
 * when a stop command failed or the teardown could not start, 2 on a usage
 * error. */
int down_main(int argc, char **argv);

#endif
