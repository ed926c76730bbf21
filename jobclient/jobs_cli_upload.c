/* What Ray's client does to a runtime_env before submitting: local
 * working_dir and py_modules are packaged (pkg_pack) and uploaded with
 * GET/PUT /api/packages/gcs/NAME, and a pip requirements file is read. */
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/util.h"
#include "jobclient/jobs_cli_int.h"
#include "jobclient/pkg_pack.h"

#define MAX_EXCLUDES 256
#define REQUIREMENTS_MAX (1u << 20)

/* True when the package at URI is already on the server. */
static int package_exists(jobs_client *c, const char *uri, int *exists)
{
    char path[PKG_URI_MAX + 32], err[512], *resp;
    size_t n;
    long status;
    snprintf(path, sizeof path, "/api/packages/gcs/%s", uri + 6);
    if (jobs_client_request(c, "GET", path, NULL, 0, NULL, &status, &resp, &n, err,
                            sizeof err) != 0) {
        fprintf(stderr, "ConnectionError: %s\n", err);
        return 1;
    }
    if (status != 200 && status != 404) {
        char msg[1024];
        jobs_client_http_error(status, resp, msg, sizeof msg);
        fprintf(stderr, "RuntimeError: %s\n", msg);
        free(resp);
        return 1;
    }
    *exists = status == 200;
    free(resp);
    return 0;
}

static int put_file(jobs_client *c, const char *uri, const char *file)
{
    char *data, path[PKG_URI_MAX + 32];
    size_t n;
    int rc = fs_read_file(file, (size_t)4 << 30, &data, &n);
    if (rc != 0) {
        fprintf(stderr, "RuntimeError: cannot read %s: %s\n", file, strerror(-rc));
        return 1;
    }
    snprintf(path, sizeof path, "/api/packages/gcs/%s", uri + 6);
    rc = jobs__cli_call(c, "PUT", path, data, n, "application/octet-stream", NULL);
    free(data);
    return rc;
}

/* Zips DIR into a temporary file and uploads it as URI. */
static int upload_dir(jobs_client *c, const char *dir, const pkg_opts *o, const char *uri)
{
    char tmpdir[] = "/tmp/ray-job-pkg-XXXXXX", zip[PATH_MAX], err[1024];
    if (mkdtemp(tmpdir) == NULL) {
        fprintf(stderr, "RuntimeError: cannot create a temporary directory: %s\n", strerror(errno));
        return 1;
    }
    fs_path_join(zip, sizeof zip, tmpdir, uri + 6); /* both short: a /tmp name and a hash */
    jobs__cli_info("Creating a file package for local module '%s'.", dir);
    int rc = pkg_dir_zip(dir, o, zip, err, sizeof err);
    if (rc != 0)
        fprintf(stderr, "RuntimeError: %s\n", err);
    else
        rc = put_file(c, uri, zip);
    fs_rm_rf(tmpdir);
    return rc != 0;
}

/* True when NAME ends in SUFFIX. */
static int has_suffix(const char *name, const char *suffix)
{
    size_t n = strlen(name), k = strlen(suffix);
    return n > k && strcmp(name + n - k, suffix) == 0;
}

/* Refuses PATH unless it is a directory or a regular .zip file (.whl too
 * for py_modules, ALLOW_WHL): anything else would be uploaded as a "zip" or,
 * for a FIFO, wait forever.  Sets *IS_DIR.  Returns 0, or 1 after one line. */
static int check_local(const char *path, int allow_whl, int *is_dir)
{
    struct stat st;
    *is_dir = 0;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        *is_dir = 1;
        return 0;
    }
    if (stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
        (has_suffix(path, ".zip") || (allow_whl && has_suffix(path, ".whl"))))
        return 0;
    fprintf(stderr, "ValueError: directory %s must be an existing directory or a zip "
                    "package%s\n", path, allow_whl ? " or a .whl file" : "");
    return 1;
}

static void warn_skipped(void *arg, const char *msg)
{
    fprintf(stderr, "WARNING: %s\n", msg);
}

/* Uploads local PATH (a directory or a .zip/.whl file) unless the server has
 * it, and writes its gcs:// URI into URI. */
