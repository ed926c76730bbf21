/* Validation of a POST /api/jobs/ body (Ray's JobSubmitRequest). */
#include "jobserver/jobs_request.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

static const char *const known_fields[] = {
    "entrypoint", "submission_id", "job_id", "runtime_env", "metadata",
    "entrypoint_num_cpus", "entrypoint_num_gpus", "entrypoint_memory",
    "entrypoint_resources", "entrypoint_label_selector", NULL,
};

/* Python-flavoured type name for error messages. */
static const char *json_type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "dict";
    case JSON_ARRAY: return "list";
    case JSON_STRING: return "str";
    case JSON_INTEGER: return "int";
    case JSON_REAL: return "float";
    case JSON_TRUE:
    case JSON_FALSE: return "bool";
    default: return "NoneType";
    }
}

static int check_known_fields(json_t *root, char *err, size_t errlen)
{
    const char *key;
    json_t *value;
    json_object_foreach(root, key, value) {
        int known = 0;
        for (int i = 0; known_fields[i] != NULL; i++)
            known |= strcmp(key, known_fields[i]) == 0;
        if (!known) {
            /* Ray's words: JobSubmitRequest(**body) raises this TypeError. */
            snprintf(err, errlen,
                     "TypeError: __init__() got an unexpected keyword argument '%.100s'", key);
            return -EINVAL;
        }
    }
    return 0;
}

/* Returns the field KEY, treating null as absent. */
static json_t *field(json_t *root, const char *key)
{
    json_t *v = json_object_get(root, key);
    return json_is_null(v) ? NULL : v;
}

static int get_string(json_t *root, const char *key, const char **out, char *err,
                      size_t errlen)
{
    json_t *v = field(root, key);
    *out = NULL;
    if (v == NULL)
        return 0;
    if (!json_is_string(v)) {
        snprintf(err, errlen, "%s must be a string, got %s", key, json_type_name(v));
        return -EINVAL;
    }
    *out = json_string_value(v);
    return 0;
}

/* Reads a non-negative number (int or float) field KEY into *OUT (0 if absent). */
static int get_number(json_t *root, const char *key, double *out, char *err, size_t errlen)
{
    json_t *v = field(root, key);
    *out = 0;
    if (v == NULL)
        return 0;
    if (!json_is_number(v)) {
        snprintf(err, errlen, "%s must be a number, got %s", key, json_type_name(v));
        return -EINVAL;
    }
    double d = json_number_value(v);
    if (!isfinite(d) || d < 0) {
        snprintf(err, errlen, "%s must be a non-negative number", key);
        return -EINVAL;
    }
    *out = d;
    return 0;
}

static int get_memory(json_t *root, int64_t *out, char *err, size_t errlen)
{
    json_t *v = field(root, "entrypoint_memory");
    *out = 0;
    if (v == NULL)
        return 0;
    if (!json_is_integer(v)) {
        snprintf(err, errlen, "entrypoint_memory must be an integer, got %s",
                 json_type_name(v));
        return -EINVAL;
    }
    if (json_integer_value(v) < 0) {
        snprintf(err, errlen, "entrypoint_memory must be a non-negative integer");
        return -EINVAL;
    }
    *out = json_integer_value(v);
    return 0;
}

/* Checks that KEY is a dict whose values are all strings (STRINGS) or all
 * non-negative numbers, and returns its JSON text in *OUT (NULL if absent). */
static int get_dict(json_t *root, const char *key, int strings, char **out, char *err,
                    size_t errlen)
{
    json_t *v = field(root, key), *item;
    const char *k;
    *out = NULL;
    if (v == NULL)
        return 0;
    if (!json_is_object(v)) {
        snprintf(err, errlen, "%s must be a dict, got %s", key, json_type_name(v));
        return -EINVAL;
    }
    json_object_foreach(v, k, item) {
        int ok = strings ? json_is_string(item)
                         : json_is_number(item) && json_number_value(item) >= 0;
        if (!ok) {
            snprintf(err, errlen, "%s values must be %s, got %s for '%.100s'", key,
                     strings ? "strings" : "non-negative numbers", json_type_name(item), k);
            return -EINVAL;
        }
    }
    *out = json_dumps(v, JSON_PRESERVE_ORDER);
    return *out ? 0 : -ENOMEM;
}

