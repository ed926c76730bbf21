/* Unit tests for the cluster YAML loader: Ray's schema, defaults merge,
 * local-provider preparation, overrides, and errors with file:line:column. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/util.h"
#include "launcher/cfg.h"
#include "launcher/ldocker.h"

#include "alloc_fail.h"

static char err[1024];

static cluster_config *load(const char *text, const cfg_overrides *ov)
{
    cluster_config *c = NULL;
    err[0] = '\0';
    int rc = cfg_load_text("cluster.yaml", text, strlen(text), ov, &c, err, sizeof err);
    if (rc != 0)
        return NULL;
    return c;
}

static void expect_error(const char *text, const char *want)
{
    cluster_config *c = load(text, NULL);
    if (c != NULL || strstr(err, want) == NULL)
        fail_msg("expected an error containing \"%s\", got %s: \"%s\"", want,
                 c != NULL ? "success" : "error", err);
    cfg_free(c);
}

#define MINIMAL                                                                       \
    "cluster_name: demo\n"                                                            \
    "provider:\n"                                                                     \
    "    type: local\n"                                                               \
    "    head_ip: 10.0.0.1\n"                                                         \
    "    worker_ips: [10.0.0.2, 10.0.0.3]\n"

/* ---------------------------------------------------------------- merging */

static void minimal_gets_ray_defaults(void **state)
{
    (void)state;
    cluster_config *c = load(MINIMAL, NULL);
    assert_non_null(c);
    assert_string_equal(c->cluster_name, "demo");
    assert_string_equal(c->head_ip, "10.0.0.1");
    assert_int_equal(c->worker_ips.n, 2);
    assert_int_equal(c->min_workers, 2);
    assert_int_equal(c->max_workers, 2);
    assert_int_equal(c->head_start_ray_commands.n, 2);
    assert_string_equal(c->head_start_ray_commands.v[0], "ray stop");
    assert_non_null(strstr(c->head_start_ray_commands.v[1], "ray start --head --port=6379"));
    assert_string_equal(c->worker_start_ray_commands.v[1], "ray start --address=$RAY_HEAD_IP:6379");
    assert_string_equal(c->auth_token_path, CFG_DEFAULT_TOKEN_PATH);
    assert_int_equal(c->ssh_wait_timeout_s, CFG_DEFAULT_SSH_WAIT_S);
    assert_int_equal(c->max_parallel, CFG_DEFAULT_MAX_PARALLEL);
    assert_int_equal(c->ssh_port, 22);
    assert_int_equal(c->docker_enabled, 0);
    assert_int_equal(c->warnings.n, 0);
    assert_int_equal(cfg_worker_count(c), 2);
    cfg_free(c);
}

static void cluster_name_defaults_to_default(void **state)
{
    (void)state;
    cluster_config *c = load("provider: {type: local, head_ip: h, worker_ips: []}\n", NULL);
    assert_non_null(c);
    assert_string_equal(c->cluster_name, "default");
    assert_int_equal(cfg_worker_count(c), 0);
    cfg_free(c);
}

static void setup_commands_are_prepended(void **state)
{
    (void)state;
    cluster_config *c = load(MINIMAL "setup_commands: [common]\n"
                                     "head_setup_commands: [h1]\n"
                                     "worker_setup_commands: [w1, w2]\n", NULL);
    assert_non_null(c);
    assert_int_equal(c->head_setup_commands.n, 2);
    assert_string_equal(c->head_setup_commands.v[0], "common");
    assert_string_equal(c->head_setup_commands.v[1], "h1");
    assert_int_equal(c->worker_setup_commands.n, 3);
    assert_string_equal(c->worker_setup_commands.v[0], "common");
    assert_string_equal(c->worker_setup_commands.v[2], "w2");
    cfg_free(c);
}

static void user_start_commands_replace_defaults(void **state)
{
    (void)state;
    cluster_config *c = load(MINIMAL "head_start_ray_commands: [only]\n", NULL);
    assert_non_null(c);
    assert_int_equal(c->head_start_ray_commands.n, 1);
    assert_string_equal(c->head_start_ray_commands.v[0], "only");
    assert_int_equal(c->worker_start_ray_commands.n, 2);
    cfg_free(c);
}

