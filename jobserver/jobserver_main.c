/* ray_jobserver: Ray's Job Submission HTTP API for one rayc head node. */
#include <curl/curl.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/sysinfo.h>
#include <time.h>
#include <unistd.h>

#include "common/cmdline.h"
#include "common/log.h"
#include "common/net.h"
#include "common/token.h"
#include "common/util.h"
#include "jobserver/jobs_proc.h"
#include "jobserver/jobs_reserve.h"
#include "jobserver/dash.h"
#include "jobserver/jobs_server.h"
#include "jobserver/jobs_spare.h"
#include "jobserver/serve_api.h"

#define DEFAULT_STOP_WAIT_S 3
#define DEFAULT_START_TIMEOUT_S 900
#define DEFAULT_CACHE_GB 10.0

typedef struct main_opts {
    const char *log_file;
    double num_cpus, num_gpus, memory;
    const char *resources;
} main_opts;

static void usage(FILE *out)
{
    fprintf(out,
            "usage: ray_jobserver --node-dir DIR --token-file PATH [--host IP] [--port N]\n"
            "                     [--gcs-address IP:PORT] [--session-name NAME] [--log-file PATH]\n"
            "                     [--max-body-bytes N] [--node-ip IP] [--node-id HEX]\n"
            "                     [--num-cpus N] [--num-gpus N] [--memory BYTES]\n"
            "                     [--resources JSON] [--role head|agent]\n"
            "                     [--raylet-socket PATH]\n");
}

static int die(const char *msg)
{
    fprintf(stderr, "ray_jobserver: %s\n", msg);
    return 1;
}

/* ---------------------------------------------------------------- options */

static int set_string(char *dst, size_t n, const char *v, const char *flag)
{
    if (str_copy(dst, n, v) != 0) {
        fprintf(stderr, "ray_jobserver: %s is too long\n", flag);
        return -1;
    }
    return 0;
}

static int parse_number(const char *flag, const char *v, double *out)
{
    if (parse_double(v, out) != 0) {
        fprintf(stderr, "ray_jobserver: %s wants a non-negative number, got '%s'\n", flag, v);
        return -1;
    }
    return 0;
}

static int parse_int_opt(const char *flag, const char *v, long min, long max, long *out)
{
    if (parse_long(v, min, max, out) != 0) {
        fprintf(stderr, "ray_jobserver: %s wants an integer in [%ld, %ld], got '%s'\n", flag, min,
                max, v);
        return -1;
    }
    return 0;
}

enum opt_id {
    OPT_HOST = 1, OPT_PORT, OPT_TOKEN_FILE, OPT_NODE_DIR, OPT_GCS_ADDRESS, OPT_SESSION_NAME,
    OPT_NODE_IP, OPT_NODE_ID, OPT_LOG_FILE, OPT_RAYLET_SOCKET, OPT_ROLE, OPT_RESOURCES,
    OPT_NUM_CPUS, OPT_NUM_GPUS, OPT_MEMORY, OPT_MAX_BODY, OPT_HELP = 'h',
};

