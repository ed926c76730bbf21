/* What `ray up` prints at the end: failed nodes in detail, useful commands. */
#include "launcher/up_cmd.h"

#include <stdio.h>
#include <string.h>

#include "launcher/ssh_exec.h"

static void print_tail_line(void *data, const char *line)
{
    (void)data;
    fprintf(stderr, "      | %s\n", line);
}

static void report_one(const up_job *j)
{
    fprintf(stderr, "\n  %s (%s): update-failed\n", j->ip, j->is_head ? "head" : "worker");
    if (j->failed_cmd[0] != '\0') {
        if (j->exit_code == SSH_EXIT_NONE)
            fprintf(stderr, "    Command `%s` was killed before it exited.\n", j->failed_cmd);
        else
            fprintf(stderr, "    Command `%s` failed with exit code %d.\n", j->failed_cmd,
                    j->exit_code);
        size_t n = ltail_count(&j->tail);
        if (n > 0) {
            fprintf(stderr, "    Last %zu line%s of its output:\n", n, n == 1 ? "" : "s");
            ltail_each(&j->tail, print_tail_line, NULL);
        } else {
            fprintf(stderr, "    (no output)\n");
        }
    } else {
        fprintf(stderr, "    %s\n", j->error);
    }
    fprintf(stderr, "    Full log: %s\n", j->log_path);
}

size_t up_report_failures(const up_job *jobs, size_t n)
{
    size_t failed = 0;
    for (size_t i = 0; i < n; i++) {
        if (jobs[i].ok || jobs[i].error[0] == '\0')
            continue;
        if (failed++ == 0)
            fprintf(stderr, "\nFailed nodes:\n");
        report_one(&jobs[i]);
    }
    return failed;
}

void up_report_useful(const char *config_path, const char *name_flag, const char *token_path,
                      const char *ca_path)
{
    printf("\nUseful commands:\n");
    printf("  To terminate the cluster:\n    ray down %s%s\n\n", config_path, name_flag);
    printf("  To retrieve the IP address of the cluster head:\n    ray get-head-ip %s%s\n\n",
           config_path, name_flag);
    printf("  To port-forward the cluster's Ray Dashboard to the local machine:\n"
           "    ray dashboard %s%s\n\n", config_path, name_flag);
    printf("  To submit a job to the cluster, port-forward the Ray Dashboard in another "
           "terminal and run:\n"
           "    RAY_AUTH_TOKEN_PATH=%s %s%s%sray job submit --address http%s://localhost:8265 "
           "--working-dir . -- ./my_program\n\n", token_path, ca_path ? "RAY_TLS_CA_CERT=" : "",
           ca_path ? ca_path : "", ca_path ? " " : "", ca_path ? "s" : "");
    printf("  To connect to a terminal on the cluster head for debugging:\n"
           "    ray attach %s%s\n\n", config_path, name_flag);
    printf("  To follow the head's logs:\n    ray monitor %s%s\n\n", config_path, name_flag);
}
