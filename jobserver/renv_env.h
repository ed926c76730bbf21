/* Environment lists for job processes and Ray's `${VAR}` expansion of
 * runtime_env env_vars. */
#ifndef RAYC_JOBSERVER_RENV_ENV_H
#define RAYC_JOBSERVER_RENV_ENV_H

#include <stddef.h>

typedef struct renv_envlist {
    char **vars;     /* "KEY=VALUE" strings, NULL-terminated */
    size_t n;
    size_t cap;
} renv_envlist;

/* Copies ENVIRON (may be NULL) into E.  Returns 0 or -ENOMEM (E is empty). */
int renv_envlist_init(renv_envlist *e, char *const *environ_vars);

/* Sets KEY to VALUE, replacing an existing entry.  Returns 0, -EINVAL for a
 * key that is empty or holds '=', or -ENOMEM. */
int renv_envlist_set(renv_envlist *e, const char *key, const char *value);

/* The value of KEY or NULL. */
const char *renv_envlist_get(const renv_envlist *e, const char *key);

/* Frees everything E holds. */
void renv_envlist_free(renv_envlist *e);

/* Expands VALUE as Ray does for env_vars: $NAME and ${NAME} are replaced by
 * the value of NAME in E when it is set and left alone otherwise (Python's
 * os.path.expandvars), then every remaining ${NAME} made of [A-Z0-9_] is
 * removed.  *OUT is a new string (caller frees).  Returns 0 or -ENOMEM. */
int renv_expand(const renv_envlist *e, const char *value, char **out);

#endif
