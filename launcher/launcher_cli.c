/* `ray up`, `ray down` and the companions: dispatch to each command. */
#include "launcher/launcher_cli.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "common/cmdline.h"
#include "launcher/down_cmd.h"
#include "launcher/exec_cmd.h"
#include "launcher/info_cmd.h"
#include "launcher/up_cmd.h"

typedef struct launcher_command {
    const char *name;
    int (*fn)(int argc, char **argv);
} launcher_command;

static const launcher_command commands[] = {
    {"up", up_main},
    {"down", down_main},
    {"exec", exec_main},
    {"attach", attach_main},
    {"rsync-up", rsync_up_main},
    {"rsync-down", rsync_down_main},
    {"submit", submit_main},
    {"get-head-ip", get_head_ip_main},
    {"get-worker-ips", get_worker_ips_main},
    {"monitor", monitor_main},
    {"dashboard", dashboard_main},
};

static const launcher_command *find(const char *name)
{
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

int launcher_has_command(const char *command)
{
    return find(command) != NULL;
}

int launcher_main(const char *command, int argc, char **argv)
{
    const launcher_command *c = find(command);
    if (c == NULL) {
        return cmdline_usage_error("ray", "[OPTIONS] COMMAND [ARGS]...", "No such command '%s'.",
                                   command);
    }
    /* A node that drops its connection must give an error, not kill us. */
    signal(SIGPIPE, SIG_IGN);
    /* Progress and errors interleave in order even when stdout is a file. */
    setvbuf(stdout, NULL, _IOLBF, 0);
    int rc = c->fn(argc, argv);
    fflush(stdout);
    return rc;
}
