/* shm_map: maps shared-memory objects of the node's object store into this
 * process (drivers, workers, tests).  No daemon knowledge.
 *
 * An object's location is a string the raylet hands out:
 *
 *     FILE            the whole object is the file FILE (from offset 0)
 *     FILE@OFFSET     the object starts OFFSET bytes into FILE (decimal)
 *
 * The raylet's store keeps every object in one arena file per node, so its
 * locations have the second form.  Arena files are mapped once per process
 * and mode and the mapping is kept (reference-counted, never moved) because
 * on Linux the cost of a store write is dominated by setting up page tables,
 * not by copying: a fresh mapping per object runs at 5-20% of memcpy speed,
 * a kept one at memcpy speed.  A kept mapping is dropped when its
 * file is replaced (a restarted raylet makes a new arena) and nobody holds
 * an object of it any more.
 *
 * All functions are thread-safe. */
#ifndef RAYC_COMMON_SHM_MAP_H
#define RAYC_COMMON_SHM_MAP_H

#include <stddef.h>
#include <stdint.h>

/* Longest location string accepted (a path, '@' and 20 digits). */
#define SHM_LOC_MAX 4096
/* Most distinct arena files one process keeps mapped at once. */
#define SHM_MAP_MAX_ARENAS 16

/* Maps the SIZE bytes at location PATH read-write for the object's creator
 * and stores their address in *ADDR, valid until shm_unmap(*ADDR, SIZE).
 * The pages are faulted in here, so a full /dev/shm shows up as -ENOSPC
 * now rather than as SIGBUS during the write.  A size-0 object maps to a
 * non-NULL dummy address that must not be written.
 * Returns 0, or -EINVAL (malformed location), -ENOENT / -EACCES (file),
 * -ERANGE (the object does not lie inside the file), -ENOSPC (no shared
 * memory left for the pages), -EMFILE (SHM_MAP_MAX_ARENAS kept arenas are
 * all in use), -ENOMEM or another -errno.  On error *ADDR is unchanged. */
int shm_map_write(const char *path, uint64_t size, void **addr);

/* Same as shm_map_write, read-only, for readers of a sealed object: writing
 * through *ADDR faults.  Same errors, without -ENOSPC. */
int shm_map_read(const char *path, uint64_t size, const void **addr);

/* Ends one mapping made by shm_map_write or shm_map_read with the same
 * SIZE.  ADDR NULL or the size-0 dummy does nothing.  The caller must not
 * touch the bytes afterwards (in an arena they may soon hold another
 * object). */
void shm_unmap(const void *addr, uint64_t size);

/* Splits location PATH into its file (copied into FILE of FILELEN bytes)
 * and *OFFSET (0 when PATH has no "@OFFSET").  Returns 0, -EINVAL for an
 * empty or malformed location, or -ENAMETOOLONG when FILE is too small. */
int shm_loc_parse(const char *path, char *file, size_t filelen, uint64_t *offset);

/* Unmaps every kept arena mapping that holds no object now (tests and
 * leak checkers; a process need not call it).  Returns how many were kept
 * because objects are still mapped. */
int shm_map_trim(void);

#endif
