/* gcs_kv_bench: KV throughput of a real gcs_server, and its CPU use under
 * 100 simulated raylets.
 *
 * Starts bin/gcs_server (GCS_SERVER_BIN overrides) on a free port in a temp
 * dir, then prints plain "name unit value" lines:
 *   kv_put_1conn ops/s N          one connection, one request at a time
 *   kv_get_1conn ops/s N
 *   kv_put_1conn_pipelined ops/s N  one connection, 64 requests in flight
 *   kv_put_8conn ops/s N          8 threads, each with its own connection
 *   kv_get_8conn ops/s N
 *   raylets100_gcs_cpu percent N  100 raylets registering and reporting
 *                                 resources once a second for 10 s */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/net.h"
#include "common/rpc_client.h"
#include "common/util.h"

#define TOKEN "bench-token"
#define OPS_1CONN 20000
#define OPS_PER_THREAD 10000
#define THREADS 8
#define PIPELINE 64
#define RAYLETS 100
#define RAYLET_SECONDS 10
#define VALUE_LEN 100

static struct {
    char dir[64];
    int port;
    pid_t pid;
} B;

/* ---------------------------------------------------------------- the server */

static void kill_server(void)
{
    if (B.pid > 0) {
        kill(B.pid, SIGKILL);
        waitpid(B.pid, NULL, 0);
        B.pid = 0;
    }
    if (B.dir[0] != '\0')
        fs_rm_rf(B.dir);
}

static rpc_client *connect_gcs(void)
{
    int64_t deadline = time_mono_ms() + 5000;
    char err[256] = "";
    while (time_mono_ms() < deadline) {
        rpc_client *c;
        if (rpc_client_connect("127.0.0.1", B.port, TOKEN, "bench", 2000, &c, err, sizeof err) == 0)
            return c;
        usleep(50 * 1000);
    }
    fprintf(stderr, "gcs_kv_bench: cannot connect: %s\n", err);
    return NULL;
}

static int start_server(void)
{
    const char *bin = getenv("GCS_SERVER_BIN") ? getenv("GCS_SERVER_BIN") : "bin/gcs_server";
    snprintf(B.dir, sizeof B.dir, "/tmp/gcs_kv_bench.XXXXXX");
    char tok[128], db[128], log[128], port[16];
    if (mkdtemp(B.dir) == NULL || (B.port = net_pick_free_port("127.0.0.1")) <= 0)
        return -1;
    snprintf(tok, sizeof tok, "%s/token", B.dir);
    snprintf(db, sizeof db, "%s/gcs.db", B.dir);
    snprintf(log, sizeof log, "%s/gcs_server.log", B.dir);
    snprintf(port, sizeof port, "%d", B.port);
    if (fs_write_file(tok, TOKEN, strlen(TOKEN), 0600) != 0)
        return -1;
    B.pid = fork();
    if (B.pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        execl(bin, bin, "--port", port, "--host", "127.0.0.1", "--token-file", tok,
              "--session-name", "bench", "--db", db, "--log-file", log, (char *)NULL);
        _exit(127);
    }
    rpc_client *c = B.pid > 0 ? connect_gcs() : NULL;
    rpc_client_close(c);
    return c != NULL ? 0 : -1;
}

/* ---------------------------------------------------------------- KV */

/* Fills ENV with a put (GET=0) or get (GET=1) of key "k<I>" in the bench namespace. */
static void kv_request(Rayc__Envelope *env, Rayc__KvPut *put, Rayc__KvGet *get, char *key,
                       size_t keylen, int i, int is_get)
{
    static uint8_t value[VALUE_LEN];
    int n = snprintf(key, keylen, "k%d", i);
    rayc__envelope__init(env);
    if (is_get) {
        rayc__kv_get__init(get);
        get->ns = "bench";
        get->key.data = (uint8_t *)key;
        get->key.len = (size_t)n;
        env->body_case = RAYC__ENVELOPE__BODY_KV_GET;
        env->kv_get = get;
    } else {
        rayc__kv_put__init(put);
        put->ns = "bench";
        put->key.data = (uint8_t *)key;
        put->key.len = (size_t)n;
        put->value.data = value;
        put->value.len = sizeof value;
        put->overwrite = 1;
        env->body_case = RAYC__ENVELOPE__BODY_KV_PUT;
        env->kv_put = put;
    }
}

