/* `ray start`: start a head (gcs_server, raylet, job server) or join a cluster
 * (job agent, raylet). */
#include "cli/cli_cmds.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli_common.h"
#include "cli/cli_compat.h"
#include "cli/cli_proc.h"
#include "cli/cli_pypath.h"
#include "cli/cli_revive.h"
#include "common/cmdline.h"
#include "common/node_registry.h"
#include "common/net.h"
#include "common/tls.h"
#include "common/token.h"
#include "common/util.h"

typedef struct start_opts {
    int head, block, port, dashboard_port, node_manager_port, agent_port, agent_port_given;
    int metrics_port;        /* --metrics-export-port, 0: a free port */
    const char *address, *node_ip, *temp_dir, *dashboard_host, *token_file;
    const char *num_cpus, *num_gpus, *memory, *object_store_memory, *resources, *labels;
    const char *min_worker_port, *max_worker_port, *worker_port_list, *system_config;
    const char *plasma_arg, *spill_arg;                 /* as given */
    int include_dashboard;
    char plasma_dir[PATH_MAX], spill_dir[PATH_MAX];   /* absolute, "" = default */
    const char *notes[32];   /* accepted flags that change nothing: a note each */
    size_t n_notes;
} start_opts;

/* What `ray start` has brought up so far, to undo on failure. */
typedef struct started {
    char root[PATH_MAX];
    char session_dir[PATH_MAX];
    char token_path[PATH_MAX];
    char gcs_address[128];
    node_record node;
    pid_t pids[3];
    const char *names[3];
    size_t n;
    int agent_started;       /* a joined node's job agent is serving */
    int agent_port;          /* ... on this port */
} started;

static void print_start_usage(void)
{
    printf("Usage: ray start [--head | --address HOST:PORT] [--port N] [--node-ip-address IP]\n"
           "                 [--temp-dir DIR] [--dashboard-host IP] [--dashboard-port N]\n"
           "                 [--node-manager-port N] [--dashboard-agent-listen-port N]\n"
           "                 [--block] [--auth-token-file PATH]\n"
           "                 [--num-cpus N] [--num-gpus N] [--memory BYTES]\n"
           "                 [--object-store-memory BYTES] [--resources JSON] [--labels JSON]\n"
           "                 [--plasma-directory DIR] [--object-spilling-directory DIR]\n"
           "                 [--include-dashboard BOOL] [--system-config JSON]\n"
           "                 [--metrics-export-port N (Prometheus /metrics; default a free port)]\n"
           "  Accepted from Ray's start lines with a note (no equivalent here):\n"
           "    --min-worker-port --max-worker-port --worker-port-list\n"
           "    --ray-client-server-port --runtime-env-agent-port --dashboard-agent-grpc-port\n"
           "    --object-manager-port --no-monitor --storage\n"
           "    --redis-password --autoscaling-config --disable-usage-stats\n");
}

/* ---------------------------------------------------------------- flag checks */

static int check_number(const char *flag, const char *value, int integer)
{
    double d;
    long l;
    if (value == NULL)
        return 0;
    if (integer ? parse_long(value, 0, LONG_MAX, &l) == 0 : parse_double(value, &d) == 0)
        return 0;
    fprintf(stderr, "Error: Invalid value for '--%s': '%s' is not a valid %s.\n", flag, value,
            integer ? "non-negative integer" : "non-negative number");
    return -EINVAL;
}

/* Checks that TEXT is a JSON object whose values all satisfy the type. */
static int check_json_object(const char *flag, const char *text, int want_numbers)
{
    if (text == NULL)
        return 0;
    json_error_t jerr;
    json_t *obj = json_loads(text, 0, &jerr);
    int ok = obj != NULL && json_is_object(obj);
    const char *key;
    json_t *val;
    if (ok) {
        json_object_foreach(obj, key, val) {
            if (want_numbers ? !json_is_number(val) || json_number_value(val) < 0
                             : !json_is_string(val))
                ok = 0;
        }
    }
    json_decref(obj);
    if (!ok)
        fprintf(stderr, "Error: --%s must be a JSON object of names to %s, got: %s\n", flag,
                want_numbers ? "non-negative numbers" : "strings", text);
    return ok ? 0 : -EINVAL;
}

static int check_opts(const start_opts *o)
{
    if (o->head && o->address != NULL) {
        fprintf(stderr, "Error: --head and --address cannot be used together.\n");
        return -EINVAL;
    }
    if (!o->head && o->address == NULL) {
        fprintf(stderr, "Error: use --head to start a new cluster, or --address HOST:PORT to "
                        "join one.\n");
        return -EINVAL;
    }
    if (check_number("num-cpus", o->num_cpus, 1) || check_number("num-gpus", o->num_gpus, 1) ||
        check_number("memory", o->memory, 1) ||
        check_number("object-store-memory", o->object_store_memory, 1) ||
        check_json_object("resources", o->resources, 1) ||
        check_json_object("labels", o->labels, 0) ||
        compat_check_worker_ports(o->min_worker_port, o->max_worker_port, o->worker_port_list))
        return -EINVAL;
    return 0;
}

