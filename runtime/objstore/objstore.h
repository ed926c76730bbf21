/* objstore: the node's shared-memory object store (server side).
 *
 * Used only inside the raylet's loop thread; nothing here is thread-safe.
 * Clients (drivers, workers) map objects with runtime/common/shm_map.h.
 *
 * Layout.  All objects live in ONE arena file per node,
 * <shm_dir>/<prefix>arena, sized to the capacity and sparse until written.
 * An object is a 64-byte aligned range of it; its location, handed to
 * clients, is "<shm_dir>/<prefix>arena@<offset>".  Clients keep the arena
 * mapped, so a store write costs one memcpy and no page-table work after
 * the first use of a page.  Measured with bench/objstore_bench.c on a
 * 2-CPU KVM guest: a fresh file per object (fallocate + MAP_POPULATE)
 * writes 0.4-1.9 GB/s, the arena 6.7 GB/s, plain memcpy of the same
 * 100 MiB pieces 7.1 GB/s.  The price: a creator's mapping covers the
 * whole arena, so a buggy writer can scribble on other objects of its
 * node (as with Ray's plasma), and bytes of freed objects are visible to
 * the next creator of that range.  Readers map read-only.
 *
 * Spilling.  When a create or a restore does not fit, sealed objects that
 * nobody reads are written to <spill_dir>/<prefix><object-id>, least
 * recently used first, and their range is reused; a get brings them back.
 * Spilling and restoring run synchronously in the caller.
 *
 * Lifetime of an object: create -> (creator writes) -> seal -> get/release
 * by readers ... -> delete (or delete_job).  A delete while readers hold
 * pins, or while the creator has not sealed yet, takes effect when the last
 * pin is released or the creator seals/aborts.  After objstore_release a
 * reader must not touch the bytes: the range may hold another object soon.
 *
 * Ids: object and job ids are 1..OBJSTORE_ID_MAX hex characters; anything
 * else is -EINVAL.
 */
#ifndef RAYC_RAYLET_OBJSTORE_H
#define RAYC_RAYLET_OBJSTORE_H

#include <stddef.h>
#include <stdint.h>

/* Longest object or job id (hex characters). */
#define OBJSTORE_ID_MAX 64
/* Longest file name prefix; it may hold only [A-Za-z0-9._-]. */
#define OBJSTORE_PREFIX_MAX 64
/* Most objects one store knows at once (in memory, spilled, or being
 * created); past it create answers -ENOSPC. */
#define OBJSTORE_MAX_OBJECTS (1u << 20)
/* Alignment (and granularity) of objects in the arena. */
#define OBJSTORE_ALIGN 64u

typedef struct objstore objstore;

typedef struct objstore_config {
    uint64_t capacity;          /* bytes of shared memory allowed (> 0) */
    const char *shm_dir;        /* "/dev/shm" (tests may use a tmp dir) */
    const char *prefix;         /* file name prefix, unique per node, and not
                                 * a prefix of another node's (open removes
                                 * every file that starts with it) */
    const char *spill_dir;      /* node_dir/spill; made if missing */
    uint64_t max_object_size;   /* cap for one object (0 = capacity) */
    int prefault;               /* 1: allocate all shared memory at open
                                 * (fallocate), so that it is reserved up
                                 * front; 0: pages come on first write */
} objstore_config;

typedef struct objstore_stats {
    uint64_t capacity;          /* usable bytes (capacity rounded down to OBJSTORE_ALIGN) */
    uint64_t used;              /* bytes of shared memory held by objects (sizes rounded
                                 * up to OBJSTORE_ALIGN); spilled objects do not count */
    uint64_t spilled_bytes;     /* bytes written to the spill dir since open */
    uint64_t restored_bytes;    /* bytes read back from it since open */
    uint32_t objects;           /* objects known: being created, in memory or spilled */
    uint32_t spilled_objects;   /* objects on disk now */
    uint64_t spill_dir_bytes;   /* bytes of objects on disk now */
    uint64_t pinned_bytes;      /* bytes held by objects with readers (not spillable) */
} objstore_stats;

