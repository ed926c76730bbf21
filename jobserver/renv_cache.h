/* The node's URI cache: each working_dir / py_modules package unpacked once
 * under RESOURCES/uris/<name>, shared by every job that uses it, reference
 * counted, and evicted (least recently used, unreferenced only) when the
 * cache grows past its size limit.  Runs on the loop; fetching and
 * unpacking run in libuv's thread pool. */
#ifndef RAYC_JOBSERVER_RENV_CACHE_H
#define RAYC_JOBSERVER_RENV_CACHE_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "jobserver/renv_unpack.h"

typedef struct renv_cache renv_cache;
typedef struct renv_cache_req renv_cache_req;

typedef struct renv_cache_config {
    const char *uris_dir;        /* where packages are unpacked */
    const char *packages_dir;    /* where gcs:// uploads are stored */
    uint64_t limit;              /* bytes kept when unreferenced */
    uint64_t download_limit;
    renv_unpack_limits unpack;
} renv_cache_config;

/* Called once per acquire: RC 0 with the unpacked DIR and KEY (pass KEY to
 * renv_cache_release), or an error with a one-line reason. */
typedef void (*renv_cache_cb)(void *arg, int rc, const char *err, const char *dir,
                              const char *key);

/* Creates the cache, adopting what an earlier run unpacked.  Returns 0 or -errno. */
int renv_cache_new(uv_loop_t *loop, const renv_cache_config *cfg, renv_cache **out);

/* Frees C (outstanding thread pool work finishes first on the loop). */
void renv_cache_free(renv_cache *c);

/* Gets URI unpacked, fetching it unless cached; on success a reference is
 * held for the caller.  CB runs later, never from inside this call.
 * TIMEOUT_S bounds a download (0: none).  Returns 0 with *REQ (cancellable
 * until CB runs) or -ENOMEM. */
int renv_cache_acquire(renv_cache *c, const char *uri, long timeout_s, renv_cache_cb cb,
                       void *arg, renv_cache_req **req);

/* Withdraws a request whose callback has not run; it never will. */
void renv_cache_cancel(renv_cache_req *req);

/* Drops a reference taken by a successful acquire of KEY. */
void renv_cache_release(renv_cache *c, const char *key);

/* Bytes of unpacked packages held now. */
uint64_t renv_cache_bytes(const renv_cache *c);

/* Total size of the files below PATH (symlinks not followed). */
uint64_t renv_du(const char *path);

#endif