/* Runs COUNT sequential puts or gets on C with keys from BASE.  Returns the
 * number that succeeded. */
static int kv_run(rpc_client *c, int base, int count, int is_get)
{
    int ok = 0;
    for (int i = 0; i < count; i++) {
        Rayc__Envelope env, *reply;
        Rayc__KvPut put;
        Rayc__KvGet get;
        char key[32];
        kv_request(&env, &put, &get, key, sizeof key, base + i, is_get);
        if (rpc_client_call(c, &env, 5000, &reply, NULL, 0) == 0) {
            ok++;
            rayc__envelope__free_unpacked(reply, NULL);
        }
    }
    return ok;
}

/* COUNT puts with PIPELINE requests in flight. */
static int kv_run_pipelined(rpc_client *c, int count)
{
    int sent = 0, done = 0;
    while (done < count) {
        while (sent < count && sent - done < PIPELINE) {
            Rayc__Envelope env;
            Rayc__KvPut put;
            Rayc__KvGet get;
            char key[32];
            kv_request(&env, &put, &get, key, sizeof key, sent, 0);
            env.request_id = (uint64_t)sent + 1000000;
            if (rpc_client_send(c, &env) != 0)
                return done;
            sent++;
        }
        Rayc__Envelope *m;
        if (rpc_client_recv(c, 5000, &m) != 0)
            return done;
        rayc__envelope__free_unpacked(m, NULL);
        done++;
    }
    return done;
}

static double rate(int ops, int64_t start_ms)
{
    int64_t ms = time_mono_ms() - start_ms;
    return ms > 0 ? ops * 1000.0 / (double)ms : 0;
}

typedef struct worker {
    pthread_t thread;
    int index;
    int is_get;
    int ok;
} worker;

static void *worker_main(void *arg)
{
    worker *w = arg;
    rpc_client *c = connect_gcs();
    if (c != NULL) {
        w->ok = kv_run(c, w->index * OPS_PER_THREAD, OPS_PER_THREAD, w->is_get);
        rpc_client_close(c);
    }
    return NULL;
}

/* Runs THREADS workers doing puts or gets; prints the aggregate rate. */
static void kv_threads(const char *name, int is_get)
{
    worker w[THREADS];
    int64_t start = time_mono_ms();
    for (int i = 0; i < THREADS; i++) {
        w[i] = (worker){.index = i, .is_get = is_get};
        pthread_create(&w[i].thread, NULL, worker_main, &w[i]);
    }
    int ok = 0;
    for (int i = 0; i < THREADS; i++) {
        pthread_join(w[i].thread, NULL);
        ok += w[i].ok;
    }
    printf("%s ops/s %.0f\n", name, rate(ok, start));
    fflush(stdout);
}

static void kv_bench(void)
{
    rpc_client *c = connect_gcs();
    if (c == NULL)
        return;
    int64_t t = time_mono_ms();
    printf("kv_put_1conn ops/s %.0f\n", rate(kv_run(c, 0, OPS_1CONN, 0), t));
    t = time_mono_ms();
    printf("kv_get_1conn ops/s %.0f\n", rate(kv_run(c, 0, OPS_1CONN, 1), t));
    t = time_mono_ms();
    printf("kv_put_1conn_pipelined ops/s %.0f\n", rate(kv_run_pipelined(c, OPS_1CONN), t));
    fflush(stdout);
    rpc_client_close(c);
    kv_threads("kv_put_8conn", 0);
    kv_threads("kv_get_8conn", 1);
}

/* ---------------------------------------------------------------- raylets */

/* CPU time (user + system) of PID in clock ticks, or -1. */
static long long cpu_ticks(pid_t pid)
{
    char path[64], *text = NULL;
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    if (fs_read_file(path, 4096, &text, NULL) != 0)
        return -1;
    unsigned long long ut = 0, st = 0;
    const char *p = strrchr(text, ')');
    /* After the command: state ppid pgrp session tty tpgid flags minflt
     * cminflt majflt cmajflt utime stime. */
    int n = p ? sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) : 0;
    free(text);
    return n == 2 ? (long long)(ut + st) : -1;
}

static const char *res_names[] = {"CPU", "GPU", "memory", "object_store_memory", "node:127.0.0.1"};
#define NRES (sizeof res_names / sizeof res_names[0])

