/* `ray job ...`: the HTTP client of the job server (libcurl). */
#ifndef RAYC_JOBCLIENT_JOBS_CLI_H
#define RAYC_JOBCLIENT_JOBS_CLI_H

/* Runs `ray job ARGV[1] ...` (ARGV[0] is "job").  Prints Ray's wording and
 * returns the process exit code. */
int jobs_cli_main(int argc, char **argv);

#endif
