/* gcs-server-*: the real bin/gcs_server driven over loopback.
 *
 * Each run starts the daemon in its own temp dir on a free port; every wait
 * is bounded, and the child is killed at the end whatever happened (and by
 * the kernel if this process dies first).  On a failed check the daemon's log
 * tail is printed under the expected/got lines. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/frame.h"
#include "common/net.h"
#include "common/rpc.h"
#include "common/rpc_client.h"
#include "common/util.h"

#define HEALTH_TIMEOUT_MS 1500
#define TOKEN "test-token-0123456789"
#define CALL_MS 3000

/* ---------------------------------------------------------------- the daemon */

static struct {
    char dir[64];
    char token_file[128];
    char db[128];
    char log[128];
    char stdio_log[128];
    const char *bin;
    int port;
    int health_ms;               /* --health-check-timeout-ms */
    pid_t pid;
} S;

/* Prints the last lines of the daemon's log. */
static void dump_log_tail(void)
{
    char *text = NULL;
    size_t len = 0;
    if (fs_read_file(S.log, 1 << 24, &text, &len) != 0) {
        fprintf(stderr, "  (no daemon log at %s)\n", S.log);
        return;
    }
    size_t start = len > 3000 ? len - 3000 : 0;
    fprintf(stderr, "---- tail of %s ----\n%s---- end ----\n", S.log, text + start);
    free(text);
}

