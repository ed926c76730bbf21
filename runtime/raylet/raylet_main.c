/* raylet: the per-node daemon (see raylet.h for the map of its files).
 *
 * Exit status: 0 after SIGTERM/SIGINT, 1 on a runtime failure (port in use,
 * token refused, node declared dead, no GCS for too long), 2 for a bad
 * command line. */
#include "raylet/raylet.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/res_json.h"
#include "common/tls.h"
#include "common/util.h"
#include "raylet/res_detect.h"
#include "raylet/res_spec.h"

/* True once log lines go to --log-file rather than stderr. */
static int log_to_file;

/* Reports a startup failure as one line on stderr, and in the log file when
 * there is one.  Returns CODE. */
static int fail(int code, const char *fmt, const char *a, const char *b)
{
    char line[1024];
    snprintf(line, sizeof line, fmt, a, b);
    fprintf(stderr, "raylet: %s\n", line);
    if (log_to_file)
        log_error("%s", line);
    return code;
}

static int setup_logging(const raylet_opts *o)
{
    const char *level = getenv("RAY_BACKEND_LOG_LEVEL");
    log_setup("raylet", level != NULL && strcmp(level, "debug") == 0 ? LOG_DEBUG : LOG_INFO);
    if (o->log_file == NULL)
        return 0;
    int rc = log_open(o->log_file);
    if (rc != 0)
        return fail(1, "cannot open the log file %s: %s", o->log_file, strerror(-rc));
    log_to_file = 1;
    return 0;
}

/* ---------------------------------------------------------------- resources */

/* Parses the JSON flags into CUSTOM and R->labels; returns 0 or exit code 2. */
static int parse_json_flags(raylet *r, res_map *custom)
{
    char err[512];
    const raylet_opts *o = r->opts;
    if (o->resources_json != NULL &&
        res_parse_resources_json(o->resources_json, custom, err, sizeof err) != 0)
        return fail(2, "%s%s", err, "");
    if (o->labels_json != NULL && res_parse_labels_json(o->labels_json, &r->labels, err,
                                                        sizeof err) != 0)
        return fail(2, "%s%s", err, "");
    if (res_default_labels(&r->labels, o->node_id) != 0)
        return fail(1, "%s%s", "out of memory", "");
    return 0;
}

/* Detects this machine and fills R->total and R->available from it, the
 * flags and CUSTOM.  Returns 0 or an exit code. */
static int build_resources(raylet *r, const res_map *custom)
{
    const raylet_opts *o = r->opts;
    res_paths paths;
    res_detected det;
    int rc = res_paths_init(&paths, NULL);
    if (rc == 0)
        rc = res_detect_all(&paths, getenv("CUDA_VISIBLE_DEVICES"), &det);
    if (rc != 0)
        return fail(1, "cannot detect this machine's memory: %s%s", strerror(-rc), "");
    res_request req = {o->num_cpus, o->num_gpus, o->memory, o->object_store_memory,
                       o->node_ip, o->head};
    if (res_build_totals(&req, &det, custom, &r->total) != 0 ||
        res_map_copy(&r->available, &r->total) != 0)
        return fail(1, "%s%s", "too many resources or out of memory", "");
    return 0;
}

static void log_start(const raylet *r)
{
    const raylet_opts *o = r->opts;
    char res[2048];
    res_map_format(&r->total, res, sizeof res);
    log_info("raylet %s starting: %s:%d, node dir %s%s", o->node_id, o->node_ip,
             r->node_manager_port, o->node_dir, o->head ? ", head node" : "");
    log_info("resources: %s", res);
}

/* ---------------------------------------------------------------- startup */

/* The token, host name and resources. */
static int prepare_node(raylet *r, const raylet_opts *o, const res_map *custom)
{
    int rc = token_read_file(o->token_file, r->token, sizeof r->token);
    if (rc != 0)
        return fail(1, "cannot read the token file %s: %s", o->token_file, token_error(rc));
    if (gethostname(r->hostname, sizeof r->hostname) != 0)
        str_copy(r->hostname, sizeof r->hostname, "localhost");
    r->hostname[sizeof r->hostname - 1] = '\0';
    return build_resources(r, custom);
}

/* Everything before the loop runs: the JSON flags are checked first, as
 * part of the command line (exit 2 with one line).  Returns 0 or an exit
 * code. */
static int prepare(raylet *r, const raylet_opts *o)
{
    r->opts = o;
    r->sockets_dirfd = -1;
    r->start_time_ms = time_now_ms();
    res_map_init(&r->total);
    res_map_init(&r->available);
    res_labels_init(&r->labels);
    res_map custom;
    res_map_init(&custom);
    int rc = parse_json_flags(r, &custom);
    if (rc == 0)
        rc = setup_logging(o);
    if (rc == 0)
        rc = prepare_node(r, o, &custom);
    res_map_free(&custom);
    return rc;
}

/* Opens the listeners and starts the GCS connection.  Returns 0 or 1. */
static int start(raylet *r)
{
    char err[512];
    signal(SIGPIPE, SIG_IGN);
    if (tls_init_from_env(err, sizeof err) != 0)
        return fail(1, "%s%s", err, "");
    int rc = raylet_signals_start(r);
    if (rc != 0)
        return fail(1, "cannot install signal handlers: %s%s", uv_strerror(rc), "");
    rc = raylet_server_start(r, err, sizeof err);
    if (rc == 0)
        rc = raylet_runtime_open(r, err, sizeof err);
    if (rc != 0)
        return fail(1, "%s%s", err, "");
    /* The node dir is ours now: a ready file left by a killed raylet goes. */
    snprintf(r->ready_path, sizeof r->ready_path, "%s/raylet.ready", r->opts->node_dir);
    unlink(r->ready_path);
    log_start(r);
    rc = raylet_gcs_start(r);
    return rc == 0 ? 0 : fail(1, "cannot start the GCS client: %s%s", uv_strerror(rc), "");
}

static void cleanup(raylet *r)
{
    raylet_files_remove(r);
    raylet_runtime_free(r);
    raylet_server_free(r);
    if (r->sockets_dirfd >= 0)
        close(r->sockets_dirfd);
    res_map_free(&r->total);
    res_map_free(&r->available);
    res_labels_free(&r->labels);
    if (uv_loop_close(r->loop) != 0)
        log_warn("some handles were still open at exit");
}

int main(int argc, char **argv)
{
    static raylet_opts opts;
    static raylet r;
    char err[512];
    if (raylet_opts_parse(&opts, argc, argv, err, sizeof err) != 0)
        return fail(2, "%s%s", err, "");
    if (opts.help) {
        raylet_opts_usage(stdout);
        return 0;
    }
    uv_loop_t loop;
    uv_loop_init(&loop);
    r.loop = &loop;
    int code = prepare(&r, &opts);
    int started = code == 0 && (code = start(&r)) == 0;
    if (!started)
        raylet_exit(&r, code);
    uv_run(&loop, UV_RUN_DEFAULT);
    code = started ? r.exit_code : code;
    cleanup(&r);
    if (started || log_to_file)
        log_info("raylet exiting with status %d", code);
    return code;
}
