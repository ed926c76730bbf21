/* Unpacking a package (.zip, .whl, .tar.gz) with libarchive into a new
 * directory, refusing entries that would land outside it (zip-slip: "..",
 * absolute paths, links that point out) and packages over a size limit.
 * Blocking: run it off the loop. */
#ifndef RAYC_JOBSERVER_RENV_UNPACK_H
#define RAYC_JOBSERVER_RENV_UNPACK_H

#include <stddef.h>
#include <stdint.h>

/* What one package may unpack to.  A zip bomb (3 MB that writes GiBs) is
 * stopped by whichever cap it reaches first, before it fills the disk. */
typedef struct renv_unpack_limits {
    uint64_t max_bytes;          /* total unpacked bytes */
    uint64_t max_entries;        /* files, directories and links */
    uint64_t max_ratio;          /* unpacked bytes per byte of archive ... */
} renv_unpack_limits;

/* ... counted only past this many unpacked bytes, so that small packages of
 * very compressible text are never refused for their ratio. */
#define RENV_UNPACK_RATIO_FLOOR (64ull << 20)

/* Defaults: unpacked size is a multiple of the upload limit. */
#define RENV_UNPACK_DEFAULT_ENTRIES 100000
#define RENV_UNPACK_DEFAULT_RATIO 200
#define RENV_UNPACK_DEFAULT_BODY_MULTIPLE 10

/* Environment variables that override the defaults (read by the server). */
#define RENV_UNPACK_ENV_BYTES "RAYC_PACKAGE_MAX_UNPACKED_BYTES"
#define RENV_UNPACK_ENV_ENTRIES "RAYC_PACKAGE_MAX_ENTRIES"
#define RENV_UNPACK_ENV_RATIO "RAYC_PACKAGE_MAX_RATIO"

/* Checks an archive entry NAME: refuses an empty name, an absolute path and
 * any ".." component.  Writes the name without leading "./" into OUT.
 * Returns 0 or -EPERM. */
int renv_unpack_check_name(const char *name, char *out, size_t outlen);

/* Checks that symlink entry NAME pointing to TARGET stays inside the package
 * (TARGET relative, never climbing above the root).  Returns 0 or -EPERM. */
int renv_unpack_check_symlink(const char *name, const char *target);

/* Extracts ARCHIVE into DEST, which must not exist yet (it appears only when
 * all went well).  STRIP removes a single top-level directory (ignoring
 * __MACOSX) as Ray does for remote packages.  LIM caps the unpacked size,
 * the entry count and the ratio of unpacked to archive bytes; the error line
 * names the cap and its variable.  Returns 0 with the unpacked size in *SIZE,
 * or -errno (-EFBIG for a cap) with one line in ERR; DEST is then absent. */
int renv_unpack(const char *archive, const char *dest, int strip, const renv_unpack_limits *lim,
                uint64_t *size, char *err, size_t errlen);

#endif
