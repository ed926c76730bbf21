/* pip runtime_envs: one virtualenv per requirements hash under
 * RESOURCES/pip/<hash>/virtualenv, built once (python3 -m venv, then pip
 * install with the job's pip_install_options) and reused by every job with
 * the same requirements.  Concurrent jobs wait on one build.  Runs on the
 * loop with child processes. */
#ifndef RAYC_JOBSERVER_RENV_PIP_H
#define RAYC_JOBSERVER_RENV_PIP_H

#include <stddef.h>
#include <uv.h>

#include "jobserver/renv_spec.h"

typedef struct renv_pip renv_pip;
typedef struct renv_pip_req renv_pip_req;

/* Called once: RC 0 with the virtualenv directory, or an error and a reason.
 * BUILD_LOG is the file holding pip's output (also on success). */
typedef void (*renv_pip_cb)(void *arg, int rc, const char *err, const char *venv,
                            const char *build_log);

/* Writes the requirements hash of SPEC (16 hex characters) into OUT. */
void renv_pip_hash(const renv_spec *spec, char *out, size_t outlen);

/* Creates the manager for PIP_DIR, removing half-built environments.
 * Returns 0 or -errno. */
int renv_pip_new(uv_loop_t *loop, const char *pip_dir, renv_pip **out);

/* Frees P; builds still running are killed. */
void renv_pip_free(renv_pip *p);

/* Gets the virtualenv for SPEC's pip field, building it unless it exists.
 * WORKING_DIR (may be NULL) is given to pip as
 * RAY_RUNTIME_ENV_CREATE_WORKING_DIR.  CB runs later, never from inside this
 * call.  Returns 0 with *REQ or -ENOMEM. */
int renv_pip_acquire(renv_pip *p, const renv_spec *spec, const char *working_dir,
                     renv_pip_cb cb, void *arg, renv_pip_req **req);

/* Withdraws a request whose callback has not run; when no job waits for the
 * build any more it is killed. */
void renv_pip_cancel(renv_pip_req *req);

#endif
