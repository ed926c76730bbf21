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

/* Copies the host file at HOST_PATH into the container at REMOTE ("~/"
 * meaning the container's $HOME), creating its directory: `ENGINE exec NAME
 * mkdir -p DIR && ENGINE cp HOST_PATH NAME:DST` (Ray copies the bootstrap
 * files the same way).  HOST_DIR_CONTENTS copies a directory's contents.
 * Returns 0 or -1 with ERR set. */
int up_docker_copy(up_docker *d, const char *host_path, const char *remote,
                   int host_dir_contents, char *err, size_t errlen);

#endif
