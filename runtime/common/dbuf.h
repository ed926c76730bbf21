/* One growing byte buffer with a hard size cap (curl's dynbuf idea), for
 * every module that builds text or collects bytes: HTTP bodies, JSON, shell
 * command lines. */
#ifndef RAYC_COMMON_DBUF_H
#define RAYC_COMMON_DBUF_H

#include <stddef.h>

typedef struct dbuf {
    char *data;     /* NUL-terminated contents; NULL before the first append */
    size_t len;
    size_t alloc;   /* bytes allocated at DATA */
    size_t max;     /* the contents never grow past this many bytes */
    int failed;     /* an append hit the cap or ran out of memory */
} dbuf;

/* Starts an empty buffer that may hold at most MAX bytes. */
void dbuf_init(dbuf *b, size_t max);

/* Appends N bytes of P.  Returns 0, -EFBIG when the cap would be passed or
 * -ENOMEM.  On error the contents are unchanged and the failure is
 * remembered, so dbuf_take returns NULL: a caller may append several pieces
 * and check once, at the take. */
int dbuf_add(dbuf *b, const void *p, size_t n);

/* Appends the NUL-terminated S; same errors as dbuf_add. */
int dbuf_puts(dbuf *b, const char *s);

/* Appends printf-style text; same errors as dbuf_add (-EINVAL for a bad
 * format). */
int dbuf_printf(dbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The contents ("" when empty); valid until the next append, take or free. */
const char *dbuf_str(const dbuf *b);

/* Hands the contents to the caller (free them; an empty buffer gives "") and
 * leaves B empty with the same cap.  *LEN (may be NULL) gets the length.
 * Returns NULL when an append failed or memory ran out. */
char *dbuf_take(dbuf *b, size_t *len);

/* Frees the contents; B is empty again with the same cap. */
void dbuf_free(dbuf *b);

#endif
