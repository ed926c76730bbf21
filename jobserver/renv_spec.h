/* A job's runtime_env, validated: the fields rayc supports, with Ray's types. */
#ifndef RAYC_JOBSERVER_RENV_SPEC_H
#define RAYC_JOBSERVER_RENV_SPEC_H

#include <stddef.h>

#define RENV_DEFAULT_SETUP_TIMEOUT_S 600   /* Ray's config.setup_timeout_seconds */

typedef struct renv_spec {
    char *working_dir;          /* URI or NULL */
    char **py_modules;          /* URIs */
    size_t n_py_modules;
    char **env_keys;            /* env_vars in the order given */
    char **env_values;
    size_t n_env;
    char **pip_packages;        /* requirement lines */
    size_t n_pip;
    char **pip_options;         /* pip_install_options */
    size_t n_pip_options;
    char *pip_version;          /* e.g. "==23.2.1", NULL: as installed */
    int pip_check;
    int setup_timeout_s;        /* -1: no timeout */
} renv_spec;

/* Parses the runtime_env JSON object JSON (NULL: empty).  Fields rayc does not
 * support (conda, container, image_uri, uv, ...) and values of the wrong type
 * are refused with a one-line reason naming the field.  Returns 0, -EINVAL
 * (reason in ERR, OUT empty) or -ENOMEM. */
int renv_spec_parse(const char *json, renv_spec *out, char *err, size_t errlen);

/* Frees what S holds and empties it. */
void renv_spec_free(renv_spec *s);

#endif