static void workers_are_capped_with_rays_warning(void **state)
{
    (void)state;
    cluster_config *c = load(MINIMAL "min_workers: 5\nmax_workers: 9\n", NULL);
    assert_non_null(c);
    assert_int_equal(c->min_workers, 2);
    assert_int_equal(c->max_workers, 2);
    assert_int_equal(c->warnings.n, 2);
    assert_non_null(strstr(c->warnings.v[1], "The value of `max_workers` supplied (9) is greater "
                                             "than the number of available worker ips (2)"));
    cfg_free(c);
}

static void overrides_win_and_are_reported(void **state)
{
    (void)state;
    cfg_overrides ov = {.cluster_name = "other", .min_workers = 0, .max_workers = 1};
    cluster_config *c = load(MINIMAL "max_workers: 2\n", &ov);
    assert_non_null(c);
    assert_string_equal(c->cluster_name, "other");
    assert_int_equal(c->min_workers, 0);
    assert_int_equal(c->max_workers, 1);
    assert_int_equal(cfg_worker_count(c), 1);
    assert_int_equal(c->warnings.n, 2);     /* max_workers and cluster_name were in the file */
    assert_non_null(strstr(c->warnings.v[0], "`max_workers` override provided on the command"));
    cfg_free(c);
}

static void paths_and_rayc_keys(void **state)
{
    (void)state;
    setenv("HOME", "/home/u", 1);
    cluster_config *c = load(MINIMAL "    external_head_ip: 1.2.3.4\n"
                                     "    auth_token_path: /t/tok\n"
                                     "    ssh_port: 2222\n"
                                     "    ssh_wait_timeout_s: 7\n"
                                     "    max_parallel: 3\n"
                                     "auth: {ssh_user: me, ssh_private_key: ~/.ssh/k,\n"
                                     "       ssh_proxy_command: 'nc %h %p'}\n"
                                     "file_mounts: {'~/remote': /abs/local, '/r2': rel/dir}\n",
                             NULL);
    assert_non_null(c);
    assert_string_equal(c->ssh_private_key, "/home/u/.ssh/k");
    assert_string_equal(c->ssh_user, "me");
    assert_string_equal(c->ssh_proxy_command, "nc %h %p");
    assert_string_equal(cfg_head_ssh_host(c), "1.2.3.4");
    assert_int_equal(c->ssh_port, 2222);
    assert_int_equal(c->ssh_wait_timeout_s, 7);
    assert_int_equal(c->max_parallel, 3);
    assert_string_equal(c->auth_token_path, "/t/tok");
    assert_int_equal(c->n_mounts, 2);
    assert_string_equal(c->mounts[0].remote, "~/remote");
    assert_string_equal(c->mounts[0].local, "/abs/local");
    assert_true(c->mounts[1].local[0] == '/');
    assert_non_null(strstr(c->mounts[1].local, "/rel/dir"));
    cfg_free(c);
}

/* The keys and value shapes of Ray's local example-full.yaml (docker section
 * with an image, empty file_mounts in flow style, rsync lists, comments),
 * with real addresses and worker counts in place of the placeholders. */
