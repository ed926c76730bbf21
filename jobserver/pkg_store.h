/* The node's package store for gcs:// working_dir and py_modules packages that
 * clients upload with PUT /api/packages/gcs/NAME (Ray keeps them in the GCS;
 * rayc keeps them as files next to the job server). */
#ifndef RAYC_JOBSERVER_PKG_STORE_H
#define RAYC_JOBSERVER_PKG_STORE_H

#include <stddef.h>

#define PKG_NAME_MAX 255

/* Checks a package NAME from a URL or URI: 1..255 characters of
 * [A-Za-z0-9._+-], not starting with '.', ending in .zip or .whl.  Returns 0
 * or -EINVAL with a one-line reason in ERR. */
int pkg_name_check(const char *name, char *err, size_t errlen);

/* Writes DIR/NAME into OUT.  Returns 0 or -ENAMETOOLONG. */
int pkg_store_path(const char *dir, const char *name, char *out, size_t outlen);

/* True when package NAME is stored in DIR. */
int pkg_store_exists(const char *dir, const char *name);

/* Writes a fresh temporary upload path inside DIR into OUT.  Returns 0 or -errno. */
int pkg_store_tmp_path(const char *dir, char *out, size_t outlen);

/* Moves the finished upload TMP_PATH into place as NAME.  Returns 0 or -errno. */
int pkg_store_commit(const char *dir, const char *tmp_path, const char *name);

#endif
