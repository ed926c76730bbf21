/* shm_map: maps object-store objects into this process, keeping arena
 * mappings so that each page table is built once per process. */
#include "common/shm_map.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/util.h"

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#endif
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

/* One kept mapping of a whole arena file in one mode. */
typedef struct shm_arena {
    int used;            /* slot holds a mapping */
    int writable;        /* PROT_WRITE mapping (creators) or read-only */
    int stale;           /* its file was replaced: drop at refs == 0 */
    uint32_t refs;       /* objects mapped through it now */
    dev_t dev;
    ino_t ino;
    uint8_t *base;
    uint64_t len;
    char file[SHM_LOC_MAX];
} shm_arena;

static shm_arena arenas[SHM_MAP_MAX_ARENAS];
static pthread_mutex_t arenas_lock = PTHREAD_MUTEX_INITIALIZER;

/* What size-0 objects map to: not NULL, and in read-only memory. */
static const unsigned char empty_object[1];

/* ---------------------------------------------------------------- locations */

/* Parses 1..20 decimal digits that fit in 64 bits. */
static int parse_offset(const char *s, uint64_t *out)
{
    uint64_t v = 0;
    size_t n = 0;
    for (; s[n] != '\0'; n++) {
        if (s[n] < '0' || s[n] > '9' || n >= 20)
            return -EINVAL;
        uint64_t d = (uint64_t)(s[n] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -EINVAL;
        v = v * 10 + d;
    }
    if (n == 0)
        return -EINVAL;
    *out = v;
    return 0;
}

/* Like shm_loc_parse, and says whether an "@OFFSET" was there. */
static int loc_split(const char *path, char *file, size_t filelen,
                     uint64_t *offset, int *has_offset)
{
    if (path == NULL || path[0] == '\0' || strlen(path) >= SHM_LOC_MAX)
        return -EINVAL;
    const char *slash = strrchr(path, '/');
    const char *at = strrchr(slash != NULL ? slash : path, '@');
    *offset = 0;
    *has_offset = at != NULL;
    if (at != NULL && (at == path || at[-1] == '/' || parse_offset(at + 1, offset) != 0))
        return -EINVAL;
    size_t n = at != NULL ? (size_t)(at - path) : strlen(path);
    if (n >= filelen)
        return -ENAMETOOLONG;
    memcpy(file, path, n);
    file[n] = '\0';
    return 0;
}

int shm_loc_parse(const char *path, char *file, size_t filelen, uint64_t *offset)
{
    int has_offset;
    return loc_split(path, file, filelen, offset, &has_offset);
}

/* ---------------------------------------------------------------- page faults */

/* Faults in the pages under [P, P+SIZE) now, in one system call: cheaper
 * than a trap per page, and a full tmpfs becomes an error code instead of a
 * SIGBUS later.  Kernels without MADV_POPULATE_* (before 5.14) skip it. */
static int populate(const void *p, uint64_t size, int writable)
{
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    uintptr_t start = (uintptr_t)p & ~(page - 1);
    uintptr_t end = ((uintptr_t)p + size + page - 1) & ~(page - 1);
    if (madvise((void *)start, end - start,
                writable ? MADV_POPULATE_WRITE : MADV_POPULATE_READ) == 0)
        return 0;
    if (errno == EINVAL)
        return 0;
    if (errno == EFAULT || errno == ENOMEM)
        return writable ? -ENOSPC : -ERANGE;
    return -errno;
}

/* ---------------------------------------------------------------- kept arenas */

static void arena_drop(shm_arena *a)
{
    munmap(a->base, a->len);
    memset(a, 0, sizeof *a);
}

/* A free slot, making one by dropping an idle arena if needed; NULL if all
 * are in use. */
static shm_arena *arena_slot(void)
{
    for (int i = 0; i < SHM_MAP_MAX_ARENAS; i++)
        if (!arenas[i].used)
            return &arenas[i];
    for (int i = 0; i < SHM_MAP_MAX_ARENAS; i++)
        if (arenas[i].refs == 0) {
            arena_drop(&arenas[i]);
            return &arenas[i];
        }
    return NULL;
}

/* Maps the whole of FILE into slot A.  Returns 0 or -errno. */
static int arena_map(shm_arena *a, const char *file, int writable)
{
    int fd = open(file, (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    struct stat st;
    int rc = fstat(fd, &st) != 0 ? -errno : st.st_size <= 0 ? -ERANGE : 0;
    void *base = MAP_FAILED;
    if (rc == 0) {
        int prot = PROT_READ | (writable ? PROT_WRITE : 0);
        base = mmap(NULL, (size_t)st.st_size, prot, MAP_SHARED, fd, 0);
        rc = base == MAP_FAILED ? -errno : 0;
    }
    close(fd);
    if (rc != 0)
        return rc;
    str_copy(a->file, sizeof a->file, file);
    a->used = 1;
    a->writable = writable;
    a->dev = st.st_dev;
    a->ino = st.st_ino;
    a->base = base;
    a->len = (uint64_t)st.st_size;
    return 0;
}

/* The kept mapping of FILE (now described by ST) in the given mode, made if
 * needed; mappings of a replaced FILE are marked stale.  Caller holds the
 * lock. */
static int arena_get(const char *file, const struct stat *st, int writable, shm_arena **out)
{
    for (int i = 0; i < SHM_MAP_MAX_ARENAS; i++) {
        shm_arena *a = &arenas[i];
        if (!a->used || a->stale || a->writable != writable || strcmp(a->file, file) != 0)
            continue;
        if (a->dev == st->st_dev && a->ino == st->st_ino && a->len == (uint64_t)st->st_size) {
            *out = a;
            return 0;
        }
        a->stale = 1;
        if (a->refs == 0)
            arena_drop(a);
    }
    shm_arena *a = arena_slot();
    if (a == NULL)
        return -EMFILE;
    int rc = arena_map(a, file, writable);
    if (rc == 0)
        *out = a;
    return rc;
}

/* Maps SIZE bytes at OFFSET of arena FILE; takes one reference. */
static int map_in_arena(const char *file, uint64_t offset, uint64_t size,
                        int writable, void **addr)
{
    struct stat st;
    if (stat(file, &st) != 0)
        return -errno;
    shm_arena *a = NULL;
    pthread_mutex_lock(&arenas_lock);
    int rc = arena_get(file, &st, writable, &a);
    if (rc == 0 && (offset > a->len || size > a->len - offset))
        rc = -ERANGE;
    if (rc == 0)
        a->refs++;
    pthread_mutex_unlock(&arenas_lock);
    if (rc != 0)
        return rc;
    void *p = a->base + offset;
    rc = populate(p, size, writable);
    if (rc != 0) {
        shm_unmap(p, size);
        return rc;
    }
    *addr = p;
    return 0;
}

/* ---------------------------------------------------------------- whole files */

/* Maps the first SIZE bytes of FILE on their own (no arena). */
static int map_file(const char *file, uint64_t size, int writable, void **addr)
{
    int fd = open(file, (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    struct stat st;
    int rc = fstat(fd, &st) != 0 ? -errno : (uint64_t)st.st_size < size ? -ERANGE : 0;
    void *p = MAP_FAILED;
    if (rc == 0) {
        int prot = PROT_READ | (writable ? PROT_WRITE : 0);
        p = mmap(NULL, (size_t)size, prot, MAP_SHARED, fd, 0);
        rc = p == MAP_FAILED ? -errno : 0;
    }
    close(fd);
    if (rc == 0 && (rc = populate(p, size, writable)) != 0)
        munmap(p, (size_t)size);
    if (rc == 0)
        *addr = p;
    return rc;
}

/* ---------------------------------------------------------------- the API */

static int map_object(const char *path, uint64_t size, int writable, void **addr)
{
    char file[SHM_LOC_MAX];
    uint64_t offset;
    int has_offset;
    int rc = loc_split(path, file, sizeof file, &offset, &has_offset);
    if (rc != 0)
        return rc == -ENAMETOOLONG ? -EINVAL : rc;
    if (size == 0) {
        *addr = (void *)empty_object;
        return 0;
    }
    if (size > SIZE_MAX / 2)
        return -ERANGE;
    if (has_offset)
        return map_in_arena(file, offset, size, writable, addr);
    return map_file(file, size, writable, addr);
}

int shm_map_write(const char *path, uint64_t size, void **addr)
{
    return map_object(path, size, 1, addr);
}

int shm_map_read(const char *path, uint64_t size, const void **addr)
{
    void *p;
    int rc = map_object(path, size, 0, &p);
    if (rc == 0)
        *addr = p;
    return rc;
}

void shm_unmap(const void *addr, uint64_t size)
{
    if (addr == NULL || addr == (const void *)empty_object || size == 0)
        return;
    const uint8_t *p = addr;
    pthread_mutex_lock(&arenas_lock);
    for (int i = 0; i < SHM_MAP_MAX_ARENAS; i++) {
        shm_arena *a = &arenas[i];
        if (!a->used || p < a->base || p >= a->base + a->len)
            continue;
        if (a->refs > 0)
            a->refs--;
        if (a->stale && a->refs == 0)
            arena_drop(a);
        pthread_mutex_unlock(&arenas_lock);
        return;
    }
    pthread_mutex_unlock(&arenas_lock);
    munmap((void *)(uintptr_t)addr, (size_t)size);
}

int shm_map_trim(void)
{
    int kept = 0;
    pthread_mutex_lock(&arenas_lock);
    for (int i = 0; i < SHM_MAP_MAX_ARENAS; i++) {
        if (!arenas[i].used)
            continue;
        if (arenas[i].refs == 0)
            arena_drop(&arenas[i]);
        else
            kept++;
    }
    pthread_mutex_unlock(&arenas_lock);
    return kept;
}