/* Makes DIR (a --FLAG value) absolute in OUT; the spill directory is
 * created when missing, the plasma directory must exist.  Returns 0, or
 * prints click's "Invalid value" line and returns -EINVAL. */
static int resolve_dir(const char *flag, const char *dir, int create, char *out)
{
    if (create && *dir != '\0')
        fs_mkdir_p(dir, 0700);
    struct stat st;
    if (*dir == '\0' || stat(dir, &st) != 0 || !S_ISDIR(st.st_mode) || realpath(dir, out) == NULL) {
        fprintf(stderr, "Error: Invalid value for '--%s': Directory '%s' %s.\n", flag, dir,
                *dir != '\0' && access(dir, F_OK) == 0 ? "is not a directory"
                                                        : create ? "cannot be created"
                                                                 : "does not exist");
        return -EINVAL;
    }
    return 0;
}

static int parse_port(const char *flag, const char *value, int *out)
{
    long v;
    if (parse_long(value, 0, 65535, &v) != 0) {
        fprintf(stderr, "Error: Invalid value for '--%s': '%s' is not a valid port.\n", flag,
                value);
        return -EINVAL;
    }
    *out = (int)v;
    return 0;
}

enum { O_HEAD = 1000, O_ADDRESS, O_PORT, O_NODE_IP, O_TEMP, O_DHOST, O_DPORT, O_BLOCK,
       O_TOKEN, O_CPUS, O_GPUS, O_MEM, O_OSM, O_RES, O_LABELS, O_NMPORT, O_AGENT_PORT, O_IGNORED,
       O_SYSCFG, O_PLASMA, O_SPILL, O_DASH, O_METRICS_PORT,
       /* O_MIN_WPORT..O_NOTE_PORT: accepted, checked, and noted as changing nothing */
       O_MIN_WPORT, O_MAX_WPORT, O_WPORT_LIST, O_NOTE, O_NOTE_ARG, O_NOTE_PORT, O_HELP };

static const struct option start_flags[] = {
    {"head", no_argument, NULL, O_HEAD},
    {"address", required_argument, NULL, O_ADDRESS},
    {"port", required_argument, NULL, O_PORT},
    {"node-ip-address", required_argument, NULL, O_NODE_IP},
    {"temp-dir", required_argument, NULL, O_TEMP},
    {"dashboard-host", required_argument, NULL, O_DHOST},
    {"dashboard-port", required_argument, NULL, O_DPORT},
    {"block", no_argument, NULL, O_BLOCK},
    {"auth-token-file", required_argument, NULL, O_TOKEN},
    {"num-cpus", required_argument, NULL, O_CPUS},
    {"num-gpus", required_argument, NULL, O_GPUS},
    {"memory", required_argument, NULL, O_MEM},
    {"object-store-memory", required_argument, NULL, O_OSM},
    {"resources", required_argument, NULL, O_RES},
    {"labels", required_argument, NULL, O_LABELS},
    {"node-manager-port", required_argument, NULL, O_NMPORT},
    {"dashboard-agent-listen-port", required_argument, NULL, O_AGENT_PORT},
    {"plasma-directory", required_argument, NULL, O_PLASMA},
    {"object-spilling-directory", required_argument, NULL, O_SPILL},
    {"include-dashboard", required_argument, NULL, O_DASH},
    {"metrics-export-port", required_argument, NULL, O_METRICS_PORT},
    {"system-config", required_argument, NULL, O_SYSCFG},
    /* Ray's flags with no equivalent here: checked, then a note (cli_compat.c). */
    {"min-worker-port", required_argument, NULL, O_MIN_WPORT},
    {"max-worker-port", required_argument, NULL, O_MAX_WPORT},
    {"worker-port-list", required_argument, NULL, O_WPORT_LIST},
    {"ray-client-server-port", required_argument, NULL, O_NOTE_PORT},
    {"runtime-env-agent-port", required_argument, NULL, O_NOTE_PORT},
    {"dashboard-agent-grpc-port", required_argument, NULL, O_NOTE_PORT},
    {"object-manager-port", required_argument, NULL, O_NOTE_PORT},
    {"no-monitor", no_argument, NULL, O_NOTE},
    {"disable-usage-stats", no_argument, NULL, O_NOTE},
    {"storage", required_argument, NULL, O_NOTE_ARG},
    {"redis-password", required_argument, NULL, O_NOTE_ARG},
    {"autoscaling-config", required_argument, NULL, O_NOTE_ARG},
    {"verbose", no_argument, NULL, O_IGNORED},
    {"help", no_argument, NULL, O_HELP},
    {NULL, 0, NULL, 0},
};

