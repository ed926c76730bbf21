/* .gitignore patterns as Ray's packager reads them (pathspec's gitwildmatch). */
#include "jobclient/pkg_ignore.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/dbuf.h"

#define PATTERN_MAX 4096

/* Appends one literal character, escaped for an ERE. */
static int put_literal(dbuf *b, char c)
{
    if (strchr(".[]{}()\\*+?^$|", c) != NULL && dbuf_add(b, "\\", 1) != 0)
        return -ENOMEM;
    return dbuf_add(b, &c, 1);
}

/* A bracket expression starting at SEG[*I] (just after '['), as pathspec
 * does; appends "\[" when it is not closed. */
static int put_bracket(dbuf *b, const char *seg, size_t *i)
{
    size_t end = strlen(seg), j = *i;
    if (j < end && seg[j] == '!')
        j++;
    if (j < end && seg[j] == ']')
        j++;
    while (j < end && seg[j] != ']')
        j++;
    if (j >= end)
        return dbuf_add(b, "\\[", 2);
    int rc = dbuf_add(b, "[", 1);
    size_t k = *i;
    if (rc == 0 && seg[k] == '!') {
        rc = dbuf_add(b, "^", 1);
        k++;
    }
    if (rc == 0)
        rc = dbuf_add(b, seg + k, j + 1 - k);
    *i = j + 1;
    return rc;
}

/* pathspec's _translate_segment_glob. */
static int put_segment_glob(dbuf *b, const char *seg)
{
    int rc = 0, escape = 0;
    for (size_t i = 0; rc == 0 && seg[i] != '\0';) {
        char c = seg[i++];
        if (escape) {
            escape = 0;
            rc = put_literal(b, c);
        } else if (c == '\\') {
            escape = 1;
        } else if (c == '*') {
            rc = dbuf_puts(b, "[^/]*");
        } else if (c == '?') {
            rc = dbuf_puts(b, "[^/]");
        } else if (c == '[') {
            rc = put_bracket(b, seg, &i);
        } else {
            rc = put_literal(b, c);
        }
    }
    return rc;
}

/* Splits P at '/' into SEGS (pointers into P, which is modified). */
static size_t split_segments(char *p, char **segs, size_t max)
{
    size_t n = 0;
    segs[n++] = p;
    for (char *s = p; *s != '\0' && n < max; s++) {
        if (*s == '/') {
            *s = '\0';
            segs[n++] = s + 1;
        }
    }
    return n;
}

/* pathspec's normalisation: anchor, "**" for unanchored patterns, and a
 * trailing slash becoming "**".  SEGS has room for one more entry. */
static size_t normalize_segments(char **segs, size_t n)
{
    static char star2[] = "**";
    if (segs[0][0] == '\0') {
        memmove(segs, segs + 1, (n - 1) * sizeof *segs);
        n--;
    } else if (n == 1 || (n == 2 && segs[1][0] == '\0')) {
        if (strcmp(segs[0], "**") != 0) {
            memmove(segs + 1, segs, n * sizeof *segs);
            segs[0] = star2;
            n++;
        }
    }
    if (n > 1 && segs[n - 1][0] == '\0')
        segs[n - 1] = star2;
    return n;
}

static int build_regex(char **segs, size_t n, int include, dbuf *b)
{
    int rc = dbuf_add(b, "^", 1), need_slash = 0;
    size_t end = n - 1;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (strcmp(segs[i], "**") == 0) {
            if (i == 0 && i == end) {
                rc = dbuf_puts(b, ".+");
            } else if (i == 0) {
                rc = dbuf_puts(b, "(.+/)?");
                need_slash = 0;
            } else if (i == end) {
                rc = dbuf_puts(b, "/.*");
            } else {
                rc = dbuf_puts(b, "(/.+)?");
                need_slash = 1;
            }
        } else if (strcmp(segs[i], "*") == 0) {
            rc = dbuf_puts(b, need_slash ? "/[^/]+" : "[^/]+");
            need_slash = 1;
        } else {
            if (need_slash)
                rc = dbuf_add(b, "/", 1);
            if (rc == 0)
                rc = put_segment_glob(b, segs[i]);
            if (rc == 0 && i == end && include)
                rc = dbuf_puts(b, "(/.*)?");
            need_slash = 1;
        }
    }
    return rc ? rc : dbuf_add(b, "$", 1);
}

int pkg_ignore_translate(const char *pattern, char *out, size_t outlen, int *include)
{
    char p[PATTERN_MAX];
    size_t len = strlen(pattern);
    while (len > 0 && isspace((unsigned char)pattern[len - 1]))
        len--;
    while (len > 0 && isspace((unsigned char)*pattern)) {
        pattern++;
        len--;
    }
    if (len == 0 || pattern[0] == '#' || (len == 1 && pattern[0] == '/'))
        return 1;
    if (len >= sizeof p)
        return -EINVAL;
    memcpy(p, pattern, len);
    p[len] = '\0';
    char *q = p;
    *include = 1;
    if (*q == '!') {
        *include = 0;
        q++;
    }
    if (*q == '\\')
        q++;
    char *segs[PATTERN_MAX / 2 + 2];
    size_t n = normalize_segments(segs, split_segments(q, segs, PATTERN_MAX / 2));
    if (n == 0)
        return 1;
    dbuf b;
    dbuf_init(&b, outlen - 1);
    int rc = build_regex(segs, n, *include, &b);
    if (rc == 0)
        memcpy(out, b.data, b.len + 1);
    dbuf_free(&b);
    return rc == -EFBIG ? -ENAMETOOLONG : rc;
}

void pkg_ignore_init(pkg_ignore *ig)
{
    memset(ig, 0, sizeof *ig);
}

int pkg_ignore_add(pkg_ignore *ig, const char *pattern)
{
    char re[PATTERN_MAX * 4];
    int include;
    int rc = pkg_ignore_translate(pattern, re, sizeof re, &include);
    if (rc == 1)
        return 0;
    if (rc != 0)
        return -EINVAL;
    if (ig->n == ig->cap) {
        size_t cap = ig->cap ? ig->cap * 2 : 8;
        regex_t *r = realloc(ig->res, cap * sizeof *r);
        if (r == NULL)
            return -ENOMEM;
        ig->res = r;
        int *inc = realloc(ig->include, cap * sizeof *inc);
        if (inc == NULL)
            return -ENOMEM;
        ig->include = inc;
        ig->cap = cap;
    }
    if (regcomp(&ig->res[ig->n], re, REG_EXTENDED | REG_NOSUB) != 0)
        return -EINVAL;
    ig->include[ig->n++] = include;
    return 0;
}

int pkg_ignore_add_lines(pkg_ignore *ig, const char *text)
{
    while (*text != '\0') {
        size_t n = strcspn(text, "\n");
        char line[PATTERN_MAX];
        if (n < sizeof line) {
            memcpy(line, text, n);
            line[n] = '\0';
            int rc = pkg_ignore_add(ig, line);
            if (rc == -ENOMEM)
                return rc;
        }
        text += n + (text[n] == '\n');
    }
    return 0;
}

int pkg_ignore_match(const pkg_ignore *ig, const char *relpath)
{
    int result = 0;
    for (size_t i = 0; i < ig->n; i++)
        if (regexec(&ig->res[i], relpath, 0, NULL, 0) == 0)
            result = ig->include[i];
    return result;
}

void pkg_ignore_free(pkg_ignore *ig)
{
    for (size_t i = 0; i < ig->n; i++)
        regfree(&ig->res[i]);
    free(ig->res);
    free(ig->include);
    pkg_ignore_init(ig);
}
