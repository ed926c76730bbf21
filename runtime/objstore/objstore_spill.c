/* objstore_spill: moving sealed objects between the arena and the spill
 * dir, and making room in the arena by spilling the least recently used. */
#include "objstore/objstore_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

/* Writes O's bytes to its spill file and frees its range.  On error the
 * partial file is removed and O stays in memory.  0 or -errno. */
static int spill(objstore *s, objstore_obj *o)
{
    char path[PATH_MAX];
    int rc = objstore__file_path(s, s->spill_dir, o->oid, path, sizeof path);
    if (rc != 0)
        return rc;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return -errno;
    rc = objstore__copy_range(s->arena_fd, o->blk->off, fd, 0, o->size);
    if (close(fd) != 0 && rc == 0)
        rc = -errno;
    if (rc != 0) {
        unlink(path);
        return rc;
    }
    objstore__lru_remove(s, o);
    objstore_alloc_put(s->alloc, o->blk);
    o->blk = NULL;
    o->state = OBJSTORE_SPILLED;
    s->spilled_bytes += o->size;
    s->spill_dir_bytes += o->size;
    s->spilled_objects++;
    return 0;
}

int objstore__make_room(objstore *s, uint64_t size, objstore_block **out)
{
    for (;;) {
        int rc = objstore_alloc_take(s->alloc, size, out);
        if (rc != -ENOSPC)
            return rc;
        uint64_t need = objstore_alloc_round(s->alloc, size);
        uint64_t could = objstore_alloc_free_bytes(s->alloc) + s->lru_bytes;
        if (s->lru_head == NULL || need > could)
            return -ENOSPC;
        if (spill(s, s->lru_head) != 0)
            return -ENOSPC;
    }
}

/* Opens O's spill file and checks that it holds O's bytes.  *FD or -errno. */
static int open_spilled(const objstore *s, const objstore_obj *o, char *path, size_t len, int *fd)
{
    int rc = objstore__file_path(s, s->spill_dir, o->oid, path, len);
    if (rc != 0)
        return rc;
    int f = open(path, O_RDONLY | O_CLOEXEC);
    if (f < 0)
        return errno == ENOENT ? -EIO : -errno;
    struct stat st;
    if (fstat(f, &st) != 0 || (uint64_t)st.st_size != o->size) {
        close(f);
        return -EIO;
    }
    *fd = f;
    return 0;
}

int objstore__restore(objstore *s, objstore_obj *o)
{
    char path[PATH_MAX];
    int fd = -1;
    int rc = open_spilled(s, o, path, sizeof path, &fd);
    if (rc != 0)
        return rc;
    objstore_block *b;
    rc = objstore__make_room(s, o->size, &b);
    if (rc == 0 && (rc = objstore__copy_range(fd, 0, s->arena_fd, b->off, o->size)) != 0) {
        objstore_alloc_put(s->alloc, b);
        rc = rc == -ENOMEM ? rc : -EIO;
    }
    close(fd);
    if (rc != 0)
        return rc;
    unlink(path);
    o->blk = b;
    o->state = OBJSTORE_SEALED;
    s->restored_bytes += o->size;
    s->spill_dir_bytes -= o->size;
    s->spilled_objects--;
    return 0;
}