/* Stores flag C (long name NAME, value optarg) in O.  Returns 0, 1 for
 * --help, or an exit code > 1 (message printed). */
static int apply_flag(start_opts *o, int c, const char *name, char **argv)
{
    int rc = 0, unused;
    if (c >= O_MIN_WPORT && c <= O_NOTE_PORT && o->n_notes < sizeof o->notes / sizeof o->notes[0])
        o->notes[o->n_notes++] = name;
    switch (c) {
    case O_HEAD: o->head = 1; break;
    case O_ADDRESS: o->address = optarg; break;
    case O_PORT: rc = parse_port("port", optarg, &o->port); break;
    case O_NODE_IP: o->node_ip = optarg; break;
    case O_TEMP: o->temp_dir = optarg; break;
    case O_DHOST: o->dashboard_host = optarg; break;
    case O_DPORT: rc = parse_port("dashboard-port", optarg, &o->dashboard_port); break;
    case O_BLOCK: o->block = 1; break;
    case O_TOKEN: o->token_file = optarg; break;
    case O_CPUS: o->num_cpus = optarg; break;
    case O_GPUS: o->num_gpus = optarg; break;
    case O_MEM: o->memory = optarg; break;
    case O_OSM: o->object_store_memory = optarg; break;
    case O_RES: o->resources = optarg; break;
    case O_LABELS: o->labels = optarg; break;
    case O_NMPORT: rc = parse_port("node-manager-port", optarg, &o->node_manager_port); break;
    case O_AGENT_PORT:
        rc = parse_port("dashboard-agent-listen-port", optarg, &o->agent_port);
        o->agent_port_given = 1;
        break;
    case O_METRICS_PORT: rc = parse_port("metrics-export-port", optarg, &o->metrics_port); break;
    case O_MIN_WPORT: o->min_worker_port = optarg; break;
    case O_MAX_WPORT: o->max_worker_port = optarg; break;
    case O_WPORT_LIST: o->worker_port_list = optarg; break;
    case O_SYSCFG: o->system_config = optarg; break;
    case O_PLASMA: o->plasma_arg = optarg; break;
    case O_SPILL: o->spill_arg = optarg; break;
    case O_DASH: rc = compat_parse_bool(name, optarg, &o->include_dashboard); break;
    case O_NOTE_PORT: rc = parse_port(name, optarg, &unused); break;
    case O_IGNORED: case O_NOTE: case O_NOTE_ARG: break;
    case O_HELP: print_start_usage(); return 1;
    default: return cli_bad_flag("start", argv);
    }
    return rc != 0 ? 2 : 0;
}

/* Parses ARGV into O.  Returns 0, 1 for --help, or an exit code > 1. */
static int parse_start(int argc, char **argv, start_opts *o)
{
    memset(o, 0, sizeof *o);
    o->port = 6379;
    o->dashboard_port = 8265;
    o->agent_port = 52365;   /* Ray's default dashboard agent port */
    o->dashboard_host = "127.0.0.1";
    o->include_dashboard = 1;
    opterr = 0;
    optind = 1;
    int c, idx = -1, rc;
    while ((c = getopt_long(argc, argv, "", start_flags, &idx)) != -1) {
        rc = apply_flag(o, c, idx >= 0 ? start_flags[idx].name : "", argv);
        idx = -1;
        if (rc != 0)
            return rc;
    }
    if (optind < argc) {
        return cmdline_usage_error("ray start", "[OPTIONS]", "Got unexpected extra argument (%s)",
                                   argv[optind]);
    }
    if (check_opts(o) != 0 ||
        (o->plasma_arg && resolve_dir("plasma-directory", o->plasma_arg, 0, o->plasma_dir)) ||
        (o->spill_arg && resolve_dir("object-spilling-directory", o->spill_arg, 1, o->spill_dir)) ||
        (o->system_config && compat_apply_system_config(o->system_config)))
        return 2;
    for (size_t i = 0; i < o->n_notes; i++)
        compat_note(o->notes[i]);
    return 0;
}

/* ---------------------------------------------------------------- token */

/* Prints why the token from SOURCE (a path, or RAY_AUTH_TOKEN) cannot be used. */
static void token_failed(const char *source, int rc)
{
    if (rc == -ENOENT)
        fprintf(stderr, "Error: the cluster token file %s does not exist (only the default "
                        "~/.ray/auth_token is created when missing).\n", source);
    else
        fprintf(stderr, "Error: cannot use the cluster token from %s: %s.\n", source,
                token_error(rc));
}

/* Finds or makes the head's token and writes a copy into the session dir.
 * A token is generated only at the default path (~/.ray/auth_token) when
 * no source names one; a named file that does not exist is an error. */
