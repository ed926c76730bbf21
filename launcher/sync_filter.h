/* Which files a sync leaves out: Ray's rsync_exclude patterns and rsync_filter
 * files (e.g. .gitignore), with rsync's matching rules.
 *
 * Patterns: `*` and `?` stop at '/', `**` crosses it, `[...]` is a class; a
 * trailing '/' matches directories only; a leading '/' anchors the pattern at
 * the transfer root (or at the directory of the filter file holding it); a
 * pattern with a '/' or `**` inside is matched against the whole relative
 * path (at any directory boundary), otherwise against the last component.
 * Filter files are read in every directory walked and apply to that
 * directory and below; a line "!PATTERN" re-includes what an earlier rule
 * excluded (gitignore's negation).  The last matching rule decides.  An
 * excluded directory is not walked at all. */
#ifndef RAYC_LAUNCHER_SYNC_FILTER_H
#define RAYC_LAUNCHER_SYNC_FILTER_H

#include <stddef.h>

#define SYNC_FILTER_MAX_FILE (1024 * 1024)
#define SYNC_FILTER_MAX_RULES 100000

typedef struct sync_rule {
    char *pattern;              /* without the leading '/', '!' or trailing '/' */
    char *base;                 /* directory the rule is relative to ("" = root) */
    int anchored, dir_only, negate, whole_path;
} sync_rule;

typedef struct sync_filter {
    sync_rule *rules;
    size_t n, alloc;
    char **files;               /* filter file names looked for in each directory */
    size_t n_files;
} sync_filter;

/* Prepares F with the N_EX exclude patterns EXCLUDES and the N_FILES filter
 * file names FILES.  Returns 0 or -ENOMEM. */
int sync_filter_init(sync_filter *f, char *const *excludes, size_t n_ex, char *const *files,
                     size_t n_files);

/* Reads the filter files present in local directory ABS_DIR, which is REL_DIR
 * relative to the transfer root ("" for the root).  Returns the rule count
 * before the new rules (pass it to sync_filter_leave), or -ENOMEM / -E2BIG. */
long sync_filter_enter(sync_filter *f, const char *abs_dir, const char *rel_dir);

/* Drops the rules added since MARK (leaving a directory). */
void sync_filter_leave(sync_filter *f, long mark);

/* True when REL_PATH (relative to the transfer root, no leading '/') is left
 * out.  IS_DIR says whether it is a directory. */
int sync_filter_excluded(const sync_filter *f, const char *rel_path, int is_dir);

/* Frees F's memory. */
void sync_filter_free(sync_filter *f);

/* Matches the glob PATTERN against all of TEXT (rules above).  Exposed for
 * tests.  Returns 1 or 0. */
int sync_glob_match(const char *pattern, const char *text);

#endif
