/* What Ray's `ray up` leaves on the head for its autoscaler:
 * ~/ray_bootstrap_config.yaml (the prepared cluster config, as JSON, which
 * is valid YAML) and, when the config names an ssh_private_key, a copy of
 * that key at ~/ray_bootstrap_key.pem.  Ray's head start line passes the
 * file to `ray start --autoscaling-config`; rayc's `ray start` accepts the
 * flag (there is no autoscaler to read it), and the file is there for
 * tools and users that look for it as they would on a Ray cluster. */
#ifndef RAYC_LAUNCHER_UP_BOOTSTRAP_H
#define RAYC_LAUNCHER_UP_BOOTSTRAP_H

#include <stddef.h>

#include "launcher/cfg.h"

#define UP_BOOTSTRAP_CONFIG "~/ray_bootstrap_config.yaml"
#define UP_BOOTSTRAP_KEY "~/ray_bootstrap_key.pem"

/* The head's copy of config C as Ray prepares it: defaults filled in,
 * setup commands merged, the one local node type, auth.ssh_private_key
 * rewritten to UP_BOOTSTRAP_KEY, no ssh_proxy_command, file_mounts mapped
 * onto their remote paths, and NO_RESTART.  Returns a new JSON string (free
 * it) or NULL when out of memory. */
char *up_bootstrap_json(const cluster_config *c, int no_restart);

#endif
