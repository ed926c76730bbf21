/* Command lines: getopt_long with exact long names, and Ray's click-style
 * usage error. */
#ifndef RAYC_COMMON_CMDLINE_H
#define RAYC_COMMON_CMDLINE_H

#include <getopt.h>
#include <stdarg.h>

/* Exit code of a usage error, as click's. */
#define CMDLINE_USAGE 2

/* What cmdline_next returns besides an option's val. */
enum {
    CMDLINE_END = -1,          /* no more options (positionals start at optind) */
    CMDLINE_UNKNOWN = -2,      /* not an option of LONGOPTS/SHORTOPTS */
    CMDLINE_MISSING = -3,      /* an option that needs a value is the last word */
    CMDLINE_NOT_VALUED = -4,   /* "--flag=v" for an option that takes no value */
};

/* Makes the next cmdline_next start afresh on a new argument vector. */
void cmdline_reset(void);

/* One step of getopt_long(ARGC, ARGV, SHORTOPTS, LONGOPTS) that accepts a
 * long option only under its whole name ("--num" is not "--num-cpus"),
 * never prints, and reports errors as the CMDLINE_* codes above.  Both
 * "--flag=v" and "--flag v" give the value in optarg.  SHORTOPTS should
 * start with ':' (and '+' to stop at the first positional).  On an error
 * *WORD is the argument word at fault (cmdline_name_len gives the length of
 * its "--name" part); otherwise *WORD is the option's word.  Call
 * cmdline_reset first for each new vector. */
int cmdline_next(int argc, char **argv, const char *shortopts, const struct option *longopts,
                 const char **word);

/* The length of WORD up to its first '=' (the "--name" of "--name=v"). */
int cmdline_name_len(const char *word);

/* Prints Ray's (click's) usage error for program PROG (e.g. "ray up",
 * "ray job submit") to stderr:
 *   Usage: PROG USAGE
 *   Try 'PROG --help' for help.
 *
 *   Error: MESSAGE
 * and returns CMDLINE_USAGE.  MESSAGE is cut at 512 bytes. */
int cmdline_usage_error(const char *prog, const char *usage, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* cmdline_usage_error with the message's arguments in AP. */
int cmdline_usage_verror(const char *prog, const char *usage, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

/* Prints click's usage error (as cmdline_usage_error) for cmdline_next's
 * error RC about WORD: "Option '--x' requires an argument." (CMDLINE_MISSING),
 * "Option '--x' does not take a value." (CMDLINE_NOT_VALUED), else "No such
 * option: --x" (the name without "=value").  Returns CMDLINE_USAGE. */
int cmdline_option_error(const char *prog, const char *usage, int rc, const char *word);

#endif
