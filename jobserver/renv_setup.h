/* Setting up one job's runtime_env on this node: working_dir and py_modules
 * packages (through the URI cache) and the pip virtualenv.  Runs on the
 * libuv loop; slow steps run in libuv's thread pool or child processes. */
#ifndef RAYC_JOBSERVER_RENV_SETUP_H
#define RAYC_JOBSERVER_RENV_SETUP_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "jobserver/renv_spec.h"
#include "jobserver/renv_unpack.h"

typedef struct renv_ctx renv_ctx;
typedef struct renv_setup renv_setup;

typedef struct renv_ctx_config {
    const char *resources_dir;   /* NODE_DIR/runtime_resources */
    const char *packages_dir;    /* where gcs:// packages are stored */
    uint64_t cache_limit;        /* bytes of unpacked URIs kept when unused */
    uint64_t download_limit;     /* largest http(s)/file package accepted */
    renv_unpack_limits unpack;   /* what one package may unpack to */
} renv_ctx_config;

typedef struct renv_result {
    const char *cwd;             /* unpacked working_dir, NULL: none */
    const char *python_path;     /* ':'-joined dirs to put first on PYTHONPATH, or NULL */
    const char *venv;            /* virtualenv directory, or NULL */
} renv_result;

/* Called once when the setup finished: RC 0 with RES (valid while the setup
 * lives), or a negative code with a one-line reason in ERR. */
typedef void (*renv_done_cb)(void *arg, int rc, const char *err, const renv_result *res);

/* Creates the node-wide context (scans what earlier runs left in the cache).
 * Returns 0 or -errno with one line in ERR. */
int renv_ctx_new(uv_loop_t *loop, const renv_ctx_config *cfg, renv_ctx **out, char *err,
                 size_t errlen);

/* Frees C; every setup must have been freed first. */
void renv_ctx_free(renv_ctx *c);

/* Starts setting up SPEC; output of slow steps (pip) is appended to LOG_PATH.
 * CB runs later, never from inside this call.  Returns 0 with *OUT, or
 * -ENOMEM (CB never runs). */
int renv_setup_start(renv_ctx *c, const renv_spec *spec, const char *log_path,
                     renv_done_cb cb, void *arg, renv_setup **out);

/* Ends S: cancels it when still running (CB does not run) and releases the
 * cached packages it holds so they may be evicted.  NULL is fine. */
void renv_setup_free(renv_setup *s);

/* Bytes of unpacked packages in the cache now (for tests and logs). */
uint64_t renv_ctx_cache_bytes(const renv_ctx *c);

#endif
