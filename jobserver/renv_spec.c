/* A job's runtime_env, validated against the fields rayc supports. */
#include "jobserver/renv_spec.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Fields accepted and ignored here: the client consumes them. */
static const char *const client_fields[] = {"excludes", "_ray_release", "_ray_commit", NULL};

static int in_list(const char *key, const char *const *list)
{
    for (int i = 0; list[i] != NULL; i++)
        if (strcmp(key, list[i]) == 0)
            return 1;
    return 0;
}

/* Copies the strings of array V into a new vector.  Returns 0, -EINVAL when
 * an element is not a string, or -ENOMEM. */
static int string_vector(json_t *v, const char *field, char ***out, size_t *n, char *err,
                         size_t errlen)
{
    size_t count = json_array_size(v), i;
    json_t *item;
    *out = calloc(count + 1, sizeof **out);
    if (*out == NULL)
        return -ENOMEM;
    *n = 0;
    json_array_foreach(v, i, item) {
        if (!json_is_string(item)) {
            snprintf(err, errlen, "runtime_env field '%s' must be a list of strings", field);
            return -EINVAL;
        }
        if (((*out)[i] = strdup(json_string_value(item))) == NULL)
            return -ENOMEM;
        *n = i + 1;
    }
    return 0;
}

static int parse_working_dir(json_t *v, renv_spec *s, char *err, size_t errlen)
{
    if (!json_is_string(v)) {
        snprintf(err, errlen, "runtime_env field 'working_dir' must be a string URI");
        return -EINVAL;
    }
    s->working_dir = strdup(json_string_value(v));
    return s->working_dir ? 0 : -ENOMEM;
}

static int parse_py_modules(json_t *v, renv_spec *s, char *err, size_t errlen)
{
    if (!json_is_array(v)) {
        snprintf(err, errlen, "runtime_env field 'py_modules' must be a list of URIs");
        return -EINVAL;
    }
    return string_vector(v, "py_modules", &s->py_modules, &s->n_py_modules, err, errlen);
}

static int parse_env_vars(json_t *v, renv_spec *s, char *err, size_t errlen)
{
    if (!json_is_object(v)) {
        snprintf(err, errlen, "runtime_env field 'env_vars' must be a dict of strings");
        return -EINVAL;
    }
    size_t n = json_object_size(v);
    s->env_keys = calloc(n + 1, sizeof *s->env_keys);
    s->env_values = calloc(n + 1, sizeof *s->env_values);
    if (s->env_keys == NULL || s->env_values == NULL)
        return -ENOMEM;
    const char *key;
    json_t *item;
    json_object_foreach(v, key, item) {
        if (!json_is_string(item)) {
            snprintf(err, errlen, "runtime_env env_vars value of '%.100s' must be a string", key);
            return -EINVAL;
        }
        if (*key == '\0' || strchr(key, '=') != NULL) {
            snprintf(err, errlen, "runtime_env env_vars has an invalid name '%.100s'", key);
            return -EINVAL;
        }
        s->env_keys[s->n_env] = strdup(key);
        s->env_values[s->n_env] = strdup(json_string_value(item));
        if (s->env_keys[s->n_env] == NULL || s->env_values[s->n_env] == NULL)
            return -ENOMEM;
        s->n_env++;
    }
    return 0;
}

/* pip as a dict: {"packages": [...], "pip_check": bool, "pip_version": str,
 * "pip_install_options": [...]}. */
static int parse_pip_dict(json_t *v, renv_spec *s, char *err, size_t errlen)
{
    const char *key;
    json_t *item;
    int rc = 0;
    json_object_foreach(v, key, item) {
        if (rc != 0)
            break;
        if (strcmp(key, "packages") == 0 && json_is_array(item)) {
            rc = string_vector(item, "pip", &s->pip_packages, &s->n_pip, err, errlen);
        } else if (strcmp(key, "pip_install_options") == 0 && json_is_array(item)) {
            rc = string_vector(item, "pip", &s->pip_options, &s->n_pip_options, err, errlen);
        } else if (strcmp(key, "pip_check") == 0 && json_is_boolean(item)) {
            s->pip_check = json_is_true(item);
        } else if (strcmp(key, "pip_version") == 0 && json_is_string(item)) {
            s->pip_version = strdup(json_string_value(item));
            rc = s->pip_version ? 0 : -ENOMEM;
        } else {
            snprintf(err, errlen, "runtime_env pip has an unsupported or invalid key '%.100s'", key);
            rc = -EINVAL;
        }
    }
    if (rc == 0 && s->pip_packages == NULL) {
        snprintf(err, errlen, "runtime_env pip dict needs a 'packages' list");
        rc = -EINVAL;
    }
    return rc;
}

