/* jobs_bench: the job server's figures.
 *
 *   build/bench/jobs_bench [--jobserver bin/ray_jobserver] [--jobs 100] [--seconds 5]
 *
 * Prints (1) submit -> RUNNING latency (p50, p99) measured by polling
 * GET /api/jobs/{id}; (2) GET /api/jobs/{id} requests per second with wrk
 * over 16 connections, and the same for a static buffer of the same size
 * served by a plain server (the same single-threaded libmicrohttpd-on-libuv
 * transport, answering every request with that buffer and nothing else), with
 * their ratio;
 * (3) GET /api/jobs/ latency with 10,000 jobs in the store. */
#include <curl/curl.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/net.h"
#include "common/util.h"
#include "jobserver/http_server.h"
#include "common/dbuf.h"
#include "jobserver/jobs_store.h"

#define LIST_JOBS 10000
#define LIST_SAMPLES 30

typedef struct bench {
    const char *exe;
    char dir[256];
    char token[80];
    char url[64];
    int port;
    pid_t pid;
    int njobs;
    int seconds;
    CURL *curl;
} bench;

/* ---------------------------------------------------------------- helpers */

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double percentile(double *v, int n, double p)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    int i = (int)(p / 100.0 * (n - 1) + 0.5);
    return v[i < n ? i : n - 1];
}

static size_t collect(char *data, size_t size, size_t nmemb, void *arg)
{
    return dbuf_add(arg, data, size * nmemb) == 0 ? size * nmemb : 0;
}

