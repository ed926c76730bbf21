/* One growing byte buffer with a hard size cap. */
#include "common/dbuf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void dbuf_init(dbuf *b, size_t max)
{
    memset(b, 0, sizeof *b);
    b->max = max;
}

/* Records a failed append and returns RC. */
static int fail(dbuf *b, int rc)
{
    b->failed = 1;
    return rc;
}

/* Makes room for N more bytes plus a NUL. */
static int reserve(dbuf *b, size_t n)
{
    if (n > b->max || b->len > b->max - n)
        return fail(b, -EFBIG);
    size_t need = b->len + n + 1;
    if (need <= b->alloc)
        return 0;
    size_t want = b->alloc ? b->alloc : 256;
    while (want < need)
        want = want > SIZE_MAX / 2 ? need : want * 2;
    char *p = realloc(b->data, want);
    if (p == NULL)
        return fail(b, -ENOMEM);
    b->data = p;
    b->alloc = want;
    return 0;
}

int dbuf_add(dbuf *b, const void *p, size_t n)
{
    int rc = reserve(b, n);
    if (rc != 0)
        return rc;
    if (n > 0)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int dbuf_puts(dbuf *b, const char *s)
{
    return dbuf_add(b, s, strlen(s));
}

int dbuf_printf(dbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return fail(b, -EINVAL);
    int rc = reserve(b, (size_t)n);
    if (rc != 0)
        return rc;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

const char *dbuf_str(const dbuf *b)
{
    return b->data != NULL ? b->data : "";
}

char *dbuf_take(dbuf *b, size_t *len)
{
    if (!b->failed && b->data == NULL)
        dbuf_add(b, "", 0);
    char *p = b->failed ? NULL : b->data;
    if (p != NULL && len != NULL)
        *len = b->len;
    if (p == NULL)
        free(b->data);
    dbuf_init(b, b->max);
    return p;
}

void dbuf_free(dbuf *b)
{
    free(b->data);
    dbuf_init(b, b->max);
}
