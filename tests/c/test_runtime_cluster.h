/* A throwaway local cluster for the runtime's C tests: `bin/ray start --head`
 * in a temp dir of its own (HOME and RAY_TMPDIR point there, so the token
 * and the node registry stay inside), on free ports, stopped at exit.
 *
 * Included by the test_runtime_*.c files only (each is its own program). */
#ifndef RAYC_TEST_RUNTIME_CLUSTER_H
#define RAYC_TEST_RUNTIME_CLUSTER_H

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/net.h"
#include "common/util.h"
#include "ray/ray.h"

typedef struct rt_cluster {
    char root[256];
    char addr[64];
    char ray[512];
    int started;
} rt_cluster;

static rt_cluster rt_c;

/* Runs a shell command line; returns its exit status. */
static inline int rt_sh(const char *cmd)
{
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static inline void rt_cluster_stop(void)
{
    char cmd[1024];
    if (!rt_c.started)
        return;
    rt_c.started = 0;
    snprintf(cmd, sizeof cmd, "%s stop >/dev/null 2>&1", rt_c.ray);
    rt_sh(cmd);
    if (getenv("KEEP_TEST_DIR") == NULL)
        fs_rm_rf(rt_c.root);
    else
        fprintf(stderr, "kept %s\n", rt_c.root);
}

static inline void rt_on_signal(int sig)
{
    rt_cluster_stop();
    signal(sig, SIG_DFL);
    raise(sig);
}

/* Starts a head with EXTRA flags (e.g. "--num-cpus 2").  Sets HOME,
 * RAY_TMPDIR and RAY_ADDRESS for this process.  Returns 0 or -1 (the
 * reason on stderr). */
static inline int rt_cluster_start(const char *extra)
{
    char cmd[2048], home[300];
    const char *bin = getenv("RAY_BIN");
    snprintf(rt_c.ray, sizeof rt_c.ray, "%s", bin ? bin : "bin/ray");
    snprintf(rt_c.root, sizeof rt_c.root, "/tmp/rayc-test-runtime-XXXXXX");
    if (mkdtemp(rt_c.root) == NULL)
        return -1;
    snprintf(home, sizeof home, "%s/home", rt_c.root);
    fs_mkdir_p(home, 0700);
    setenv("HOME", home, 1);
    setenv("RAY_TMPDIR", rt_c.root, 1);
    snprintf(home, sizeof home, "%s/nodes", rt_c.root); /* `ray stop` stops only this head */
    setenv("RAYC_NODE_REGISTRY", home, 1);
    unsetenv("RAY_AUTH_TOKEN");
    unsetenv("RAY_AUTH_TOKEN_PATH");
    unsetenv("RAY_JOB_ID");
    int port = net_pick_free_port("127.0.0.1"), dport = net_pick_free_port("127.0.0.1");
    snprintf(rt_c.addr, sizeof rt_c.addr, "127.0.0.1:%d", port);
    setenv("RAY_ADDRESS", rt_c.addr, 1);
    snprintf(cmd, sizeof cmd, "%s start --head --node-ip-address 127.0.0.1 --port %d "
             "--dashboard-port %d %s > %s/start.out 2>&1", rt_c.ray, port, dport,
             extra ? extra : "", rt_c.root);
    rt_c.started = 1;
    atexit(rt_cluster_stop);
    signal(SIGABRT, rt_on_signal);
    signal(SIGSEGV, rt_on_signal);
    signal(SIGTERM, rt_on_signal);
    if (rt_sh(cmd) != 0) {
        snprintf(cmd, sizeof cmd, "cat %s/start.out >&2", rt_c.root);
        rt_sh(cmd);
        return -1;
    }
    return 0;
}

/* rt_cluster_start(EXTRA), then ray_init(OPTS) against that head.
 * Returns 0 or -1 (the reason on stderr). */
static inline int rt_cluster_up(const char *extra, const ray_init_opts *opts)
{
    if (rt_cluster_start(extra) != 0)
        return -1;
    if (ray_init(opts) != RAY_OK) {
        fprintf(stderr, "ray_init: %s\n", ray_last_error());
        return -1;
    }
    return 0;
}

/* The node directory of the head. */
static inline int rt_node_dir(char *out, size_t outlen)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "ls -d %s/session_2*/node_* 2>/dev/null | head -1", rt_c.root);
    FILE *p = popen(cmd, "r");
    if (p == NULL)
        return -1;
    int ok = fgets(out, (int)outlen, p) != NULL;
    pclose(p);
    if (ok)
        out[strcspn(out, "\n")] = '\0';
    return ok ? 0 : -1;
}

/* Monotonic seconds. */
static inline double rt_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Sleeps MS milliseconds. */
static inline void rt_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

/* Calls a builtin (or any) function with ARGS and gets an i64 result. */
static inline int rt_call_i64(const char *fn, ray_args args, int64_t *out)
{
    ray_ref *r = ray_call(fn, args, NULL);
    if (r == NULL)
        return RAY_ERR_CONNECTION;
    int rc = ray_get_i64(r, 60, out);
    ray_ref_release(r);
    return rc;
}

/* True while process PID exists (zombies count as gone). */
static inline int rt_pid_alive(int pid)
{
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return 0;
    int ok = fgets(buf, sizeof buf, f) != NULL;
    fclose(f);
    const char *p = ok ? strrchr(buf, ')') : NULL;
    return p != NULL && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X';
}

#endif