#define CHECK(cond)                                                             \
    do {                                                                        \
        if (!(cond)) {                                                          \
            dump_log_tail();                                                    \
            fail_msg("%s:%d: check failed: %s", __FILE__, __LINE__, #cond);     \
        }                                                                       \
    } while (0)

#define CHECK_INT(expected, got)                                                \
    do {                                                                        \
        long long e_ = (long long)(expected), g_ = (long long)(got);            \
        if (e_ != g_) {                                                         \
            dump_log_tail();                                                    \
            fail_msg("%s:%d: %s\nexpected: %lld\n     got: %lld", __FILE__,     \
                     __LINE__, #got, e_, g_);                                   \
        }                                                                       \
    } while (0)

#define CHECK_STR(expected, got)                                                \
    do {                                                                        \
        const char *e_ = (expected), *g_ = (got);                               \
        if (g_ == NULL || strcmp(e_, g_) != 0) {                                \
            dump_log_tail();                                                    \
            fail_msg("%s:%d: %s\nexpected: %s\n     got: %s", __FILE__,         \
                     __LINE__, #got, e_, g_ ? g_ : "(null)");                   \
        }                                                                       \
    } while (0)

/* Runs bin/gcs_server with SESSION on S.port; returns the child's pid. */
static pid_t spawn_server(const char *session)
{
    char port[16], timeout[16];
    snprintf(port, sizeof port, "%d", S.port);
    snprintf(timeout, sizeof timeout, "%d", S.health_ms);
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    FILE *out = freopen(S.stdio_log, "a", stdout);
    FILE *errf = freopen(S.stdio_log, "a", stderr);
    (void)out;
    (void)errf;
    execl(S.bin, S.bin, "--port", port, "--host", "127.0.0.1", "--token-file", S.token_file,
          "--session-name", session, "--db", S.db, "--log-file", S.log,
          "--health-check-timeout-ms", timeout, (char *)NULL);
    _exit(127);
}

/* Connects with the right token, retrying until the daemon answers (5 s). */
static rpc_client *connect_client(void)
{
    int64_t deadline = time_mono_ms() + 5000;
    char err[256] = "";
    while (time_mono_ms() < deadline) {
        rpc_client *c = NULL;
        if (rpc_client_connect("127.0.0.1", S.port, TOKEN, "test", 1000, &c, err, sizeof err) == 0)
            return c;
        usleep(50 * 1000);
    }
    fprintf(stderr, "cannot connect to gcs_server: %s\n", err);
    return NULL;
}

/* Waits up to MS for PID to exit; returns its wait status or -1. */
static int wait_exit(pid_t pid, int ms)
{
    int64_t deadline = time_mono_ms() + ms;
    int status;
    while (time_mono_ms() < deadline) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            return status;
        if (r < 0)
            return -1;
        usleep(20 * 1000);
    }
    return -1;
}

static void start_server(const char *session)
{
    S.pid = spawn_server(session);
    CHECK(S.pid > 0);
    rpc_client *c = connect_client();
    CHECK(c != NULL);
    rpc_client_close(c);
}

static void kill_server(int sig)
{
    if (S.pid <= 0)
        return;
    kill(S.pid, sig);
    if (wait_exit(S.pid, 5000) == -1) {
        kill(S.pid, SIGKILL);
        wait_exit(S.pid, 5000);
    }
    S.pid = 0;
}

static void kill_at_exit(void)
{
    if (S.pid > 0)
        kill(S.pid, SIGKILL);
}

static int group_setup(void **state)
{
    S.bin = getenv("GCS_SERVER_BIN") ? getenv("GCS_SERVER_BIN") : "bin/gcs_server";
    if (access(S.bin, X_OK) != 0) {
        fprintf(stderr, "%s not found: run from the repository root after make\n", S.bin);
        return -1;
    }
    snprintf(S.dir, sizeof S.dir, "/tmp/test_gcs_server.XXXXXX");
    if (mkdtemp(S.dir) == NULL)
        return -1;
    snprintf(S.token_file, sizeof S.token_file, "%s/token", S.dir);
    snprintf(S.db, sizeof S.db, "%s/gcs.db", S.dir);
    snprintf(S.log, sizeof S.log, "%s/gcs_server.log", S.dir);
    snprintf(S.stdio_log, sizeof S.stdio_log, "%s/stdio.log", S.dir);
    S.port = net_pick_free_port("127.0.0.1");
    S.health_ms = HEALTH_TIMEOUT_MS;
    atexit(kill_at_exit);
    if (S.port <= 0 || fs_write_file(S.token_file, TOKEN "\n", strlen(TOKEN) + 1, 0600) != 0)
        return -1;
    S.pid = spawn_server("session_test_1");
    rpc_client *c = S.pid > 0 ? connect_client() : NULL;
    rpc_client_close(c);
    if (c == NULL) {
        fprintf(stderr, "%s did not start; its output:\n", S.bin);
        char *out = NULL;
        if (fs_read_file(S.stdio_log, 1 << 16, &out, NULL) == 0)
            fprintf(stderr, "%s", out);
        free(out);
        dump_log_tail();
    }
    return c != NULL ? 0 : -1;
}

static int group_teardown(void **state)
{
    kill_server(SIGKILL);
    if (getenv("KEEP_TEST_DIR") == NULL)
        fs_rm_rf(S.dir);
    return 0;
}

/* ---------------------------------------------------------------- requests */

/* Sends REQ on C and returns the reply (caller frees), or NULL on an error,
 * with the error message in ERR when given. */
static Rayc__Envelope *call(rpc_client *c, Rayc__Envelope *req, char *err, size_t errlen)
{
    Rayc__Envelope *reply = NULL;
    char buf[256];
    if (rpc_client_call(c, req, CALL_MS, &reply, err ? err : buf, err ? errlen : sizeof buf) != 0)
        return NULL;
    return reply;
}

static Rayc__Envelope *kv_put(rpc_client *c, const char *key, const char *value, int overwrite)
{
    Rayc__KvPut put = RAYC__KV_PUT__INIT;
    put.ns = "test";
    put.key.data = (uint8_t *)key;
    put.key.len = strlen(key);
    put.value.data = (uint8_t *)value;
    put.value.len = strlen(value);
    put.overwrite = overwrite;
    Rayc__Envelope env = RAYC__ENVELOPE__INIT;
    env.body_case = RAYC__ENVELOPE__BODY_KV_PUT;
    env.kv_put = &put;
    return call(c, &env, NULL, 0);
}

/* Reads NS/KEY into OUT ("<missing>" when absent); returns 0 or -1. */
static int kv_get_ns(rpc_client *c, const char *ns, const char *key, char *out, size_t outlen)
{
    Rayc__KvGet get = RAYC__KV_GET__INIT;
    get.ns = (char *)ns;
    get.key.data = (uint8_t *)key;
    get.key.len = strlen(key);
    Rayc__Envelope env = RAYC__ENVELOPE__INIT;
    env.body_case = RAYC__ENVELOPE__BODY_KV_GET;
    env.kv_get = &get;
    Rayc__Envelope *r = call(c, &env, NULL, 0);
    if (r == NULL || r->body_case != RAYC__ENVELOPE__BODY_KV_GET_REPLY) {
        if (r != NULL)
            rayc__envelope__free_unpacked(r, NULL);
        return -1;
    }
    if (r->kv_get_reply->found)
        snprintf(out, outlen, "%.*s", (int)r->kv_get_reply->value.len,
                 (const char *)r->kv_get_reply->value.data);
    else
        snprintf(out, outlen, "<missing>");
    rayc__envelope__free_unpacked(r, NULL);
    return 0;
}

static int kv_get(rpc_client *c, const char *key, char *out, size_t outlen)
{
    return kv_get_ns(c, "test", key, out, outlen);
}

/* Registers node ID with 4 CPUs; returns 0, or -1 with the error in ERR. */
static int register_node(rpc_client *c, const char *id, char *err, size_t errlen)
{
    Rayc__NodeInfo__ResourcesTotalEntry cpu = RAYC__NODE_INFO__RESOURCES_TOTAL_ENTRY__INIT;
    cpu.key = "CPU";
    cpu.value = 4;
    Rayc__NodeInfo__ResourcesTotalEntry *total[] = {&cpu};
    Rayc__NodeInfo node = RAYC__NODE_INFO__INIT;
    node.node_id = (char *)id;
    node.address = "127.0.0.1";
    node.node_manager_port = 40000;
    node.n_resources_total = 1;
    node.resources_total = total;
    Rayc__RegisterNode reg = RAYC__REGISTER_NODE__INIT;
    reg.node = &node;
    Rayc__Envelope env = RAYC__ENVELOPE__INIT;
    env.body_case = RAYC__ENVELOPE__BODY_REGISTER_NODE;
    env.register_node = &reg;
    Rayc__Envelope *r = call(c, &env, err, errlen);
    int ok = r != NULL && r->body_case == RAYC__ENVELOPE__BODY_REGISTER_NODE_REPLY;
    if (r != NULL)
        rayc__envelope__free_unpacked(r, NULL);
    return ok ? 0 : -1;
}

/* Reports AVAIL CPUs free on node ID and waits for the answer, counting in
 * *PREPARES (may be NULL) the PrepareBundles the GCS sent before it (the
 * other messages meanwhile are dropped).  Returns node_dead (0/1) or -1. */
static int report_avail(rpc_client *c, const char *id, double avail, int *prepares)
{
    static uint64_t next_id = 1000000; /* apart from rpc_client_call's ids */
    Rayc__ReportResources__AvailableEntry cpu = RAYC__REPORT_RESOURCES__AVAILABLE_ENTRY__INIT;
    cpu.key = "CPU";
    cpu.value = avail;
    Rayc__ReportResources__AvailableEntry *list[] = {&cpu};
    Rayc__ReportResources rep = RAYC__REPORT_RESOURCES__INIT;
    rep.node_id = (char *)id;
    rep.n_available = 1;
    rep.available = list;
    Rayc__Envelope env = RAYC__ENVELOPE__INIT;
    env.body_case = RAYC__ENVELOPE__BODY_REPORT_RESOURCES;
    env.report_resources = &rep;
    env.request_id = ++next_id;
    if (rpc_client_send(c, &env) != 0)
        return -1;
    for (;;) {
        Rayc__Envelope *m = NULL;
        if (rpc_client_recv(c, CALL_MS, &m) != 0)
            return -1;
        int out = -1;
        if (m->request_id == env.request_id &&
            m->body_case == RAYC__ENVELOPE__BODY_REPORT_RESOURCES_REPLY)
            out = m->report_resources_reply->node_dead ? 1 : 0;
        if (prepares != NULL && m->body_case == RAYC__ENVELOPE__BODY_PREPARE_BUNDLES)
            (*prepares)++;
        int answered = m->request_id == env.request_id;
        rayc__envelope__free_unpacked(m, NULL);
        if (answered)
            return out;
    }
}

/* Reports 2 CPUs available for node ID; returns node_dead (0/1) or -1. */
static int report(rpc_client *c, const char *id)
{
    return report_avail(c, id, 2, NULL);
}

/* Fetches every node (caller frees the envelope); NULL on failure. */
static Rayc__Envelope *get_all_nodes(rpc_client *c)
{
    Rayc__GetAllNodes get = RAYC__GET_ALL_NODES__INIT;
    Rayc__Envelope env = RAYC__ENVELOPE__INIT;
    env.body_case = RAYC__ENVELOPE__BODY_GET_ALL_NODES;
    env.get_all_nodes = &get;
    Rayc__Envelope *r = call(c, &env, NULL, 0);
    if (r != NULL && r->body_case != RAYC__ENVELOPE__BODY_NODE_LIST) {
        rayc__envelope__free_unpacked(r, NULL);
        r = NULL;
    }
    return r;
}

static const Rayc__NodeInfo *find_node(const Rayc__Envelope *list, const char *id)
{
    for (size_t i = 0; i < list->node_list->n_nodes; i++)
        if (strcmp(list->node_list->nodes[i]->node_id, id) == 0)
            return list->node_list->nodes[i];
    return NULL;
}

/* The state of node ID (0 alive, 1 dead) or -1 when unknown. */
static int node_state(rpc_client *c, const char *id)
{
    Rayc__Envelope *r = get_all_nodes(c);
    const Rayc__NodeInfo *n = r ? find_node(r, id) : NULL;
    int state = n ? (int)n->state : -1;
    if (r != NULL)
        rayc__envelope__free_unpacked(r, NULL);
    return state;
}

static int subscribe(rpc_client *c, const char *channel)
{
    char *channels[] = {(char *)channel};
    Rayc__Subscribe sub = RAYC__SUBSCRIBE__INIT;
    sub.n_channels = 1;
    sub.channels = channels;
    Rayc__Envelope env = RAYC__ENVELOPE__INIT;
    env.body_case = RAYC__ENVELOPE__BODY_SUBSCRIBE;
    env.subscribe = &sub;
    Rayc__Envelope *r = call(c, &env, NULL, 0);
    int ok = r != NULL && r->body_case == RAYC__ENVELOPE__BODY_SUBSCRIBE_REPLY;
    if (r != NULL)
        rayc__envelope__free_unpacked(r, NULL);
    return ok ? 0 : -1;
}

/* ---------------------------------------------------------------- raw sockets */

static int raw_connect(void)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)S.port)};
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* True when the server closes FD within MS (whatever it sent before). */
static int closed_within(int fd, int ms)
{
    int64_t deadline = time_mono_ms() + ms;
    char buf[4096];
    for (;;) {
        int left = (int)(deadline - time_mono_ms());
        if (left <= 0)
            return 0;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, left) <= 0)
            continue;
        ssize_t n = read(fd, buf, sizeof buf);
        if (n == 0 || (n < 0 && errno == ECONNRESET))
            return 1;
    }
}