static void rays_full_local_example_loads(void **state)
{
    (void)state;
    const char *text =
        "# A unique identifier for the head node and workers of this cluster.\n"
        "cluster_name: default\n"
        "docker:\n"
        "    image: \"rayproject/ray-ml:latest-gpu\" # or latest-cpu\n"
        "    container_name: \"ray_container\"\n"
        "    pull_before_run: True\n"
        "    run_options:   # Extra options to pass into \"docker run\"\n"
        "        - --ulimit nofile=65536:65536\n"
        "provider:\n"
        "    type: local\n"
        "    head_ip: 192.168.0.10\n"
        "    # external_head_ip: YOUR_HEAD_PUBLIC_IP\n"
        "    worker_ips: [192.168.0.11, 192.168.0.12]\n"
        "auth:\n"
        "    ssh_user: ubuntu\n"
        "    # ssh_private_key: ~/.ssh/id_rsa\n"
        "min_workers: 2\n"
        "max_workers: 2\n"
        "upscaling_speed: 1.0\n"
        "idle_timeout_minutes: 5\n"
        "file_mounts: {\n"
        "#    \"/path1/on/remote/machine\": \"/path1/on/local/machine\",\n"
        "}\n"
        "cluster_synced_files: []\n"
        "file_mounts_sync_continuously: False\n"
        "rsync_exclude:\n"
        "    - \"**/.git\"\n"
        "    - \"**/.git/**\"\n"
        "rsync_filter:\n"
        "    - \".gitignore\"\n"
        "initialization_commands: []\n"
        "setup_commands: []\n"
        "    # - pip install -U ray\n"
        "head_setup_commands: []\n"
        "worker_setup_commands: []\n"
        "head_start_ray_commands:\n"
        "    - ray stop\n"
        "    - ulimit -c unlimited && ray start --head --port=6379 "
        "--autoscaling-config=~/ray_bootstrap_config.yaml\n"
        "worker_start_ray_commands:\n"
        "    - ray stop\n"
        "    - ray start --address=$RAY_HEAD_IP:6379\n";
    cluster_config *c = load(text, NULL);
    if (c == NULL)
        fail_msg("%s", err);
    assert_int_equal(c->docker_enabled, 1);
    assert_int_equal(c->rsync_exclude.n, 2);
    assert_string_equal(c->rsync_filter.v[0], ".gitignore");
    assert_int_equal(c->n_mounts, 0);
    assert_int_equal(c->file_mounts_sync_continuously, 0);
    cfg_free(c);
}

/* ---------------------------------------------------------------- docker */

#define DOCKER_YAML                                                                   \
    MINIMAL                                                                           \
    "file_mounts:\n"                                                                  \
    "    ~/data: /abs/data\n"                                                         \
    "docker:\n"                                                                       \
    "    image: rayproject/ray:latest\n"                                              \
    "    worker_image: localhost/rayc-test:bookworm\n"                                \
    "    container_name: ray_container\n"                                             \
    "    use_podman: true\n"                                                          \
    "    run_options: [--runtime, runc, \"--shm-size='1g'\", 2]\n"                    \
    "    head_run_options: [--cpus=2]\n"                                              \
    "    worker_run_options: [--cpus=1]\n"

/* Every field of Ray's docker schema reaches the config, with Ray's
 * defaults (pull_before_run true, detection on), and the command text is
 * Ray's DockerCommandRunner's. */
static void docker_section_loads_as_ray_reads_it(void **state)
{
    (void)state;
    cluster_config *c = load(DOCKER_YAML, NULL);
    if (c == NULL)
        fail_msg("%s", err);
    assert_int_equal(c->docker_enabled, 1);
    assert_string_equal(c->docker.container_name, "ray_container");
    assert_int_equal(c->docker.pull_before_run, 1);
    assert_int_equal(c->docker.use_podman, 1);
    assert_int_equal(c->docker.no_runtime_detection, 0);
    assert_int_equal(c->docker.no_shm_detection, 0);
    assert_int_equal(c->docker.run_options.n, 4);
    assert_string_equal(c->docker.run_options.v[3], "2");
    assert_string_equal(ldocker_cmd(c), "podman");
    assert_string_equal(ldocker_image(c, 1), "rayproject/ray:latest");
    assert_string_equal(ldocker_image(c, 0), "localhost/rayc-test:bookworm");
    char *run = ldocker_run(c, 0, "/home/ray", "--shm-size='5b'");
    assert_string_equal(run, "podman run --rm --name ray_container -d -it "
                             "-v '/tmp/ray_tmp_mount/demo/~/data':'/home/ray/data' "
                             "-e LC_ALL=C.UTF-8 -e LANG=C.UTF-8 --runtime runc "
                             "--shm-size='1g' 2 --cpus=1 --shm-size='5b' --net=host "
                             "'localhost/rayc-test:bookworm' bash");
    free(run);
    char *ex = ldocker_exec(c, "echo 'hi'", 1);
    assert_string_equal(ex, "podman exec -it ray_container /bin/bash -c 'echo '\\''hi'\\'''");
    free(ex);
    char *in = ldocker_inspect(c, ".State.Running");
    assert_string_equal(in, "podman inspect -f '{{.State.Running}}' ray_container || true");
    free(in);
    char *pull = ldocker_pull(c, 1);
    assert_string_equal(pull, "podman pull 'rayproject/ray:latest'");
    free(pull);
    assert_int_equal(ldocker_auto_host(c, "podman ps"), 1);
    assert_int_equal(ldocker_auto_host(c, "ray stop"), 0);
    char path[256];
    assert_int_equal(ldocker_host_path(c, "/opt/x", path, sizeof path), 0);
    assert_string_equal(path, "/tmp/ray_tmp_mount/demo/opt/x");
    cfg_free(c);
}

