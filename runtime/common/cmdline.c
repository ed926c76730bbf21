/* Command lines: getopt_long with exact long names, and Ray's usage error. */
#include "common/cmdline.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void cmdline_reset(void)
{
    optind = 0; /* glibc: 0 also resets getopt's internal state */
    opterr = 0;
}

int cmdline_name_len(const char *word)
{
    return (int)strcspn(word, "=");
}

/* True when WORD is "--NAME" or "--NAME=...", not an abbreviation. */
static int whole_name(const char *word, const char *name)
{
    size_t n = strlen(name);
    return strncmp(word, "--", 2) == 0 && strncmp(word + 2, name, n) == 0 &&
           (word[2 + n] == '\0' || word[2 + n] == '=');
}

/* The long option of LONGOPTS that WORD names exactly, or NULL. */
static const struct option *find_exact(const struct option *longopts, const char *word)
{
    for (const struct option *o = longopts; o != NULL && o->name != NULL; o++)
        if (whole_name(word, o->name))
            return o;
    return NULL;
}

int cmdline_next(int argc, char **argv, const char *shortopts, const struct option *longopts,
                 const char **word)
{
    int idx = -1;
    opterr = 0;
    int c = getopt_long(argc, argv, shortopts, longopts, &idx);
    if (c == -1)
        return CMDLINE_END;
    const char *w = argv[optind - 1];
    if (c == ':') {
        *word = w;
        return CMDLINE_MISSING;
    }
    if (c == '?') {
        const struct option *o = find_exact(longopts, w);
        *word = w;
        return o != NULL && o->has_arg == no_argument && strchr(w, '=') ? CMDLINE_NOT_VALUED
                                                                          : CMDLINE_UNKNOWN;
    }
    if (idx >= 0) {
        /* "--flag value": optarg is the next word itself, not inside W. */
        if (longopts[idx].has_arg != no_argument && optarg == argv[optind - 1] && optind >= 2)
            w = argv[optind - 2];
        *word = w;
        if (!whole_name(w, longopts[idx].name))
            return CMDLINE_UNKNOWN;
        return c;
    }
    *word = w;
    return c;
}

int cmdline_usage_verror(const char *prog, const char *usage, const char *fmt, va_list ap)
{
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    fprintf(stderr, "Usage: %s %s\nTry '%s --help' for help.\n\nError: %s\n", prog, usage, prog,
            msg);
    return CMDLINE_USAGE;
}

int cmdline_usage_error(const char *prog, const char *usage, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = cmdline_usage_verror(prog, usage, fmt, ap);
    va_end(ap);
    return rc;
}

int cmdline_option_error(const char *prog, const char *usage, int rc, const char *word)
{
    if (rc == CMDLINE_MISSING)
        return cmdline_usage_error(prog, usage, "Option '%s' requires an argument.", word);
    int n = cmdline_name_len(word);
    if (rc == CMDLINE_NOT_VALUED)
        return cmdline_usage_error(prog, usage, "Option '%.*s' does not take a value.", n, word);
    return cmdline_usage_error(prog, usage, "No such option: %.*s", n, word);
}