/* True when the daemon's log contains TEXT. */
static int log_contains(const char *text)
{
    char *log = NULL;
    if (fs_read_file(S.log, 1 << 24, &log, NULL) != 0)
        return 0;
    int found = strstr(log, text) != NULL;
    free(log);
    return found;
}

/* ---------------------------------------------------------------- auth */

/* gcs-server-1.1 a wrong token is refused; the right one gets the session */
static void test_auth(void **state)
{
    rpc_client *c = NULL;
    char err[256] = "";
    int rc = rpc_client_connect("127.0.0.1", S.port, "wrong-token", "test", CALL_MS, &c, err,
                                sizeof err);
    CHECK_INT(-EACCES, rc);
    CHECK(strstr(err, "invalid cluster token") != NULL);
    c = connect_client();
    CHECK(c != NULL);
    CHECK_STR("session_test_1", rpc_client_session(c));
    rpc_client_close(c);
    CHECK(log_contains("refused: invalid cluster token"));
}

/* gcs-server-1.2 a first frame that is not hello gets an error and a close */
static void test_hello_first(void **state)
{
    Rayc__GetAllNodes get = RAYC__GET_ALL_NODES__INIT;
    Rayc__Envelope env = RAYC__ENVELOPE__INIT;
    env.request_id = 9;
    env.body_case = RAYC__ENVELOPE__BODY_GET_ALL_NODES;
    env.get_all_nodes = &get;
    uint8_t *buf;
    size_t len;
    CHECK_INT(0, rpc_pack(&env, FRAME_DEFAULT_MAX, &buf, &len));
    int fd = raw_connect();
    CHECK(fd >= 0);
    CHECK_INT((long long)len, write(fd, buf, len));
    free(buf);
    uint8_t reply[256];
    struct pollfd p = {.fd = fd, .events = POLLIN};
    CHECK(poll(&p, 1, 3000) == 1);
    ssize_t n = read(fd, reply, sizeof reply); /* one small frame arrives whole */
    CHECK(n > FRAME_HEADER_SIZE);
    Rayc__Envelope *e = rayc__envelope__unpack(NULL, (size_t)n - FRAME_HEADER_SIZE,
                                               reply + FRAME_HEADER_SIZE);
    CHECK(e != NULL && e->body_case == RAYC__ENVELOPE__BODY_ERROR);
    CHECK_INT(RPC_E_UNAUTHENTICATED, e->error->code);
    CHECK_STR("the first message must be hello", e->error->message);
    CHECK_INT(9, e->request_id);
    rayc__envelope__free_unpacked(e, NULL);
    CHECK(closed_within(fd, 3000));
    close(fd);
}