/* One request; returns the HTTP status (0 on failure) and the body in OUT. */
static long request(bench *b, const char *method, const char *path, const char *body,
                    dbuf *out)
{
    char url[512], auth[128];
    snprintf(url, sizeof url, "%s%s", b->url, path);
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", b->token);
    struct curl_slist *h = curl_slist_append(NULL, auth);
    h = curl_slist_append(h, "Content-Type: application/json");
    curl_easy_reset(b->curl);
    curl_easy_setopt(b->curl, CURLOPT_URL, url);
    curl_easy_setopt(b->curl, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(b->curl, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(b->curl, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(b->curl, CURLOPT_WRITEDATA, out);
    if (body != NULL)
        curl_easy_setopt(b->curl, CURLOPT_POSTFIELDS, body);
    long status = 0;
    if (curl_easy_perform(b->curl) == CURLE_OK)
        curl_easy_getinfo(b->curl, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(h);
    return status;
}

/* ---------------------------------------------------------------- the server */

static int start_server(bench *b)
{
    char port[16], token_file[300], node[300], log[300];
    snprintf(port, sizeof port, "%d", b->port);
    snprintf(token_file, sizeof token_file, "%s/token", b->dir);
    snprintf(node, sizeof node, "%s/node", b->dir);
    snprintf(log, sizeof log, "%s/jobserver.log", b->dir);
    b->pid = fork();
    if (b->pid == 0) {
        execl(b->exe, "ray_jobserver", "--port", port, "--token-file", token_file, "--node-dir",
              node, "--log-file", log, "--num-cpus", "100000", (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 200; i++) {
        dbuf out;
        dbuf_init(&out, 1 << 20);
        long st = request(b, "GET", "/api/healthz", NULL, &out);
        dbuf_free(&out);
        if (st == 200)
            return 0;
        usleep(50000);
    }
    fprintf(stderr, "jobs_bench: the job server did not start (see %s)\n", log);
    return -1;
}

static void stop_server(bench *b)
{
    kill(b->pid, SIGTERM);
    waitpid(b->pid, NULL, 0);
}

/* ---------------------------------------------------------------- 1: submit -> RUNNING */

static int wait_running(bench *b, const char *id)
{
    char path[128];
    snprintf(path, sizeof path, "/api/jobs/%s", id);
    for (int i = 0; i < 100000; i++) {
        dbuf out;
        dbuf_init(&out, 1 << 20);
        long st = request(b, "GET", path, NULL, &out);
        int running = st == 200 && strstr(out.data, "\"status\": \"PENDING\"") == NULL;
        dbuf_free(&out);
        if (running)
            return 0;
        usleep(200);
    }
    return -1;
}

static int bench_submit(bench *b, char *last_id, size_t idlen)
{
    double *lat = calloc((size_t)b->njobs, sizeof *lat);
    for (int i = 0; i < b->njobs; i++) {
        char body[128];
        snprintf(body, sizeof body, "{\"entrypoint\": \"sleep 600\", \"submission_id\": \"bench-%d\"}", i);
        dbuf out;
        dbuf_init(&out, 1 << 20);
        double t0 = now_ms();
        long st = request(b, "POST", "/api/jobs/", body, &out);
        dbuf_free(&out);
        snprintf(last_id, idlen, "bench-%d", i);
        if (st != 200 || wait_running(b, last_id) != 0) {
            fprintf(stderr, "jobs_bench: job %s did not start\n", last_id);
            free(lat);
            return -1;
        }
        lat[i] = now_ms() - t0;
    }
    printf("submit -> RUNNING latency over %d jobs: p50 %.2f ms, p99 %.2f ms\n", b->njobs,
           percentile(lat, b->njobs, 50), percentile(lat, b->njobs, 99));
    free(lat);
    for (int i = 0; i < b->njobs; i++) {
        char path[64];
        dbuf out;
        dbuf_init(&out, 1 << 20);
        snprintf(path, sizeof path, "/api/jobs/bench-%d/stop", i);
        request(b, "POST", path, "", &out);
        dbuf_free(&out);
    }
    return 0;
}

/* ---------------------------------------------------------------- 2: requests per second */

static double run_wrk(const char *url, const char *token, int seconds)
{
    char cmd[1024], line[512];
    snprintf(cmd, sizeof cmd, "wrk -t2 -c16 -d%ds%s%s%s '%s' 2>&1", seconds,
             token ? " -H 'Authorization: Bearer " : "", token ? token : "", token ? "'" : "", url);
    FILE *p = popen(cmd, "r");
    double rps = -1;
    while (p != NULL && fgets(line, sizeof line, p) != NULL)
        if (strncmp(line, "Requests/sec:", 13) == 0)
            rps = strtod(line + 13, NULL);
    if (p != NULL)
        pclose(p);
    return rps;
}

/* The plain server: every request gets the same bytes. */
static void static_headers(void *arg, http_request *r);
static int static_headers_cb(void *arg, http_request *r)
{
    return 0;   /* answer once the request is complete, so keep-alive holds */
}

static void static_headers(void *arg, http_request *r)
{
    dbuf *body = arg;
    http_respond(r, 200, "application/json; charset=utf-8", body->data, body->len);
}

/* Runs the plain server on PORT in a child process; returns its pid. */
static pid_t start_plain(dbuf *body, int port)
{
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    uv_loop_t *loop = uv_loop_new();
    http_server *srv;
    char err[256];
    http_server_config cfg = {.host = "127.0.0.1", .port = port, .max_body = 1 << 20,
                              .on_headers = static_headers_cb, .on_request = static_headers,
                              .arg = body};
    if (http_server_start(loop, &cfg, &srv, err, sizeof err) != 0)
        _exit(1);
    uv_run(loop, UV_RUN_DEFAULT);
    _exit(0);
}

static int bench_rps(bench *b, const char *id)
{
    char path[128], url[256];
    dbuf body;
    dbuf_init(&body, 1 << 20);
    snprintf(path, sizeof path, "/api/jobs/%s", id);
    if (request(b, "GET", path, NULL, &body) != 200)
        return -1;
    snprintf(url, sizeof url, "%s%s", b->url, path);
    double api = run_wrk(url, b->token, b->seconds);
    int sport = net_pick_free_port("127.0.0.1");
    pid_t plain_pid = start_plain(&body, sport);
    usleep(200000);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/static.json", sport);
    double plain = run_wrk(url, NULL, b->seconds);
    kill(plain_pid, SIGKILL);
    waitpid(plain_pid, NULL, 0);
    printf("GET /api/jobs/{id} (%zu bytes) over 16 connections: %.0f req/s; the same bytes "
           "from a plain static server: %.0f req/s; ratio %.2f\n",
           body.len, api, plain, plain > 0 ? api / plain : 0);
    dbuf_free(&body);
    return api > 0 ? 0 : -1;
}

/* ---------------------------------------------------------------- 3: listing 10,000 jobs */

static int fill_store(bench *b)
{
    char path[300], err[512];
    jobs_store *s;
    snprintf(path, sizeof path, "%s/node/jobs.db", b->dir);
    if (jobs_store_open(path, &s, err, sizeof err) != 0) {
        fprintf(stderr, "jobs_bench: %s\n", err);
        return -1;
    }
    for (int i = 0; i < LIST_JOBS; i++) {
        jobs_job *j = jobs_job_new();
        snprintf(j->submission_id, sizeof j->submission_id, "filler-%05d", i);
        j->entrypoint = strdup("python train.py --epochs 10");
        j->metadata_json = strdup("{\"owner\": \"bench\"}");
        j->runtime_env_json = strdup("{\"env_vars\": {\"A\": \"1\"}}");
        j->status = JOBS_SUCCEEDED;
        j->start_time = 1700000000000 + i;
        j->end_time = j->start_time + 1000;
        j->has_exit_code = 1;
        jobs_store_insert(s, j);
        jobs_job_free(j);
    }
    jobs_store_close(s);
    return 0;
}

static int bench_list(bench *b)
{
    stop_server(b);
    if (fill_store(b) != 0 || start_server(b) != 0)
        return -1;
    double lat[LIST_SAMPLES];
    size_t bytes = 0;
    for (int i = 0; i < LIST_SAMPLES; i++) {
        dbuf out;
        dbuf_init(&out, 1u << 30);
        double t0 = now_ms();
        long st = request(b, "GET", "/api/jobs/", NULL, &out);
        lat[i] = now_ms() - t0;
        bytes = out.len;
        dbuf_free(&out);
        if (st != 200)
            return -1;
    }
    printf("GET /api/jobs/ with %d jobs (%.1f MB): p50 %.1f ms, p99 %.1f ms\n", LIST_JOBS + b->njobs,
           bytes / 1e6, percentile(lat, LIST_SAMPLES, 50), percentile(lat, LIST_SAMPLES, 99));
    return 0;
}

/* ---------------------------------------------------------------- main */

static int parse_args(bench *b, int argc, char **argv)
{
    b->exe = "bin/ray_jobserver";
    b->njobs = 100;
    b->seconds = 5;
    for (int i = 1; i + 1 < argc; i += 2) {
        long n;
        if (strcmp(argv[i], "--jobserver") == 0)
            b->exe = argv[i + 1];
        else if (strcmp(argv[i], "--jobs") == 0 && parse_long(argv[i + 1], 1, 100000, &n) == 0)
            b->njobs = (int)n;
        else if (strcmp(argv[i], "--seconds") == 0 && parse_long(argv[i + 1], 1, 600, &n) == 0)
            b->seconds = (int)n;
        else
            return -1;
    }
    return access(b->exe, X_OK) == 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
    bench b = {0};
    if (parse_args(&b, argc, argv) != 0) {
        fprintf(stderr, "usage: jobs_bench [--jobserver bin/ray_jobserver] [--jobs N] [--seconds S]\n");
        return 2;
    }
    snprintf(b.dir, sizeof b.dir, "/tmp/rayc-jobs-bench-XXXXXX");
    if (mkdtemp(b.dir) == NULL)
        return 1;
    char token_file[300];
    snprintf(b.token, sizeof b.token, "bench-token-%08d", (int)getpid());   /* >= 16 chars */
    snprintf(token_file, sizeof token_file, "%s/token", b.dir);
    fs_write_file(token_file, b.token, strlen(b.token), 0600);
    b.port = net_pick_free_port("127.0.0.1");
    snprintf(b.url, sizeof b.url, "http://127.0.0.1:%d", b.port);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    b.curl = curl_easy_init();
    char id[64] = "";
    int rc = start_server(&b);
    if (rc == 0)
        rc = bench_submit(&b, id, sizeof id);
    if (rc == 0)
        rc = bench_rps(&b, id);
    if (rc == 0)
        rc = bench_list(&b);
    stop_server(&b);
    curl_easy_cleanup(b.curl);
    fs_rm_rf(b.dir);
    return rc == 0 ? 0 : 1;
}
