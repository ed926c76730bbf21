/* Unpacking a package (.zip, .whl, .tar.gz) with libarchive into a new
 * directory, refusing entries that would land outside it (zip-slip: "..",
 * absolute paths, links that point out) and packages over a size limit.
 * Blocking: run it off the loop. */
#ifndef RAYC_JOBSERVER_RENV_UNPACK_H
#define RAYC_JOBSERVER_RENV_UNPACK_H

#include <stddef.h>
#include <stdint.h>

#define RENV_UNPACK_MAX_ENTRIES 200000

/* Checks an archive entry NAME: refuses an empty name, an absolute path and
 * any ".." component.  Writes the name without leading "./" into OUT.
 * Returns 0 or -EPERM. */
int renv_unpack_check_name(const char *name, char *out, size_t outlen);

/* Checks that symlink entry NAME pointing to TARGET stays inside the package
 * (TARGET relative, never climbing above the root).  Returns 0 or -EPERM. */
int renv_unpack_check_symlink(const char *name, const char *target);

/* Extracts ARCHIVE into DEST, which must not exist yet (it appears only when
 * all went well).  STRIP removes a single top-level directory (ignoring
 * __MACOSX) as Ray does for remote packages.  MAX_BYTES caps the unpacked
 * size.  Returns 0 with the unpacked size in *SIZE, or -errno with one line
 * in ERR. */
int renv_unpack(const char *archive, const char *dest, int strip, uint64_t max_bytes,
                uint64_t *size, char *err, size_t errlen);

#endif