/* ---------------------------------------------------------------- KV */

/* gcs-server-2.1 KV put, get, overwrite, delete by prefix and keys */
static void test_kv(void **state)
{
    rpc_client *c = connect_client();
    CHECK(c != NULL);
    char v[64];
    Rayc__Envelope *r = kv_put(c, "alpha", "one", 0);
    CHECK(r != NULL && r->body_case == RAYC__ENVELOPE__BODY_KV_PUT_REPLY);
    CHECK(r->kv_put_reply->added);
    rayc__envelope__free_unpacked(r, NULL);
    r = kv_put(c, "alpha", "two", 0);
    CHECK(r != NULL && !r->kv_put_reply->added);
    rayc__envelope__free_unpacked(r, NULL);
    CHECK_INT(0, kv_get(c, "alpha", v, sizeof v));
    CHECK_STR("one", v);
    rayc__envelope__free_unpacked(kv_put(c, "alpha", "three", 1), NULL);
    CHECK_INT(0, kv_get(c, "alpha", v, sizeof v));
    CHECK_STR("three", v);
    rayc__envelope__free_unpacked(kv_put(c, "pre:1", "x", 0), NULL);
    rayc__envelope__free_unpacked(kv_put(c, "pre:2", "x", 0), NULL);

    Rayc__KvKeys keys = RAYC__KV_KEYS__INIT;
    keys.ns = "test";
    keys.prefix.data = (uint8_t *)"pre:";
    keys.prefix.len = 4;
    Rayc__Envelope env = RAYC__ENVELOPE__INIT;
    env.body_case = RAYC__ENVELOPE__BODY_KV_KEYS;
    env.kv_keys = &keys;
    r = call(c, &env, NULL, 0);
    CHECK(r != NULL && r->body_case == RAYC__ENVELOPE__BODY_KV_KEYS_REPLY);
    CHECK_INT(2, r->kv_keys_reply->n_keys);
    rayc__envelope__free_unpacked(r, NULL);

    Rayc__KvDel del = RAYC__KV_DEL__INIT;
    del.ns = "test";
    del.key = keys.prefix;
    del.by_prefix = 1;
    env.body_case = RAYC__ENVELOPE__BODY_KV_DEL;
    env.kv_del = &del;
    r = call(c, &env, NULL, 0);
    CHECK(r != NULL && r->body_case == RAYC__ENVELOPE__BODY_KV_DEL_REPLY);
    CHECK_INT(2, r->kv_del_reply->deleted);
    rayc__envelope__free_unpacked(r, NULL);
    CHECK_INT(0, kv_get(c, "pre:1", v, sizeof v));
    CHECK_STR("<missing>", v);
    rpc_client_close(c);
}

/* ---------------------------------------------------------------- bad peers */

