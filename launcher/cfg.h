/* The cluster configuration: Ray's cluster YAML for `provider.type: local`.
 *
 * cfg_load reads the user's file, checks it against Ray's schema (unknown
 * keys, wrong types and missing keys are reported as "file:line:col: path:
 * problem"), merges it over Ray's local-provider defaults (top-level keys
 * replace the defaults, as Ray's fillout_defaults does), prepends
 * setup_commands to head and worker setup commands, applies command-line
 * overrides and caps min/max_workers at the number of worker_ips.
 *
 * rayc reads a few extra keys under `provider` (Ray's schema allows any key
 * there): auth_token_path, ssh_port, ssh_wait_timeout_s, max_parallel. */
#ifndef RAYC_LAUNCHER_CFG_H
#define RAYC_LAUNCHER_CFG_H

#include <stddef.h>

#include "launcher/cfg_doc.h"

/* Where the cluster token goes on every node unless provider.auth_token_path
 * says otherwise; `~` is the ssh user's home there. */
#define CFG_DEFAULT_TOKEN_PATH "~/.ray/auth_token"
/* Where each node's TLS key, certificate and the cluster CA go unless
 * provider.tls_dir says otherwise (rayc's own key). */
#define CFG_DEFAULT_TLS_DIR "~/.ray/tls"
#define CFG_DEFAULT_SSH_WAIT_S 300
#define CFG_DEFAULT_MAX_PARALLEL 32

typedef struct cfg_strv {
    char **v;
    size_t n;
} cfg_strv;

typedef struct cfg_mount {
    char *remote;               /* path on the node, as written (may start with ~) */
    char *local;                /* absolute local path (~ and relative paths resolved) */
} cfg_mount;

/* Ray's `docker:` section: the Ray commands of every node run in a
 * container (launcher/ldocker.h).  Strings are NULL when not set. */
typedef struct cfg_docker {
    char *image, *head_image, *worker_image;
    char *container_name;
    cfg_strv run_options, head_run_options, worker_run_options;
    int pull_before_run;        /* Ray's default: true */
    int use_podman;             /* run `podman` instead of `docker` */
    int no_runtime_detection;   /* disable_automatic_runtime_detection */
    int no_shm_detection;       /* disable_shm_size_detection */
} cfg_docker;

typedef struct cluster_config {
    char *path;                 /* the YAML file, absolute */
    char *cluster_name;
    int min_workers, max_workers;   /* after overrides and the cap */
    double upscaling_speed, idle_timeout_minutes;   /* accepted, unused */

    char *head_ip;              /* provider.head_ip: what workers use */
    char *external_head_ip;     /* provider.external_head_ip or NULL */
    cfg_strv worker_ips;        /* all of provider.worker_ips */
    int use_internal_ips;

    char *ssh_user;             /* NULL: the local user name */
    char *ssh_private_key;      /* absolute path, or NULL: agent / default keys */
    char *ssh_proxy_command;    /* NULL: direct connection */
    int ssh_port;

    cfg_mount *mounts;
    size_t n_mounts;
    cfg_strv cluster_synced_files;
    int file_mounts_sync_continuously;
    int tls;                    /* rayc's `tls:` (default true): TLS between the nodes */
    cfg_strv rsync_exclude, rsync_filter;

    cfg_strv initialization_commands;
    cfg_strv setup_commands;        /* as written (for the head's bootstrap config) */
    cfg_strv head_setup_commands;   /* setup_commands + head_setup_commands */
    cfg_strv worker_setup_commands; /* setup_commands + worker_setup_commands */
    cfg_strv head_start_ray_commands, worker_start_ray_commands;

    int docker_enabled;         /* docker.image or docker.container_name set */
    int docker_line, docker_col;    /* where: the first of them that is set */
    cfg_docker docker;          /* the docker section (meaningful when enabled) */
    char *auth_token_path;      /* on the nodes */
    char *tls_dir;              /* provider.tls_dir: the nodes' TLS files (with tls on) */
    char *tls_cert, *tls_key, *tls_ca;  /* tls_dir/node.crt, node.key, ca.crt */
    int ssh_wait_timeout_s;
    int max_parallel;

    cfg_strv warnings;          /* lines to show the user (overrides, caps) */
} cluster_config;

typedef struct cfg_overrides {
    const char *cluster_name;   /* NULL: keep */
    int min_workers, max_workers;   /* -1: keep */
} cfg_overrides;

/* Loads the cluster YAML at PATH with overrides OV (may be NULL).  On success
 * stores a new config in *OUT (free with cfg_free) and returns 0.  On failure
 * returns -ENOENT (no such file), -EINVAL (invalid YAML or schema error) or
 * -ENOMEM, with one line in ERR such as
 * "cluster.yaml:4:3: provider.worker_ip: unknown key (did you mean worker_ips?)". */
int cfg_load(const char *path, const cfg_overrides *ov, cluster_config **out, char *err,
             size_t errlen);

/* The same from YAML text already in memory; NAME stands for the file in
 * messages and relative paths resolve against the current directory. */
int cfg_load_text(const char *name, const char *text, size_t len, const cfg_overrides *ov,
                  cluster_config **out, char *err, size_t errlen);

/* Frees C (NULL is fine). */
void cfg_free(cluster_config *c);

/* Checks the parsed user document ROOT against Ray's schema.  Returns 0, or
 * -EINVAL with "NAME:LINE:COL: key.path: problem" in ERR (the first problem
 * in document order). */
int cfg_validate(const char *name, const cfg_node *root, char *err, size_t errlen);

/* Ray's local-provider defaults, as YAML text (rayc's start commands). */
const char *cfg_defaults_yaml(void);

/* The address the launcher uses to reach the head: external_head_ip when
 * set (and use_internal_ips is off), else head_ip. */
const char *cfg_head_ssh_host(const cluster_config *c);

/* The number of workers `ray up` sets up: max_workers (capped), the first
 * ones of worker_ips. */
size_t cfg_worker_count(const cluster_config *c);

/* Appends a copy of S to V.  Returns 0 or -ENOMEM. */
int cfg_strv_push(cfg_strv *v, const char *s);

/* Frees the strings of V and empties it. */
void cfg_strv_free(cfg_strv *v);

#endif
