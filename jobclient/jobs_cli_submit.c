/* `ray job submit`: build the request as Ray's CLI and SDK do (runtime_env
 * from YAML or JSON, --working-dir, uploads, metadata, entrypoint
 * resources), submit, and follow the log unless --no-wait. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "common/dbuf.h"
#include "common/cmdline.h"
#include "jobclient/jobs_cli_int.h"
#include "jobclient/jobs_yaml.h"

#define ENTRYPOINT_MAX (1u << 20)
#define MAX_ENTRY_ARGS 4096

typedef struct submit_opts {
    cli_common common;
    const char *job_id, *submission_id, *runtime_env, *runtime_env_json, *working_dir;
    const char *metadata_json, *num_cpus, *num_gpus, *memory, *resources, *label_selector;
    int no_wait;
} submit_opts;

static const char usage[] = "[OPTIONS] ENTRYPOINT...";

/* shlex.quote: words of safe characters stay, others go in single quotes. */
static int shell_quote(dbuf *b, const char *w)
{
    if (*w != '\0' && strspn(w, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                "0123456789_@%+=:,./-") == strlen(w))
        return dbuf_puts(b, w);
    int rc = dbuf_add(b, "'", 1);
    for (; rc == 0 && *w; w++)
        rc = *w == '\'' ? dbuf_puts(b, "'\"'\"'") : dbuf_add(b, w, 1);
    return rc ? rc : dbuf_add(b, "'", 1);
}

static char *join_entrypoint(char **words, int n)
{
    dbuf b;
    dbuf_init(&b, ENTRYPOINT_MAX);
    int rc = dbuf_add(&b, "", 0);
    for (int i = 0; rc == 0 && i < n; i++) {
        if (i > 0)
            rc = dbuf_add(&b, " ", 1);
        if (rc == 0)
            rc = shell_quote(&b, words[i]);
    }
    char *s = rc == 0 ? dbuf_take(&b, NULL) : NULL;
    dbuf_free(&b);
    return s;
}

/* ---------------------------------------------------------------- request body */

static json_t *load_runtime_env(const submit_opts *o)
{
    char err[512], *text;
    size_t n;
    json_t *env = NULL;
    if (o->runtime_env != NULL && o->runtime_env_json != NULL) {
        fprintf(stderr, "ValueError: Only one of --runtime_env and --runtime-env-json can be "
                        "provided.\n");
        return NULL;
    }
    if (o->runtime_env != NULL) {
        int rc = fs_read_file(o->runtime_env, 16u << 20, &text, &n);
        if (rc != 0) {
            fprintf(stderr, "FileNotFoundError: cannot read %s: %s\n", o->runtime_env, strerror(-rc));
            return NULL;
        }
        env = jobs_yaml_to_json(text, n, err, sizeof err);
        free(text);
        if (env == NULL)
            fprintf(stderr, "ValueError: %s: %s\n", o->runtime_env, err);
    } else if (o->runtime_env_json != NULL) {
        json_error_t je;
        env = json_loads(o->runtime_env_json, 0, &je);
        if (env == NULL)
            fprintf(stderr, "json.decoder.JSONDecodeError: --runtime-env-json: %s\n", je.text);
    } else {
        env = json_object();
    }
    if (env != NULL && !json_is_object(env)) {
        fprintf(stderr, "TypeError: runtime_env must be a dict\n");
        json_decref(env);
        return NULL;
    }
    return env;
}

static int apply_working_dir(json_t *env, const char *wd)
{
    if (wd == NULL)
        return 0;
    if (json_object_get(env, "working_dir") != NULL)
        printf("Overriding runtime_env working_dir with --working-dir option\n");
    return json_object_set_new(env, "working_dir", json_string(wd));
}

/* A JSON object option (--metadata-json, --entrypoint-resources ...). */
static int json_dict_opt(const char *flag, const char *text, int numbers, json_t **out)
{
    *out = NULL;
    if (text == NULL)
        return 0;
    json_t *v = json_loads(text, 0, NULL), *item;
    const char *k;
    int ok = json_is_object(v);
    json_object_foreach(v, k, item) {
        ok &= numbers ? json_is_number(item) : json_is_string(item);
    }
    if (!ok) {
        fprintf(stderr, "Error: Invalid value for '--%s': must be a JSON dict of %s.\n", flag,
                numbers ? "resource names to numbers" : "strings");
        json_decref(v);
        return -1;
    }
    *out = v;
    return 0;
}

static int number_opt(const char *flag, const char *text, int integer, json_t *body,
                      const char *field)
{
    double d;
    long n;
    if (text == NULL)
        return 0;
    if (integer ? parse_long(text, 0, 1L << 62, &n) != 0 : parse_double(text, &d) != 0) {
        fprintf(stderr, "Error: Invalid value for '--%s': '%s' is not a valid %s.\n", flag, text,
                integer ? "integer" : "float");
        return -1;
    }
    return json_object_set_new(body, field, integer ? json_integer(n) : json_real(d));
}

