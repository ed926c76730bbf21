/* The node's package store for uploaded gcs:// packages. */
#include "jobserver/pkg_store.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/util.h"

static int name_char_ok(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '.' || c == '_' || c == '-' || c == '+';
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

int pkg_name_check(const char *name, char *err, size_t errlen)
{
    size_t n = strlen(name);
    if (n == 0 || n > PKG_NAME_MAX || name[0] == '.') {
        snprintf(err, errlen, "invalid package name");
        return -EINVAL;
    }
    for (size_t i = 0; i < n; i++) {
        if (!name_char_ok(name[i])) {
            snprintf(err, errlen, "package name may only contain letters, digits and '._+-'");
            return -EINVAL;
        }
    }
    if (!ends_with(name, ".zip") && !ends_with(name, ".whl")) {
        snprintf(err, errlen, "package name must end in .zip or .whl");
        return -EINVAL;
    }
    return 0;
}

int pkg_store_path(const char *dir, const char *name, char *out, size_t outlen)
{
    return fs_path_join(out, outlen, dir, name);
}

int pkg_store_exists(const char *dir, const char *name)
{
    char path[4096];
    struct stat st;
    return pkg_store_path(dir, name, path, sizeof path) == 0 && stat(path, &st) == 0 &&
           S_ISREG(st.st_mode);
}

int pkg_store_tmp_path(const char *dir, char *out, size_t outlen)
{
    char rnd[17];
    int rc = ids_random_hex(rnd, 8);
    if (rc != 0)
        return rc;
    int n = snprintf(out, outlen, "%s/.upload-%s", dir, rnd);
    return n < 0 || (size_t)n >= outlen ? -ENAMETOOLONG : 0;
}

int pkg_store_commit(const char *dir, const char *tmp_path, const char *name)
{
    char path[4096];
    int rc = pkg_store_path(dir, name, path, sizeof path);
    if (rc != 0)
        return rc;
    return rename(tmp_path, path) == 0 ? 0 : -errno;
}
