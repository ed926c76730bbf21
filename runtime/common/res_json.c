/* The --resources and --labels JSON of `ray start` and the raylet, checked
 * like Ray's (reserved names refused, quantities non-negative). */
#include "common/res_json.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

/* Loads TEXT as a JSON object.  Returns it (caller decrefs) or NULL with ERR. */
static json_t *load_object(const char *text, const char *what, char *err, size_t errlen)
{
    if (strlen(text) > RES_JSON_MAX) {
        snprintf(err, errlen, "%s is longer than %d bytes", what, RES_JSON_MAX);
        return NULL;
    }
    json_error_t jerr;
    json_t *root = json_loads(text, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
    if (root == NULL) {
        snprintf(err, errlen, "%s is not valid JSON: %s", what, jerr.text);
        return NULL;
    }
    if (!json_is_object(root)) {
        snprintf(err, errlen, "%s must be a JSON object", what);
        json_decref(root);
        return NULL;
    }
    return root;
}

/* Returns the flag a reserved resource NAME belongs to, or NULL. */
static const char *reserved_flag(const char *name)
{
    static const char *const names[][2] = {
        {"CPU", "--num-cpus"},
        {"GPU", "--num-gpus"},
        {"memory", "--memory"},
        {"object_store_memory", "--object-store-memory"},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(name, names[i][0]) == 0)
            return names[i][1];
    return NULL;
}

/* Checks one --resources entry; returns 0 or -EINVAL with ERR. */
static int check_resource(const char *name, json_t *v, char *err, size_t errlen)
{
    const char *flag = reserved_flag(name);
    if (flag != NULL) {
        snprintf(err, errlen, "use %s instead of \"%s\" in --resources", flag, name);
        return -EINVAL;
    }
    if (strncmp(name, "node:", 5) == 0) {
        snprintf(err, errlen, "resource \"%s\": names starting with node: are reserved", name);
        return -EINVAL;
    }
    if (!json_is_number(v) || !isfinite(json_number_value(v)) || json_number_value(v) < 0) {
        snprintf(err, errlen, "resource \"%s\" must be a non-negative number", name);
        return -EINVAL;
    }
    return 0;
}

/* Stores the message for a res_map/res_labels error on KEY. */
static int set_failed(int rc, const char *what, const char *key, char *err, size_t errlen)
{
    if (rc == -E2BIG)
        snprintf(err, errlen, "%s has more than %d entries", what, RES_MAP_MAX);
    else if (rc == -EINVAL)
        snprintf(err, errlen, "%s: \"%.64s\" is empty or too long", what, key);
    else
        snprintf(err, errlen, "%s: out of memory", what);
    return -EINVAL;
}

int res_parse_resources_json(const char *json, res_map *out, char *err, size_t errlen)
{
    json_t *root = load_object(json, "--resources", err, errlen);
    if (root == NULL)
        return -EINVAL;
    const char *name;
    json_t *v;
    int rc = 0;
    json_object_foreach(root, name, v) {
        rc = check_resource(name, v, err, errlen);
        if (rc == 0 && (rc = res_map_set(out, name, json_number_value(v))) != 0)
            rc = set_failed(rc, "--resources", name, err, errlen);
        if (rc != 0)
            break;
    }
    json_decref(root);
    return rc;
}

int res_parse_labels_json(const char *json, res_labels *out, char *err, size_t errlen)
{
    json_t *root = load_object(json, "--labels", err, errlen);
    if (root == NULL)
        return -EINVAL;
    const char *key;
    json_t *v;
    int rc = 0;
    json_object_foreach(root, key, v) {
        if (strncmp(key, "ray.io/", 7) == 0) {
            snprintf(err, errlen, "label \"%.64s\": the ray.io/ prefix is reserved", key);
            rc = -EINVAL;
        } else if (!json_is_string(v)) {
            snprintf(err, errlen, "label \"%.64s\" must be a string", key);
            rc = -EINVAL;
        } else if ((rc = res_labels_set(out, key, json_string_value(v))) != 0) {
            rc = set_failed(rc, "--labels", key, err, errlen);
        }
        if (rc != 0)
            break;
    }
    json_decref(root);
    return rc;
}