static json_t *build_body(const submit_opts *o, const char *entrypoint, json_t *env)
{
    json_t *body = json_object(), *meta, *res, *labels;
    const char *id = o->submission_id ? o->submission_id : o->job_id;
    json_object_set_new(body, "entrypoint", json_string(entrypoint));
    json_object_set_new(body, "submission_id", id ? json_string(id) : json_null());
    json_object_set_new(body, "runtime_env", json_incref(env));
    if (json_dict_opt("metadata-json", o->metadata_json, 0, &meta) != 0 ||
        json_dict_opt("entrypoint-resources", o->resources, 1, &res) != 0 ||
        json_dict_opt("entrypoint-label-selector", o->label_selector, 0, &labels) != 0 ||
        number_opt("entrypoint-num-cpus", o->num_cpus, 0, body, "entrypoint_num_cpus") != 0 ||
        number_opt("entrypoint-num-gpus", o->num_gpus, 0, body, "entrypoint_num_gpus") != 0 ||
        number_opt("entrypoint-memory", o->memory, 1, body, "entrypoint_memory") != 0) {
        json_decref(body);
        return NULL;
    }
    json_object_set_new(body, "metadata", meta ? meta : json_object());
    if (res != NULL)
        json_object_set_new(body, "entrypoint_resources", res);
    if (labels != NULL)
        json_object_set_new(body, "entrypoint_label_selector", labels);
    return body;
}

/* ---------------------------------------------------------------- output */

static void print_submitted(const char *id)
{
    char msg[512], dashes[512];
    int n = snprintf(msg, sizeof msg, "Job '%s' submitted successfully", id);
    memset(dashes, '-', (size_t)n);
    dashes[n] = '\0';
    printf("\n%s\n%s\n%s\n\n", dashes, msg, dashes);
    printf("Next steps\n  Query the logs of the job:\n    ray job logs %s\n"
           "  Query the status of the job:\n    ray job status %s\n"
           "  Request the job to be stopped:\n    ray job stop %s\n\n", id, id, id);
    fflush(stdout);
}

/* ---------------------------------------------------------------- the command */

static int parse_submit(int argc, char **argv, submit_opts *o, char **words, int *nwords)
{
    cli_opt opts[] = {
        {"--job-id", NULL, &o->job_id, NULL},
        {"--submission-id", NULL, &o->submission_id, NULL},
        {"--runtime-env", NULL, &o->runtime_env, NULL},
        {"--runtime-env-json", NULL, &o->runtime_env_json, NULL},
        {"--working-dir", NULL, &o->working_dir, NULL},
        {"--metadata-json", NULL, &o->metadata_json, NULL},
        {"--entrypoint-num-cpus", NULL, &o->num_cpus, NULL},
        {"--entrypoint-num-gpus", NULL, &o->num_gpus, NULL},
        {"--entrypoint-memory", NULL, &o->memory, NULL},
        {"--entrypoint-resources", NULL, &o->resources, NULL},
        {"--entrypoint-label-selector", NULL, &o->label_selector, NULL},
        {"--no-wait", NULL, NULL, &o->no_wait},
        {NULL, NULL, NULL, NULL},
    };
    int n = jobs__cli_parse("submit", usage, argc, argv, opts, &o->common, words, MAX_ENTRY_ARGS, 1);
    if (n == 0) {
        cmdline_usage_error("ray job submit", usage, "Missing argument 'ENTRYPOINT...'.");
        return -1;
    }
    *nwords = n;
    return n < 0 ? n : 0;
}

/* POSTs BODY; on success prints Ray's banner and returns the id (caller frees). */
static char *post_job(jobs_client *c, json_t *body)
{
    char *text = json_dumps(body, JSON_COMPACT);
    json_t *resp;
    int rc = text ? jobs__cli_call(c, "POST", "/api/jobs/", text, strlen(text),
                                   "application/json", &resp) : 1;
    free(text);
    if (rc != 0)
        return NULL;
    const char *id = json_string_value(json_object_get(resp, "submission_id"));
    char *copy = id ? strdup(id) : NULL;
    json_decref(resp);
    if (copy != NULL)
        print_submitted(copy);
    return copy;
}

static int run_submit(submit_opts *o, const char *entrypoint)
{
    if (o->job_id != NULL)
        printf("--job-id option is deprecated. Please use --submission-id instead.\n");
    jobs_client c;
    if (jobs__cli_client(&c, &o->common) != 0)
        return 1;
    int rc = 1;
    char *id = NULL;
    json_t *body = NULL, *env = load_runtime_env(o);
    if (env != NULL && apply_working_dir(env, o->working_dir) == 0 &&
        jobs__cli_call(&c, "GET", "/api/version", NULL, 0, NULL, NULL) == 0 &&
        jobs__cli_prepare_runtime_env(&c, env) == 0 &&
        (body = build_body(o, entrypoint, env)) != NULL && (id = post_job(&c, body)) != NULL) {
        rc = 0;
        if (!o->no_wait) {
            printf("Tailing logs until the job exits (disable with --no-wait):\n");
            fflush(stdout);
            rc = jobs__cli_follow(&c, id);
        }
    }
    free(id);
    json_decref(body);
    json_decref(env);
    jobs_client_free(&c);
    return rc;
}

int jobs__cli_submit(int argc, char **argv)
{
    submit_opts o = {0};
    char *words[MAX_ENTRY_ARGS];
    int nwords = 0;
    int n = parse_submit(argc, argv, &o, words, &nwords);
    if (n < 0)
        return n == -2 ? 0 : 2;
    char *entrypoint = join_entrypoint(words, nwords);
    if (entrypoint == NULL) {
        fprintf(stderr, "Error: the entrypoint is too long\n");
        return 2;
    }
    int rc = run_submit(&o, entrypoint);
    free(entrypoint);
    return rc;
}
