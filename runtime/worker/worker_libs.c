/* Loading a job's task libraries (see worker_libs.h). */
#include "worker/worker_libs.h"

#include <dirent.h>
#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/log.h"
#include "common/util.h"

static size_t loaded;

static void load_one(const char *file)
{
    if (loaded >= WORKER_MAX_LIBS) {
        log_warn("not loading %s: %d libraries already", file, WORKER_MAX_LIBS);
        return;
    }
    /* RTLD_GLOBAL is not needed: libraries find ray_* in the worker itself. */
    void *h = dlopen(file, RTLD_NOW | RTLD_LOCAL);
    if (h == NULL) {
        log_warn("cannot load task library %s: %s", file, dlerror());
        return;
    }
    loaded++;
    log_info("loaded task library %s", file);
}

static int ends_with_so(const char *name)
{
    size_t n = strlen(name);
    return n > 3 && strcmp(name + n - 3, ".so") == 0;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

static int is_so_entry(const struct dirent *d)
{
    return ends_with_so(d->d_name);
}

static void load_dir(const char *dir)
{
    struct dirent **list;
    int n = scandir(dir, &list, is_so_entry, by_name);
    if (n < 0) {
        log_warn("cannot read code search path entry %s", dir);
        return;
    }
    for (int i = 0; i < n; i++) {
        char file[PATH_MAX];
        if (fs_path_join(file, sizeof file, dir, list[i]->d_name) == 0)
            load_one(file);
        free(list[i]);
    }
    free(list);
}

size_t worker_libs_load(const char *path)
{
    char entry[PATH_MAX];
    for (const char *p = path ? path : ""; *p;) {
        size_t n = strcspn(p, ":");
        if (n > 0 && n < sizeof entry) {
            memcpy(entry, p, n);
            entry[n] = '\0';
            struct stat st;
            if (stat(entry, &st) == 0 && S_ISDIR(st.st_mode))
                load_dir(entry);
            else
                load_one(entry);
        }
        p += n + (p[n] == ':');
    }
    return loaded;
}
