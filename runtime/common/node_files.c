/* Names of the files a node keeps outside its node directory. */
#include "common/node_files.h"

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"

void node_shm_prefix(const char *node_id, char *out, size_t outlen)
{
    snprintf(out, outlen, "rayc_%.16s_", node_id);
}

const char *node_shm_dir(void)
{
    const char *dir = getenv("RAY_object_store_shm_dir");
    return dir != NULL && *dir != '\0' ? dir : "/dev/shm";
}

int node_shm_remove(const char *dir, const char *node_id)
{
    char prefix[64];
    node_shm_prefix(node_id, prefix, sizeof prefix);
    if (dir == NULL || *dir == '\0')
        dir = node_shm_dir();
    DIR *d = opendir(dir);
    if (d == NULL)
        return 0;
    int removed = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, prefix, strlen(prefix)) != 0)
            continue;
        char path[PATH_MAX];
        if (fs_path_join(path, sizeof path, dir, e->d_name) == 0)
            removed += unlink(path) == 0;
    }
    closedir(d);
    return removed;
}