/* pull_before_run: false pulls only when the image is missing; Ray's
 * docker (not podman) is the default engine. */
static void docker_without_pull_inspects_the_image_first(void **state)
{
    (void)state;
    cluster_config *c = load(MINIMAL "docker:\n  image: img:1\n  container_name: n\n"
                             "  pull_before_run: false\n"
                             "  disable_shm_size_detection: true\n", NULL);
    if (c == NULL)
        fail_msg("%s", err);
    char *pull = ldocker_pull(c, 0);
    assert_string_equal(pull, "docker image inspect 'img:1' 1> /dev/null  2>&1 || "
                              "docker pull 'img:1'");
    free(pull);
    assert_int_equal(c->docker.no_shm_detection, 1);
    cfg_free(c);
}

/* Ray's validate_docker_config and the values rayc puts into shell text. */
static void docker_errors_name_the_field(void **state)
{
    (void)state;
    expect_error(MINIMAL "docker:\n  container_name: ray_container\n",
                 "cluster.yaml:7:19: docker: Must provide a container & image name");
    expect_error(MINIMAL "docker:\n  image: img\n",
                 "cluster.yaml:7:10: docker: Must provide a container & image name");
    expect_error(MINIMAL "docker:\n  head_image: img\n  container_name: n\n",
                 "docker: Must provide a container & image name");
    expect_error(MINIMAL "docker:\n  image: img\n  container_name: 'a; rm -rf /'\n",
                 "cluster.yaml:8:19: docker.container_name: must not contain spaces");
    expect_error(MINIMAL "docker:\n  image: img\n  container_name: n\n  run_options: [[a]]\n",
                 "docker.run_options[0]: must be a string");
    /* empty strings are unset, as in Ray: no docker */
    cluster_config *c = load(MINIMAL "docker:\n  image: ''\n  container_name: ''\n", NULL);
    assert_non_null(c);
    assert_int_equal(c->docker_enabled, 0);
    cfg_free(c);
}

/* Ray's _auto_configure_shm: 30% of MemAvailable plus 10%, capped. */
static void docker_shm_size_follows_ray(void **state)
{
    (void)state;
    char opt[64];
    ldocker_shm_option("MemTotal: 2000 kB\nMemAvailable:    1000 kB\n", opt, sizeof opt);
    assert_string_equal(opt, "--shm-size='337920b'");
    ldocker_shm_option("MemAvailable: 1000000000000 kB\n", opt, sizeof opt);
    assert_string_equal(opt, "--shm-size='200000000000b'");
    ldocker_shm_option("MemTotal: 1 kB\n", opt, sizeof opt);
    assert_string_equal(opt, "");
}

/* Ray's example-minimal-manual.yaml: provider and auth only. */
static void rays_minimal_manual_example_loads(void **state)
{
    (void)state;
    cluster_config *c = load("# Minimal configuration for a manually managed on-premise cluster.\n"
                             "cluster_name: minimal-manual\n"
                             "provider:\n"
                             "    type: local\n"
                             "    head_ip: 10.1.0.1\n"
                             "    worker_ips: [10.1.0.2, 10.1.0.3]\n"
                             "auth:\n"
                             "    ssh_user: ray\n"
                             "    # ssh_private_key: ~/.ssh/id_rsa\n", NULL);
    if (c == NULL)
        fail_msg("%s", err);
    assert_string_equal(c->cluster_name, "minimal-manual");
    cfg_free(c);
}