static int head_token(const start_opts *o, started *s)
{
    char token[TOKEN_MAX + 1], source[PATH_MAX] = "";
    int rc;
    if (o->token_file != NULL) {
        str_copy(source, sizeof source, o->token_file);
        rc = token_read_file(o->token_file, token, sizeof token);
    } else {
        rc = token_find(token, sizeof token, NULL, source, sizeof source);
        if (rc == -ENOENT && !token_env_set() && token_default_path(source, sizeof source) == 0 &&
            (rc = token_generate(token, sizeof token)) == 0) {
            rc = token_write_file(source, token);
            if (rc != 0) {
                fprintf(stderr, "Error: cannot write %s: %s\n", source, strerror(-rc));
                return rc;
            }
        }
    }
    if (rc != 0) {
        token_failed(source, rc);
        return rc;
    }
    rc = fs_path_join(s->token_path, sizeof s->token_path, s->session_dir, "auth_token");
    if (rc == 0)
        rc = token_write_file(s->token_path, token);
    if (rc != 0)
        fprintf(stderr, "Error: cannot write %s: %s\n", s->token_path, strerror(-rc));
    return rc;
}

/* ---------------------------------------------------------------- sessions */

static int make_session(started *s)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    localtime_r(&ts.tv_sec, &tm);
    char stamp[64], name[128], link[PATH_MAX + 32];
    strftime(stamp, sizeof stamp, "%Y-%m-%d_%H-%M-%S", &tm);
    snprintf(name, sizeof name, "session_%s_%06ld_%d", stamp, ts.tv_nsec / 1000, (int)getpid());
    int rc = fs_path_join(s->session_dir, sizeof s->session_dir, s->root, name);
    if (rc == 0)
        rc = fs_private_dir(s->session_dir);
    if (rc != 0) {
        fprintf(stderr, "Error: cannot create %s: %s\n", s->session_dir, strerror(-rc));
        return rc;
    }
    snprintf(link, sizeof link, "%s/session_latest", s->root);
    unlink(link);
    if (symlink(name, link) != 0)
        fprintf(stderr, "Warning: cannot update %s: %s\n", link, strerror(errno));
    return 0;
}

/* ---------------------------------------------------------------- daemons */

static void undo(started *s)
{
    proc_stop_all(s->pids, s->n, SIGTERM, 3000);
    if (s->node.dir[0] != '\0')
        node_unregister(&s->node);
}

/* Starts one daemon and records it.  Returns its pid or a negative errno. */
static pid_t start_daemon(started *s, const char *name, char **argv)
{
    char out[PATH_MAX + 64], err[512];
    snprintf(out, sizeof out, "%s/logs/%s.out", s->node.dir, name);
    pid_t pid = proc_spawn_daemon(argv, out, err, sizeof err);
    if (pid < 0) {
        fprintf(stderr, "Error: %s\n", err);
        return pid;
    }
    s->pids[s->n] = pid;
    s->names[s->n++] = name;
    node_write_pid(&s->node, name, pid);
    return pid;
}

/* Reports a daemon that died or never became ready, with its log tail. */
static int daemon_failed(const started *s, const char *name, const char *what)
{
    char path[PATH_MAX + 64];
    fprintf(stderr, "Error: %s %s. Its log:\n", name, what);
    snprintf(path, sizeof path, "%s/logs/%s.out", s->node.dir, name);
    proc_print_tail(path, 15);
    snprintf(path, sizeof path, "%s/logs/%s.log", s->node.dir, name);
    proc_print_tail(path, 15);
    return -EIO;
}

typedef int (*ready_fn)(const started *s, const void *arg);

/* Polls READY until it says yes, the daemon dies, or TIMEOUT_MS passes. */
static int wait_ready(const started *s, pid_t pid, const char *name, ready_fn ready,
                      const void *arg, int timeout_ms)
{
    int64_t deadline = time_mono_ms() + timeout_ms;
    while (time_mono_ms() < deadline) {
        if (ready(s, arg))
            return 0;
        if (!proc_alive(pid))
            return daemon_failed(s, name, "exited during startup");
        struct timespec ts = {0, 20 * 1000000L};
        nanosleep(&ts, NULL);
    }
    return daemon_failed(s, name, "did not become ready in time");
}

static int gcs_ready(const started *s, const void *arg)
{
    const start_opts *o = arg;
    char token[TOKEN_MAX + 1];
    if (token_read_file(s->token_path, token, sizeof token) != 0)
        return 0;
    rpc_client *c = NULL;
    int rc = rpc_client_connect("127.0.0.1", o->port, token, "cli", 500, &c, NULL, 0);
    rpc_client_close(c);
    return rc == 0;
}

static int raylet_ready(const started *s, const void *arg)
{
    (void)arg;
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/raylet.ready", s->node.dir);
    return access(path, F_OK) == 0;
}

/* A TCP address a daemon will listen on. */
typedef struct listen_addr {
    const char *host;
    int port;
} listen_addr;

static int tcp_ready(const started *s, const void *arg)
{
    (void)s;
    const listen_addr *a = arg;
    const char *host = strcmp(a->host, "0.0.0.0") == 0 ? "127.0.0.1" : a->host;
    return !net_port_free(host, a->port);
}

