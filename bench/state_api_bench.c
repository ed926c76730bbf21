/* state_api_bench: latency of Ray's state API with many stored tasks.
 *
 *   state_api_bench GCS_HOST:PORT DASHBOARD_URL TOKEN_FILE [TASKS [REQUESTS]]
 *
 * Fills the GCS with TASKS (default 100000) task attempts, four state
 * changes each, through AddTaskEvents as raylets send them, then times
 * REQUESTS (default 300) GETs of DASHBOARD_URL/api/v0/tasks?limit=100, and
 * as many with a filter that matches nothing (a full scan).  Prints
 * "name unit value" lines (p50, p99 in ms). */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/ids.h"
#include "common/net.h"
#include "common/rpc_client.h"
#include "common/token.h"
#include "common/util.h"

#define BATCH 2000

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int fill(rpc_client *c, long tasks)
{
    static const char *const states[] = {"PENDING_ARGS_AVAIL", "SUBMITTED_TO_WORKER", "RUNNING",
                                         "FINISHED"};
    Rayc__TaskEvent *ev = calloc(BATCH * 4, sizeof *ev);
    Rayc__TaskEvent **evp = calloc(BATCH * 4, sizeof *evp);
    uint8_t (*ids)[IDS_TASK_LEN] = calloc(BATCH, IDS_TASK_LEN);
    uint8_t job[IDS_JOB_LEN] = {1, 0, 0, 0};
    if (ev == NULL || evp == NULL || ids == NULL)
        return -1;
    for (long done = 0; done < tasks; done += BATCH) {
        size_t n = 0;
        for (long t = 0; t < BATCH && done + t < tasks; t++) {
            long id = done + t;
            memset(ids[t], 0, IDS_TASK_LEN);
            memcpy(ids[t], &id, sizeof id);
            for (int s = 0; s < 4; s++, n++) {
                rayc__task_event__init(&ev[n]);
                ev[n].task_id.data = ids[t];
                ev[n].task_id.len = IDS_TASK_LEN;
                ev[n].state = (char *)states[s];
                ev[n].time_ns = now_ns();
                ev[n].job_id.data = job;
                ev[n].job_id.len = IDS_JOB_LEN;
                ev[n].func = id % 2 ? "bench_even" : "bench_odd";
                ev[n].node_id = s ? "0123456789abcdef0123456789abcdef0123456789abcdef01234567" : "";
                ev[n].worker_pid = s ? 4242 : 0;
                evp[n] = &ev[n];
            }
        }
        Rayc__AddTaskEvents add = RAYC__ADD_TASK_EVENTS__INIT;
        add.tasks = evp;
        add.n_tasks = n;
        Rayc__Envelope env = RAYC__ENVELOPE__INIT, *reply = NULL;
        env.body_case = RAYC__ENVELOPE__BODY_ADD_TASK_EVENTS;
        env.add_task_events = &add;
        char err[256];
        if (rpc_client_call(c, &env, 10000, &reply, err, sizeof err) != 0) {
            fprintf(stderr, "state_api_bench: AddTaskEvents: %s\n", err);
            return -1;
        }
        rayc__envelope__free_unpacked(reply, NULL);
    }
    free(ev);
    free(evp);
    free(ids);
    return 0;
}

static size_t sink(char *d, size_t s, size_t n, void *arg)
{
    size_t *total = arg;
    (void)d;
    *total += s * n;
    return s * n;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int timed(const char *url, const char *token, int requests, const char *name)
{
    CURL *c = curl_easy_init();
    char auth[TOKEN_MAX + 32];
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
    struct curl_slist *hl = curl_slist_append(NULL, auth);
    double *ms = calloc((size_t)requests, sizeof *ms);
    size_t bytes = 0;
    if (c == NULL || hl == NULL || ms == NULL)
        return -1;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &bytes);
    for (int i = 0; i < requests; i++) {
        int64_t t0 = now_ns();
        long status = 0;
        if (curl_easy_perform(c) != CURLE_OK ||
            curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK || status != 200) {
            fprintf(stderr, "state_api_bench: GET %s failed (status %ld)\n", url, status);
            return -1;
        }
        ms[i] = (double)(now_ns() - t0) / 1e6;
    }
    qsort(ms, (size_t)requests, sizeof *ms, cmp);
    printf("%s_p50 ms %.3f\n", name, ms[requests / 2]);
    printf("%s_p99 ms %.3f\n", name, ms[(requests * 99) / 100]);
    printf("%s_bytes bytes %zu\n", name, bytes / (size_t)requests);
    free(ms);
    curl_slist_free_all(hl);
    curl_easy_cleanup(c);
    return 0;
}

int main(int argc, char **argv)
{
    char host[256], err[256], token[TOKEN_MAX + 1], url[1024];
    int port;
    long tasks = argc > 4 ? strtol(argv[4], NULL, 10) : 100000;
    int requests = argc > 5 ? (int)strtol(argv[5], NULL, 10) : 300;
    if (argc < 4 || tasks < 1 || requests < 2 ||
        net_parse_hostport(argv[1], 6379, host, sizeof host, &port) != 0) {
        fprintf(stderr, "usage: state_api_bench GCS_HOST:PORT DASHBOARD_URL TOKEN_FILE "
                "[TASKS [REQUESTS]]\n");
        return 2;
    }
    if (token_read_file(argv[3], token, sizeof token) != 0) {
        fprintf(stderr, "state_api_bench: cannot read %s\n", argv[3]);
        return 1;
    }
    rpc_client *c = NULL;
    if (rpc_client_connect(host, port, token, "bench", 5000, &c, err, sizeof err) != 0) {
        fprintf(stderr, "state_api_bench: %s\n", err);
        return 1;
    }
    int64_t t0 = now_ns();
    if (fill(c, tasks) != 0)
        return 1;
    printf("stored_tasks tasks %ld\n", tasks);
    printf("fill_rate events/s %.0f\n", 4.0 * (double)tasks / ((double)(now_ns() - t0) / 1e9));
    rpc_client_close(c);
    snprintf(url, sizeof url, "%s/api/v0/tasks?limit=100", argv[2]);
    if (timed(url, token, requests, "api_v0_tasks_limit100") != 0)
        return 1;
    snprintf(url, sizeof url, "%s/api/v0/tasks?limit=100&filter_keys=state&"
             "filter_predicates=%%3D&filter_values=FAILED", argv[2]);
    return timed(url, token, requests, "api_v0_tasks_filter_no_match") != 0;
}
