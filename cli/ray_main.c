/* `ray`: the multi-call command-line entry point.  It only dispatches:
 * `ray-up` and `ray-down` (links to this binary) act as `ray up` / `ray down`. */
#include <stdio.h>
#include <string.h>

#include "cli/cli_cmds.h"
#include "cli/cli_state.h"
#include "common/cmdline.h"
#include "jobclient/jobs_cli.h"
#include "launcher/launcher_cli.h"

#define RAYC_VERSION "2.52.0"

typedef int (*command_fn)(int argc, char **argv);

typedef struct command {
    const char *name;
    command_fn fn;
    const char *help;
} command;

static const command commands[] = {
    {"start", cmd_start, "Start Ray processes manually on the local machine."},
    {"stop", cmd_stop, "Stop Ray processes manually on the local machine."},
    {"status", cmd_status, "Print cluster status, including autoscaling info."},
    {"metrics", cmd_metrics, "Start or stop Prometheus for the cluster's metrics."},
    {"job", jobs_cli_main, "Submit, stop, delete, or list Ray jobs."},
    {"list", cmd_list, "List resources of the cluster (state API)."},
    {"get", cmd_get, "Get the state of one resource by id (state API)."},
    {"summary", cmd_summary, "Summarize tasks or actors (state API)."},
    {"logs", cmd_logs, "List or print the log files of the cluster's nodes."},
    {"timeline", cmd_timeline, "Write a Chrome trace (JSON) of recent tasks."},
    {"microbenchmark", cmd_microbenchmark, "Run a local Ray microbenchmark on the current machine."},
};

/* The launcher's commands, for the help text. */
static const char *launcher_help =
    "  up              Create or update a Ray cluster.\n"
    "  down            Tear down a Ray cluster.\n"
    "  exec            Execute a command via SSH on a Ray cluster.\n"
    "  attach          Create or attach to a SSH session to a Ray cluster.\n"
    "  rsync-up        Upload specific files to a Ray cluster.\n"
    "  rsync-down      Download specific files from a Ray cluster.\n"
    "  submit          Uploads and runs a script on the specified cluster.\n"
    "  get-head-ip     Return the head node IP of a Ray cluster.\n"
    "  get-worker-ips  Return the list of worker IPs of a Ray cluster.\n"
    "  monitor         Tails the autoscaler logs of a Ray cluster.\n"
    "  dashboard       Port-forward a Ray cluster's dashboard to the local machine.\n";


static void usage(FILE *out)
{
    fprintf(out, "Usage: ray [OPTIONS] COMMAND [ARGS]...\n\nCommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-15s %s\n", commands[i].name, commands[i].help);
    fputs(launcher_help, out);
}

static int dispatch(const char *name, int argc, char **argv)
{
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(commands[i].name, name) == 0)
            return commands[i].fn(argc, argv);
    if (launcher_has_command(name))
        return launcher_main(name, argc, argv);
    return cmdline_usage_error("ray", "[OPTIONS] COMMAND [ARGS]...", "No such command '%s'.",
                               name);
}

int main(int argc, char **argv)
{
    const char *self = strrchr(argv[0], '/');
    self = self ? self + 1 : argv[0];
    if (strcmp(self, "ray-up") == 0)
        return dispatch("up", argc, argv);
    if (strcmp(self, "ray-down") == 0)
        return dispatch("down", argc, argv);
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("ray, version %s (rayc)\n", RAYC_VERSION);
        return 0;
    }
    return dispatch(argv[1], argc - 1, argv + 1);
}