static const struct option long_opts[] = {
    {"host", required_argument, NULL, OPT_HOST},
    {"port", required_argument, NULL, OPT_PORT},
    {"token-file", required_argument, NULL, OPT_TOKEN_FILE},
    {"node-dir", required_argument, NULL, OPT_NODE_DIR},
    {"gcs-address", required_argument, NULL, OPT_GCS_ADDRESS},
    {"session-name", required_argument, NULL, OPT_SESSION_NAME},
    {"node-ip", required_argument, NULL, OPT_NODE_IP},
    {"node-id", required_argument, NULL, OPT_NODE_ID},
    {"log-file", required_argument, NULL, OPT_LOG_FILE},
    {"raylet-socket", required_argument, NULL, OPT_RAYLET_SOCKET},
    {"role", required_argument, NULL, OPT_ROLE},
    {"resources", required_argument, NULL, OPT_RESOURCES},
    {"num-cpus", required_argument, NULL, OPT_NUM_CPUS},
    {"num-gpus", required_argument, NULL, OPT_NUM_GPUS},
    {"memory", required_argument, NULL, OPT_MEMORY},
    {"max-body-bytes", required_argument, NULL, OPT_MAX_BODY},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

static int set_role(jobs_server *srv, const char *v)
{
    if (strcmp(v, "head") != 0 && strcmp(v, "agent") != 0) {
        fprintf(stderr, "ray_jobserver: --role wants head or agent, got '%s'\n", v);
        return -1;
    }
    srv->is_agent = strcmp(v, "agent") == 0;
    return 0;
}

/* Stores value V of option ID (spelt F).  Returns 0 or -1 (message printed). */
static int parse_one(jobs_server *srv, main_opts *o, int id, const char *f, const char *v)
{
    long n;
    switch (id) {
    case OPT_HOST: return set_string(srv->host, sizeof srv->host, v, f);
    case OPT_PORT:
        if (parse_int_opt(f, v, 1, 65535, &n) != 0) return -1;
        srv->port = (int)n;
        return 0;
    case OPT_TOKEN_FILE: return set_string(srv->token_file, sizeof srv->token_file, v, f);
    case OPT_NODE_DIR: return set_string(srv->node_dir, sizeof srv->node_dir, v, f);
    case OPT_GCS_ADDRESS: return set_string(srv->gcs_address, sizeof srv->gcs_address, v, f);
    case OPT_SESSION_NAME: return set_string(srv->session_name, sizeof srv->session_name, v, f);
    case OPT_NODE_IP: return set_string(srv->node_ip, sizeof srv->node_ip, v, f);
    case OPT_NODE_ID: return set_string(srv->node_id, sizeof srv->node_id, v, f);
    case OPT_LOG_FILE: o->log_file = v; return 0;
    case OPT_RAYLET_SOCKET: return set_string(srv->raylet_socket, sizeof srv->raylet_socket, v, f);
    case OPT_ROLE: return set_role(srv, v);
    case OPT_RESOURCES: o->resources = v; return 0;
    case OPT_NUM_CPUS: return parse_number(f, v, &o->num_cpus);
    case OPT_NUM_GPUS: return parse_number(f, v, &o->num_gpus);
    case OPT_MEMORY: return parse_number(f, v, &o->memory);
    case OPT_MAX_BODY:
        if (parse_int_opt(f, v, 1024, 1L << 40, &n) != 0) return -1;
        srv->max_body = (size_t)n;
        return 0;
    }
    return -1;
}

/* Returns 0, 1 after printing the usage for --help, or -1 after an error. */
static int parse_args(jobs_server *srv, main_opts *o, int argc, char **argv)
{
    const char *word;
    int c;
    cmdline_reset();
    while ((c = cmdline_next(argc, argv, "+:h", long_opts, &word)) != CMDLINE_END) {
        if (c == OPT_HELP) {
            usage(stdout);
            return 1;
        }
        if (c == CMDLINE_MISSING) {
            fprintf(stderr, "ray_jobserver: %s needs a value\n", word);
            usage(stderr);
            return -1;
        }
        if (c < 0) {
            fprintf(stderr, "ray_jobserver: unknown option %.*s\n", cmdline_name_len(word), word);
            return -1;
        }
        char flag[64];
        snprintf(flag, sizeof flag, "%.*s", cmdline_name_len(word), word);
        if (parse_one(srv, o, c, flag, optarg) != 0)
            return -1;
    }
    if (optind < argc) {
        fprintf(stderr, "ray_jobserver: unexpected argument '%s'\n", argv[optind]);
        return -1;
    }
    if (srv->node_dir[0] == '\0') {
        usage(stderr);
        return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------- environment knobs */

static long env_long(const char *name, long def, long min, long max)
{
    const char *v = getenv(name);
    long n;
    if (v == NULL || *v == '\0')
        return def;
    if (parse_long(v, min, max, &n) != 0) {
        log_warn("%s=%s is not an integer in [%ld, %ld]; using %ld", name, v, min, max, def);
        return def;
    }
    return n;
}

static void read_env_knobs(jobs_server *srv)
{
    srv->stop_wait_ms = (int)env_long("RAY_JOB_STOP_WAIT_TIME_S", DEFAULT_STOP_WAIT_S, 0, 86400) * 1000;
    srv->start_timeout_ms =
        (int)env_long("RAY_JOB_START_TIMEOUT_SECONDS", DEFAULT_START_TIMEOUT_S, 1, 2000000) * 1000;
    const char *sig = getenv("RAY_JOB_STOP_SIGNAL");
    srv->stop_signal = SIGTERM;
    if (sig != NULL && strcmp(sig, "SIGINT") == 0)
        srv->stop_signal = SIGINT;
    else if (sig != NULL && *sig != '\0' && strcmp(sig, "SIGTERM") != 0)
        log_warn("%s not a valid stop signal. Terminating job with SIGTERM.", sig);
}

/* ---------------------------------------------------------------- setup */

static int make_dirs(jobs_server *srv)
{
    if (fs_path_join(srv->logs_dir, sizeof srv->logs_dir, srv->node_dir, "logs") != 0 ||
        fs_path_join(srv->state_dir, sizeof srv->state_dir, srv->node_dir, "job_state") != 0 ||
        fs_path_join(srv->resources_dir, sizeof srv->resources_dir, srv->node_dir,
                     "runtime_resources") != 0 ||
        fs_path_join(srv->packages_dir, sizeof srv->packages_dir, srv->resources_dir,
                     "packages") != 0) {
        log_error("--node-dir %s: path too long", srv->node_dir);
        return -ENAMETOOLONG;
    }
    /* Owner only: the store holds env_vars secrets, the logs may print them. */
    const char *dirs[] = {srv->node_dir, srv->logs_dir, srv->state_dir, srv->resources_dir,
                          srv->packages_dir};
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        int rc = fs_private_dir(dirs[i]);
        if (rc != 0) {
            fprintf(stderr, "ray_jobserver: cannot create %s: %s\n", dirs[i], strerror(-rc));
            return -1;
        }
    }
    return 0;
}

static int load_token(jobs_server *srv)
{
    int rc = srv->token_file[0] != '\0'
                 ? token_read_file(srv->token_file, srv->token, sizeof srv->token)
                 : token_find(srv->token, sizeof srv->token, NULL, NULL, 0);
    if (rc != 0) {
        fprintf(stderr, "ray_jobserver: cannot read the cluster token%s%s: %s\n",
                srv->token_file[0] ? " from " : "", srv->token_file, token_error(rc));
        return -1;
    }
    return 0;
}

static void default_identity(jobs_server *srv)
{
    if (srv->node_ip[0] == '\0') {
        if (strcmp(srv->host, "0.0.0.0") != 0)
            str_copy(srv->node_ip, sizeof srv->node_ip, srv->host);
        else
            net_default_ipv4(srv->node_ip, sizeof srv->node_ip);
    }
    if (srv->session_name[0] == '\0') {
        char stamp[64];
        time_t now = time(NULL);
        struct tm tm;
        localtime_r(&now, &tm);
        strftime(stamp, sizeof stamp, "%Y-%m-%d_%H-%M-%S", &tm);
        snprintf(srv->session_name, sizeof srv->session_name, "session_%s_%d", stamp, (int)getpid());
    }
    ssize_t n = readlink("/proc/self/exe", srv->self_exe, sizeof srv->self_exe - 1);
    srv->self_exe[n > 0 ? n : 0] = '\0';
}

/* The node id: given, else the one this node dir used before, else new. */
static void node_identity(jobs_server *srv)
{
    if (srv->node_id[0] == '\0' &&
        jobs_store_meta_get(srv->store, "node_id", srv->node_id, sizeof srv->node_id) != 0) {
        ids_random_hex(srv->node_id, NODE_ID_HEX_LEN / 2);
        jobs_store_meta_set(srv->store, "node_id", srv->node_id);
    }
}

static int init_resources(jobs_server *srv, const main_opts *o)
{
    struct sysinfo si;
    double mem = o->memory;
    if (mem <= 0 && sysinfo(&si) == 0)
        mem = (double)si.totalram * si.mem_unit;
    double cpus = o->num_cpus >= 0 ? o->num_cpus : (double)sysconf(_SC_NPROCESSORS_ONLN);
    if (jobs_resources_init(&srv->res, cpus, o->num_gpus, mem, o->resources) != 0) {
        fprintf(stderr, "ray_jobserver: --resources wants a JSON object of numbers\n");
        return -1;
    }
    return 0;
}

static double env_double(const char *name, double def)
{
    const char *v = getenv(name);
    double d;
    return v != NULL && parse_double(v, &d) == 0 ? d : def;
}

/* A positive whole number from environment variable NAME, else DEF; a bad
 * value is logged and ignored. */
static uint64_t env_count(const char *name, uint64_t def)
{
    const char *v = getenv(name);
    long n;
    if (v == NULL || *v == '\0')
        return def;
    if (parse_long(v, 1, LONG_MAX, &n) != 0) {
        log_warn("%s=%s is not a positive whole number; using %llu", name, v,
                 (unsigned long long)def);
        return def;
    }
    return (uint64_t)n;
}

static int init_renv(jobs_server *srv)
{
    char err[256];
    renv_ctx_config cfg = {
        .resources_dir = srv->resources_dir,
        .packages_dir = srv->packages_dir,
        .cache_limit = (uint64_t)(env_double("RAY_RUNTIME_ENV_WORKING_DIR_CACHE_SIZE_GB",
                                             DEFAULT_CACHE_GB) * (1 << 30)),
        .download_limit = 4ull << 30,
        .unpack = {
            .max_bytes = env_count(RENV_UNPACK_ENV_BYTES,
                                   (uint64_t)srv->max_body * RENV_UNPACK_DEFAULT_BODY_MULTIPLE),
            .max_entries = env_count(RENV_UNPACK_ENV_ENTRIES, RENV_UNPACK_DEFAULT_ENTRIES),
            .max_ratio = env_count(RENV_UNPACK_ENV_RATIO, RENV_UNPACK_DEFAULT_RATIO),
        },
    };
    if (renv_ctx_new(srv->loop, &cfg, &srv->renv, err, sizeof err) != 0)
        return die(err);
    return 0;
}

static int open_store(jobs_server *srv)
{
    char path[PATH_MAX + 16], err[PATH_MAX + 256];
    snprintf(path, sizeof path, "%s/jobs.db", srv->node_dir);
    if (jobs_store_open(path, &srv->store, err, sizeof err) != 0)
        return die(err);
    srv->table = jobs_table_new();
    return srv->table ? 0 : die("out of memory");
}

/* ---------------------------------------------------------------- run and stop */

static void shutdown_done(jobs_server *srv)
{
    log_info("all jobs stopped; exiting");
    if (srv->tails > 0) {
        /* A tail that would not end still uses a socket of the HTTP server:
         * leave both to the process exit. */
        log_warn("%d log tails still open; exiting without closing them", srv->tails);
        uv_stop(srv->loop);
        return;
    }
    serve_api_stop(srv);   /* none may stay suspended when the HTTP server closes */
    http_server_close(srv->http);
    srv->http = NULL;
    jobs_gcs_stop(srv);
    dash_stop(srv);
    jobs_reserve_stop(srv);
    jobs_spare_stop(srv);
    uv_close((uv_handle_t *)&srv->sig_term, NULL);
    uv_close((uv_handle_t *)&srv->sig_int, NULL);
}

static void signal_cb(uv_signal_t *s, int signum)
{
    jobs_server *srv = s->data;
    if (srv->shutting_down)
        return;
    srv->shutting_down = 1;
    log_info("received signal %d: stopping every running job", signum);
    serve_api_stop(srv);   /* answered now, while the loop still sends answers */
    jobs_sup_shutdown(srv, shutdown_done);
}

static void watch_signals(jobs_server *srv)
{
    signal(SIGPIPE, SIG_IGN);
    uv_signal_init(srv->loop, &srv->sig_term);
    uv_signal_init(srv->loop, &srv->sig_int);
    srv->sig_term.data = srv->sig_int.data = srv;
    uv_signal_start(&srv->sig_term, signal_cb, SIGTERM);
    uv_signal_start(&srv->sig_int, signal_cb, SIGINT);
}

static int start_http(jobs_server *srv)
{
    char err[256];
    int rc = jobs_api_start(srv, err, sizeof err);
    if (rc == -EADDRINUSE) {
        fprintf(stderr, "ray_jobserver: port %d is already in use\n", srv->port);
        return -1;
    }
    if (rc != 0)
        return die(err), -1;
    return 0;
}

static int serve(jobs_server *srv, main_opts *o)
{
    if (start_http(srv) != 0 || open_store(srv) != 0 || init_resources(srv, o) != 0 ||
        init_renv(srv) != 0)
        return 1;
    node_identity(srv);
    jobs_gcs_start(srv);
    dash_start(srv);
    jobs_reserve_start(srv);
    watch_signals(srv);
    int rc = jobs_sup_recover(srv);
    if (rc != 0)
        log_error("cannot load the job store: %s", strerror(-rc));
    log_info("serving the job API on http://%s:%d (node %s, session %s%s)", srv->host, srv->port,
             srv->node_ip, srv->session_name, srv->is_agent ? ", job agent" : "");
    uv_run(srv->loop, UV_RUN_DEFAULT);
    jobs_table_free(srv->table);
    jobs_store_close(srv->store);
    renv_ctx_free(srv->renv);
    jobs_resources_free(&srv->res);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && (strcmp(argv[1], JOBS_WRAPPER_FLAG) == 0 ||
                     strcmp(argv[1], JOBS_WRAPPER_SPARE_FLAG) == 0))
        return jobs_wrapper_main(argc, argv);
    static jobs_server srv;
    main_opts o = {.num_cpus = -1};
    str_copy(srv.host, sizeof srv.host, "127.0.0.1");
    srv.port = JOBS_DEFAULT_PORT;
    srv.max_body = JOBS_DEFAULT_MAX_BODY;
    int parsed = parse_args(&srv, &o, argc, argv);
    if (parsed != 0)
        return parsed > 0 ? 0 : 2;
    log_setup("ray_jobserver", LOG_INFO);
    if (o.log_file != NULL && log_open(o.log_file) != 0)
        fprintf(stderr, "ray_jobserver: cannot open %s; logging to stderr\n", o.log_file);
    read_env_knobs(&srv);
    default_identity(&srv);
    if (make_dirs(&srv) != 0 || load_token(&srv) != 0)
        return 1;
    srv.loop = uv_default_loop();
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int rc = serve(&srv, &o);
    curl_global_cleanup();
    return rc;
}
