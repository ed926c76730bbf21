/* `ray job ...`: the HTTP client of the job server (placeholder until the job server lands). */
#include "jobserver/jobs_cli.h"

#include <stdio.h>

int jobs_cli_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "ray job: not supported yet in this build\n");
    return 1;
}
