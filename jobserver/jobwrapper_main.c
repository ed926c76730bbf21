/* bin/ray_job_wrapper: the job wrapper as a program of its own, linked with
 * libc alone (see jobs_wrapper.c).  Usage: ray_job_wrapper --job-wrapper
 * PIDFILE EXITFILE CMD... */
#include "jobserver/jobs_proc.h"

int main(int argc, char **argv)
{
    return jobs_wrapper_main(argc, argv);
}