static int start_gcs(started *s, const start_opts *o)
{
    char bin[PATH_MAX], port[16], db[PATH_MAX + 16], log[PATH_MAX + 32];
    if (proc_sibling_path("gcs_server", bin, sizeof bin) != 0) {
        fprintf(stderr, "Error: gcs_server is not installed next to ray (%s)\n", bin);
        return -ENOENT;
    }
    snprintf(port, sizeof port, "%d", o->port);
    snprintf(db, sizeof db, "%s/gcs.db", s->node.dir);
    snprintf(log, sizeof log, "%s/logs/gcs_server.log", s->node.dir);
    const char *session = strrchr(s->session_dir, '/') + 1;
    char *argv[] = {bin, "--port", port, "--token-file", s->token_path, "--session-name",
                    (char *)session, "--db", db, "--log-file", log, NULL};
    pid_t pid = start_daemon(s, "gcs_server", argv);
    return pid < 0 ? (int)pid : wait_ready(s, pid, "gcs_server", gcs_ready, o, 10000);
}

/* Appends "--FLAG VALUE" to ARGV at *N when VALUE is set. */
static void add_flag(char **argv, int *n, const char *flag, const char *value)
{
    if (value == NULL)
        return;
    argv[(*n)++] = (char *)flag;
    argv[(*n)++] = (char *)value;
}

static int start_raylet(started *s, const start_opts *o)
{
    char bin[PATH_MAX], nmport[16], agent[16], log[PATH_MAX + 32];
    if (proc_sibling_path("raylet", bin, sizeof bin) != 0) {
        fprintf(stderr, "Error: raylet is not installed next to ray (%s)\n", bin);
        return -ENOENT;
    }
    snprintf(nmport, sizeof nmport, "%d", s->node.port);
    snprintf(log, sizeof log, "%s/logs/raylet.log", s->node.dir);
    char *argv[40];
    int n = 0;
    argv[n++] = bin;
    add_flag(argv, &n, "--gcs-address", s->gcs_address);
    add_flag(argv, &n, "--token-file", s->token_path);
    add_flag(argv, &n, "--node-id", s->node.node_id);
    add_flag(argv, &n, "--node-ip-address", s->node.ip);
    add_flag(argv, &n, "--node-manager-port", nmport);
    add_flag(argv, &n, "--node-dir", s->node.dir);
    add_flag(argv, &n, "--log-file", log);
    add_flag(argv, &n, "--num-cpus", o->num_cpus);
    add_flag(argv, &n, "--num-gpus", o->num_gpus);
    add_flag(argv, &n, "--memory", o->memory);
    add_flag(argv, &n, "--object-store-memory", o->object_store_memory);
    add_flag(argv, &n, "--resources", o->resources);
    add_flag(argv, &n, "--labels", o->labels);
    add_flag(argv, &n, "--plasma-directory", o->plasma_dir[0] ? o->plasma_dir : NULL);
    add_flag(argv, &n, "--object-spilling-directory", o->spill_dir[0] ? o->spill_dir : NULL);
    /* The head advertises its job server; a joined node its job agent. */
    snprintf(agent, sizeof agent, "%d", o->head ? o->dashboard_port : s->agent_port);
    if (s->agent_started || (o->head && o->include_dashboard))
        add_flag(argv, &n, "--dashboard-agent-port", agent);
    char mport[16];
    snprintf(mport, sizeof mport, "%d", o->metrics_port);
    add_flag(argv, &n, "--metrics-export-port", o->metrics_port > 0 ? mport : NULL);
    if (o->head)
        argv[n++] = "--head";
    argv[n] = NULL;
    pid_t pid = start_daemon(s, "raylet", argv);
    return pid < 0 ? (int)pid : wait_ready(s, pid, "raylet", raylet_ready, NULL, 15000);
}

/* Starts BIN (ray_jobserver) in ROLE ("head": the Job Submission API; "agent":
 * a joined node's job agent) listening at A, and waits until it accepts.
 * Its entrypoint ledger is sized like the node.  Returns 0 or a negative
 * errno. */
static int spawn_jobserver(started *s, const start_opts *o, char *bin, const char *role,
                           const listen_addr *a)
{
    char port[16], log[PATH_MAX + 32], raylet_sock[PATH_MAX + 32];
    snprintf(port, sizeof port, "%d", a->port);
    snprintf(log, sizeof log, "%s/logs/ray_jobserver.log", s->node.dir);
    /* Entrypoint resources are reserved at the node's raylet (even when
     * the raylet starts after the agent). */
    snprintf(raylet_sock, sizeof raylet_sock, "%s/sockets/raylet", s->node.dir);
    const char *session = strrchr(s->session_dir, '/') + 1;
    char *argv[40] = {bin, "--role", (char *)role, "--host", (char *)a->host, "--port", port,
                      "--token-file", s->token_path, "--node-dir", s->node.dir,
                      "--gcs-address", s->gcs_address, "--session-name", (char *)session,
                      "--log-file", log, "--node-ip", s->node.ip, "--node-id", s->node.node_id};
    int n = 21;
    add_flag(argv, &n, "--num-cpus", o->num_cpus);
    add_flag(argv, &n, "--num-gpus", o->num_gpus);
    add_flag(argv, &n, "--memory", o->memory);
    add_flag(argv, &n, "--resources", o->resources);
    add_flag(argv, &n, "--raylet-socket", raylet_sock);
    argv[n] = NULL;
    pid_t pid = start_daemon(s, "ray_jobserver", argv);
    return pid < 0 ? (int)pid : wait_ready(s, pid, "ray_jobserver", tcp_ready, a, 10000);
}

