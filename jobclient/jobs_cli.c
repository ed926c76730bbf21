/* `ray job ...`: the command-line client of the job server, in Ray's words. */
#include "jobclient/jobs_cli.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "common/cmdline.h"
#include "common/dbuf.h"
#include "jobclient/jobs_cli_int.h"
#include "jobclient/jobs_pyrepr.h"

static const char group_help[] =
    "Usage: ray job [OPTIONS] COMMAND [ARGS]...\n\n"
    "  Submit, stop, delete, or list Ray jobs.\n\n"
    "Options:\n  --help  Show this message and exit.\n\n"
    "Commands:\n"
    "  delete  Deletes a stopped job and its associated data from memory.\n"
    "  list    Lists all running jobs and their information.\n"
    "  logs    Gets the logs of a job.\n"
    "  status  Queries for the current status of a job.\n"
    "  stop    Attempts to stop a job.\n"
    "  submit  Submits a job to be run on the cluster.\n";

/* ---------------------------------------------------------------- options */

/* Click's usage error for `ray job CMD`; returns -1. */
static int usage_error(const char *cmd, const char *usage, const char *fmt, const char *arg)
{
    char prog[64], msg[512];
    snprintf(prog, sizeof prog, "ray job %s", cmd);
    snprintf(msg, sizeof msg, fmt, arg);
    cmdline_usage_error(prog, usage, "%s", msg);
    return -1;
}

/* The subcommand's options followed by the common ones. */
static int merge_opts(cli_opt *opts, cli_common *c, cli_opt *all, int max)
{
    int n = 0;
    while (opts[n].name != NULL && n < max - 7) {
        all[n] = opts[n];
        n++;
    }
    all[n++] = (cli_opt){"--address", NULL, &c->address, NULL};
    all[n++] = (cli_opt){"--headers", NULL, &c->headers, NULL};
    all[n++] = (cli_opt){"--verify", NULL, &c->verify, NULL};
    all[n++] = (cli_opt){"--log-style", NULL, &c->log_style, NULL};
    all[n++] = (cli_opt){"--log-color", NULL, &c->log_color, NULL};
    all[n++] = (cli_opt){"-v", "--verbose", NULL, &c->verbose};
    all[n] = (cli_opt){NULL, NULL, NULL, NULL};
    return n;
}

/* The long name ("--x") and the short letter ('x', or 0) of option O. */
static const char *long_name(const cli_opt *o)
{
    return strncmp(o->name, "--", 2) == 0 ? o->name : o->short_name;
}

static char short_letter(const cli_opt *o)
{
    const char *s = strncmp(o->name, "--", 2) == 0 ? o->short_name : o->name;
    return s != NULL && s[0] == '-' && s[1] != '-' ? s[1] : 0;
}

/* getopt_long's tables for ALL (N options): option I answers 256 + I, a
 * short one its letter.  SHORTS starts with "+:" when REST stops the
 * options at the first positional. */
static void getopt_tables(const cli_opt *all, int n, int rest, struct option *longs,
                          char *shorts, size_t shorts_len)
{
    size_t k = 0;
    shorts[k++] = rest ? '+' : ':';
    if (rest)
        shorts[k++] = ':';
    for (int i = 0; i < n; i++) {
        longs[i] = (struct option){long_name(&all[i]) + 2,
                                   all[i].flag ? no_argument : required_argument, NULL, 256 + i};
        char c = short_letter(&all[i]);
        if (c != 0 && k + 3 < shorts_len) {
            shorts[k++] = c;
            if (all[i].flag == NULL)
                shorts[k++] = ':';
        }
    }
    shorts[k] = '\0';
    longs[n] = (struct option){"help", no_argument, NULL, 'h' + 1024};
    longs[n + 1] = (struct option){NULL, 0, NULL, 0};
}

/* The option getopt's answer C stands for, or NULL. */
static cli_opt *answered(cli_opt *all, int n, int c)
{
    if (c >= 256 && c < 256 + n)
        return &all[c - 256];
    for (int i = 0; i < n; i++)
        if (c > 0 && c < 256 && short_letter(&all[i]) == c)
            return &all[i];
    return NULL;
}

