/* ray_worker: the process a raylet starts to run one job's tasks (or one
 * actor).  It loads the job's task libraries and hands over to libray's
 * worker mode, which talks to the raylet until the raylet closes the
 * connection.
 *
 *   ray_worker --socket PATH --token-file PATH --worker-id HEX [--raylet-pid N]
 *
 * The job's working_dir is our cwd, its env_vars and RAY_CODE_SEARCH_PATH
 * our environment (the raylet sets them).  Exit status: 0 when told to go,
 * 1 when the raylet could not be reached, 2 for a bad command line. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "api/api.h"
#include "common/log.h"
#include "common/token.h"
#include "common/util.h"
#include "worker/worker_libs.h"

/* Task libraries resolve the ray_* API from this executable (-rdynamic).
 * A static link keeps only the objects something refers to, so every
 * public function is referred to here. */
typedef void (*any_fn)(void);
static const any_fn exported_api[] = {
    (any_fn)ray_status_name, (any_fn)ray_last_error, (any_fn)ray_str,
    (any_fn)ray_value_release, (any_fn)ray_init, (any_fn)ray_shutdown,
    (any_fn)ray_is_initialized, (any_fn)ray_job_id, (any_fn)ray_call, (any_fn)ray_submit,
    (any_fn)ray_put, (any_fn)ray_put_alloc, (any_fn)ray_put_seal, (any_fn)ray_get,
    (any_fn)ray_get_i64, (any_fn)ray_get_f64, (any_fn)ray_get_bytes, (any_fn)ray_wait,
    (any_fn)ray_cancel, (any_fn)ray_ref_dup, (any_fn)ray_ref_release, (any_fn)ray_ref_hex,
    (any_fn)ray_actor_create, (any_fn)ray_actor_call, (any_fn)ray_actor_submit,
    (any_fn)ray_get_actor, (any_fn)ray_actor_kill, (any_fn)ray_actor_release,
    (any_fn)ray_actor_dup, (any_fn)ray_actor_hex, (any_fn)ray_register_function,
    (any_fn)ray_register_actor, (any_fn)ray_register_method, (any_fn)ray_arg_count,
    (any_fn)ray_arg_type, (any_fn)ray_arg_i64, (any_fn)ray_arg_f64, (any_fn)ray_arg_str,
    (any_fn)ray_arg_bytes, (any_fn)ray_arg_actor, (any_fn)ray_return_i64,
    (any_fn)ray_return_f64, (any_fn)ray_return_str, (any_fn)ray_return_bytes,
    (any_fn)ray_return_at, (any_fn)ray_return_alloc, (any_fn)ray_error, (any_fn)ray_cancelled,
    (any_fn)ray_task_hex, (any_fn)ray_task_attempt,
};

typedef struct worker_opts {
    const char *socket;
    const char *token_file;
    const char *worker_id;
    long raylet_pid;
} worker_opts;

static int parse(int argc, char **argv, worker_opts *o)
{
    static const struct option flags[] = {
        {"socket", required_argument, NULL, 's'},
        {"token-file", required_argument, NULL, 't'},
        {"worker-id", required_argument, NULL, 'w'},
        {"raylet-pid", required_argument, NULL, 'p'},
        {NULL, 0, NULL, 0},
    };
    memset(o, 0, sizeof *o);
    int c;
    while ((c = getopt_long(argc, argv, "", flags, NULL)) != -1) {
        switch (c) {
        case 's': o->socket = optarg; break;
        case 't': o->token_file = optarg; break;
        case 'w': o->worker_id = optarg; break;
        case 'p':
            if (parse_long(optarg, 1, 1L << 30, &o->raylet_pid) != 0)
                return -1;
            break;
        default: return -1;
        }
    }
    return o->socket && o->token_file && o->worker_id ? 0 : -1;
}

/* Dies with the raylet, even when it is killed with SIGKILL. */
static void follow_parent(long raylet_pid)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (raylet_pid > 0 && getppid() != (pid_t)raylet_pid)
        _exit(1); /* the raylet died before prctl took effect */
}

int main(int argc, char **argv)
{
    worker_opts o;
    char token[TOKEN_MAX + 1];
    log_setup("ray_worker", LOG_INFO);
    if (parse(argc, argv, &o) != 0) {
        fprintf(stderr, "usage: ray_worker --socket PATH --token-file PATH --worker-id HEX "
                        "[--raylet-pid N]\n");
        return 2;
    }
    follow_parent(o.raylet_pid);
    signal(SIGPIPE, SIG_IGN);
    if (token_read_file(o.token_file, token, sizeof token) != 0) {
        log_error("cannot read the token file %s", o.token_file);
        return 1;
    }
    size_t n = worker_libs_load(getenv("RAY_CODE_SEARCH_PATH"));
    log_info("worker %s: %zu task libraries, %zu registered names (%zu exported API functions)",
             o.worker_id, n, api_registry_count(), sizeof exported_api / sizeof exported_api[0]);
    int rc = api_worker_main(o.socket, token, o.worker_id);
    if (rc != RAY_OK) {
        log_error("%s", ray_last_error());
        return 1;
    }
    return 0;
}
