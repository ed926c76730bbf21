/* JSON string escaping and UTF-8 repair onto a common dbuf. */
#include "jobserver/jobs_buf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
static int json_escape_byte(dbuf *b, unsigned char c)
{
    switch (c) {
    case '"': return dbuf_add(b, "\\\"", 2);
    case '\\': return dbuf_add(b, "\\\\", 2);
    case '\n': return dbuf_add(b, "\\n", 2);
    case '\r': return dbuf_add(b, "\\r", 2);
    case '\t': return dbuf_add(b, "\\t", 2);
    case '\b': return dbuf_add(b, "\\b", 2);
    case '\f': return dbuf_add(b, "\\f", 2);
    default: return dbuf_printf(b, "\\u%04x", c);
    }
}

int jobs_buf_json_string(dbuf *b, const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    int rc = dbuf_add(b, "\"", 1);
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
        rc = dbuf_add(b, s + run, i - run);
        if (rc == 0)
            rc = l == 0 ? dbuf_add(b, "\\ufffd", 6) : json_escape_byte(b, c);
        i++;
        run = i;
    }
    if (rc == 0)
        rc = dbuf_add(b, s + run, n - run);
    if (rc == 0)
        rc = dbuf_add(b, "\"", 1);
    return rc;
}

int jobs_buf_append_utf8(dbuf *b, const char *s, size_t n)
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
        rc = dbuf_add(b, s + run, i - run);
        if (rc == 0)
            rc = dbuf_add(b, "\xef\xbf\xbd", 3);
        run = ++i;
    }
    return rc ? rc : dbuf_add(b, s + run, n - run);
}

int jobs_buf_json_str_or_null(dbuf *b, const char *s)
{
    if (s == NULL)
        return dbuf_add(b, "null", 4);
    return jobs_buf_json_string(b, s, strlen(s));
}