static void defaults_are_valid_against_the_schema(void **state)
{
    (void)state;
    cfg_node *doc = NULL;
    const char *d = cfg_defaults_yaml();
    assert_int_equal(cfg_doc_parse("defaults", d, strlen(d), NULL, NULL, &doc, err, sizeof err), 0);
    /* The defaults have no provider, which only the user's file supplies. */
    assert_int_equal(cfg_validate("defaults", doc, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "provider: missing required key"));
    cfg_node_free(doc);
}

/* ---------------------------------------------------------------- errors */

static void unknown_key_has_position_and_suggestion(void **state)
{
    (void)state;
    expect_error(MINIMAL "    worker_ip: [x]\n",
                 "cluster.yaml:6:5: provider.worker_ip: unknown key (did you mean worker_ips?)");
    expect_error(MINIMAL "setup_comands: []\n",
                 "cluster.yaml:6:1: setup_comands: unknown key (did you mean setup_commands?)");
    expect_error(MINIMAL "auth:\n  ssh_usr: x\n",
                 "cluster.yaml:7:3: auth.ssh_usr: unknown key (did you mean ssh_user?)");
}

static void wrong_types_have_position_and_path(void **state)
{
    (void)state;
    expect_error(MINIMAL "max_workers: three\n",
                 "cluster.yaml:6:14: max_workers: expected an integer, got a string");
    expect_error(MINIMAL "min_workers: -1\n", "cluster.yaml:6:14: min_workers: must be at least 0");
    expect_error(MINIMAL "setup_commands: echo hi\n",
                 "cluster.yaml:6:17: setup_commands: expected a list of strings, got a string");
    expect_error(MINIMAL "setup_commands: [ok, 12]\n",
                 "cluster.yaml:6:22: setup_commands[1]: expected a string, got an integer");
    expect_error(MINIMAL "file_mounts: {/r: [a]}\n",
                 "file_mounts[\"/r\"]: expected a string, got a list");
    expect_error(MINIMAL "file_mounts_sync_continuously: maybe\n",
                 "file_mounts_sync_continuously: expected true or false, got a string");
    expect_error("cluster_name: 7\nprovider: {type: local, head_ip: h, worker_ips: []}\n",
                 "cluster.yaml:1:15: cluster_name: expected a string, got an integer");
    expect_error(MINIMAL "autoscaling_mode: fast\n", "\"fast\" is not one of default aggressive");
    expect_error("- a\n- b\n", "cluster.yaml:1:1: the cluster config must be a mapping");
}

static void missing_keys_are_reported(void **state)
{
    (void)state;
    expect_error("cluster_name: x\n", "cluster.yaml:1:1: provider: missing required key");
    expect_error("provider:\n  head_ip: h\n", "cluster.yaml:2:3: provider.type: missing required key");
    expect_error("provider: {type: local, worker_ips: []}\n",
                 "Please supply a `head_ip` and list of `worker_ips`.");
}

static void local_provider_rules(void **state)
{
    (void)state;
    expect_error("provider: {type: aws, region: us-west-2}\n",
                 "cluster.yaml:1:18: provider.type: rayc's launcher supports only the local");
    expect_error(MINIMAL "head_node: {InstanceType: m5.large}\n",
                 "The field head_node is not supported for on-premise clusters.");
    expect_error("provider: {type: local, head_ip: a, worker_ips: [b, a]}\n",
                 "cluster.yaml:1:53: provider.worker_ips[1]: a is listed twice");
    expect_error("provider: {type: local, head_ip: a, worker_ips: [b, b]}\n",
                 "provider.worker_ips[1]: b is listed twice");
    expect_error(MINIMAL "    coordinator_address: 1.2.3.4:1234\n",
                 "provider.coordinator_address: automatically managed on-premise clusters");
}

static void yaml_errors_have_position(void **state)
{
    (void)state;
    expect_error(MINIMAL "setup_commands: [a, b\n", "cluster.yaml:7:1: ");
    expect_error("a: *nope\n", "cluster.yaml:1:4: unknown anchor \"nope\"");
    expect_error("a: 1\n---\nb: 2\n", "only one YAML document is allowed");
    expect_error("{[1]: 2}\n", "mapping keys must be plain strings");
}

