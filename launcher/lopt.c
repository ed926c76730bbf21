/* Usage errors and option parsing shared by the launcher commands. */
#include "launcher/lopt.h"

#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>

#include "common/cmdline.h"
#include "common/util.h"

int lopt_usage_error(const char *cmd, const char *usage, const char *fmt, ...)
{
    char prog[64];
    snprintf(prog, sizeof prog, "ray %s", cmd);
    va_list ap;
    va_start(ap, fmt);
    int rc = cmdline_usage_verror(prog, usage, fmt, ap);
    va_end(ap);
    return rc;
}

void lopt_reset(void)
{
    optind = 0;                 /* glibc: 0 also resets its internal state */
    opterr = 0;
}

int lopt_int(const char *cmd, const char *usage, const char *flag, const char *value,
             int *out)
{
    long v;
    if (parse_long(value, 0, INT_MAX, &v) != 0)
        return lopt_usage_error(cmd, usage, "Invalid value for '%s': '%s' is not a valid integer.",
                                flag, value);
    *out = (int)v;
    return 0;
}
