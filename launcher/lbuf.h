/* A growing text buffer with a hard cap, for command lines and messages. */
#ifndef RAYC_LAUNCHER_LBUF_H
#define RAYC_LAUNCHER_LBUF_H

#include <stddef.h>

typedef struct lbuf {
    char *s;            /* NUL-terminated text ("" before the first append) */
    size_t len;
    size_t alloc;
    size_t max;         /* the text never grows past this many bytes */
    int failed;         /* an append hit the cap or ran out of memory */
} lbuf;

/* Prepares B for at most MAX bytes of text. */
void lbuf_init(lbuf *b, size_t max);

/* Appends LEN bytes of S.  Returns 0, or -ENOMEM / -E2BIG (over the cap), in
 * which case B keeps what it had and remembers the failure. */
int lbuf_add(lbuf *b, const char *s, size_t len);

/* Appends the NUL-terminated S. */
int lbuf_puts(lbuf *b, const char *s);

/* Appends printf-style text. */
int lbuf_printf(lbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The text ("" when empty); valid until the next append or free. */
const char *lbuf_str(const lbuf *b);

/* Hands the text to the caller (free it) and leaves B empty; NULL when an
 * append failed or memory ran out. */
char *lbuf_take(lbuf *b);

/* Frees B's memory; B may be initialised again. */
void lbuf_free(lbuf *b);

#endif