static int upload_local(jobs_client *c, const char *path, const pkg_opts *o, char *uri,
                        size_t urilen)
{
    char err[1024];
    int is_dir, exists;
    if (check_local(path, o->include_parent_dir, &is_dir) != 0)
        return 1;
    int rc = is_dir ? pkg_dir_uri(path, o, uri, urilen, err, sizeof err)
                    : pkg_file_uri(path, uri, urilen, err, sizeof err);
    if (rc != 0) {
        fprintf(stderr, "ValueError: %s\n", err);
        return 1;
    }
    if (package_exists(c, uri, &exists) != 0)
        return 1;
    if (exists) {
        jobs__cli_info("Package %s already exists, skipping upload.", uri);
        return 0;
    }
    jobs__cli_info("Uploading package %s.", uri);
    return is_dir ? upload_dir(c, path, o, uri) : put_file(c, uri, path);
}

static int is_uri(const char *s)
{
    return strstr(s, "://") != NULL;
}

/* The runtime_env "excludes" strings, for the packager. */
static size_t collect_excludes(json_t *env, const char **out)
{
    json_t *ex = json_object_get(env, "excludes"), *item;
    size_t i, n = 0;
    json_array_foreach(ex, i, item) {
        if (json_is_string(item) && n < MAX_EXCLUDES)
            out[n++] = json_string_value(item);
    }
    return n;
}

static int prepare_working_dir(jobs_client *c, json_t *env, const pkg_opts *o)
{
    json_t *wd = json_object_get(env, "working_dir");
    char uri[PKG_URI_MAX];
    if (!json_is_string(wd) || is_uri(json_string_value(wd)))
        return 0;   /* a URI goes to the server as it is */
    if (upload_local(c, json_string_value(wd), o, uri, sizeof uri) != 0)
        return 1;
    json_object_set_new(env, "working_dir", json_string(uri));
    return 0;
}

static int prepare_py_modules(jobs_client *c, json_t *env, const pkg_opts *base)
{
    json_t *mods = json_object_get(env, "py_modules"), *item;
    size_t i;
    pkg_opts o = *base;
    o.include_parent_dir = 1;
    json_array_foreach(mods, i, item) {
        char uri[PKG_URI_MAX];
        if (!json_is_string(item) || is_uri(json_string_value(item)))
            continue;
        if (upload_local(c, json_string_value(item), &o, uri, sizeof uri) != 0)
            return 1;
        json_array_set_new(mods, i, json_string(uri));
    }
    return 0;
}

/* pip as a list or a requirements file becomes Ray's dict form. */
static int prepare_pip(json_t *env)
{
    json_t *pip = json_object_get(env, "pip");
    json_t *list = NULL;
    if (json_is_array(pip)) {
        list = json_incref(pip);
    } else if (json_is_string(pip)) {
        char *text;
        int rc = fs_read_file(json_string_value(pip), REQUIREMENTS_MAX, &text, NULL);
        if (rc != 0) {
            fprintf(stderr, "ValueError: cannot read the pip requirements file %s: %s\n",
                    json_string_value(pip), strerror(-rc));
            return 1;
        }
        list = json_array();
        for (char *line = text; *line;) {
            size_t n = strcspn(line, "\n");
            char *end = line + n, save = *end;
            *end = '\0';
            while (*line == ' ' || *line == '\t')
                line++;
            if (*line != '\0' && *line != '#')
                json_array_append_new(list, json_string(line));
            *end = save;
            line = *end ? end + 1 : end;
        }
        free(text);
    } else {
        return 0;
    }
    json_t *dict = json_object();
    json_object_set_new(dict, "packages", list);
    json_object_set_new(dict, "pip_check", json_false());
    json_object_set_new(env, "pip", dict);
    return 0;
}

int jobs__cli_prepare_runtime_env(jobs_client *c, json_t *env)
{
    const char *excludes[MAX_EXCLUDES];
    pkg_opts o = {.excludes = excludes, .n_excludes = collect_excludes(env, excludes),
                  .warn = warn_skipped};
    if (prepare_working_dir(c, env, &o) != 0 || prepare_py_modules(c, env, &o) != 0)
        return 1;
    return prepare_pip(env);
}
