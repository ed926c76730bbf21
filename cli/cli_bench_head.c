/* The microbenchmark's temporary head: `ray start --head` in a directory of
 * its own under $TMPDIR (its token there too), stopped with `ray stop`. */
#include "cli/cli_bench.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/net.h"
#include "common/token.h"
#include "common/util.h"

/* Runs ARGV with stdout and stderr into OUT; returns its exit status. */
static int run(char *const *argv, const char *out)
{
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        int fd = open(out, O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        execv(argv[0], argv);
        _exit(127);
    }
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

/* bin/ray: $RAY_BIN, else "ray" next to this executable, else bin/ray. */
static void find_ray(char *out, size_t outlen)
{
    const char *env = getenv("RAY_BIN");
    char exe[PATH_MAX];
    if (env != NULL && *env != '\0') {
        snprintf(out, outlen, "%s", env);
        return;
    }
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    exe[n > 0 ? n : 0] = '\0';
    char *slash = strrchr(exe, '/');
    if (slash != NULL)
        *slash = '\0';
    if (fs_path_join(out, outlen, exe, "ray") != 0 || access(out, X_OK) != 0)
        snprintf(out, outlen, "bin/ray");
}

int cli_bench_head_start(cli_bench_head *h, const char *num_cpus, char *err, size_t errlen)
{
    const char *tmp = getenv("TMPDIR");
    char port[16], dport[16], out[PATH_MAX + 16];
    memset(h, 0, sizeof *h);
    find_ray(h->ray, sizeof h->ray);
    snprintf(h->dir, sizeof h->dir, "%s/rayc-microbenchmark-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (mkdtemp(h->dir) == NULL) {
        snprintf(err, errlen, "cannot make a temp dir: %s", strerror(errno));
        return -1;
    }
    snprintf(h->token_file, sizeof h->token_file, "%s/token", h->dir);
    char token[TOKEN_MAX + 1]; /* --auth-token-file reads an existing file */
    if (token_generate(token, sizeof token) != 0 || token_write_file(h->token_file, token) != 0) {
        snprintf(err, errlen, "cannot write a token to %s", h->token_file);
        return -1;
    }
    snprintf(out, sizeof out, "%s/start.out", h->dir);
    int p = net_pick_free_port("127.0.0.1"), d = net_pick_free_port("127.0.0.1");
    snprintf(port, sizeof port, "%d", p);
    snprintf(dport, sizeof dport, "%d", d);
    snprintf(h->addr, sizeof h->addr, "127.0.0.1:%d", p);
    setenv("RAY_TMPDIR", h->dir, 1);
    snprintf(out, sizeof out, "%s/nodes", h->dir); /* `ray stop` finds only this head */
    setenv("RAYC_NODE_REGISTRY", out, 1);
    snprintf(out, sizeof out, "%s/start.out", h->dir);
    char *argv[20] = {h->ray, "start", "--head", "--node-ip-address", "127.0.0.1", "--port",
                      port, "--dashboard-port", dport, "--auth-token-file", h->token_file};
    int n = 11;
    if (num_cpus != NULL) {
        argv[n++] = "--num-cpus";
        argv[n++] = (char *)num_cpus;
    }
    argv[n] = NULL;
    h->started = 1;
    if (run(argv, out) != 0) {
        snprintf(err, errlen, "`%s start --head` failed; see %s", h->ray, out);
        return -1;
    }
    return 0;
}

void cli_bench_head_stop(cli_bench_head *h)
{
    char out[PATH_MAX + 16];
    if (!h->started)
        return;
    h->started = 0;
    snprintf(out, sizeof out, "%s/stop.out", h->dir);
    char *argv[] = {h->ray, "stop", NULL};
    run(argv, out);
    fs_rm_rf(h->dir);
}