/* PyYAML keeps the last of a repeated key (Ray's development-example.yaml
 * has two setup_commands); so does rayc, with a warning naming both lines. */
static void duplicate_keys_warn_and_the_last_wins(void **state)
{
    (void)state;
    cluster_config *c = load(MINIMAL "setup_commands: [first]\nhead_setup_commands: []\n"
                                     "setup_commands: [second, third]\n", NULL);
    if (c == NULL)
        fail_msg("%s", err);
    assert_int_equal(c->head_setup_commands.n, 2);
    assert_string_equal(c->head_setup_commands.v[0], "second");
    assert_int_equal(c->warnings.n, 1);
    assert_string_equal(c->warnings.v[0], "cluster.yaml:8:1: duplicate key \"setup_commands\" "
                        "(first on line 6); the value on line 8 is used, as Ray does");
    cfg_free(c);
    /* A nested repeat too; a later schema error points at the kept value. */
    expect_error(MINIMAL "auth: {ssh_user: a, ssh_user: 7}\n",
                 "cluster.yaml:6:31: auth.ssh_user: expected a string, got an integer");
}

/* An empty or comment-only file used to spin forever in the parser. */
static void empty_files_are_refused(void **state)
{
    (void)state;
    const char *texts[] = {"", "# only a comment\n\n  # another\n", "---\n", "~\n"};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        cluster_config *c = NULL;
        int rc = cfg_load_text("e.yaml", texts[i], strlen(texts[i]), NULL, &c, err, sizeof err);
        assert_int_equal(rc, -ENODATA);
        assert_null(c);
        assert_string_equal(err, "e.yaml: the cluster config file is empty (nothing but "
                                 "comments or blank lines)");
    }
}

/* Ray fills head_node_type itself for local clusters; any value is ignored. */
static void head_node_type_is_accepted_and_ignored(void **state)
{
    (void)state;
    cluster_config *c = load(MINIMAL "head_node_type: {}\navailable_node_types: {}\n", NULL);
    if (c == NULL)
        fail_msg("%s", err);
    cfg_free(c);
}