/* Prints click's error for cmdline_next's error RC about WORD; returns -1. */
static int option_error(const char *cmd, const char *usage, int rc, const char *word)
{
    char prog[64];
    snprintf(prog, sizeof prog, "ray job %s", cmd);
    cmdline_option_error(prog, usage, rc, word);
    return -1;
}

int jobs__cli_parse(const char *cmd, const char *usage, int argc, char **argv, cli_opt *opts,
                    cli_common *common, char **pos, int maxpos, int rest)
{
    cli_opt all[40];
    struct option longs[42];
    char shorts[32];
    int n = merge_opts(opts, common, all, 40);
    getopt_tables(all, n, rest, longs, shorts, sizeof shorts);
    cmdline_reset();
    const char *word;
    int c;
    while ((c = cmdline_next(argc, argv, shorts, longs, &word)) != CMDLINE_END) {
        if (c == 'h' + 1024) {
            printf("Usage: ray job %s %s\n", cmd, usage);
            return -2;
        }
        cli_opt *o = c < 0 ? NULL : answered(all, n, c);
        if (o == NULL)
            return option_error(cmd, usage, c < 0 ? c : CMDLINE_UNKNOWN, word);
        if (o->flag != NULL)
            *o->flag = 1;
        else
            *o->value = optarg;
    }
    int npos = 0;
    for (int i = optind; i < argc; i++) {
        if (npos == maxpos)
            return usage_error(cmd, usage, "Got unexpected extra argument (%s)", argv[i]);
        pos[npos++] = argv[i];
    }
    return npos;
}

/* ---------------------------------------------------------------- client helpers */

int jobs__cli_client(jobs_client *c, const cli_common *common)
{
    char err[512];
    if (jobs_client_init(c, common->address, common->headers, common->verify, err, sizeof err) != 0) {
        fprintf(stderr, "ValueError: %s\n", err);
        jobs_client_free(c);
        return 1;
    }
    printf("Job submission server address: %s\n", c->base);
    fflush(stdout);
    return 0;
}

int jobs__cli_call(jobs_client *c, const char *method, const char *path, const char *body,
                   size_t len, const char *ctype, json_t **out)
{
    char err[1024], *resp;
    size_t n;
    long status;
    if (jobs_client_request(c, method, path, body, len, ctype, &status, &resp, &n, err,
                            sizeof err) != 0) {
        fprintf(stderr, "ConnectionError: %s\n", err);
        return 1;
    }
    if (status != 200) {
        char msg[2048];
        jobs_client_http_error(status, resp, msg, sizeof msg);
        fprintf(stderr, "RuntimeError: %s\n", msg);
        free(resp);
        return 1;
    }
    if (out != NULL && (*out = json_loadb(resp, n, 0, NULL)) == NULL) {
        fprintf(stderr, "RuntimeError: the job server sent invalid JSON: %.200s\n", resp);
        free(resp);
        return 1;
    }
    free(resp);
    return 0;
}

void jobs__cli_info(const char *fmt, ...)
{
    struct timeval tv;
    struct tm tm;
    char stamp[32];
    gettimeofday(&tv, NULL);
    localtime_r(&tv.tv_sec, &tm);
    strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", &tm);
    printf("%s,%03ld\tINFO -- ", stamp, (long)(tv.tv_usec / 1000));
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    fflush(stdout);
}

static void big_msg(const char *msg)
{
    size_t n = strlen(msg);
    char dashes[512];
    if (n >= sizeof dashes)
        n = sizeof dashes - 1;
    memset(dashes, '-', n);
    dashes[n] = '\0';
    printf("\n%s\n%s\n%s\n\n", dashes, msg, dashes);
}