/* Registers raylet I with five resources on C.  Returns 0 or -1. */
static int raylet_register(rpc_client *c, int i)
{
    char id[64];
    snprintf(id, sizeof id, "benchnode%05d", i);
    Rayc__NodeInfo__ResourcesTotalEntry e[NRES], *ep[NRES];
    for (size_t k = 0; k < NRES; k++) {
        rayc__node_info__resources_total_entry__init(&e[k]);
        e[k].key = (char *)res_names[k];
        e[k].value = 8.0 * (double)(k + 1);
        ep[k] = &e[k];
    }
    Rayc__NodeInfo node = RAYC__NODE_INFO__INIT;
    node.node_id = id;
    node.address = "127.0.0.1";
    node.node_manager_port = 20000 + i;
    node.n_resources_total = NRES;
    node.resources_total = ep;
    Rayc__RegisterNode reg = RAYC__REGISTER_NODE__INIT;
    reg.node = &node;
    Rayc__Envelope env = RAYC__ENVELOPE__INIT, *reply;
    env.body_case = RAYC__ENVELOPE__BODY_REGISTER_NODE;
    env.register_node = &reg;
    if (rpc_client_call(c, &env, 5000, &reply, NULL, 0) != 0)
        return -1;
    rayc__envelope__free_unpacked(reply, NULL);
    return 0;
}

/* One ReportResources round trip for raylet I.  Returns 0 or -1. */
static int raylet_report(rpc_client *c, int i, int round)
{
    char id[64];
    snprintf(id, sizeof id, "benchnode%05d", i);
    Rayc__ReportResources__AvailableEntry e[NRES], *ep[NRES];
    for (size_t k = 0; k < NRES; k++) {
        rayc__report_resources__available_entry__init(&e[k]);
        e[k].key = (char *)res_names[k];
        e[k].value = (double)((round + (int)k) % 8);
        ep[k] = &e[k];
    }
    Rayc__ReportResources rep = RAYC__REPORT_RESOURCES__INIT;
    rep.node_id = id;
    rep.n_available = NRES;
    rep.available = ep;
    Rayc__Envelope env = RAYC__ENVELOPE__INIT, *reply;
    env.body_case = RAYC__ENVELOPE__BODY_REPORT_RESOURCES;
    env.report_resources = &rep;
    if (rpc_client_call(c, &env, 5000, &reply, NULL, 0) != 0)
        return -1;
    rayc__envelope__free_unpacked(reply, NULL);
    return 0;
}

static void raylet_bench(void)
{
    static rpc_client *c[RAYLETS];
    int registered = 0, reports = 0;
    for (int i = 0; i < RAYLETS; i++)
        if ((c[i] = connect_gcs()) != NULL && raylet_register(c[i], i) == 0)
            registered++;
    long long t0 = cpu_ticks(B.pid);
    int64_t start = time_mono_ms();
    for (int round = 0; round < RAYLET_SECONDS; round++) {
        for (int i = 0; i < RAYLETS; i++)
            reports += c[i] != NULL && raylet_report(c[i], i, round) == 0;
        int64_t next = start + (int64_t)(round + 1) * 1000;
        while (time_mono_ms() < next)
            usleep((useconds_t)((next - time_mono_ms()) * 1000));
    }
    long long t1 = cpu_ticks(B.pid);
    double secs = (double)(time_mono_ms() - start) / 1000.0;
    double cpu = (double)(t1 - t0) / (double)sysconf(_SC_CLK_TCK) / secs * 100.0;
    printf("raylets100_registered count %d\n", registered);
    printf("raylets100_reports count %d\n", reports);
    printf("raylets100_gcs_cpu percent %.2f\n", t0 >= 0 && t1 >= 0 ? cpu : -1.0);
    printf("raylets100_gcs_cpu_time seconds %.2f\n",
           (double)(t1 - t0) / (double)sysconf(_SC_CLK_TCK));
    for (int i = 0; i < RAYLETS; i++)
        rpc_client_close(c[i]);
}

int main(void)
{
    if (start_server() != 0) {
        fprintf(stderr, "gcs_kv_bench: cannot start bin/gcs_server (run from the repo root)\n");
        kill_server();
        return 1;
    }
    kv_bench();
    raylet_bench();
    kill_server();
    return 0;
}
