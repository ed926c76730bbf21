/* rsync_exclude / rsync_filter matching for file syncs. */
#include "launcher/sync_filter.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

/* A pattern match may not take more steps than this (pathological globs). */
#define GLOB_BUDGET 200000

/* ---------------------------------------------------------------- glob */

/* Matches the class at P ("[...]") against C.  Stores the end of the class
 * in *END; returns 1, 0, or -1 when P is not a complete class. */
static int match_class(const char *p, char c, const char **end)
{
    const char *q = p + 1;
    int negate = *q == '!' || *q == '^', hit = 0;
    if (negate)
        q++;
    for (int first = 1; *q != '\0' && (first || *q != ']'); first = 0) {
        char lo = *q == '\\' && q[1] ? *++q : *q;
        char hi = lo;
        if (q[1] == '-' && q[2] != '\0' && q[2] != ']') {
            hi = q[2] == '\\' && q[3] ? q[3] : q[2];
            q += q[2] == '\\' ? 3 : 2;
        }
        if (c >= lo && c <= hi)
            hit = 1;
        q++;
    }
    if (*q != ']')
        return -1;
    *end = q + 1;
    return hit != negate;
}

static int glob_rec(const char *p, const char *t, long *budget)
{
    for (; *p != '\0'; p++, t++) {
        if (--*budget < 0)
            return 0;
        if (*p == '*') {
            int cross = p[1] == '*';
            while (*p == '*')
                p++;
            for (const char *s = t;; s++) {
                if (glob_rec(p, s, budget))
                    return 1;
                if (*s == '\0' || (!cross && *s == '/'))
                    return 0;
            }
        }
        if (*t == '\0')
            return 0;
        if (*p == '?') {
            if (*t == '/')
                return 0;
        } else if (*p == '[') {
            const char *end;
            int m = match_class(p, *t, &end);
            if (m == 0 || (m > 0 && *t == '/'))
                return 0;
            if (m < 0 && *t != '[')
                return 0;
            if (m > 0)
                p = end - 1;
        } else {
            if (*p == '\\' && p[1] != '\0')
                p++;
            if (*p != *t)
                return 0;
        }
    }
    return *t == '\0';
}

int sync_glob_match(const char *pattern, const char *text)
{
    long budget = GLOB_BUDGET;
    return glob_rec(pattern, text, &budget);
}

/* ---------------------------------------------------------------- rules */

static int add_rule(sync_filter *f, const char *line, const char *base)
{
    char pat[PATH_MAX];
    if (f->n >= SYNC_FILTER_MAX_RULES)
        return -E2BIG;
    if (f->n == f->alloc) {
        size_t want = f->alloc ? 2 * f->alloc : 16;
        sync_rule *bigger = realloc(f->rules, want * sizeof *bigger);
        if (bigger == NULL)
            return -ENOMEM;
        f->rules = bigger;
        f->alloc = want;
    }
    sync_rule r = {0};
    r.negate = line[0] == '!';
    if (str_copy(pat, sizeof pat, line + r.negate) != 0)
        return 0;                       /* absurd line: ignored */
    size_t len = strlen(pat);
    while (len > 1 && pat[len - 1] == '/') {
        pat[--len] = '\0';
        r.dir_only = 1;
    }
    r.anchored = pat[0] == '/';
    const char *body = pat + r.anchored;
    if (*body == '\0')
        return 0;
    r.whole_path = strchr(body, '/') != NULL || strstr(body, "**") != NULL;
    r.pattern = strdup(body);
    r.base = strdup(base);
    if (r.pattern == NULL || r.base == NULL) {
        free(r.pattern);
        free(r.base);
        return -ENOMEM;
    }
    f->rules[f->n++] = r;
    return 0;
}

int sync_filter_init(sync_filter *f, char *const *excludes, size_t n_ex, char *const *files,
                     size_t n_files)
{
    memset(f, 0, sizeof *f);
    for (size_t i = 0; i < n_ex; i++) {
        int rc = add_rule(f, excludes[i], "");
        if (rc != 0)
            return rc;
    }
    if (n_files > 0 && (f->files = calloc(n_files, sizeof *f->files)) == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < n_files; i++, f->n_files++)
        if ((f->files[i] = strdup(files[i])) == NULL)
            return -ENOMEM;
    return 0;
}

/* Adds the rules of one filter file's TEXT. */
static int add_file_rules(sync_filter *f, char *text, const char *base)
{
    for (char *line = text; line != NULL && *line != '\0';) {
        char *nl = strchr(line, '\n');
        if (nl != NULL)
            *nl = '\0';
        size_t len = strlen(line);
        while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == ' ' ||
                           line[len - 1] == '\t'))
            line[--len] = '\0';
        int rc = line[0] == '\0' || line[0] == '#' ? 0 : add_rule(f, line, base);
        if (rc != 0)
            return rc;
        line = nl != NULL ? nl + 1 : NULL;
    }
    return 0;
}

long sync_filter_enter(sync_filter *f, const char *abs_dir, const char *rel_dir)
{
    long mark = (long)f->n;
    for (size_t i = 0; i < f->n_files; i++) {
        char path[PATH_MAX * 2], *text = NULL;
        if (fs_path_join(path, sizeof path, abs_dir, f->files[i]) != 0 ||
            fs_read_file(path, SYNC_FILTER_MAX_FILE, &text, NULL) != 0)
            continue;                   /* no filter file here */
        int rc = add_file_rules(f, text, rel_dir);
        free(text);
        if (rc != 0)
            return rc;
    }
    return mark;
}

void sync_filter_leave(sync_filter *f, long mark)
{
    while (mark >= 0 && f->n > (size_t)mark) {
        f->n--;
        free(f->rules[f->n].pattern);
        free(f->rules[f->n].base);
    }
}

/* Matches rule R against PATH (relative to R's base). */
static int rule_matches(const sync_rule *r, const char *path)
{
    if (r->anchored)
        return sync_glob_match(r->pattern, path);
    if (!r->whole_path) {
        const char *last = strrchr(path, '/');
        return sync_glob_match(r->pattern, last != NULL ? last + 1 : path);
    }
    for (const char *s = path; s != NULL; s = strchr(s, '/'), s = s ? s + 1 : NULL) {
        if (sync_glob_match(r->pattern, s))
            return 1;
        if (strncmp(r->pattern, "**/", 3) == 0 && sync_glob_match(r->pattern + 3, s))
            return 1;
    }
    return 0;
}

int sync_filter_excluded(const sync_filter *f, const char *rel_path, int is_dir)
{
    int excluded = 0;
    for (size_t i = 0; i < f->n; i++) {
        const sync_rule *r = &f->rules[i];
        const char *path = rel_path;
        size_t blen = strlen(r->base);
        if (r->dir_only && !is_dir)
            continue;
        if (blen > 0) {
            if (strncmp(rel_path, r->base, blen) != 0 || rel_path[blen] != '/')
                continue;
            path = rel_path + blen + 1;
        }
        if (rule_matches(r, path))
            excluded = !r->negate;
    }
    return excluded;
}

void sync_filter_free(sync_filter *f)
{
    sync_filter_leave(f, 0);
    free(f->rules);
    for (size_t i = 0; i < f->n_files; i++)
        free(f->files[i]);
    free(f->files);
    memset(f, 0, sizeof *f);
}