const char *jobs__cli_log_status(jobs_client *c, const char *id)
{
    static char status[32];
    char path[512], msg[512];
    json_t *info;
    snprintf(path, sizeof path, "/api/jobs/%s", id);
    if (jobs__cli_call(c, "GET", path, NULL, 0, NULL, &info) != 0)
        return NULL;
    const char *st = json_string_value(json_object_get(info, "status"));
    const char *message = json_string_value(json_object_get(info, "message"));
    snprintf(status, sizeof status, "%s", st ? st : "UNKNOWN");
    if (strcmp(status, "SUCCEEDED") == 0) {
        snprintf(msg, sizeof msg, "Job '%s' succeeded", id);
        big_msg(msg);
    } else if (strcmp(status, "STOPPED") == 0) {
        printf("Job '%s' was stopped\n", id);
    } else {
        if (strcmp(status, "FAILED") == 0) {
            snprintf(msg, sizeof msg, "Job '%s' failed", id);
            big_msg(msg);
        } else {
            printf("Status for job '%s': %s\n", id, status);
        }
        if (message != NULL)
            printf("Status message: %s\n", message);
    }
    fflush(stdout);
    json_decref(info);
    return status;
}

static void print_text(void *arg, const char *text, size_t n)
{
    fwrite(text, 1, n, stdout);
    fflush(stdout);
}

int jobs__cli_follow(jobs_client *c, const char *id)
{
    char err[1024];
    if (jobs_client_tail(c, id, print_text, NULL, err, sizeof err) != 0) {
        fprintf(stderr, "RuntimeError: %s\n", err);
        return 1;
    }
    const char *status = jobs__cli_log_status(c, id);
    return status == NULL || strcmp(status, "FAILED") == 0;
}

/* ---------------------------------------------------------------- commands */

static int cmd_status(int argc, char **argv)
{
    cli_common common = {0};
    cli_opt opts[] = {{NULL, NULL, NULL, NULL}};
    char *pos[1];
    const char *usage = "[OPTIONS] JOB_ID";
    int n = jobs__cli_parse("status", usage, argc, argv, opts, &common, pos, 1, 0);
    if (n < 0)
        return n == -2 ? 0 : 2;
    if (n == 0)
        return usage_error("status", usage, "Missing argument '%s'.", "JOB_ID"), 2;
    jobs_client c;
    if (jobs__cli_client(&c, &common) != 0)
        return 1;
    int rc = jobs__cli_log_status(&c, pos[0]) == NULL;
    jobs_client_free(&c);
    return rc;
}

/* Polls until job ID ends, as Ray's `ray job stop` does (once a second). */
static int wait_stopped(jobs_client *c, const char *id)
{
    char path[512];
    snprintf(path, sizeof path, "/api/jobs/%s", id);
    for (;;) {
        json_t *info;
        if (jobs__cli_call(c, "GET", path, NULL, 0, NULL, &info) != 0)
            return 1;
        const char *st = json_string_value(json_object_get(info, "status"));
        int done = st == NULL || (strcmp(st, "PENDING") != 0 && strcmp(st, "RUNNING") != 0);
        if (!done)
            printf("Job has not exited yet. Status: %s\n", st);
        fflush(stdout);
        json_decref(info);
        if (done)
            return jobs__cli_log_status(c, id) == NULL;
        sleep(1);
    }
}

static int cmd_stop(int argc, char **argv)
{
    cli_common common = {0};
    int no_wait = 0;
    cli_opt opts[] = {{"--no-wait", NULL, NULL, &no_wait}, {NULL, NULL, NULL, NULL}};
    char *pos[1], path[512];
    const char *usage = "[OPTIONS] JOB_ID";
    int n = jobs__cli_parse("stop", usage, argc, argv, opts, &common, pos, 1, 0);
    if (n < 0)
        return n == -2 ? 0 : 2;
    if (n == 0)
        return usage_error("stop", usage, "Missing argument '%s'.", "JOB_ID"), 2;
    jobs_client c;
    if (jobs__cli_client(&c, &common) != 0)
        return 1;
    printf("Attempting to stop job '%s'\n", pos[0]);
    fflush(stdout);
    snprintf(path, sizeof path, "/api/jobs/%s/stop", pos[0]);
    int rc = jobs__cli_call(&c, "POST", path, NULL, 0, NULL, NULL);
    if (rc == 0 && !no_wait) {
        printf("Waiting for job '%s' to exit (disable with --no-wait):\n", pos[0]);
        rc = wait_stopped(&c, pos[0]);
    }
    jobs_client_free(&c);
    return rc;
}

