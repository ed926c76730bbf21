/* `ray up`, `ray down` and the companions: dispatch to each command. */
#include "launcher/launcher_cli.h"

#include <stdio.h>
#include <string.h>

int launcher_has_command(const char *command)
{
    static const char *const names[] = {"up", "down", "exec", "attach", "rsync-up",
                                        "rsync-down", "submit", "get-head-ip",
                                        "get-worker-ips", "monitor", "dashboard"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(names[i], command) == 0)
            return 1;
    return 0;
}

int launcher_main(const char *command, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "Error: `ray %s` is not ready yet.\n", command);
    return 1;
}
