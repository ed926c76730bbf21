/* JSON string escaping and UTF-8 repair onto a common dbuf. */
#ifndef RAYC_JOBSERVER_JOBS_BUF_H
#define RAYC_JOBSERVER_JOBS_BUF_H

#include <stddef.h>

#include "common/dbuf.h"

/* Appends S (N bytes) as a quoted JSON string.  Bytes that are not valid
 * UTF-8 become U+FFFD so the output is always valid JSON.  Errors are
 * dbuf_add's. */
int jobs_buf_json_string(dbuf *b, const char *s, size_t n);

/* Appends S (N bytes) with every byte that is not valid UTF-8 replaced by U+FFFD. */
int jobs_buf_append_utf8(dbuf *b, const char *s, size_t n);

/* Appends S as a JSON string, or `null` when S is NULL. */
int jobs_buf_json_str_or_null(dbuf *b, const char *s);

/* Length of the longest prefix of S (N bytes) that is valid UTF-8 and does not
 * end inside a multi-byte sequence. */
size_t jobs_utf8_valid_prefix(const char *s, size_t n);

#endif
