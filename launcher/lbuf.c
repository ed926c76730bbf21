/* A growing text buffer with a hard cap. */
#include "launcher/lbuf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void lbuf_init(lbuf *b, size_t max)
{
    memset(b, 0, sizeof *b);
    b->max = max;
}

int lbuf_add(lbuf *b, const char *s, size_t len)
{
    if (b->failed)
        return -E2BIG;
    if (len > b->max - b->len) {
        b->failed = 1;
        return -E2BIG;
    }
    if (b->len + len + 1 > b->alloc) {
        size_t want = b->alloc ? b->alloc : 256;
        while (want < b->len + len + 1)
            want *= 2;
        char *bigger = realloc(b->s, want);
        if (bigger == NULL) {
            b->failed = 1;
            return -ENOMEM;
        }
        b->s = bigger;
        b->alloc = want;
    }
    memcpy(b->s + b->len, s, len);
    b->len += len;
    b->s[b->len] = '\0';
    return 0;
}

int lbuf_puts(lbuf *b, const char *s)
{
    return lbuf_add(b, s, strlen(s));
}

int lbuf_printf(lbuf *b, const char *fmt, ...)
{
    char small[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->failed = 1;
        return -EINVAL;
    }
    if ((size_t)n < sizeof small)
        return lbuf_add(b, small, (size_t)n);
    char *big = malloc((size_t)n + 1);
    if (big == NULL) {
        b->failed = 1;
        return -ENOMEM;
    }
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    int rc = lbuf_add(b, big, (size_t)n);
    free(big);
    return rc;
}

const char *lbuf_str(const lbuf *b)
{
    return b->s != NULL ? b->s : "";
}

char *lbuf_take(lbuf *b)
{
    char *s = b->failed ? NULL : b->s;
    if (s == NULL && !b->failed)
        s = strdup("");
    if (b->failed)
        free(b->s);
    size_t max = b->max;
    lbuf_init(b, max);
    return s;
}

void lbuf_free(lbuf *b)
{
    free(b->s);
    lbuf_init(b, b->max);
}