/* gcs-server-3.1 garbage and an oversized header close only those connections */
static void test_bad_frames(void **state)
{
    rpc_client *good = connect_client();
    CHECK(good != NULL);
    uint8_t garbage[12] = {0, 0, 0, 8, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    int fd1 = raw_connect();
    CHECK(fd1 >= 0);
    CHECK_INT(12, write(fd1, garbage, sizeof garbage));
    uint8_t huge[4] = {0x7f, 0xff, 0xff, 0xff};
    int fd2 = raw_connect();
    CHECK(fd2 >= 0);
    CHECK_INT(4, write(fd2, huge, sizeof huge));
    const char http[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    int fd3 = raw_connect();
    CHECK(fd3 >= 0);
    CHECK_INT((long long)strlen(http), write(fd3, http, strlen(http)));
    CHECK(closed_within(fd1, 3000));
    CHECK(closed_within(fd2, 3000));
    CHECK(closed_within(fd3, 3000));
    close(fd1);
    close(fd2);
    close(fd3);

    char v[64];
    CHECK_INT(0, kv_get(good, "alpha", v, sizeof v)); /* an older connection still works */
    CHECK_STR("three", v);
    rpc_client *fresh = connect_client();
    CHECK(fresh != NULL);
    rayc__envelope__free_unpacked(kv_put(fresh, "after-garbage", "ok", 1), NULL);
    CHECK_INT(0, kv_get(fresh, "after-garbage", v, sizeof v));
    CHECK_STR("ok", v);
    rpc_client_close(fresh);
    rpc_client_close(good);
    CHECK(log_contains("malformed frame"));
    CHECK(log_contains("oversized frame"));
}

/* ---------------------------------------------------------------- nodes */

/* Waits up to MS on SUB for a NODE publish of ID in STATE. */
static int wait_node_publish(rpc_client *sub, const char *id, int state, int ms,
                             rpc_client *keep_alive, const char *keep_id)
{
    int64_t deadline = time_mono_ms() + ms;
    int64_t next_report = 0;
    while (time_mono_ms() < deadline) {
        if (keep_alive != NULL && time_mono_ms() >= next_report) {
            report(keep_alive, keep_id);
            next_report = time_mono_ms() + 300;
        }
        Rayc__Envelope *m = NULL;
        if (rpc_client_recv(sub, 100, &m) != 0)
            continue;
        int hit = m->body_case == RAYC__ENVELOPE__BODY_PUBLISH && m->request_id == 0 &&
                  strcmp(m->publish->channel, "NODE") == 0 && m->publish->node != NULL &&
                  strcmp(m->publish->node->node_id, id) == 0 &&
                  (int)m->publish->node->state == state;
        rayc__envelope__free_unpacked(m, NULL);
        if (hit)
            return 1;
    }
    return 0;
}

/* gcs-server-4.1 a silent node is published DEAD within the timeout + 2 s */
static void test_health(void **state)
{
    rpc_client *raylet = connect_client(), *sub = connect_client(), *other = connect_client();
    CHECK(raylet != NULL && sub != NULL && other != NULL);
    CHECK_INT(0, subscribe(sub, "NODE"));
    char err[256] = "";
    CHECK_INT(0, register_node(raylet, "nodeA", err, sizeof err));
    CHECK_INT(0, register_node(other, "nodeB", err, sizeof err));
    CHECK(wait_node_publish(sub, "nodeA", RAYC__NODE_INFO__STATE__ALIVE, 2000, NULL, NULL));
    CHECK_INT(0, report(raylet, "nodeA"));
    int64_t last_report = time_mono_ms();
    /* nodeA goes silent; nodeB keeps reporting and must stay alive. */
    CHECK(wait_node_publish(sub, "nodeA", RAYC__NODE_INFO__STATE__DEAD, HEALTH_TIMEOUT_MS + 2000,
                            other, "nodeB"));
    CHECK(time_mono_ms() - last_report >= HEALTH_TIMEOUT_MS - 100);
    CHECK_INT(1, report(raylet, "nodeA"));
    CHECK_INT(0, node_state(other, "nodeB"));
    CHECK_INT(-1, register_node(raylet, "nodeA", err, sizeof err));
    CHECK(strstr(err, "node nodeA was marked dead") != NULL);

    Rayc__Envelope *r = get_all_nodes(other);
    CHECK(r != NULL);
    const Rayc__NodeInfo *a = find_node(r, "nodeA");
    CHECK(a != NULL && strstr(a->death_reason, "health check failed") != NULL);
    CHECK(a->end_time_ms > 0 && a->start_time_ms > 0);
    CHECK_INT(1, a->n_resources_available);
    CHECK(a->resources_available[0]->value == 2);
    rayc__envelope__free_unpacked(r, NULL);
    rpc_client_close(raylet);
    rpc_client_close(sub);
    rpc_client_close(other);
}

/* gcs-server-4.2 unregister marks a node DEAD with the given reason */
static void test_unregister(void **state)
{
    rpc_client *c = connect_client();
    CHECK(c != NULL);
    Rayc__UnregisterNode un = RAYC__UNREGISTER_NODE__INIT;
    un.node_id = "nodeB";
    un.reason = "received SIGTERM";
    Rayc__Envelope env = RAYC__ENVELOPE__INIT;
    env.body_case = RAYC__ENVELOPE__BODY_UNREGISTER_NODE;
    env.unregister_node = &un;
    Rayc__Envelope *r = call(c, &env, NULL, 0);
    CHECK(r != NULL && r->body_case == RAYC__ENVELOPE__BODY_UNREGISTER_NODE_REPLY);
    rayc__envelope__free_unpacked(r, NULL);
    un.node_id = "no-such-node";
    char err[256] = "";
    CHECK(call(c, &env, err, sizeof err) == NULL);
    CHECK(strstr(err, "not registered") != NULL);
    r = get_all_nodes(c);
    const Rayc__NodeInfo *b = r ? find_node(r, "nodeB") : NULL;
    CHECK(b != NULL);
    CHECK_INT(RAYC__NODE_INFO__STATE__DEAD, b->state);
    CHECK_STR("received SIGTERM", b->death_reason);
    rayc__envelope__free_unpacked(r, NULL);
    rpc_client_close(c);
}

/* ---------------------------------------------------------------- jobs */

static char *next_job_id(rpc_client *c, char *out, size_t outlen)
{
    Rayc__GetNextJobId get = RAYC__GET_NEXT_JOB_ID__INIT;
    Rayc__Envelope env = RAYC__ENVELOPE__INIT;
    env.body_case = RAYC__ENVELOPE__BODY_GET_NEXT_JOB_ID;
    env.get_next_job_id = &get;
    Rayc__Envelope *r = call(c, &env, NULL, 0);
    snprintf(out, outlen, "%s", r && r->body_case == RAYC__ENVELOPE__BODY_GET_NEXT_JOB_ID_REPLY
                                    ? r->get_next_job_id_reply->job_id : "<error>");
    if (r != NULL)
        rayc__envelope__free_unpacked(r, NULL);
    return out;
}

/* gcs-server-5.1 job ids count up like Ray's; jobs are added, finished, listed, published */
static void test_jobs(void **state)
{
    rpc_client *c = connect_client(), *sub = connect_client();
    CHECK(c != NULL && sub != NULL);
    CHECK_INT(0, subscribe(sub, "JOB"));
    char id[32];
    CHECK_STR("01000000", next_job_id(c, id, sizeof id));
    Rayc__JobInfo job = RAYC__JOB_INFO__INIT;
    job.job_id = id;
    job.entrypoint = "./driver";
    Rayc__AddJob add = RAYC__ADD_JOB__INIT;
    add.job = &job;
    Rayc__Envelope env = RAYC__ENVELOPE__INIT;
    env.body_case = RAYC__ENVELOPE__BODY_ADD_JOB;
    env.add_job = &add;
    Rayc__Envelope *r = call(c, &env, NULL, 0);
    CHECK(r != NULL && r->body_case == RAYC__ENVELOPE__BODY_ADD_JOB_REPLY);
    rayc__envelope__free_unpacked(r, NULL);
    Rayc__MarkJobFinished fin = RAYC__MARK_JOB_FINISHED__INIT;
    fin.job_id = id;
    env.body_case = RAYC__ENVELOPE__BODY_MARK_JOB_FINISHED;
    env.mark_job_finished = &fin;
    r = call(c, &env, NULL, 0);
    CHECK(r != NULL && r->body_case == RAYC__ENVELOPE__BODY_MARK_JOB_FINISHED_REPLY);
    rayc__envelope__free_unpacked(r, NULL);

    Rayc__GetAllJobs all = RAYC__GET_ALL_JOBS__INIT;
    env.body_case = RAYC__ENVELOPE__BODY_GET_ALL_JOBS;
    env.get_all_jobs = &all;
    r = call(c, &env, NULL, 0);
    CHECK(r != NULL && r->body_case == RAYC__ENVELOPE__BODY_JOB_LIST);
    CHECK_INT(1, r->job_list->n_jobs);
    CHECK(r->job_list->jobs[0]->is_dead && r->job_list->jobs[0]->start_time_ms > 0);
    rayc__envelope__free_unpacked(r, NULL);

    int seen = 0;
    Rayc__Envelope *m;
    while (seen < 2 && rpc_client_recv(sub, 2000, &m) == 0) {
        seen += m->body_case == RAYC__ENVELOPE__BODY_PUBLISH && m->publish->job != NULL;
        rayc__envelope__free_unpacked(m, NULL);
    }
    CHECK_INT(2, seen);
    rpc_client_close(c);
    rpc_client_close(sub);
}

/* ---------------------------------------------------------------- restart */

/* gcs-server-6.1 after kill -9 and a restart on the same db, state is intact */
static void test_restart(void **state)
{
    rpc_client *c = connect_client();
    CHECK(c != NULL);
    char err[256] = "";
    CHECK_INT(0, register_node(c, "nodeC", err, sizeof err));
    CHECK_INT(0, report(c, "nodeC"));
    rpc_client_close(c);
    kill_server(SIGKILL);
    start_server("another_session_name");

    c = connect_client();
    CHECK(c != NULL);
    CHECK_STR("session_test_1", rpc_client_session(c));
    char v[64];
    CHECK_INT(0, kv_get_ns(c, "session", "session_name", v, sizeof v));
    CHECK_STR("session_test_1", v);
    CHECK_INT(0, kv_get(c, "alpha", v, sizeof v));
    CHECK_STR("three", v);
    CHECK_INT(1, node_state(c, "nodeA"));
    CHECK_INT(1, node_state(c, "nodeB"));
    CHECK_INT(0, node_state(c, "nodeC"));           /* a fresh grace period */
    CHECK_INT(0, register_node(c, "nodeC", err, sizeof err)); /* the raylet comes back */
    CHECK_INT(0, report(c, "nodeC"));
    CHECK_INT(-1, register_node(c, "nodeA", err, sizeof err));
    char id[32];
    CHECK_STR("02000000", next_job_id(c, id, sizeof id));
    rpc_client_close(c);
}

/* gcs-server-7.1 a second server on a taken port says so and exits 1 */
static void test_port_in_use(void **state)
{
    pid_t second = spawn_server("x");
    CHECK(second > 0);
    int status = wait_exit(second, 5000);
    if (status == -1)
        kill(second, SIGKILL);
    CHECK(status != -1 && WIFEXITED(status));
    CHECK_INT(1, WEXITSTATUS(status));
    char *out = NULL;
    CHECK_INT(0, fs_read_file(S.stdio_log, 1 << 20, &out, NULL));
    char want[64];
    snprintf(want, sizeof want, "gcs_server: port %d is already in use\n", S.port);
    CHECK(strstr(out, want) != NULL);
    free(out);
}

/* gcs-server-7.2 SIGTERM closes the clients and stops the server with status 0 */
static void test_sigterm(void **state)
{
    rpc_client *c = connect_client();
    CHECK(c != NULL);
    CHECK_INT(0, subscribe(c, "NODE"));
    kill(S.pid, SIGTERM);
    Rayc__Envelope *m = NULL;
    int rc = rpc_client_recv(c, 5000, &m); /* the server closes us */
    CHECK(rc != 0 && rc != -ETIMEDOUT);
    rpc_client_close(c);
    int status = wait_exit(S.pid, 5000);
    CHECK(status != -1);
    S.pid = 0;
    CHECK(WIFEXITED(status));
    CHECK_INT(0, WEXITSTATUS(status));
    CHECK(log_contains("received SIGTERM"));
}

/* ---------------------------------------------------------------- placement groups */

/* Reads messages on C until one of KIND comes (the others are dropped);
 * NULL when none comes within 20 s. */
static Rayc__Envelope *expect(rpc_client *c, Rayc__Envelope__BodyCase kind)
{
    int64_t deadline = time_mono_ms() + 20000;
    for (;;) {
        int left = (int)(deadline - time_mono_ms());
        Rayc__Envelope *m = NULL;
        if (left <= 0 || rpc_client_recv(c, left, &m) != 0)
            return NULL;
        if (m->body_case == kind)
            return m;
        rayc__envelope__free_unpacked(m, NULL);
    }
}

/* A fake raylet on C answers the GCS's request of KIND with ok. */
static void answer_ok(rpc_client *c, Rayc__Envelope__BodyCase kind)
{
    Rayc__Envelope *req = expect(c, kind);
    CHECK(req != NULL);
    Rayc__PrepareBundlesReply prep = RAYC__PREPARE_BUNDLES_REPLY__INIT;
    Rayc__CommitBundlesReply commit = RAYC__COMMIT_BUNDLES_REPLY__INIT;
    Rayc__ReturnBundlesReply ret = RAYC__RETURN_BUNDLES_REPLY__INIT;
    Rayc__Envelope env = RAYC__ENVELOPE__INIT;
    env.request_id = req->request_id;
    prep.ok = commit.ok = 1;
    if (kind == RAYC__ENVELOPE__BODY_PREPARE_BUNDLES) {
        env.body_case = RAYC__ENVELOPE__BODY_PREPARE_BUNDLES_REPLY;
        env.prepare_bundles_reply = &prep;
    } else if (kind == RAYC__ENVELOPE__BODY_COMMIT_BUNDLES) {
        env.body_case = RAYC__ENVELOPE__BODY_COMMIT_BUNDLES_REPLY;
        env.commit_bundles_reply = &commit;
    } else {
        env.body_case = RAYC__ENVELOPE__BODY_RETURN_BUNDLES_REPLY;
        env.return_bundles_reply = &ret;
    }
    rayc__envelope__free_unpacked(req, NULL);
    CHECK_INT(0, rpc_client_send(c, &env));
}

/* Node ID reports AVAIL of its 4 CPUs free; returns when the GCS answered
 * (after every request it sent before), with how many PrepareBundles came
 * meanwhile. */
static int report_cpus(rpc_client *c, const char *id, double avail)
{
    int prepares = 0;
    CHECK_INT(0, report_avail(c, id, avail, &prepares));
    return prepares;
}

/* Asks for (CREATE) or removes group number N: one bundle of 4 CPUs. */
static void pg_call(rpc_client *driver, int n, int create)
{
    uint8_t id[18] = {(uint8_t)n, 0x9c, [14] = 1};
    Rayc__Resource cpu = RAYC__RESOURCE__INIT;
    cpu.name = "CPU";
    cpu.qty = 4;
    Rayc__Resource *res[] = {&cpu};
    Rayc__Bundle b = RAYC__BUNDLE__INIT;
    b.resources = res;
    b.n_resources = 1;
    Rayc__Bundle *bundles[] = {&b};
    Rayc__PlacementGroupInfo info = RAYC__PLACEMENT_GROUP_INFO__INIT;
    info.pg_id.data = id;
    info.pg_id.len = sizeof id;
    info.strategy = 1; /* STRICT_PACK */
    info.bundles = bundles;
    info.n_bundles = 1;
    Rayc__CreatePlacementGroup cr = RAYC__CREATE_PLACEMENT_GROUP__INIT;
    cr.pg = &info;
    Rayc__RemovePlacementGroup rm = RAYC__REMOVE_PLACEMENT_GROUP__INIT;
    rm.pg_id = info.pg_id;
    Rayc__Envelope env = RAYC__ENVELOPE__INIT;
    if (create) {
        env.body_case = RAYC__ENVELOPE__BODY_CREATE_PLACEMENT_GROUP;
        env.create_placement_group = &cr;
    } else {
        env.body_case = RAYC__ENVELOPE__BODY_REMOVE_PLACEMENT_GROUP;
        env.remove_placement_group = &rm;
    }
    char err[256] = "";
    Rayc__Envelope *r = call(driver, &env, err, sizeof err);
    CHECK(r != NULL);
    CHECK_INT(0, create ? r->create_placement_group_reply->status
                        : r->remove_placement_group_reply->status);
    rayc__envelope__free_unpacked(r, NULL);
}

/* gcs-server-8.1 a removed group's bundle is free for the next group at
 * once, even when a report the raylet sent before giving it back comes in
 * after the removal; and only until a report sent after it did */
static void test_pg_stale_report(void **state)
{
    /* A silent fake node must not be declared dead meanwhile. */
    kill_server(SIGKILL);
    S.health_ms = 3600 * 1000;
    start_server("session_test_1");
    char err[256] = "";
    rpc_client *node = connect_client(), *driver = connect_client();
    CHECK(node != NULL && driver != NULL);
    CHECK_INT(0, register_node(node, "pgnode", err, sizeof err));
    report_cpus(node, "pgnode", 4);

    pg_call(driver, 1, 1);
    answer_ok(node, RAYC__ENVELOPE__BODY_PREPARE_BUNDLES);
    answer_ok(node, RAYC__ENVELOPE__BODY_COMMIT_BUNDLES);
    report_cpus(node, "pgnode", 0); /* the report shows the bundle */

    pg_call(driver, 1, 0);
    Rayc__Envelope *ret = expect(node, RAYC__ENVELOPE__BODY_RETURN_BUNDLES);
    CHECK(ret != NULL);
    /* The raylet reports before it reads the ReturnBundles: still taken. */
    report_cpus(node, "pgnode", 0);
    Rayc__ReturnBundlesReply rr = RAYC__RETURN_BUNDLES_REPLY__INIT;
    Rayc__Envelope reply = RAYC__ENVELOPE__INIT;
    reply.request_id = ret->request_id;
    reply.body_case = RAYC__ENVELOPE__BODY_RETURN_BUNDLES_REPLY;
    reply.return_bundles_reply = &rr;
    rayc__envelope__free_unpacked(ret, NULL);
    CHECK_INT(0, rpc_client_send(node, &reply));

    /* Group 2 gets the node although its last report says 0 CPUs free. */
    pg_call(driver, 2, 1);
    answer_ok(node, RAYC__ENVELOPE__BODY_PREPARE_BUNDLES);
    answer_ok(node, RAYC__ENVELOPE__BODY_COMMIT_BUNDLES);

    /* A report after the return shows group 2 holding the 4 CPUs: group 3
     * does not fit, and no PrepareBundles comes for it before the answer
     * to the next report (the GCS places a new group as it takes it). */
    report_cpus(node, "pgnode", 0);
    pg_call(driver, 3, 1);
    CHECK_INT(0, report_cpus(node, "pgnode", 0));
    rpc_client_close(node);
    rpc_client_close(driver);
}

#define NAMED_TEST(name, fn) {name, fn, NULL, NULL, NULL}

int main(void)
{
    const struct CMUnitTest tests[] = {
        NAMED_TEST("gcs-server-1.1 a wrong token is refused with -EACCES", test_auth),
        NAMED_TEST("gcs-server-1.2 a first frame other than hello is refused", test_hello_first),
        NAMED_TEST("gcs-server-2.1 KV put/get/overwrite/keys/delete by prefix", test_kv),
        NAMED_TEST("gcs-server-3.1 garbage and oversized frames close only their connections", test_bad_frames),
        NAMED_TEST("gcs-server-4.1 a silent node is published DEAD within timeout+2s", test_health),
        NAMED_TEST("gcs-server-4.2 unregister marks a node DEAD with its reason", test_unregister),
        NAMED_TEST("gcs-server-5.1 job ids, add, finish, list and JOB publishes", test_jobs),
        NAMED_TEST("gcs-server-6.1 kill -9 and restart keep KV, nodes, jobs and session", test_restart),
        NAMED_TEST("gcs-server-7.1 a taken port gives one line and exit status 1", test_port_in_use),
        NAMED_TEST("gcs-server-7.2 SIGTERM closes clients and exits with status 0", test_sigterm),
        NAMED_TEST("gcs-server-8.1 a removed group's bundle is free at once despite a late report", test_pg_stale_report),
    };
    return cmocka_run_group_tests_name("gcs_server", tests, group_setup, group_teardown);
}
