/* runtime_env package URIs: which protocol, Ray's package name, and the
 * local directory name a package unpacks to. */
#ifndef RAYC_JOBSERVER_RENV_URI_H
#define RAYC_JOBSERVER_RENV_URI_H

#include <stddef.h>

enum renv_proto { RENV_GCS, RENV_HTTP, RENV_FILE };
enum renv_kind { RENV_ZIP, RENV_WHL, RENV_TGZ };

#define RENV_NAME_MAX 255

typedef struct renv_uri {
    enum renv_proto proto;
    enum renv_kind kind;
    char name[RENV_NAME_MAX + 1];     /* Ray's parse_uri package name */
    char dir[RENV_NAME_MAX + 1];      /* NAME without its suffix */
    const char *path;                 /* file://: the local path (points into the URI) */
} renv_uri;

/* Parses URI (gcs://, http://, https://, file://) ending in .zip, .whl,
 * .tar.gz or .tgz.  Returns 0, or -EINVAL / -ENOTSUP with a one-line reason
 * in ERR (a local path, s3:// and gs:// are refused by name). */
int renv_uri_parse(const char *uri, renv_uri *out, char *err, size_t errlen);

#endif
