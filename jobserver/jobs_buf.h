/* A growing byte buffer with a hard size cap, and JSON string escaping. */
#ifndef RAYC_JOBSERVER_JOBS_BUF_H
#define RAYC_JOBSERVER_JOBS_BUF_H

#include <stddef.h>

typedef struct jobs_buf {
    char *data;     /* NUL-terminated while len < cap; NULL until first append */
    size_t len;
    size_t cap;
    size_t max;     /* appends that would pass this many bytes fail */
} jobs_buf;

/* Starts an empty buffer that may hold at most MAX bytes. */
void jobs_buf_init(jobs_buf *b, size_t max);

/* Appends N bytes.  Returns 0, -EFBIG when the cap would be passed (the
 * buffer is unchanged) or -ENOMEM. */
int jobs_buf_append(jobs_buf *b, const void *p, size_t n);

/* Appends a NUL-terminated string; same errors as jobs_buf_append. */
int jobs_buf_puts(jobs_buf *b, const char *s);

/* Appends formatted text; same errors as jobs_buf_append. */
int jobs_buf_printf(jobs_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Appends S (N bytes) as a quoted JSON string.  Bytes that are not valid
 * UTF-8 become U+FFFD so the output is always valid JSON. */
int jobs_buf_json_string(jobs_buf *b, const char *s, size_t n);

/* Appends S (N bytes) with every byte that is not valid UTF-8 replaced by U+FFFD. */
int jobs_buf_append_utf8(jobs_buf *b, const char *s, size_t n);

/* Appends S as a JSON string, or `null` when S is NULL. */
int jobs_buf_json_str_or_null(jobs_buf *b, const char *s);

/* Returns the contents (caller frees; never NULL on success: an empty buffer
 * yields "") and leaves B empty.  Returns NULL only when out of memory. */
char *jobs_buf_steal(jobs_buf *b, size_t *len);

/* Frees the contents; B may be reused after jobs_buf_init. */
void jobs_buf_free(jobs_buf *b);

/* Length of the longest prefix of S (N bytes) that is valid UTF-8 and does not
 * end inside a multi-byte sequence. */
size_t jobs_utf8_valid_prefix(const char *s, size_t n);

#endif