static int start_jobserver(started *s, const start_opts *o)
{
    char bin[PATH_MAX];
    if (proc_sibling_path("ray_jobserver", bin, sizeof bin) != 0)
        return 0; /* built without the job server */
    if (!net_port_free(strcmp(o->dashboard_host, "0.0.0.0") == 0 ? "127.0.0.1" : o->dashboard_host,
                       o->dashboard_port)) {
        fprintf(stderr, "Error: the dashboard port %d is already in use on %s; pick another "
                        "with --dashboard-port.\n", o->dashboard_port, o->dashboard_host);
        return -EADDRINUSE;
    }
    listen_addr a = {o->dashboard_host, o->dashboard_port};
    return spawn_jobserver(s, o, bin, "head", &a);
}

/* Starts the job agent of a joined node: the same job server, listening on
 * the node's IP at the dashboard agent port, taking jobs the head forwards.
 * Returns 0 (also when the job server is not built) or a negative errno. */
static int start_agent(started *s, const start_opts *o)
{
    char bin[PATH_MAX];
    if (proc_sibling_path("ray_jobserver", bin, sizeof bin) != 0)
        return 0;
    /* Several nodes of one host cannot share the default port; the head
     * learns the port from the GCS, so any free one does. */
    s->agent_port = o->agent_port;
    if (!o->agent_port_given && !net_port_free(s->node.ip, s->agent_port)) {
        int picked = net_pick_free_port(s->node.ip);
        if (picked > 0)
            s->agent_port = picked;
    }
    if (!net_port_free(s->node.ip, s->agent_port)) {
        fprintf(stderr, "Error: the dashboard agent port %d is already in use on %s; pick "
                        "another with --dashboard-agent-listen-port.\n", s->agent_port, s->node.ip);
        return -EADDRINUSE;
    }
    listen_addr a = {s->node.ip, s->agent_port};
    int rc = spawn_jobserver(s, o, bin, "agent", &a);
    s->agent_started = rc == 0;
    return rc;
}

/* ---------------------------------------------------------------- head and worker */

/* Refuses a GCS port that is taken, with Ray's sentence when a GCS is there. */
static int check_gcs_port(const start_opts *o, const char *ip)
{
    if (net_port_free("0.0.0.0", o->port))
        return 0;
    rpc_client *c = NULL;
    int rc = rpc_client_connect("127.0.0.1", o->port, "", "cli", 1000, &c, NULL, 0);
    rpc_client_close(c);
    if (rc == 0 || rc == -EACCES)
        fprintf(stderr, "ConnectionError: Ray is trying to start at %s:%d, but is already "
                        "running at %s:%d. Please specify a different port using the `--port` "
                        "flag of `ray start` command.\n", ip, o->port, ip, o->port);
    else
        fprintf(stderr, "Error: port %d is already in use by another program; pick another "
                        "with --port.\n", o->port);
    return -EADDRINUSE;
}

/* True when O gives PORT to another daemon of this node (which may not
 * have bound it yet, so the kernel can hand it out as free). */
static int port_given_to_other(const start_opts *o, int port)
{
    return (o->head && (port == o->port || port == o->dashboard_port)) ||
           port == o->agent_port || (o->metrics_port > 0 && port == o->metrics_port);
}