static void anchors_expand_and_bombs_are_refused(void **state)
{
    (void)state;
    cluster_config *c = load(MINIMAL "setup_commands: &s [one, two]\n"
                                     "worker_setup_commands: *s\n", NULL);
    assert_non_null(c);
    assert_int_equal(c->worker_setup_commands.n, 4);
    cfg_free(c);
    char bomb[2048];
    int n = snprintf(bomb, sizeof bomb, "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for (int i = 1; i < 9; i++)
        n += snprintf(bomb + n, sizeof bomb - (size_t)n,
                      "a%d: &a%d [*a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d]\n",
                      i, i, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1);
    expect_error(bomb, "document has too many nodes");
    char deep[128];
    memset(deep, '[', 100);
    deep[100] = '\0';
    expect_error(deep, "nested too deeply");
}

static void scalar_typing_follows_yaml_1_1(void **state)
{
    (void)state;
    const char *text = "a: yes\nb: 0x1F\nc: 1_000\nd: 1.5e3\ne: '12'\nf: ~\ng: 10.0.0.1\n"
                       "h: 017\n";
    cfg_node *doc = NULL;
    long long i;
    double d;
    int b;
    assert_int_equal(cfg_doc_parse("t", text, strlen(text), NULL, NULL, &doc, err, sizeof err), 0);
    assert_int_equal(cfg_scalar_bool(cfg_map_get(doc, "a"), &b), 0);
    assert_int_equal(b, 1);
    assert_int_equal(cfg_scalar_int(cfg_map_get(doc, "b"), &i), 0);
    assert_int_equal(i, 31);
    assert_int_equal(cfg_scalar_int(cfg_map_get(doc, "c"), &i), 0);
    assert_int_equal(i, 1000);
    assert_int_equal(cfg_scalar_number(cfg_map_get(doc, "d"), &d), 0);
    assert_true(d == 1500.0);
    assert_int_equal(cfg_scalar_type(cfg_map_get(doc, "e")), CFG_T_STR);
    assert_int_equal(cfg_scalar_type(cfg_map_get(doc, "f")), CFG_T_NULL);
    assert_int_equal(cfg_scalar_type(cfg_map_get(doc, "g")), CFG_T_STR);
    assert_int_equal(cfg_scalar_int(cfg_map_get(doc, "h"), &i), 0);
    assert_int_equal(i, 15);
    cfg_node_free(doc);
}

static void missing_file_is_reported_as_ray_does(void **state)
{
    (void)state;
    cluster_config *c = NULL;
    assert_int_equal(cfg_load("/nonexistent/c.yaml", NULL, &c, err, sizeof err), -ENOENT);
    assert_string_equal(err, "Provided cluster configuration file (/nonexistent/c.yaml) does "
                             "not exist");
}

/* Every allocation of loading the config in PATH may fail: each gives
 * -ENOMEM and no config, never a crash, a wrong error or a load that
 * succeeds anyway. */
static void walk_every_enomem_path(const char *path)
{
    if (!alloc_fail_works())
        skip();
    char *text = NULL;
    size_t len;
    assert_int_equal(fs_read_file(path, 1 << 20, &text, &len), 0);
    long n;
    for (n = 1;; n++) {
        cluster_config *c = NULL;
        alloc_fail_at(n);
        int rc = cfg_load_text("full.yaml", text, len, NULL, &c, err, sizeof err);
        if (!alloc_fail_off()) {
            if (rc != 0)
                fail_msg("%s: allocation %ld not reached, yet the load gave %d (%s)", path, n, rc,
                         err);
            cfg_free(c);
            break;
        }
        if (rc != -ENOMEM) {
            cfg_free(c);
            fail_msg("%s: allocation %ld failing gave %d (%s)", path, n, rc, err);
        }
        assert_null(c);
    }
    assert_true(n > 100);
    free(text);
}

static void load_walks_every_enomem_path(void **state)
{
    (void)state;
    walk_every_enomem_path("tests/fixtures/ray_local/example-minimal-manual.yaml");
}

/* Ray's development example has a duplicate key (setup_commands) and a
 * docker section: the warning paths allocate too. */
static void load_of_development_example_walks_every_enomem_path(void **state)
{
    (void)state;
    walk_every_enomem_path("tests/fixtures/ray_local/development-example.yaml");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(minimal_gets_ray_defaults),
        cmocka_unit_test(cluster_name_defaults_to_default),
        cmocka_unit_test(setup_commands_are_prepended),
        cmocka_unit_test(user_start_commands_replace_defaults),
        cmocka_unit_test(workers_are_capped_with_rays_warning),
        cmocka_unit_test(overrides_win_and_are_reported),
        cmocka_unit_test(paths_and_rayc_keys),
        cmocka_unit_test(rays_full_local_example_loads),
        cmocka_unit_test(rays_minimal_manual_example_loads),
        cmocka_unit_test(defaults_are_valid_against_the_schema),
        cmocka_unit_test(unknown_key_has_position_and_suggestion),
        cmocka_unit_test(wrong_types_have_position_and_path),
        cmocka_unit_test(missing_keys_are_reported),
        cmocka_unit_test(local_provider_rules),
        cmocka_unit_test(yaml_errors_have_position),
        cmocka_unit_test(duplicate_keys_warn_and_the_last_wins),
        cmocka_unit_test(empty_files_are_refused),
        cmocka_unit_test(head_node_type_is_accepted_and_ignored),
        cmocka_unit_test(anchors_expand_and_bombs_are_refused),
        cmocka_unit_test(scalar_typing_follows_yaml_1_1),
        cmocka_unit_test(missing_file_is_reported_as_ray_does),
        cmocka_unit_test(load_walks_every_enomem_path),
        cmocka_unit_test(docker_section_loads_as_ray_reads_it),
        cmocka_unit_test(docker_without_pull_inspects_the_image_first),
        cmocka_unit_test(docker_errors_name_the_field),
        cmocka_unit_test(docker_shm_size_follows_ray),
        cmocka_unit_test(load_of_development_example_walks_every_enomem_path),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
