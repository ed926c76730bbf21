/* objstore_obj: the life of one object: create, seal or abort, get and
 * release by readers, delete by its owner or its job's end. */
#include "objstore/objstore_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* 1..OBJSTORE_ID_MAX hex characters. */
static int valid_id(const char *id)
{
    if (id == NULL)
        return 0;
    size_t n = 0;
    for (; id[n] != '\0'; n++) {
        char c = id[n];
        int hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
        if (!hex || n >= OBJSTORE_ID_MAX)
            return 0;
    }
    return n > 0;
}

/* Writes O's location ("<arena>@<offset>") into PATH. */
static int write_location(const objstore *s, const objstore_obj *o, char *path, size_t len)
{
    unsigned long long off = o->blk != NULL ? (unsigned long long)o->blk->off : 0;
    int n = snprintf(path, len, "%s@%llu", s->arena_path, off);
    return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* Whether PATH of LEN bytes holds any location of S (the longest offset). */
static int location_fits(const objstore *s, size_t len)
{
    return strlen(s->arena_path) + 1 + 20 < len;
}

void objstore__remove(objstore *s, objstore_obj *o)
{
    objstore__lru_remove(s, o);
    if (o->pins > 0)
        s->pinned_bytes -= objstore__held(o);
    if (o->blk != NULL)
        objstore_alloc_put(s->alloc, o->blk);
    if (o->state == OBJSTORE_SPILLED) {
        char path[PATH_MAX];
        if (objstore__file_path(s, s->spill_dir, o->oid, path, sizeof path) == 0)
            unlink(path);
        s->spill_dir_bytes -= o->size;
        s->spilled_objects--;
    }
    objstore_table_remove(&s->table, o);
    free(o);
}

/* ---------------------------------------------------------------- creating */

/* Why a new object of SIZE cannot be made, or 0. */
static int check_create(const objstore *s, const char *oid, const char *job_id,
                        uint64_t size, size_t pathlen)
{
    if (!valid_id(oid) || !valid_id(job_id))
        return -EINVAL;
    uint64_t need = objstore_alloc_round(s->alloc, size);
    if (size > s->max_object_size || (size > 0 && need == 0) ||
        need > objstore_alloc_total(s->alloc))
        return -EFBIG;
    if (!location_fits(s, pathlen))
        return -ENAMETOOLONG;
    if (objstore_table_find(&s->table, oid) != NULL)
        return -EEXIST;
    if (s->table.index.n >= OBJSTORE_MAX_OBJECTS)
        return -ENOSPC;
    return 0;
}

int objstore_create(objstore *s, const char *oid, const char *job_id, uint64_t size,
                    char *path, size_t pathlen)
{
    int rc = check_create(s, oid, job_id, size, pathlen);
    if (rc != 0)
        return rc;
    objstore_obj *o = calloc(1, sizeof *o);
    if (o == NULL)
        return -ENOMEM;
    if (size > 0 && (rc = objstore__make_room(s, size, &o->blk)) != 0) {
        free(o);
        return rc;
    }
    memcpy(o->oid, oid, strlen(oid) + 1);
    memcpy(o->job, job_id, strlen(job_id) + 1);
    o->size = size;
    o->state = OBJSTORE_CREATING;
    objstore_table_insert(&s->table, o);
    return write_location(s, o, path, pathlen);
}

int objstore_seal(objstore *s, const char *oid)
{
    objstore_obj *o = objstore_table_find(&s->table, oid);
    if (o == NULL)
        return -ENOENT;
    if (o->state != OBJSTORE_CREATING)
        return -EINVAL;
    if (o->deleted) {
        objstore__remove(s, o);
        return -ENOENT;
    }
    o->state = OBJSTORE_SEALED;
    objstore__lru_touch(s, o);
    return 0;
}

void objstore_abort(objstore *s, const char *oid)
{
    objstore_obj *o = objstore_table_find(&s->table, oid);
    if (o != NULL && o->state == OBJSTORE_CREATING)
        objstore__remove(s, o);
}

/* ---------------------------------------------------------------- reading */

int objstore_get(objstore *s, const char *oid, char *path, size_t pathlen, uint64_t *size)
{
    objstore_obj *o = objstore_table_find(&s->table, oid);
    if (o == NULL || o->deleted)
        return -ENOENT;
    if (o->state == OBJSTORE_CREATING)
        return -EAGAIN;
    if (!location_fits(s, pathlen))
        return -ENAMETOOLONG;
    if (o->state == OBJSTORE_SPILLED) {
        int rc = objstore__restore(s, o);
        if (rc != 0)
            return rc;
    }
    objstore__pin(s, o);
    *size = o->size;
    return write_location(s, o, path, pathlen);
}

void objstore_release(objstore *s, const char *oid)
{
    objstore_obj *o = objstore_table_find(&s->table, oid);
    if (o != NULL)
        objstore__unpin(s, o);
}

/* ---------------------------------------------------------------- deleting */

/* Deletes O now or marks it for its last pin or its creator's seal/abort. */
static void delete_obj(objstore *s, objstore_obj *o)
{
    if (o->pins == 0 && o->state != OBJSTORE_CREATING) {
        objstore__remove(s, o);
        return;
    }
    o->deleted = 1;
    objstore__lru_remove(s, o);
}

int objstore_delete(objstore *s, const char *oid)
{
    objstore_obj *o = objstore_table_find(&s->table, oid);
    if (o == NULL || o->deleted)
        return -ENOENT;
    delete_obj(s, o);
    return 0;
}

typedef struct job_sweep {
    objstore *s;
    const char *job;
    int count;
} job_sweep;

static void delete_if_of_job(objstore_obj *o, void *arg)
{
    job_sweep *w = arg;
    if (o->deleted || strcmp(o->job, w->job) != 0)
        return;
    delete_obj(w->s, o);
    w->count++;
}

int objstore_delete_job(objstore *s, const char *job_id)
{
    job_sweep w = {s, job_id, 0};
    if (job_id != NULL)
        objstore_table_foreach(&s->table, delete_if_of_job, &w);
    return w.count;
}
