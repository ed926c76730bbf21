/* A growing byte buffer with a hard size cap, and JSON string escaping. */
#include "jobserver/jobs_buf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void jobs_buf_init(jobs_buf *b, size_t max)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
}

/* Makes room for N more bytes plus a NUL. */
static int buf_reserve(jobs_buf *b, size_t n)
{
    if (n > b->max || b->len > b->max - n)
        return -EFBIG;
    size_t need = b->len + n + 1;
    if (need <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    char *p = realloc(b->data, cap);
    if (p == NULL)
        return -ENOMEM;
    b->data = p;
    b->cap = cap;
    return 0;
}

int jobs_buf_append(jobs_buf *b, const void *p, size_t n)
{
    int rc = buf_reserve(b, n);
    if (rc != 0)
        return rc;
    if (n > 0)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int jobs_buf_puts(jobs_buf *b, const char *s)
{
    return jobs_buf_append(b, s, strlen(s));
}

int jobs_buf_printf(jobs_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return -EINVAL;
    int rc = buf_reserve(b, (size_t)n);
    if (rc != 0)
        return rc;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

/* Length of the valid UTF-8 sequence starting at S (at most N bytes), or 0
 * when the bytes there are not valid UTF-8. */
static size_t utf8_seq_len(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    size_t len;
    uint32_t cp;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
        cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

size_t jobs_utf8_valid_prefix(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        size_t l = utf8_seq_len(u + i, n - i);
        if (l == 0)
            break;
        i += l;
    }
    return i;
}

/* Appends the escape for one ASCII byte C that JSON requires escaping. */
static int json_escape_byte(jobs_buf *b, unsigned char c)
{
    switch (c) {
    case '"': return jobs_buf_append(b, "\\\"", 2);
    case '\\': return jobs_buf_append(b, "\\\\", 2);
    case '\n': return jobs_buf_append(b, "\\n", 2);
    case '\r': return jobs_buf_append(b, "\\r", 2);
    case '\t': return jobs_buf_append(b, "\\t", 2);
    case '\b': return jobs_buf_append(b, "\\b", 2);
    case '\f': return jobs_buf_append(b, "\\f", 2);
    default: return jobs_buf_printf(b, "\\u%04x", c);
    }
}

int jobs_buf_json_string(jobs_buf *b, const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    int rc = jobs_buf_append(b, "\"", 1);
    size_t run = 0; /* start of the pending run of bytes copied verbatim */
    size_t i = 0;
    while (rc == 0 && i < n) {
        unsigned char c = u[i];
        size_t l = c >= 0x80 ? utf8_seq_len(u + i, n - i) : 1;
        int plain = l > 1 || (l == 1 && c >= 0x20 && c != '"' && c != '\\');
        if (plain) {
            i += l;
            continue;
        }
        rc = jobs_buf_append(b, s + run, i - run);
        if (rc == 0)
            rc = l == 0 ? jobs_buf_append(b, "\\ufffd", 6) : json_escape_byte(b, c);
        i++;
        run = i;
    }
    if (rc == 0)
        rc = jobs_buf_append(b, s + run, n - run);
    if (rc == 0)
        rc = jobs_buf_append(b, "\"", 1);
    return rc;
}

int jobs_buf_append_utf8(jobs_buf *b, const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, run = 0;
    int rc = 0;
    while (rc == 0 && i < n) {
        size_t l = utf8_seq_len(u + i, n - i);
        if (l > 0) {
            i += l;
            continue;
        }
        rc = jobs_buf_append(b, s + run, i - run);
        if (rc == 0)
            rc = jobs_buf_append(b, "\xef\xbf\xbd", 3);
        run = ++i;
    }
    return rc ? rc : jobs_buf_append(b, s + run, n - run);
}

int jobs_buf_json_str_or_null(jobs_buf *b, const char *s)
{
    if (s == NULL)
        return jobs_buf_append(b, "null", 4);
    return jobs_buf_json_string(b, s, strlen(s));
}

char *jobs_buf_steal(jobs_buf *b, size_t *len)
{
    if (b->data == NULL && jobs_buf_append(b, "", 0) != 0)
        return NULL;
    char *p = b->data;
    if (len != NULL)
        *len = b->len;
    b->data = NULL;
    b->len = b->cap = 0;
    return p;
}

void jobs_buf_free(jobs_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}
