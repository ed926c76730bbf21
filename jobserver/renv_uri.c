/* runtime_env package URIs: protocol, Ray's package name, local dir name. */
#include "jobserver/renv_uri.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/util.h"

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static int kind_of(const char *s, enum renv_kind *kind, size_t *suffix_len)
{
    if (ends_with(s, ".zip")) { *kind = RENV_ZIP; *suffix_len = 4; return 0; }
    if (ends_with(s, ".whl")) { *kind = RENV_WHL; *suffix_len = 4; return 0; }
    if (ends_with(s, ".tar.gz")) { *kind = RENV_TGZ; *suffix_len = 7; return 0; }
    if (ends_with(s, ".tgz")) { *kind = RENV_TGZ; *suffix_len = 4; return 0; }
    return -EINVAL;
}

/* Ray's name for a remote package: PROTO_NETLOCPATH with '/:@+ ' and every
 * '.' before the suffix made '_' (a wheel keeps its file name). */
static void remote_name(const char *proto, const char *rest, enum renv_kind kind,
                        size_t suffix, char *out, size_t outlen)
{
    if (kind == RENV_WHL) {
        const char *slash = strrchr(rest, '/');
        str_copy(out, outlen, slash ? slash + 1 : rest);
        return;
    }
    size_t n = strlen(rest) - suffix;
    snprintf(out, outlen, "%s_%.*s", proto, (int)n, rest);
    for (char *p = out; *p; p++)
        if (strchr("/:@+ ?&=%#.", *p) != NULL)
            *p = '_';
    size_t len = strlen(out);
    if (len < outlen)
        snprintf(out + len, outlen - len, "%s", rest + n);
}

/* A package name must be a plain file name. */
static int safe_name(const char *name)
{
    if (name[0] == '\0' || name[0] == '.' || strchr(name, '/') != NULL)
        return 0;
    for (const char *p = name; *p; p++)
        if ((unsigned char)*p < 0x20)
            return 0;
    return 1;
}

/* True for the protocols Ray's runtime_env URIs know (rayc fetches some). */
static int ray_protocol(const char *s, size_t n)
{
    static const char *const known[] = {"gcs", "conda", "pip", "uv", "https", "http", "s3",
                                        "gs", "file", "azure", "abfss", NULL};
    for (int i = 0; known[i] != NULL; i++)
        if (strlen(known[i]) == n && strncmp(s, known[i], n) == 0)
            return 1;
    return 0;
}

static int parse_scheme(const char *uri, renv_uri *out, const char **rest, char *err,
                        size_t errlen)
{
    if (strncmp(uri, "gcs://", 6) == 0) { out->proto = RENV_GCS; *rest = uri + 6; return 0; }
    if (strncmp(uri, "https://", 8) == 0) { out->proto = RENV_HTTP; *rest = uri + 8; return 0; }
    if (strncmp(uri, "http://", 7) == 0) { out->proto = RENV_HTTP; *rest = uri + 7; return 0; }
    if (strncmp(uri, "file://", 7) == 0) { out->proto = RENV_FILE; *rest = uri + 7; return 0; }
    const char *colon = strstr(uri, "://");
    if (colon == NULL || !ray_protocol(uri, (size_t)(colon - uri))) {
        snprintf(err, errlen, "%.200s is not a valid URI. Passing directories or modules to be "
                              "dynamically uploaded is only supported at the job level (i.e., "
                              "passed to `ray.init`).", uri);
        return -EINVAL;
    }
    snprintf(err, errlen, "URI protocol '%.*s' is not supported by rayc (use gcs://, http(s):// "
                          "or file://): %.200s", (int)(colon - uri), uri, uri);
    return -ENOTSUP;
}

int renv_uri_parse(const char *uri, renv_uri *out, char *err, size_t errlen)
{
    const char *rest;
    memset(out, 0, sizeof *out);
    int rc = parse_scheme(uri, out, &rest, err, errlen);
    if (rc != 0)
        return rc;
    size_t suffix;
    if (kind_of(rest, &out->kind, &suffix) != 0) {
        snprintf(err, errlen, "package URI must end in .zip, .whl, .tar.gz or .tgz: %.200s", uri);
        return -EINVAL;
    }
    if (out->proto == RENV_GCS)
        str_copy(out->name, sizeof out->name, rest);
    else
        remote_name(out->proto == RENV_FILE ? "file" : strncmp(uri, "https", 5) == 0 ? "https" : "http",
                    rest, out->kind, suffix, out->name, sizeof out->name);
    if (out->proto == RENV_FILE)
        out->path = rest;
    if (strlen(rest) > RENV_NAME_MAX * 4 || !safe_name(out->name) ||
        strlen(out->name) <= suffix) {
        snprintf(err, errlen, "invalid package URI: %.200s", uri);
        return -EINVAL;
    }
    size_t n = strlen(out->name) - suffix;
    memcpy(out->dir, out->name, n);
    out->dir[n] = '\0';
    return 0;
}
