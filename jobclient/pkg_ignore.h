/* .gitignore patterns as Ray's packager reads them (pathspec's gitwildmatch):
 * each pattern becomes a POSIX extended regex over paths relative to the
 * directory that holds the pattern file. */
#ifndef RAYC_JOBCLIENT_PKG_IGNORE_H
#define RAYC_JOBCLIENT_PKG_IGNORE_H

#include <regex.h>
#include <stddef.h>

typedef struct pkg_ignore {
    regex_t *res;
    int *include;      /* 1: the pattern excludes, 0: a "!" pattern re-includes */
    size_t n;
    size_t cap;
} pkg_ignore;

/* Translates one PATTERN line to an anchored ERE in OUT and sets *INCLUDE.
 * Returns 0, 1 when the line is blank or a comment (no pattern), -EINVAL when
 * it cannot be translated, -ENAMETOOLONG when OUT is too small. */
int pkg_ignore_translate(const char *pattern, char *out, size_t outlen, int *include);

void pkg_ignore_init(pkg_ignore *ig);

/* Adds one pattern line.  Returns 0 (also for blank lines and comments),
 * -EINVAL or -ENOMEM. */
int pkg_ignore_add(pkg_ignore *ig, const char *pattern);

/* Adds every line of TEXT.  Returns 0 or the first error. */
int pkg_ignore_add_lines(pkg_ignore *ig, const char *text);

/* True when RELPATH ("." for the directory itself, "a/b" below it) is
 * excluded: the last pattern that matches decides. */
int pkg_ignore_match(const pkg_ignore *ig, const char *relpath);

void pkg_ignore_free(pkg_ignore *ig);

#endif
