/* YAML 1.1 plain scalars typed as PyYAML's resolver types them. */
#include "common/yscalar.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int is_one_of(const char *s, const char *const *words)
{
    for (; *words != NULL; words++)
        if (strcmp(s, *words) == 0)
            return 1;
    return 0;
}

static const char *const true_words[] = {"yes", "Yes", "YES", "true", "True", "TRUE",
                                         "on", "On", "ON", "y", "Y", NULL};
static const char *const false_words[] = {"no", "No", "NO", "false", "False", "FALSE",
                                          "off", "Off", "OFF", "n", "N", NULL};
static const char *const null_words[] = {"", "~", "null", "Null", "NULL", NULL};

int yscalar_bool(const char *s, int *out)
{
    /* PyYAML does not read a lone y/n as a boolean; neither do we. */
    if (strlen(s) > 1 && is_one_of(s, true_words)) {
        *out = 1;
        return 0;
    }
    if (strlen(s) > 1 && is_one_of(s, false_words)) {
        *out = 0;
        return 0;
    }
    return -EINVAL;
}

/* Copies S without underscores into BUF; returns -EINVAL when too long. */
static int strip_underscores(const char *s, char *buf, size_t buflen)
{
    size_t j = 0;
    for (; *s != '\0'; s++) {
        if (*s == '_')
            continue;
        if (j + 1 >= buflen)
            return -EINVAL;
        buf[j++] = *s;
    }
    buf[j] = '\0';
    return j > 0 ? 0 : -EINVAL;
}

int yscalar_int(const char *text, long long *out)
{
    char buf[64], *end;
    if (strip_underscores(text, buf, sizeof buf) != 0)
        return -EINVAL;
    const char *s = buf;
    int neg = 0, base = 10;
    if (*s == '+' || *s == '-')
        neg = *s++ == '-';
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
        base = 16, s += 2;
    else if (s[0] == '0' && (s[1] == 'o' || s[1] == 'O'))
        base = 8, s += 2;
    else if (s[0] == '0' && s[1] != '\0')
        base = 8, s += 1;               /* YAML 1.1 octal, as PyYAML */
    if (*s == '\0' || *s == '-' || *s == '+')
        return -EINVAL;
    errno = 0;
    long long v = strtoll(s, &end, base);
    if (errno != 0 || *end != '\0')
        return -EINVAL;
    *out = neg ? -v : v;
    return 0;
}

int yscalar_number(const char *text, double *out)
{
    long long i;
    if (yscalar_int(text, &i) == 0) {
        *out = (double)i;
        return 0;
    }
    char buf[64], *end;
    if (strip_underscores(text, buf, sizeof buf) != 0)
        return -EINVAL;
    const char *lower = buf[0] == '+' || buf[0] == '-' ? buf + 1 : buf;
    if (strcasecmp(lower, ".inf") == 0) {
        *out = buf[0] == '-' ? -INFINITY : INFINITY;
        return 0;
    }
    if (strcasecmp(buf, ".nan") == 0) {
        *out = NAN;
        return 0;
    }
    /* A float needs a digit; "1e5" without a dot is a string in YAML 1.1,
     * but PyYAML-written files rarely rely on that, so it is accepted. */
    if (strpbrk(buf, "0123456789") == NULL || strpbrk(buf, "xXpP") != NULL)
        return -EINVAL;
    errno = 0;
    double d = strtod(buf, &end);
    if (errno != 0 || *end != '\0')
        return -EINVAL;
    *out = d;
    return 0;
}

yscalar_type yscalar_type_of(const char *s)
{
    int b;
    long long i;
    double d;
    if (is_one_of(s, null_words))
        return YSCALAR_NULL;
    if (yscalar_bool(s, &b) == 0)
        return YSCALAR_BOOL;
    if (yscalar_int(s, &i) == 0)
        return YSCALAR_INT;
    if (yscalar_number(s, &d) == 0)
        return YSCALAR_FLOAT;
    return YSCALAR_STR;
}