/* Picks the node manager port and creates the node directory. */
static int make_node(started *s, const start_opts *o, const char *ip)
{
    int port = o->node_manager_port;
    if (port == 0) {
        port = net_pick_free_port(ip);
        for (int tries = 0; port > 0 && port_given_to_other(o, port) && tries < 64; tries++)
            port = net_pick_free_port(ip);
    } else if (!net_port_free(ip, port)) {
        fprintf(stderr, "Error: the node manager port %d is already in use.\n", port);
        return -EADDRINUSE;
    }
    if (port < 0) {
        fprintf(stderr, "Error: cannot bind to %s: %s (is it this host's address?)\n", ip,
                strerror(-port));
        return port;
    }
    char node_id[NODE_ID_HEX_LEN + 1];
    ids_random_hex(node_id, NODE_ID_HEX_LEN / 2);
    str_copy(s->node.shm_dir, sizeof s->node.shm_dir, o->plasma_dir);
    str_copy(s->node.spill_dir, sizeof s->node.spill_dir, o->spill_dir);
    int rc = node_dir_create(s->session_dir, ip, port, o->head, node_id, s->gcs_address,
                             &s->node);
    if (rc != 0) {
        fprintf(stderr, "Error: cannot create the node directory %s: %s\n", s->node.dir,
                strerror(-rc));
        return rc;
    }
    if ((rc = node_register(&s->node)) != 0) {
        char reg[PATH_MAX];
        node_registry_dir(reg, sizeof reg, 0);
        fprintf(stderr, "Error: cannot register the node in %s: %s\n", reg,
                rc == -EPERM ? "it must be a directory of this user, not writable by others "
                               "(set RAYC_NODE_REGISTRY to use another)" : strerror(-rc));
    }
    return rc;
}

/* Writes ROOT/ray_current_cluster, the address `ray status` and drivers
 * of this host use by default. */
static void write_current_cluster(const started *s)
{
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/ray_current_cluster", s->root);
    fs_write_file(path, s->gcs_address, strlen(s->gcs_address), 0644);
}

/* The head's raylet died while its gcs_server runs on (cli_revive.h): a
 * fresh head raylet and job server join that GCS, in its session. */
static int restart_head(started *s, const start_opts *o, const node_record *old, const char *ip)
{
    int rc;
    if ((rc = fs_path_join(s->token_path, sizeof s->token_path, s->session_dir, "auth_token")) != 0)
        return rc;
    str_copy(s->gcs_address, sizeof s->gcs_address, old->gcs_address);
    if ((rc = make_node(s, o, ip)) != 0 || (rc = start_raylet(s, o)) != 0 ||
        (rc = start_jobserver(s, o)) != 0)
        return rc;
    write_current_cluster(s);
    return 0;
}

static int start_head(started *s, const start_opts *o, char *ip, size_t iplen)
{
    int rc;
    if (o->node_ip != NULL)
        str_copy(ip, iplen, o->node_ip);
    else
        net_default_ipv4(ip, iplen);
    node_record old;
    if (revive_find_head(o->port, &old, s->session_dir, sizeof s->session_dir))
        return restart_head(s, o, &old, ip);
    if ((rc = check_gcs_port(o, ip)) != 0 || (rc = make_session(s)) != 0 ||
        (rc = head_token(o, s)) != 0)
        return rc;
    snprintf(s->gcs_address, sizeof s->gcs_address, "%s:%d", ip, o->port);
    if ((rc = make_node(s, o, ip)) != 0 || (rc = start_gcs(s, o)) != 0 ||
        (rc = start_raylet(s, o)) != 0 ||
        (o->include_dashboard && (rc = start_jobserver(s, o)) != 0))
        return rc;
    write_current_cluster(s);
    return 0;
}

/* Asks the head for the session name and learns which local address reaches it. */
static int join_cluster(started *s, const start_opts *o, const char *token, char *ip,
                        size_t iplen)
{
    char host[256];
    int port;
    if (net_parse_hostport(o->address, 6379, host, sizeof host, &port) != 0) {
        fprintf(stderr, "Error: malformed --address '%s' (want HOST:PORT)\n", o->address);
        return -EINVAL;
    }
    rpc_client *c = cli_connect_gcs(host, port, token, "cli");
    if (c == NULL)
        return -ECONNREFUSED;
    struct sockaddr_in self;
    socklen_t len = sizeof self;
    getsockname(rpc_client_fd(c), (struct sockaddr *)&self, &len);
    if (o->node_ip != NULL)
        str_copy(ip, iplen, o->node_ip);
    else
        inet_ntop(AF_INET, &self.sin_addr, ip, (socklen_t)iplen);
    char gcs_ip[64];
    struct sockaddr_in peer;
    len = sizeof peer;
    getpeername(rpc_client_fd(c), (struct sockaddr *)&peer, &len);
    inet_ntop(AF_INET, &peer.sin_addr, gcs_ip, sizeof gcs_ip);
    snprintf(s->gcs_address, sizeof s->gcs_address, "%s:%d", gcs_ip, port);
    int rc = fs_path_join(s->session_dir, sizeof s->session_dir, s->root, rpc_client_session(c));
    rpc_client_close(c);
    if (rc == 0)
        rc = fs_private_dir(s->session_dir);
    if (rc != 0)
        fprintf(stderr, "Error: cannot create %s: %s\n", s->session_dir, strerror(-rc));
    return rc;
}

