/* objstore: opening and closing the node's object store, and the queries
 * that change nothing (contains, stats, locate). */
#include "objstore/objstore_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "common/util.h"

/* ---------------------------------------------------------------- opening */

/* 1..OBJSTORE_PREFIX_MAX characters of [A-Za-z0-9._-]: safe in a file name
 * and never containing the '@' that separates a location's offset. */
static int valid_prefix(const char *p)
{
    size_t n = 0;
    for (; p[n] != '\0'; n++) {
        char c = p[n];
        int ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
                 (c >= 'A' && c <= 'Z') || c == '.' || c == '_' || c == '-';
        if (!ok || n >= OBJSTORE_PREFIX_MAX)
            return 0;
    }
    return n > 0;
}

/* Copies CFG into S.  -EINVAL or -ENAMETOOLONG on a bad config. */
static int take_config(objstore *s, const objstore_config *cfg)
{
    if (cfg->capacity < OBJSTORE_ALIGN || cfg->shm_dir == NULL || cfg->spill_dir == NULL ||
        cfg->prefix == NULL || cfg->shm_dir[0] == '\0' || cfg->spill_dir[0] == '\0' ||
        !valid_prefix(cfg->prefix))
        return -EINVAL;
    if (str_copy(s->shm_dir, sizeof s->shm_dir, cfg->shm_dir) != 0 ||
        str_copy(s->spill_dir, sizeof s->spill_dir, cfg->spill_dir) != 0 ||
        str_copy(s->prefix, sizeof s->prefix, cfg->prefix) != 0)
        return -ENAMETOOLONG;
    s->max_object_size = cfg->max_object_size != 0 ? cfg->max_object_size : cfg->capacity;
    return objstore__file_path(s, s->shm_dir, "arena", s->arena_path, sizeof s->arena_path);
}

/* -ENOSPC when the filesystem of DIR cannot hold SIZE more bytes. */
static int check_space(const char *dir, uint64_t size)
{
    struct statvfs v;
    if (statvfs(dir, &v) != 0)
        return -errno;
    uint64_t avail = (uint64_t)v.f_bavail * (uint64_t)v.f_frsize;
    return size > avail ? -ENOSPC : 0;
}

/* Everything of opening that touches the filesystem. */
static int open_files(objstore *s, const objstore_config *cfg)
{
    int rc = fs_mkdir_p(s->spill_dir, 0700);
    if (rc == 0)
        rc = objstore__remove_leftovers(s->shm_dir, s->prefix);
    if (rc == 0)
        rc = objstore__remove_leftovers(s->spill_dir, s->prefix);
    uint64_t size = objstore_alloc_total(s->alloc);
    if (rc == 0)
        rc = check_space(s->shm_dir, size);
    if (rc == 0)
        rc = objstore__arena_create(s->arena_path, size, cfg->prefault, &s->arena_fd);
    return rc;
}

int objstore_open(const objstore_config *cfg, objstore **out)
{
    objstore *s = calloc(1, sizeof *s);
    if (s == NULL)
        return -ENOMEM;
    s->arena_fd = -1;
    int rc = take_config(s, cfg);
    if (rc == 0 && (s->alloc = objstore_alloc_new(cfg->capacity, OBJSTORE_ALIGN)) == NULL)
        rc = -ENOMEM;
    if (rc == 0)
        rc = objstore_table_init(&s->table);
    if (rc == 0)
        rc = open_files(s, cfg);
    if (rc != 0) {
        objstore_table_fini(&s->table);
        objstore_alloc_free(s->alloc);
        free(s);
        return rc;
    }
    *out = s;
    return 0;
}

/* ---------------------------------------------------------------- closing */

static void remove_any(objstore_obj *o, void *arg)
{
    objstore__remove(arg, o);
}

void objstore_close(objstore *s)
{
    if (s == NULL)
        return;
    objstore_table_foreach(&s->table, remove_any, s);
    objstore_table_fini(&s->table);
    objstore_alloc_free(s->alloc);
    close(s->arena_fd);
    unlink(s->arena_path);
    free(s);
}

/* ---------------------------------------------------------------- queries */

int objstore_contains(const objstore *s, const char *oid)
{
    const objstore_obj *o = objstore_table_find(&s->table, oid);
    if (o == NULL || o->deleted)
        return 0;
    return o->state == OBJSTORE_CREATING ? -EAGAIN : 1;
}

void objstore_get_stats(const objstore *s, objstore_stats *st)
{
    memset(st, 0, sizeof *st);
    st->capacity = objstore_alloc_total(s->alloc);
    st->used = st->capacity - objstore_alloc_free_bytes(s->alloc);
    st->spilled_bytes = s->spilled_bytes;
    st->restored_bytes = s->restored_bytes;
    st->objects = s->table.index.n;
    st->spilled_objects = s->spilled_objects;
    st->spill_dir_bytes = s->spill_dir_bytes;
    st->pinned_bytes = s->pinned_bytes;
}

int objstore_locate(const objstore *s, const char *oid, int *fd, uint64_t *offset, uint64_t *size)
{
    const objstore_obj *o = objstore_table_find(&s->table, oid);
    if (o == NULL || o->deleted || o->state == OBJSTORE_SPILLED)
        return -ENOENT;
    if (o->state == OBJSTORE_CREATING)
        return -EAGAIN;
    if (o->pins == 0)
        return -EPERM;
    *fd = s->arena_fd;
    *offset = o->blk != NULL ? o->blk->off : 0;
    *size = o->size;
    return 0;
}