static int parse_pip(json_t *v, renv_spec *s, char *err, size_t errlen)
{
    if (json_is_array(v))
        return string_vector(v, "pip", &s->pip_packages, &s->n_pip, err, errlen);
    if (json_is_object(v))
        return parse_pip_dict(v, s, err, errlen);
    snprintf(err, errlen, "runtime_env field 'pip' must be a list of requirements or a dict "
                          "(a requirements file is read by the client)");
    return -EINVAL;
}

static int parse_config(json_t *v, renv_spec *s, char *err, size_t errlen)
{
    const char *key;
    json_t *item;
    if (!json_is_object(v)) {
        snprintf(err, errlen, "runtime_env field 'config' must be a dict");
        return -EINVAL;
    }
    json_object_foreach(v, key, item) {
        if (strcmp(key, "setup_timeout_seconds") == 0 && json_is_integer(item) &&
            (json_integer_value(item) == -1 ||
             (json_integer_value(item) > 0 && json_integer_value(item) < 1000000))) {
            s->setup_timeout_s = (int)json_integer_value(item);
        } else if (strcmp(key, "eager_install") == 0 && json_is_boolean(item)) {
            continue;
        } else if (strcmp(key, "setup_timeout_seconds") == 0) {
            snprintf(err, errlen, "runtime_env config.setup_timeout_seconds must be a positive "
                                  "integer or -1");
            return -EINVAL;
        } else {
            snprintf(err, errlen, "runtime_env config has an unsupported key '%.100s'", key);
            return -EINVAL;
        }
    }
    return 0;
}

static int parse_field(const char *key, json_t *v, renv_spec *s, char *err, size_t errlen)
{
    if (json_is_null(v) || in_list(key, client_fields))
        return 0;
    if (strcmp(key, "working_dir") == 0) return parse_working_dir(v, s, err, errlen);
    if (strcmp(key, "py_modules") == 0) return parse_py_modules(v, s, err, errlen);
    if (strcmp(key, "env_vars") == 0) return parse_env_vars(v, s, err, errlen);
    if (strcmp(key, "pip") == 0) return parse_pip(v, s, err, errlen);
    if (strcmp(key, "config") == 0) return parse_config(v, s, err, errlen);
    snprintf(err, errlen, "runtime_env field '%.100s' is not supported by rayc", key);
    return -EINVAL;
}

int renv_spec_parse(const char *json, renv_spec *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    out->setup_timeout_s = RENV_DEFAULT_SETUP_TIMEOUT_S;
    if (json == NULL)
        return 0;
    json_t *root = json_loads(json, 0, NULL);
    if (!json_is_object(root)) {
        json_decref(root);
        snprintf(err, errlen, "runtime_env must be a JSON object");
        return -EINVAL;
    }
    const char *key;
    json_t *v;
    int rc = 0;
    json_object_foreach(root, key, v) {
        if ((rc = parse_field(key, v, out, err, errlen)) != 0)
            break;
    }
    json_decref(root);
    if (rc != 0)
        renv_spec_free(out);
    return rc;
}

static void free_vector(char **v, size_t n)
{
    for (size_t i = 0; v != NULL && i < n; i++)
        free(v[i]);
    free(v);
}

void renv_spec_free(renv_spec *s)
{
    free(s->working_dir);
    free_vector(s->py_modules, s->n_py_modules);
    free_vector(s->env_keys, s->n_env);
    free_vector(s->env_values, s->n_env);
    free_vector(s->pip_packages, s->n_pip);
    free_vector(s->pip_options, s->n_pip_options);
    free(s->pip_version);
    memset(s, 0, sizeof *s);
    s->setup_timeout_s = RENV_DEFAULT_SETUP_TIMEOUT_S;
}
