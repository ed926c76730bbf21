/* A node's container during `ray up` (Ray's DockerCommandRunner.run_init). */
#include "launcher/up_docker.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "common/dbuf.h"
#include "launcher/ldocker.h"
#include "launcher/lshell.h"
#include "launcher/ssh_exec.h"

/* What a probe's stdout may hold (inspect output, meminfo). */
#define CAPTURE_MAX (64u * 1024)

typedef struct capture {
    FILE *log;
    char buf[CAPTURE_MAX];
    size_t len;
} capture;

static void on_output(void *data, int is_stderr, const char *buf, size_t len)
{
    capture *c = data;
    fwrite(buf, 1, len, c->log);
    if (is_stderr)
        return;
    size_t room = sizeof c->buf - 1 - c->len;
    if (len > room)
        len = room;
    memcpy(c->buf + c->len, buf, len);
    c->len += len;
    c->buf[c->len] = '\0';
}

/* Runs CMD on the host (no pty: stdout alone is captured into CAP, trailing
 * white space cut), in Ray's login-shell wrapper with LOGIN (unless normal
 * shells were asked for), else in the user's plain shell.  Returns the exit
 * status, or -1 with ERR set when it could not run. */
static int run_host(up_docker *d, const char *cmd, int login, capture *cap, char *err,
                    size_t errlen)
{
    int status;
    char *line = lshell_wrap(cmd, NULL, 0, d->x->login_shells && login);
    if (line == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    cap->log = d->log;
    cap->len = 0;
    cap->buf[0] = '\0';
    fprintf(d->log, "$ %s\n", cmd);
    fflush(d->log);
    ssh_run_opts o = {.on_output = on_output, .data = cap};
    int rc = ssh_run(d->conn, line, &o, &status, err, errlen);
    free(line);
    fflush(d->log);
    if (rc != 0)
        return -1;
    while (cap->len > 0 && strchr(" \t\r\n", cap->buf[cap->len - 1]) != NULL)
        cap->buf[--cap->len] = '\0';
    return status;
}

/* A read-only probe (inspect, meminfo): the plain shell is enough, and it
 * saves the login shell's start on every one. */
static int probe(up_docker *d, const char *cmd, capture *cap, char *err, size_t errlen)
{
    return run_host(d, cmd, 0, cap, err, errlen);
}

/* Runs CMD (a new string, freed here; NULL: out of memory) with LOGIN (see
 * run_host) and requires exit status 0. */
static int run_ok(up_docker *d, char *cmd, int login, capture *cap, char *err, size_t errlen)
{
    if (cmd == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    int st = run_host(d, cmd, login, cap, err, errlen);
    if (st > 0 || st == SSH_EXIT_NONE)
        snprintf(err, errlen, "`%.300s` failed with exit code %d", cmd, st);
    free(cmd);
    return st == 0 ? 0 : -1;
}

/* A command that changes something (pull, run, stop, copies), in Ray's
 * login-shell wrapper; exit status 0 required. */
static int host_ok(up_docker *d, char *cmd, capture *cap, char *err, size_t errlen)
{
    return run_ok(d, cmd, 1, cap, err, errlen);
}

/* Ray's _check_docker_installed, as an error rather than a log line: the
 * pull that follows would fail anyway. */
static int check_installed(up_docker *d, capture *cap, char *err, size_t errlen)
{
    char cmd[128];
    const char *engine = ldocker_cmd(d->x->cfg);
    snprintf(cmd, sizeof cmd, "command -v %s || echo 'NoExist'", engine);
    if (probe(d, cmd, cap, err, errlen) < 0)
        return -1;
    if (strstr(cap->buf, "NoExist") == NULL && cap->buf[0] != '\0')
        return 0;
    if (d->x->cfg->docker.use_podman)
        snprintf(err, errlen, "Podman not installed. You can install Podman by adding the "
                 "following commands to 'initialization_commands': sudo apt-get update; "
                 "sudo apt-get -y install podman");
    else
        snprintf(err, errlen, "Docker not installed. You can install Docker by adding the "
                 "following commands to 'initialization_commands': curl -fsSL "
                 "https://get.docker.com -o get-docker.sh; sudo sh get-docker.sh; "
                 "sudo usermod -aG docker $USER; sudo systemctl restart docker -f");
    return -1;
}

static int is_running(up_docker *d, capture *cap, char *err, size_t errlen)
{
    char *cmd = ldocker_inspect(d->x->cfg, ".State.Running");
    int st = cmd != NULL ? probe(d, cmd, cap, err, errlen) : -1;
    free(cmd);
    if (st < 0)
        return -1;
    /* Ray's check: "true" somewhere, and not "no such object". */
    for (char *p = cap->buf; *p; p++)
        *p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
    return strstr(cap->buf, "true") != NULL && strstr(cap->buf, "no such object") == NULL;
}

/* The container's $HOME (Ray's _docker_expand_user). */
static int read_home(up_docker *d, capture *cap, char *err, size_t errlen)
{
    dbuf b;
    dbuf_init(&b, 1024);
    dbuf_printf(&b, "%s exec %s printenv HOME", ldocker_cmd(d->x->cfg),
                d->x->cfg->docker.container_name);
    if (run_ok(d, dbuf_take(&b, NULL), 0, cap, err, errlen) != 0)
        return -1;
    snprintf(d->home, sizeof d->home, "%.500s", cap->buf[0] == '/' ? cap->buf : "/root");
    return 0;
}

/* HOME from the image's environment (`inspect -f '{{json .Config.Env}}'`),
 * /root when it has none, into D->home. */
static void image_home(up_docker *d, capture *cap)
{
    char err[256];
    dbuf b;
    dbuf_init(&b, 4096);
    dbuf_printf(&b, "%s inspect -f '{{json .Config.Env}}' ", ldocker_cmd(d->x->cfg));
    lshell_quote(&b, ldocker_image(d->x->cfg, d->is_head));
    char *cmd = dbuf_take(&b, NULL);
    snprintf(d->home, sizeof d->home, "/root");
    if (cmd == NULL || probe(d, cmd, cap, err, sizeof err) != 0) {
        free(cmd);
        return;
    }
    free(cmd);
    json_t *env = json_loads(cap->buf, 0, NULL);
    size_t i;
    json_t *v;
    json_array_foreach(env, i, v) {
        const char *s = json_string_value(v);
        if (s != NULL && strncmp(s, "HOME=", 5) == 0 && s[5] == '/') {
            snprintf(d->home, sizeof d->home, "%s", s + 5);
            break;
        }
    }
    json_decref(env);
}

/* Ray's _configure_runtime and _auto_configure_shm, into EXTRA. */
static void measured_options(up_docker *d, capture *cap, char *extra, size_t len)
{
    char err[256], shm[64] = "";
    const cfg_docker *k = &d->x->cfg->docker;
    int nvidia = 0;
    extra[0] = '\0';
    if (!k->no_runtime_detection) {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "%s info -f '{{.Runtimes}}' 2>/dev/null || true",
                 ldocker_cmd(d->x->cfg));
        if (probe(d, cmd, cap, err, sizeof err) == 0 &&
            strstr(cap->buf, "nvidia-container-runtime") != NULL)
            nvidia = probe(d, "nvidia-smi", cap, err, sizeof err) == 0;
        if (!nvidia && strstr(cap->buf, "nvidia-container-runtime") != NULL)
            fprintf(d->log, "Nvidia Container Runtime is present, but no GPUs found.\n");
    }
    if (!k->no_shm_detection && probe(d, "cat /proc/meminfo || true", cap, err, sizeof err) == 0)
        ldocker_shm_option(cap->buf, shm, sizeof shm);
    snprintf(extra, len, "%s%s%s", shm, shm[0] && nvidia ? " " : "",
             nvidia ? "--runtime=nvidia" : "");
}

/* Ray's _check_if_container_restart_is_needed.  Returns 1 when the running
 * container lacks a file mount's bind mount, else 0. */
static int restart_needed(up_docker *d, capture *cap)
{
    char err[256], dst[4096];
    const cluster_config *c = d->x->cfg;
    const char *want = ldocker_image(c, d->is_head);
    char *cmd = ldocker_inspect(c, ".Config.Image");
    if (cmd != NULL && probe(d, cmd, cap, err, sizeof err) == 0 && strcmp(cap->buf, want) != 0) {
        fprintf(d->log, "A container with name %s is running image %s instead of %s (which "
                "was provided in the YAML)\n", c->docker.container_name, cap->buf, want);
        snprintf(d->note, sizeof d->note, "Container %s is running image %.150s instead of "
                 "%.150s (kept, as Ray does)", c->docker.container_name, cap->buf, want);
    }
    free(cmd);
    if (read_home(d, cap, err, sizeof err) != 0)
        return 0;
    cmd = ldocker_inspect(c, "json .Mounts");
    int st = cmd != NULL ? probe(d, cmd, cap, err, sizeof err) : -1;
    free(cmd);
    json_t *mounts = st == 0 ? json_loads(cap->buf, 0, NULL) : NULL;
    if (mounts == NULL) {
        fprintf(d->log, "Unable to check if file_mounts specified in the YAML differ from "
                "those on the running container.\n");
        return 0;
    }
    int missing = 0;
    for (size_t i = 0; i < c->n_mounts && !missing; i++) {
        missing = 1;
        if (ldocker_expand(c->mounts[i].remote, d->home, dst, sizeof dst) != 0)
            break;
        size_t j;
        json_t *m;
        json_array_foreach(mounts, j, m) {
            const char *have = json_string_value(json_object_get(m, "Destination"));
            size_t n = strlen(dst);
            while (n > 1 && dst[n - 1] == '/')
                n--;
            if (have != NULL && strncmp(have, dst, n) == 0 && (have[n] == '\0' ||
                                                                 strcmp(have + n, "/") == 0))
                missing = 0;
        }
        if (missing)
            fprintf(d->log, "This Docker Container is already running. Restarting the Docker "
                    "container on this node to pick up the following file_mounts %s\n", dst);
    }
    json_decref(mounts);
    return missing;
}

/* A container started with --rm that stopped may linger until the engine's
 * cleanup removes it (podman does that from a separate process), and its
 * name blocks `run`.  Removing it does what --rm was going to do; one that
 * does not exist is left alone. */
static int remove_stopped(up_docker *d, capture *cap, char *err, size_t errlen)
{
    const cluster_config *c = d->x->cfg;
    char *cmd = ldocker_inspect(c, ".State.Running");
    int st = cmd != NULL ? probe(d, cmd, cap, err, errlen) : -1;
    free(cmd);
    if (st < 0 || strcmp(cap->buf, "false") != 0)
        return 0;
    fprintf(d->log, "Removing the stopped container %s (started with --rm)\n",
            c->docker.container_name);
    dbuf b;
    dbuf_init(&b, 1024);
    dbuf_printf(&b, "%s rm -f %s >/dev/null 2>&1; ! %s inspect %s >/dev/null 2>&1",
                ldocker_cmd(c), c->docker.container_name, ldocker_cmd(c),
                c->docker.container_name);
    return host_ok(d, dbuf_take(&b, NULL), cap, err, errlen);
}

static int start(up_docker *d, capture *cap, char *err, size_t errlen)
{
    char extra[256];
    if (remove_stopped(d, cap, err, errlen) != 0)
        return -1;
    image_home(d, cap);
    measured_options(d, cap, extra, sizeof extra);
    if (host_ok(d, ldocker_run(d->x->cfg, d->is_head, d->home, extra), cap, err, errlen) != 0)
        return -1;
    d->started = 1;
    return 0;
}

int up_docker_init(up_docker *d, char *err, size_t errlen)
{
    capture *cap = malloc(sizeof *cap);
    const cluster_config *c = d->x->cfg;
    int rc = -1, running;
    d->ready = d->started = 0;
    d->note[0] = '\0';
    if (cap == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (check_installed(d, cap, err, errlen) != 0 ||
        host_ok(d, ldocker_pull(c, d->is_head), cap, err, errlen) != 0 ||
        (running = is_running(d, cap, err, errlen)) < 0)
        goto out;
    if (running && restart_needed(d, cap)) {
        dbuf b;
        dbuf_init(&b, 1024);
        dbuf_printf(&b, "%s stop %s", ldocker_cmd(c), c->docker.container_name);
        if (host_ok(d, dbuf_take(&b, NULL), cap, err, errlen) != 0)
            goto out;
        running = 0;
    }
    if (!running && start(d, cap, err, errlen) != 0)
        goto out;
    if (read_home(d, cap, err, errlen) != 0)
        goto out;
    if (d->note[0] == '\0')
        snprintf(d->note, sizeof d->note, "Container %s %s (%.200s)", c->docker.container_name,
                 d->started ? "started" : "already running, reused",
                 ldocker_image(c, d->is_head));
    d->ready = 1;
    rc = 0;
out:
    free(cap);
    return rc;
}

/* Appends to B: copy HOST_PATH into the staging directory "$S" under the
 * container path of REMOTE.  Returns 0 or -1 with ERR. */
static int stage_one(up_docker *d, dbuf *b, const char *host_path, const char *remote,
                     char *err, size_t errlen)
{
    char dst[4096];
    if (ldocker_expand(remote, d->home, dst, sizeof dst) != 0 || dst[0] != '/') {
        snprintf(err, errlen, "%s: not an absolute path in the container", remote);
        return -1;
    }
    char *slash = strrchr(dst, '/');
    *slash = '\0';
    dbuf_puts(b, " && mkdir -p \"$S\"");
    lshell_quote(b, dst);
    *slash = '/';
    dbuf_puts(b, " && cp -pR ");
    lshell_quote(b, host_path);
    dbuf_puts(b, " \"$S\"");
    lshell_quote(b, dst);
    return 0;
}

int up_docker_copy(up_docker *d, const char *const *host_paths, const char *const *remotes,
                   size_t n, char *err, size_t errlen)
{
    const cluster_config *c = d->x->cfg;
    if (n == 0)
        return 0;
    dbuf b;
    dbuf_init(&b, 1024 * 1024);
    dbuf_puts(&b, "S=$(mktemp -d) && chmod 700 \"$S\"");
    for (size_t i = 0; i < n; i++)
        if (stage_one(d, &b, host_paths[i], remotes[i], err, errlen) != 0) {
            dbuf_free(&b);
            return -1;
        }
    dbuf_printf(&b, " && tar -C \"$S\" -cf - . | %s exec -i %s tar -C / --no-overwrite-dir "
                "-xpf -; rc=$?; rm -rf \"$S\"; exit $rc", ldocker_cmd(c),
                c->docker.container_name);
    capture *cap = malloc(sizeof *cap);
    if (cap == NULL) {
        dbuf_free(&b);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    int rc = host_ok(d, dbuf_take(&b, NULL), cap, err, errlen);
    free(cap);
    return rc;
}
