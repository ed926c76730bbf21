/* Small helpers with no daemon knowledge: files, directories, time, ids. */
#ifndef RAYC_COMMON_UTIL_H
#define RAYC_COMMON_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Creates PATH and its missing parents with MODE.  Returns 0 or -errno. */
int fs_mkdir_p(const char *path, mode_t mode);

/* Creates PATH (and missing parents) as a directory only its owner may enter,
 * and takes group and other access away from one that exists (secrets live
 * below it).  Returns 0 or -errno. */
int fs_private_dir(const char *path);

/* Creates PATH as an empty file only its owner may read when it is missing,
 * and takes group and other access away from one that exists.  Returns 0 or
 * -errno; PATH is never truncated. */
int fs_private_file(const char *path);

/* Writes LEN bytes to PATH atomically (temp file + rename) with MODE.
 * Returns 0 or -errno; on error PATH is left as it was. */
int fs_write_file(const char *path, const void *data, size_t len, mode_t mode);

/* Reads PATH into a new NUL-terminated buffer (*OUT, caller frees), refusing
 * files over MAX bytes with -EFBIG.  *LEN may be NULL.  Returns 0 or -errno. */
int fs_read_file(const char *path, size_t max, char **out, size_t *len);

/* Removes PATH and everything below it.  Returns 0 or -errno of the first failure. */
int fs_rm_rf(const char *path);

/* Wall-clock time in Unix milliseconds, and a monotonic clock in milliseconds. */
int64_t time_now_ms(void);
int64_t time_mono_ms(void);

/* Fills OUT with 2*NBYTES random hex characters and a NUL (OUT must hold
 * 2*NBYTES+1).  Returns 0, or -EIO when no randomness is available. */
int ids_random_hex(char *out, size_t nbytes);

/* Copies SRC into DST of size N, always NUL-terminated; returns 0, or
 * -ENAMETOOLONG when SRC was truncated. */
int str_copy(char *dst, size_t n, const char *src);

/* The offset in BUF (LEN bytes) where its last NLINES lines start: just
 * after the NLINES-th newline before the end, where a final newline ends the
 * last line rather than starting another.  0 when BUF has no more lines than
 * that or NLINES is negative (all of it); LEN when NLINES is 0.  The one
 * "tail of a log" rule of the job server, the state API and `ray start`. */
size_t str_tail_start(const char *buf, size_t len, long nlines);

/* Formats into DST of size N like snprintf, for messages meant for people:
 * text that does not fit is cut (a cut message still helps, a path would
 * not: use fs_path_join for those).  Returns the length of the text in DST. */
size_t str_printf(char *dst, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Writes DIR "/" NAME into OUT of size N.  Returns 0, or -ENAMETOOLONG when
 * the path does not fit, in which case OUT is the empty string (never a
 * truncated path that names another file). */
int fs_path_join(char *out, size_t n, const char *dir, const char *name);

/* DIR/NAME followed by EXT (".pid", ".log") into OUT, as fs_path_join:
 * 0, or -ENAMETOOLONG with OUT empty. */
int fs_path_join_ext(char *out, size_t n, const char *dir, const char *name, const char *ext);

/* The owner socket of process PID in the node's socket directory DIR
 * ("DIR/owner-PID": libray's owner thread listens there, the raylet asks
 * it for the objects it owns), as fs_path_join: 0, or -ENAMETOOLONG. */
int fs_owner_socket_path(char *out, size_t n, const char *dir, int pid);

/* Parses a whole decimal integer in [MIN, MAX]; returns 0 or -EINVAL. */
int parse_long(const char *s, long min, long max, long *out);

/* Parses a whole finite non-negative decimal number; returns 0 or -EINVAL. */
int parse_double(const char *s, double *out);

/* True when /proc/PID/cmdline contains NEEDLE as a substring of one
 * argument; false when it does not or the process is gone. */
int proc_cmdline_has(pid_t pid, const char *needle);

/* Unique node id: 28 random bytes as 56 hex characters, like Ray's NodeID. */
#define NODE_ID_HEX_LEN 56

#endif
