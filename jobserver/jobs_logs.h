/* Job driver logs: where they live and how they are read (all of it, the
 * last lines for failure messages, or from an offset for tailing). */
#ifndef RAYC_JOBSERVER_JOBS_LOGS_H
#define RAYC_JOBSERVER_JOBS_LOGS_H

#include <stddef.h>
#include <stdint.h>

#define JOBS_LOG_MAX_READ (16u * 1024 * 1024)  /* Ray's JOB_LOG_MAX_READ_BYTES */
#define JOBS_LOG_TAIL_LINES 10                /* Ray's NUM_LOG_LINES_ON_ERROR */
#define JOBS_LOG_TAIL_CHARS 20000             /* Ray's MAX_LOG_SIZE */

/* Writes LOGS_DIR/job-driver-ID.log into OUT.  Returns 0 or -ENAMETOOLONG. */
int jobs_log_path(const char *logs_dir, const char *id, char *out, size_t outlen);

/* Reads the whole log at PATH into *OUT (caller frees).  A log over
 * JOBS_LOG_MAX_READ yields its tail after Ray's "[LOG TRUNCATED ...]" line.
 * A missing file reads as "".  Returns 0 or -errno. */
int jobs_log_read_all(const char *path, char **out, size_t *len);

/* The last NLINES lines of PATH, at most MAXCHARS characters (the end is
 * kept), into *OUT (caller frees; "" when the file is missing or empty).
 * Returns 0 or -errno. */
int jobs_log_tail_lines(const char *path, int nlines, size_t maxchars, char **out);

/* Reads up to MAX bytes of PATH from *OFFSET and advances *OFFSET.  Unless
 * FINAL, a UTF-8 character cut by the end of the file is left for the next
 * read.  *OUT is NULL when nothing is new.  Returns 0 or -errno (-ENOENT when
 * the file does not exist yet). */
int jobs_log_read_from(const char *path, uint64_t *offset, size_t max, int final, char **out,
                       size_t *len);

/* Below this many free bytes the disk of the logs counts as full. */
#define JOBS_LOG_DISK_FULL_BYTES (64 * 1024)

/* Returns 1 when the file system holding LOGS_DIR has no room left for a log
 * (fewer than JOBS_LOG_DISK_FULL_BYTES free), 0 otherwise or when unknown. */
int jobs_log_disk_full(const char *logs_dir);

/* Appends TEXT to the log at PATH (created 0644 when missing).  Returns 0 or -errno. */
int jobs_log_append(const char *path, const char *text);

#endif