static int get_runtime_env(json_t *root, char **out, char *err, size_t errlen)
{
    json_t *v = field(root, "runtime_env");
    *out = NULL;
    if (v == NULL)
        return 0;
    if (!json_is_object(v)) {
        snprintf(err, errlen, "runtime_env must be a dict, got %s", json_type_name(v));
        return -EINVAL;
    }
    *out = json_dumps(v, JSON_PRESERVE_ORDER);
    return *out ? 0 : -ENOMEM;
}

static int get_ids(json_t *root, jobs_submit_req *out, char *err, size_t errlen)
{
    const char *sid, *jid;
    int rc = get_string(root, "submission_id", &sid, err, errlen);
    if (rc == 0)
        rc = get_string(root, "job_id", &jid, err, errlen);
    if (rc != 0)
        return rc;
    if (sid == NULL || *sid == '\0')
        sid = jid;
    if (sid == NULL || *sid == '\0')
        return 0;
    if (jobs_id_check(sid, err, errlen) != 0)
        return -EINVAL;
    str_copy(out->submission_id, sizeof out->submission_id, sid);
    return 0;
}

static int get_label_selector(json_t *root, char *err, size_t errlen)
{
    char *text = NULL;
    int rc = get_dict(root, "entrypoint_label_selector", 1, &text, err, errlen);
    if (rc == 0 && text != NULL && strcmp(text, "{}") != 0) {
        snprintf(err, errlen, "entrypoint_label_selector is not supported by this job server");
        rc = -EINVAL;
    }
    free(text);
    return rc;
}

/* Refuses a field whose text is LEN bytes when that is over MAX. */
static int check_size(const char *what, size_t len, size_t max, char *err, size_t errlen)
{
    if (len <= max)
        return 0;
    snprintf(err, errlen, "%s is %zu bytes, over the limit of %zu bytes", what, len, max);
    return -EINVAL;
}

static int parse_fields(json_t *root, jobs_submit_req *out, char *err, size_t errlen)
{
    const char *entry;
    int rc = check_known_fields(root, err, errlen);
    if (rc == 0)
        rc = get_string(root, "entrypoint", &entry, err, errlen);
    if (rc == 0 && entry == NULL) {
        snprintf(err, errlen, "entrypoint is required");
        rc = -EINVAL;
    }
    if (rc == 0)
        rc = check_size("entrypoint", strlen(entry), JOBS_MAX_ENTRYPOINT, err, errlen);
    if (rc == 0 && (out->entrypoint = strdup(entry)) == NULL)
        rc = -ENOMEM;
    if (rc == 0) rc = get_ids(root, out, err, errlen);
    if (rc == 0) rc = get_runtime_env(root, &out->runtime_env_json, err, errlen);
    if (rc == 0) rc = get_dict(root, "metadata", 1, &out->metadata_json, err, errlen);
    if (rc == 0 && out->metadata_json != NULL)
        rc = check_size("metadata", strlen(out->metadata_json), JOBS_MAX_METADATA, err, errlen);
    if (rc == 0) rc = get_number(root, "entrypoint_num_cpus", &out->num_cpus, err, errlen);
    if (rc == 0) rc = get_number(root, "entrypoint_num_gpus", &out->num_gpus, err, errlen);
    if (rc == 0) rc = get_memory(root, &out->memory, err, errlen);
    if (rc == 0)
        rc = get_dict(root, "entrypoint_resources", 0, &out->resources_json, err, errlen);
    if (rc == 0) rc = get_label_selector(root, err, errlen);
    return rc;
}

int jobs_request_parse_submit(const char *body, size_t len, jobs_submit_req *out,
                              char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    json_error_t jerr;
    json_t *root = json_loadb(body, len, JSON_DECODE_ANY, &jerr);
    if (root == NULL) {
        snprintf(err, errlen, "request body is not valid JSON: %s", jerr.text);
        return -EINVAL;
    }
    int rc;
    if (!json_is_object(root)) {
        snprintf(err, errlen, "request body must be a JSON object, got %s",
                 json_type_name(root));
        rc = -EINVAL;
    } else {
        rc = parse_fields(root, out, err, errlen);
    }
    json_decref(root);
    if (rc != 0)
        jobs_submit_req_free(out);
    return rc;
}

void jobs_submit_req_free(jobs_submit_req *r)
{
    free(r->entrypoint);
    free(r->runtime_env_json);
    free(r->metadata_json);
    free(r->resources_json);
    memset(r, 0, sizeof *r);
}