/* Opens the store described by CFG (copied; CFG's strings may go after the
 * call): removes leftovers whose names start with the prefix from shm_dir
 * and spill_dir (a previous run of this node that crashed), makes
 * spill_dir, and creates the arena.  On success *OUT is the store, owned by
 * the caller until objstore_close.
 * Returns 0, or -EINVAL (capacity 0, missing dir, bad prefix), -ENOSPC
 * (shm_dir has less free space than the capacity), -ENOMEM, or -errno of a
 * file operation; on error nothing is left behind and *OUT is unchanged. */
int objstore_open(const objstore_config *cfg, objstore **out);

/* Unlinks the arena and every spill file the store made, and frees S
 * (NULL is fine).  Clients that still have the arena mapped keep their
 * pages until they unmap. */
void objstore_close(objstore *s);

/* Reserves SIZE bytes for a new object OID of job JOB_ID and writes its
 * location into PATH (PATHLEN bytes); the creator maps it read-write
 * (shm_map_write), fills it, then calls objstore_seal.  Spills
 * least-recently-used sealed objects that nobody is reading when space is
 * short.
 * Returns 0, or -EINVAL (bad id), -EEXIST (OID known, also while a delete
 * of it waits for readers), -EFBIG (over max_object_size or capacity),
 * -ENOSPC (the store is full even after spilling everything spillable, a
 * spill failed (disk full), or OBJSTORE_MAX_OBJECTS reached: retry later or
 * report store-full), -ENAMETOOLONG (PATH too small), -ENOMEM.  On error no
 * object was made (objects spilled on the way stay spilled). */
int objstore_create(objstore *s, const char *oid, const char *job_id, uint64_t size,
                    char *path, size_t pathlen);

/* Marks OID complete: readers may get it from now on.  Returns 0, -ENOENT
 * (unknown, or deleted while being created: it is dropped now), or -EINVAL
 * (already sealed). */
int objstore_seal(objstore *s, const char *oid);

/* The creator died before sealing OID: drops it.  Does nothing when OID is
 * unknown or already sealed. */
void objstore_abort(objstore *s, const char *oid);

/* Pins sealed OID for one reader and gives its location (PATH, PATHLEN
 * bytes) and *SIZE; restores it from the spill dir first if it was spilled
 * (which may spill others).  Each successful call needs one
 * objstore_release.  Marks OID most recently used.
 * Returns 0, or -ENOENT (unknown or deleted), -EAGAIN (not sealed yet),
 * -ENOSPC (cannot be restored: no room), -EIO (its spill file is damaged
 * or unreadable), -ENAMETOOLONG (PATH too small), -ENOMEM.  On error
 * nothing is pinned. */
int objstore_get(objstore *s, const char *oid, char *path, size_t pathlen, uint64_t *size);

/* One reader of OID is done (unpin).  The last release of a deleted object
 * removes it.  Unknown or unpinned OID: nothing happens. */
void objstore_release(objstore *s, const char *oid);

/* The owner freed OID: removed now if nobody reads it (its spill file too),
 * else when the last reader releases, or when a creator that has not sealed
 * yet seals or aborts.  Returns 0 or -ENOENT (unknown or already deleted). */
int objstore_delete(objstore *s, const char *oid);

/* Deletes (as objstore_delete) every object of JOB_ID.  Returns how many
 * objects it deleted, whether freed now or deferred to their last reader. */
int objstore_delete_job(objstore *s, const char *job_id);

/* Returns 1 if OID is sealed (in memory or spilled), -EAGAIN while it is
 * being created, 0 if it is not here (or deleted). */
int objstore_contains(const objstore *s, const char *oid);

/* Fills *ST with the store's counters. */
void objstore_get_stats(const objstore *s, objstore_stats *st);

/* For sending a pinned object to another node without mapping it: gives the
 * arena's file descriptor (owned by the store, valid until objstore_close;
 * use pread/sendfile with an explicit offset, never its file position),
 * the object's *OFFSET and *SIZE.  The caller must hold a pin (objstore_get)
 * so that the object does not move.  Returns 0, -ENOENT (unknown, deleted
 * or not in memory), -EAGAIN (not sealed yet), -EPERM (nobody holds a
 * pin). */
int objstore_locate(const objstore *s, const char *oid, int *fd, uint64_t *offset, uint64_t *size);

#endif
