/* Daemon logging: timestamped lines to a file or stderr.  Libraries never log. */
#ifndef RAYC_COMMON_LOG_H
#define RAYC_COMMON_LOG_H

enum log_level { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERROR };

/* Opens PATH for appending and sends all later log lines there (NULL: stderr).
 * Returns 0, or -errno when the file cannot be opened (logging stays on stderr). */
int log_open(const char *path);

/* Sets the process name shown on each line and the minimum level written. */
void log_setup(const char *process_name, enum log_level min_level);

/* Writes one line "2026-01-01 12:00:00.123 INFO name[pid] message". */
void log_write(enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define log_debug(...) log_write(LOG_DEBUG, __VA_ARGS__)
#define log_info(...)  log_write(LOG_INFO, __VA_ARGS__)
#define log_warn(...)  log_write(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_write(LOG_ERROR, __VA_ARGS__)

#endif