static int start_worker(started *s, const start_opts *o, char *ip, size_t iplen)
{
    char token[TOKEN_MAX + 1];
    int rc = o->token_file != NULL ? token_read_file(o->token_file, token, sizeof token)
                                   : cli_find_token(s->root, token, sizeof token);
    if (rc != 0) {
        if (o->token_file != NULL)
            token_failed(o->token_file, rc);
        return rc;
    }
    if ((rc = join_cluster(s, o, token, ip, iplen)) != 0 || (rc = make_node(s, o, ip)) != 0)
        return rc;
    if ((rc = fs_path_join(s->token_path, sizeof s->token_path, s->node.dir, "auth_token")) != 0 ||
        (rc = token_write_file(s->token_path, token)) != 0) {
        fprintf(stderr, "Error: cannot write %s: %s\n", s->token_path, strerror(-rc));
        return rc;
    }
    if ((rc = start_agent(s, o)) != 0)
        return rc;
    return start_raylet(s, o);
}

/* ---------------------------------------------------------------- output */

static void print_head_started(const started *s, const start_opts *o, const char *ip)
{
    const char *dash = strcmp(o->dashboard_host, "0.0.0.0") == 0 ? ip : o->dashboard_host;
    printf("Local node IP: %s\n\n", ip);
    printf("--------------------\nRay runtime started.\n--------------------\n\n");
    printf("Next steps\n");
    printf("  To add another node to this Ray cluster, run\n");
    printf("    ray start --address='%s'\n\n", s->gcs_address);
    printf("  To connect to this Ray cluster from a C driver (libray):\n");
    printf("    RAY_ADDRESS='%s' ./my_driver\n\n", s->gcs_address);
    if (o->include_dashboard) {
        printf("  To submit a Ray job using the Ray Jobs CLI:\n");
        printf("    RAY_ADDRESS='http://%s:%d' ray job submit --working-dir . -- ./my_driver\n\n",
               dash, o->dashboard_port);
    }
    printf("  The cluster token is in %s (mode 0600); clients read it from\n"
           "  RAY_AUTH_TOKEN, RAY_AUTH_TOKEN_PATH or ~/.ray/auth_token.\n\n", s->token_path);
    printf("  To terminate the Ray runtime, run\n    ray stop\n\n");
    printf("  To view the status of the cluster, use\n    ray status\n\n");
    printf("  Logs are in %s/logs\n", s->node.dir);
}

static void print_worker_started(const started *s, const char *ip)
{
    printf("Local node IP: %s\n\n", ip);
    printf("--------------------\nRay runtime started.\n--------------------\n\n");
    printf("To terminate the Ray runtime, run\n  ray stop\n\n");
    printf("Logs are in %s/logs\n", s->node.dir);
}

/* ---------------------------------------------------------------- --block */

static volatile sig_atomic_t block_signal;
static void on_block_signal(int sig) { block_signal = sig; }

/* Waits until a signal arrives or one of the node's processes dies, then
 * stops the rest.  Returns the exit code. */
static int block_until_done(started *s)
{
    signal(SIGINT, on_block_signal);
    signal(SIGTERM, on_block_signal);
    printf("--block\n  This command will now block forever until terminated by a signal.\n"
           "  Running subprocesses are monitored and a message will be printed if any of "
           "them terminate unexpectedly. Subprocesses exit with SIGTERM will be treated as "
           "graceful, thus NOT reported.\n");
    fflush(stdout);
    int code = 0;
    while (!block_signal && code == 0) {
        for (size_t i = 0; i < s->n; i++) {
            if (!proc_alive(s->pids[i])) {
                fprintf(stderr, "Some Ray subprocesses exited unexpectedly:\n  %s [pid=%d]\n",
                        s->names[i], (int)s->pids[i]);
                code = 1;
            }
        }
        struct timespec ts = {0, 200 * 1000000L};
        nanosleep(&ts, NULL);
    }
    /* Stop the raylet and job server before the GCS, as `ray stop` does. */
    for (size_t i = s->n; i-- > 0;)
        proc_stop_all(&s->pids[i], 1, SIGTERM, 5000);
    node_unregister(&s->node);
    return code;
}

int cmd_start(int argc, char **argv)
{
    start_opts o;
    int rc = parse_start(argc, argv, &o);
    if (rc != 0)
        return rc == 1 ? 0 : rc;
    char tls_err[512];
    if (tls_init_from_env(tls_err, sizeof tls_err) != 0) {
        fprintf(stderr, "Error: %s\n", tls_err);
        return 1;
    }
    started s;
    memset(&s, 0, sizeof s);
    node_temp_root(o.temp_dir, s.root, sizeof s.root);
    cli_export_python_path(); /* jobs and Python workers import this rayc's `ray` */
    char ip[64];
    /* A node of this host whose raylet died comes back as a new node. */
    revive_clean(o.head ? o.port : 0);
    rc = o.head ? start_head(&s, &o, ip, sizeof ip) : start_worker(&s, &o, ip, sizeof ip);
    if (rc != 0) {
        undo(&s);
        return 1;
    }
    if (o.head)
        print_head_started(&s, &o, ip);
    else
        print_worker_started(&s, ip);
    fflush(stdout);
    return o.block ? block_until_done(&s) : 0;
}
