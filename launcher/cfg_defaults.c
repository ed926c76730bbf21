/* Ray's local-provider defaults (python/ray/autoscaler/local/defaults.yaml),
 * with rayc's start commands: rayc's `ray start` has no autoscaler, so the
 * head needs no --autoscaling-config. */
#include "launcher/cfg.h"

static const char defaults_yaml[] =
    "cluster_name: default\n"
    "auth: {}\n"
    "upscaling_speed: 1.0\n"
    "idle_timeout_minutes: 5\n"
    "docker: {}\n"
    "initialization_commands: []\n"
    "setup_commands: []\n"
    "head_setup_commands: []\n"
    "worker_setup_commands: []\n"
    "head_start_ray_commands:\n"
    "    - ray stop\n"
    "    - ulimit -c unlimited; ray start --head --port=6379\n"
    "worker_start_ray_commands:\n"
    "    - ray stop\n"
    "    - ray start --address=$RAY_HEAD_IP:6379\n"
    "file_mounts: {}\n"
    "cluster_synced_files: []\n"
    "file_mounts_sync_continuously: false\n"
    "rsync_exclude: []\n"
    "rsync_filter: []\n"
    "head_node: {}\n"
    "worker_nodes: {}\n";

const char *cfg_defaults_yaml(void)
{
    return defaults_yaml;
}
