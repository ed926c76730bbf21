/* Where this rayc's Python package is, for the processes the CLI starts. */
#include "cli/cli_pypath.h"

#include <glob.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli_proc.h"
#include "common/util.h"

/* True when DIR holds the ray package (DIR/ray/__init__.py). */
static int has_package(const char *dir)
{
    char init[PATH_MAX];
    return fs_path_join(init, sizeof init, dir, "ray/__init__.py") == 0 &&
           access(init, R_OK) == 0;
}

/* The package's parent directory into OUT: the checkout's python/ beside
 * bin/, or PREFIX/lib/python3.X/dist-packages of an install. */
static int find_package(char *out, size_t outlen)
{
    char self[PATH_MAX], pattern[PATH_MAX];
    if (proc_sibling_path("ray", self, sizeof self) != 0)
        return -1;
    char *slash = strrchr(self, '/');
    if (slash == NULL)
        return -1;
    *slash = '\0'; /* the bin dir */
    if (fs_path_join(out, outlen, self, "../python") == 0 && has_package(out))
        return 0;
    if (fs_path_join(pattern, sizeof pattern, self, "../lib/python3*/dist-packages") != 0)
        return -1;
    glob_t g;
    int found = -1;
    if (glob(pattern, 0, NULL, &g) == 0) {
        for (size_t i = 0; found != 0 && i < g.gl_pathc; i++)
            if (has_package(g.gl_pathv[i]) && strlen(g.gl_pathv[i]) < outlen) {
                memcpy(out, g.gl_pathv[i], strlen(g.gl_pathv[i]) + 1);
                found = 0;
            }
        globfree(&g);
    }
    return found;
}

void cli_export_python_path(void)
{
    char dir[PATH_MAX], value[2 * PATH_MAX + 2];
    if (find_package(dir, sizeof dir) != 0)
        return;
    const char *old = getenv("PYTHONPATH");
    if (old != NULL && strstr(old, dir) != NULL)
        return;
    if (old == NULL || *old == '\0')
        setenv("PYTHONPATH", dir, 1);
    else if ((size_t)snprintf(value, sizeof value, "%s:%s", dir, old) < sizeof value)
        setenv("PYTHONPATH", value, 1);
}
