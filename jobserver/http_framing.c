/* Unambiguous body length and NUL-free request targets (RFC 9112 6.1-6.3). */
#include "jobserver/http_framing.h"

#include <stddef.h>
#include <string.h>
#include <strings.h>

void http_framing_init(http_framing *f)
{
    memset(f, 0, sizeof *f);
}

static void fail(http_framing *f, const char *why)
{
    if (f->bad == NULL)
        f->bad = why;
}

/* The next element of the comma-separated list at *P without surrounding
 * spaces and tabs: stores its start and length and advances *P past it.
 * Returns 0 at the end of the list. */
static int next_element(const char **p, const char **start, size_t *len)
{
    const char *s = *p;
    if (*s == '\0')
        return 0;
    const char *comma = strchr(s, ',');
    const char *end = comma != NULL ? comma : s + strlen(s);
    *p = comma != NULL ? comma + 1 : end;
    while (s < end && (*s == ' ' || *s == '\t'))
        s++;
    while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    *start = s;
    *len = (size_t)(end - s);
    return 1;
}

/* Parses LEN decimal digits at S into *OUT; -1 unless all digits and below 2^63. */
static int parse_length(const char *s, size_t len, uint64_t *out)
{
    if (len == 0 || len > 18)
        return -1;
    uint64_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        n = n * 10 + (uint64_t)(s[i] - '0');
    }
    *out = n;
    return 0;
}

static void add_length(http_framing *f, const char *value)
{
    const char *p = value, *s;
    size_t len;
    int any = 0;
    while (next_element(&p, &s, &len)) {
        uint64_t n;
        any = 1;
        if (parse_length(s, len, &n) != 0) {
            fail(f, "Content-Length must be a non-negative decimal number");
            return;
        }
        if (f->n_length > 0 && n != f->length)
            fail(f, "conflicting Content-Length values");
        if (f->n_length++ == 0)
            f->length = n;
    }
    if (!any)
        fail(f, "Content-Length must be a non-negative decimal number");
}

static void add_coding(http_framing *f, const char *value)
{
    const char *p = value, *s;
    size_t len;
    int any = 0;
    while (next_element(&p, &s, &len)) {
        if (len == 0)
            continue;   /* empty list elements do not count (RFC 9110 5.6.1) */
        any = 1;
        f->n_coding++;
        if (len != 7 || strncasecmp(s, "chunked", 7) != 0)
            fail(f, "unsupported Transfer-Encoding (only chunked is accepted)");
    }
    if (!any)
        fail(f, "unsupported Transfer-Encoding (only chunked is accepted)");
}

void http_framing_add(http_framing *f, const char *name, const char *value)
{
    if (name == NULL || value == NULL)
        return;
    if (strcasecmp(name, "Content-Length") == 0)
        add_length(f, value);
    else if (strcasecmp(name, "Transfer-Encoding") == 0)
        add_coding(f, value);
}

const char *http_framing_verdict(const http_framing *f)
{
    if (f->bad != NULL)
        return f->bad;
    if (f->n_coding > 0 && f->n_length > 0)
        return "Content-Length together with Transfer-Encoding";
    if (f->n_coding > 1)
        return "chunked may be applied only once";
    return NULL;
}

const char *http_framing_check_target(const char *target)
{
    for (const char *p = target; p != NULL && (p = strchr(p, '%')) != NULL; p++)
        if (p[1] == '0' && p[2] == '0')
            return "the request target encodes a NUL byte (%00)";
    return NULL;
}
