/* One node's container during `ray up`, as Ray's DockerCommandRunner.run_init
 * does it over the node's SSH connection:
 *
 *   1. `ENGINE pull IMAGE` (pull_before_run, Ray's default) or, with
 *      pull_before_run: false, pull only when `ENGINE image inspect` fails;
 *   2. `ENGINE inspect -f '{{.State.Running}}' NAME`: a running container is
 *      reused.  If it runs another image, Ray's error line is logged and it
 *      is kept (Ray does not restart it); if it lacks a bind mount of a
 *      file mount, it is stopped and started again (Ray's warning);
 *   3. otherwise `ENGINE run --rm --name NAME -d -it ... --net=host IMAGE
 *      bash` (ldocker_run), HOME taken from the image's environment, with
 *      Ray's --shm-size and --runtime=nvidia detection unless disabled;
 *   4. the container's $HOME (`ENGINE exec NAME printenv HOME`), for copies.
 *
 * Host commands run in Ray's login-shell wrapper; their output goes to the
 * node's log. */
#ifndef RAYC_LAUNCHER_UP_DOCKER_H
#define RAYC_LAUNCHER_UP_DOCKER_H

#include <stdio.h>

#include "launcher/lctx.h"
#include "launcher/ssh_conn.h"

typedef struct up_docker {
    const lctx *x;
    ssh_conn *conn;
    FILE *log;                  /* the node's log (never NULL) */
    int is_head;
    int ready;                  /* the container runs and HOME is known */
    int started;                /* this run started it (docker run) */
    char home[512];             /* the container's $HOME */
    char note[512];             /* what happened, for the status line */
} up_docker;

/* Steps 1-4 above.  Returns 0 with D->ready set (D->started when the
 * container was (re)started, D->note saying what was done), or -1 with
 * ERR saying why (the failing command and its exit code, or the engine
 * missing, with Ray's install hint). */
int up_docker_init(up_docker *d, char *err, size_t errlen);

/* Copies the N host files HOST_PATHS[i] into the container at REMOTES[i]
 * ("~/" meaning the container's $HOME), creating their directories, in one
 * host command: the files are staged in a private temporary directory and
 * unpacked in the container by `ENGINE exec -i NAME tar -x` (Ray copies
 * its bootstrap files with `docker cp`, one command per file; one stream
 * keeps a node's update to one engine call).  Existing directories keep
 * their owner and mode.  Returns 0 or -1 with ERR set. */
int up_docker_copy(up_docker *d, const char *const *host_paths, const char *const *remotes,
                   size_t n, char *err, size_t errlen);

#endif
