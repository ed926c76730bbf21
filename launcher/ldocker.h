/* Shell text for Ray's `docker:` section, as Ray's DockerCommandRunner
 * writes it: the container's `docker run`, `docker exec` around a node's
 * commands, `docker inspect` probes, and where file mounts land on the host.
 * With docker.use_podman every line calls `podman` instead of `docker`.
 * Nothing here runs anything: up_node.c, down_cmd.c and exec_cmd.c send
 * the text over SSH. */
#ifndef RAYC_LAUNCHER_LDOCKER_H
#define RAYC_LAUNCHER_LDOCKER_H

#include <stddef.h>

#include "launcher/cfg.h"

/* Ray's DOCKER_MOUNT_PREFIX: file mounts go to the host under
 * /tmp/ray_tmp_mount/CLUSTER and are bind-mounted into the container. */
#define LDOCKER_MOUNT_PREFIX "/tmp/ray_tmp_mount"

/* "podman" with docker.use_podman, else "docker". */
const char *ldocker_cmd(const cluster_config *c);

/* The image of a head (IS_HEAD) or worker: head_image / worker_image, else
 * image.  Never NULL once the config loaded with docker enabled. */
const char *ldocker_image(const cluster_config *c, int is_head);

/* Ray's run_env "auto": 1 when CMD runs on the host (it is empty or starts
 * with the engine's name, e.g. `docker ps`), 0 when it runs in the
 * container. */
int ldocker_auto_host(const cluster_config *c, const char *cmd);

/* `ENGINE exec [-it] NAME /bin/bash -c 'INNER'`: INNER (already wrapped in
 * Ray's login shell by the caller) run in the container; -it with TTY.
 * Returns a new string or NULL when out of memory. */
char *ldocker_exec(const cluster_config *c, const char *inner, int tty);

/* `ENGINE inspect -f '{{TEMPLATE}}' NAME || true` (Ray's _check_helper).
 * Returns a new string or NULL. */
char *ldocker_inspect(const cluster_config *c, const char *tmpl);

/* Ray's image check before `run`: `ENGINE pull IMAGE` with
 * pull_before_run, else `ENGINE image inspect IMAGE 1> /dev/null 2>&1 ||
 * ENGINE pull IMAGE`.  Returns a new string or NULL. */
char *ldocker_pull(const cluster_config *c, int is_head);

/* Ray's docker_start_cmds: `ENGINE run --rm --name NAME -d -it
 * -v HOSTDIR/DST:DST... -e LC_ALL=C.UTF-8 -e LANG=C.UTF-8 RUN_OPTIONS
 * KIND_RUN_OPTIONS EXTRA --net=host IMAGE bash`, where each file mount DST
 * has "~/" replaced by HOME (the image's home) and EXTRA is rayc's measured
 * options (--shm-size, --runtime=nvidia; may be NULL).  Returns a new string
 * or NULL. */
char *ldocker_run(const cluster_config *c, int is_head, const char *home, const char *extra);

/* Where a file mount's REMOTE path (as written, maybe "~/x") lives on the
 * host: LDOCKER_MOUNT_PREFIX/CLUSTER/REMOTE without its leading '/' (a "~"
 * stays a literal directory name, as in Ray).  Returns 0 or -ENAMETOOLONG. */
int ldocker_host_path(const cluster_config *c, const char *remote, char *out, size_t outlen);

/* REMOTE with a leading "~" replaced by HOME (the container's $HOME), into
 * OUT.  Returns 0 or -ENAMETOOLONG. */
int ldocker_expand(const char *remote, const char *home, char *out, size_t outlen);

/* Ray's _auto_configure_shm: --shm-size for 30% of MemAvailable (KiB,
 * from the node's /proc/meminfo) plus 10%, at most 200 GB, into OUT ("" when
 * MEMINFO has no MemAvailable line). */
void ldocker_shm_option(const char *meminfo, char *out, size_t outlen);

#endif
