/* Packaging a local working_dir or py_module exactly as Ray's client does:
 * the same walk (excludes, .gitignore, .rayignore, Ray's default excludes),
 * the same content hash and so the same gcs://_ray_pkg_<hash>.zip name, and a
 * zip of the files. */
#ifndef RAYC_JOBCLIENT_PKG_PACK_H
#define RAYC_JOBCLIENT_PKG_PACK_H

#include <stddef.h>

#define PKG_URI_MAX 512

typedef struct pkg_opts {
    const char *const *excludes;   /* runtime_env "excludes" (gitignore syntax) */
    size_t n_excludes;
    int include_parent_dir;        /* py_modules: the zip holds DIRNAME/... */
    /* Told once per path the walk skips: a FIFO, device or socket (never
     * opened), a symlink back to a directory being walked, a kernel
     * pseudo-filesystem.  Called by pkg_dir_uri only; may be NULL. */
    void (*warn)(void *arg, const char *msg);
    void *warn_arg;
} pkg_opts;

/* Ray's default excludes, from RAY_OVERRIDE_RUNTIME_ENV_DEFAULT_EXCLUDES or
 * ".git,.venv,venv,__pycache__": fills OUT (up to MAX entries pointing into
 * BUF) and returns how many. */
size_t pkg_default_excludes(char *buf, size_t buflen, const char **out, size_t max);

/* Computes the package URI of directory DIR ("gcs://_ray_pkg_<16 hex>.zip").
 * Returns 0, or -errno with one line in ERR (-ENOTDIR when DIR is not a
 * directory, -EINVAL when it is on a kernel pseudo-filesystem such as /proc).
 * Special files and symlink loops inside DIR are skipped (O's warn). */
int pkg_dir_uri(const char *dir, const pkg_opts *o, char *uri, size_t urilen, char *err,
                size_t errlen);

/* Writes the zip of DIR to OUT_PATH.  Returns 0 or -errno with one line in ERR. */
int pkg_dir_zip(const char *dir, const pkg_opts *o, const char *out_path, char *err,
                size_t errlen);

/* The URI of a local package file: a .whl keeps its name ("gcs://NAME.whl"),
 * anything else is "gcs://_ray_pkg_<sha1 hex of the bytes>.zip".  Returns 0
 * or -errno with one line in ERR. */
int pkg_file_uri(const char *path, char *uri, size_t urilen, char *err, size_t errlen);

#endif
