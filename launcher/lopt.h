/* Command-line helpers shared by the launcher commands (click's wording). */
#ifndef RAYC_LAUNCHER_LOPT_H
#define RAYC_LAUNCHER_LOPT_H

/* Exit code of a usage error, as click's. */
#define LOPT_USAGE 2

/* Prints click's usage error for `ray CMD`:
 *   Usage: ray CMD USAGE
 *   Try 'ray CMD --help' for help.
 *
 *   Error: MESSAGE
 * to stderr and returns LOPT_USAGE. */
int lopt_usage_error(const char *cmd, const char *usage, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Makes getopt_long start afresh on a new argument vector. */
void lopt_reset(void);

/* Parses a non-negative integer option value; on failure prints click's
 * "Invalid value" usage error and returns LOPT_USAGE, else 0. */
int lopt_int(const char *cmd, const char *usage, const char *flag, const char *value,
             int *out);

#endif