static int cmd_logs(int argc, char **argv)
{
    cli_common common = {0};
    int follow = 0;
    cli_opt opts[] = {{"--follow", "-f", NULL, &follow}, {NULL, NULL, NULL, NULL}};
    char *pos[1], path[512];
    const char *usage = "[OPTIONS] JOB_ID";
    int n = jobs__cli_parse("logs", usage, argc, argv, opts, &common, pos, 1, 0);
    if (n < 0)
        return n == -2 ? 0 : 2;
    if (n == 0)
        return usage_error("logs", usage, "Missing argument '%s'.", "JOB_ID"), 2;
    jobs_client c;
    if (jobs__cli_client(&c, &common) != 0)
        return 1;
    int rc;
    if (follow) {
        rc = jobs__cli_follow(&c, pos[0]);
    } else {
        json_t *out;
        snprintf(path, sizeof path, "/api/jobs/%s/logs", pos[0]);
        rc = jobs__cli_call(&c, "GET", path, NULL, 0, NULL, &out);
        if (rc == 0) {
            const char *logs = json_string_value(json_object_get(out, "logs"));
            fputs(logs ? logs : "", stdout);
            json_decref(out);
        }
    }
    jobs_client_free(&c);
    return rc;
}

static int cmd_list(int argc, char **argv)
{
    cli_common common = {0};
    cli_opt opts[] = {{NULL, NULL, NULL, NULL}};
    char *pos[1];
    int n = jobs__cli_parse("list", "[OPTIONS]", argc, argv, opts, &common, pos, 0, 0);
    if (n < 0)
        return n == -2 ? 0 : 2;
    jobs_client c;
    if (jobs__cli_client(&c, &common) != 0)
        return 1;
    json_t *jobs;
    int rc = jobs__cli_call(&c, "GET", "/api/jobs/", NULL, 0, NULL, &jobs);
    if (rc == 0) {
        dbuf b;
        dbuf_init(&b, 1u << 30);
        if (jobs_pyrepr_job_list(&b, jobs) == 0)
            printf("%s\n", b.data);
        dbuf_free(&b);
        json_decref(jobs);
    }
    jobs_client_free(&c);
    return rc;
}

static int cmd_delete(int argc, char **argv)
{
    cli_common common = {0};
    cli_opt opts[] = {{NULL, NULL, NULL, NULL}};
    char *pos[1], path[512];
    const char *usage = "[OPTIONS] JOB_ID";
    int n = jobs__cli_parse("delete", usage, argc, argv, opts, &common, pos, 1, 0);
    if (n < 0)
        return n == -2 ? 0 : 2;
    if (n == 0)
        return usage_error("delete", usage, "Missing argument '%s'.", "JOB_ID"), 2;
    jobs_client c;
    if (jobs__cli_client(&c, &common) != 0)
        return 1;
    snprintf(path, sizeof path, "/api/jobs/%s", pos[0]);
    int rc = jobs__cli_call(&c, "DELETE", path, NULL, 0, NULL, NULL);
    if (rc == 0)
        printf("Job '%s' deleted successfully\n", pos[0]);
    jobs_client_free(&c);
    return rc;
}

int jobs_cli_main(int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*fn)(int, char **);
    } cmds[] = {{"submit", jobs__cli_submit}, {"status", cmd_status}, {"stop", cmd_stop},
                {"logs", cmd_logs}, {"list", cmd_list}, {"delete", cmd_delete}};
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(group_help, stdout);
        return 0;
    }
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        if (strcmp(argv[1], cmds[i].name) == 0) {
            curl_global_init(CURL_GLOBAL_DEFAULT);
            int rc = cmds[i].fn(argc - 1, argv + 1);
            fflush(stdout);
            curl_global_cleanup();
            return rc;
        }
    }
    return cmdline_usage_error("ray job", "[OPTIONS] COMMAND [ARGS]...", "No such command '%s'.",
                               argv[1]);
}
