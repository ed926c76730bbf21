/* dash_static: the dashboard's page and static files from disk, and
 * Chart.js from Debian's libjs-chart.js; nothing comes from the internet. */
#include "jobserver/dash.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/util.h"

#define STATIC_MAX (8u << 20)

static const char *const chart_paths[] = {
    "/usr/share/javascript/chart.js/chart.umd.js",
    "/usr/share/javascript/chart.js/chart.min.js",
    "/usr/share/javascript/chart.js/Chart.min.js",
    NULL,
};

static int is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The dashboard directory, found once (see dash.h); "" when none. */
static const char *static_dir(const jobs_server *srv)
{
    static char dir[PATH_MAX];
    static int found;
    if (found)
        return dir;
    found = 1;
    const char *env = getenv("RAYC_DASHBOARD_DIR");
    if (env != NULL && *env != '\0') {
        str_copy(dir, sizeof dir, env);
        return dir;
    }
    char exe[PATH_MAX];
    str_copy(exe, sizeof exe, srv->self_exe);
    const char *bindir = dirname(exe);
    snprintf(dir, sizeof dir, "%s/../share/rayc/dashboard", bindir);
    if (!is_dir(dir))
        snprintf(dir, sizeof dir, "%s/../dashboard", bindir);
    if (!is_dir(dir))
        dir[0] = '\0';
    return dir;
}

static const char *content_type(const char *name)
{
    const char *dot = strrchr(name, '.');
    if (dot == NULL) return "application/octet-stream";
    if (strcmp(dot, ".html") == 0) return "text/html; charset=utf-8";
    if (strcmp(dot, ".js") == 0) return "text/javascript; charset=utf-8";
    if (strcmp(dot, ".css") == 0) return "text/css; charset=utf-8";
    if (strcmp(dot, ".svg") == 0) return "image/svg+xml";
    if (strcmp(dot, ".png") == 0) return "image/png";
    return "application/octet-stream";
}

/* A static file name: letters, digits, '-', '_' and '.', not starting with
 * a dot (so no "..", no hidden files, no sub-directories). */
static int name_ok(const char *n)
{
    if (*n == '\0' || *n == '.' || strlen(n) > 128)
        return 0;
    return strspn(n, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") ==
           strlen(n);
}

static void send_file(http_request *r, const char *path, const char *type)
{
    char *data = NULL;
    size_t len = 0;
    int rc = fs_read_file(path, STATIC_MAX, &data, &len);
    if (rc != 0) {
        http_respond_text(r, rc == -ENOENT ? 404 : 500,
                          rc == -ENOENT ? "404: Not Found" : "Cannot read the dashboard file");
        return;
    }
    http_request_add_response_header(r, "Cache-Control", "no-cache");
    http_request_add_response_header(r, "X-Content-Type-Options", "nosniff");
    http_request_add_response_header(r, "Content-Security-Policy",
                                     "default-src 'self'; frame-ancestors 'none'");
    http_respond_take(r, 200, type, data, len);
}

void dash_static(jobs_server *srv, http_request *r, const char *path)
{
    const char *name = strcmp(path, "/") == 0 ? "index.html" : path + 1;
    if (strncmp(path, "/static/", 8) == 0)
        name = path + 8;
    if (!name_ok(name)) {
        http_respond_text(r, 404, "404: Not Found");
        return;
    }
    if (strcmp(name, "chart.js") == 0) {
        for (int i = 0; chart_paths[i] != NULL; i++) {
            struct stat st;
            if (stat(chart_paths[i], &st) == 0) {
                send_file(r, chart_paths[i], "text/javascript; charset=utf-8");
                return;
            }
        }
        http_respond_text(r, 404, "Chart.js is not installed (Debian's libjs-chart.js)");
        return;
    }
    const char *dir = static_dir(srv);
    if (*dir == '\0') {
        http_respond_text(r, 404, "The dashboard's files are not installed "
                                  "(share/rayc/dashboard next to bin/, or $RAYC_DASHBOARD_DIR)");
        return;
    }
    char file[PATH_MAX + 200];
    if (fs_path_join(file, sizeof file, dir, name) != 0) {
        http_respond_text(r, 404, "404: Not Found");
        return;
    }
    send_file(r, file, content_type(name));
}
