/* dash_sim_nodes: N simulated nodes for the dashboard bench.  Registers N
 * NodeInfo records (4 CPUs, a store, made-up but plausible NodeStats) with
 * the GCS and reports for each every 500 ms for SECONDS, so the GCS keeps
 * them ALIVE, then unregisters them.  No raylet runs behind them: only the
 * node table (what the dashboard reads) is real.
 *
 *   dash_sim_nodes GCS_HOST GCS_PORT TOKEN_FILE N SECONDS */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/rpc_client.h"
#include "common/token.h"
#include "common/util.h"

#define MAX_NODES 1000

static int call(rpc_client *c, Rayc__Envelope *env)
{
    char err[256];
    Rayc__Envelope *reply = NULL;
    int rc = rpc_client_call(c, env, 5000, &reply, err, sizeof err);
    if (rc != 0)
        fprintf(stderr, "dash_sim_nodes: %s\n", err);
    else
        rayc__envelope__free_unpacked(reply, NULL);
    return rc;
}

static void fill_stats(Rayc__NodeStats *s, long i)
{
    rayc__node_stats__init(s);
    s->cpu_percent = (double)(i * 7 % 100);
    s->mem_total = 64ull << 30;
    s->mem_used = (uint64_t)(i % 60 + 1) << 30;
    s->object_store_total = 8ull << 30;
    s->object_store_used = (uint64_t)(i % 8) << 28;
    s->tasks_running = (int32_t)(i % 4);
    s->workers = 4;
    s->timestamp_ms = time_now_ms();
}

int main(int argc, char **argv)
{
    long port, n, secs;
    char token[TOKEN_MAX + 1], err[256], ids[MAX_NODES][NODE_ID_HEX_LEN + 1];
    if (argc != 6 || parse_long(argv[2], 1, 65535, &port) != 0 ||
        parse_long(argv[4], 1, MAX_NODES, &n) != 0 || parse_long(argv[5], 1, 86400, &secs) != 0) {
        fprintf(stderr, "usage: dash_sim_nodes GCS_HOST GCS_PORT TOKEN_FILE N(<=%d) SECONDS\n",
                MAX_NODES);
        return 2;
    }
    rpc_client *c = NULL;
    if (token_read_file(argv[3], token, sizeof token) != 0 ||
        rpc_client_connect(argv[1], (int)port, token, "bench", 2000, &c, err, sizeof err) != 0) {
        fprintf(stderr, "dash_sim_nodes: cannot reach the GCS: %s\n", err);
        return 1;
    }
    Rayc__NodeInfo__ResourcesTotalEntry cpu = RAYC__NODE_INFO__RESOURCES_TOTAL_ENTRY__INIT;
    cpu.key = "CPU";
    cpu.value = 4;
    Rayc__NodeInfo__ResourcesTotalEntry *tot[] = {&cpu};
    for (long i = 0; i < n; i++) {
        char addr[32];
        ids_random_hex(ids[i], NODE_ID_HEX_LEN / 2);
        snprintf(addr, sizeof addr, "10.250.%ld.%ld", i / 250, i % 250 + 1);
        Rayc__NodeInfo ni = RAYC__NODE_INFO__INIT;
        Rayc__NodeStats st;
        fill_stats(&st, i);
        ni.node_id = ids[i];
        ni.address = addr;
        ni.node_manager_port = 40000;
        ni.hostname = "simulated";
        ni.n_resources_total = 1;
        ni.resources_total = tot;
        ni.start_time_ms = time_now_ms();
        ni.stats = &st;
        Rayc__RegisterNode reg = RAYC__REGISTER_NODE__INIT;
        reg.node = &ni;
        Rayc__Envelope env = RAYC__ENVELOPE__INIT;
        env.body_case = RAYC__ENVELOPE__BODY_REGISTER_NODE;
        env.register_node = &reg;
        if (call(c, &env) != 0)
            return 1;
    }
    printf("registered %ld simulated nodes\n", n);
    fflush(stdout);
    int64_t end = time_mono_ms() + secs * 1000;
    while (time_mono_ms() < end) {
        for (long i = 0; i < n; i++) {
            Rayc__ReportResources rep = RAYC__REPORT_RESOURCES__INIT;
            Rayc__NodeStats st;
            fill_stats(&st, i);
            rep.node_id = ids[i];
            rep.stats = &st;
            Rayc__Envelope env = RAYC__ENVELOPE__INIT;
            env.body_case = RAYC__ENVELOPE__BODY_REPORT_RESOURCES;
            env.report_resources = &rep;
            if (call(c, &env) != 0)
                return 1;
        }
        struct timespec ts = {0, 500 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    for (long i = 0; i < n; i++) {
        Rayc__UnregisterNode un = RAYC__UNREGISTER_NODE__INIT;
        un.node_id = ids[i];
        un.reason = "simulation ended";
        Rayc__Envelope env = RAYC__ENVELOPE__INIT;
        env.body_case = RAYC__ENVELOPE__BODY_UNREGISTER_NODE;
        env.unregister_node = &un;
        call(c, &env);
    }
    rpc_client_close(c);
    return 0;
}
