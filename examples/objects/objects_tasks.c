/* The objects example's task library: the map step of a word count. */
#include <stdint.h>

#include <ray/ray.h>

#include "objects.h"

/* count_words(text, start, end): counts the words starting in [start, end)
 * of the shared text and returns one 64-bit counter per vocabulary word.
 * TEXT arrives as a read-only view of the object store: no copy. */
static int count_words(ray_ctx *c)
{
    const void *text;
    size_t n;
    int64_t start, end;
    if (ray_arg_bytes(c, 0, &text, &n) != RAY_OK || ray_arg_i64(c, 1, &start) != RAY_OK ||
        ray_arg_i64(c, 2, &end) != RAY_OK || start < 0 || end < start)
        return ray_error(c, "count_words: want (text, start, end)");
    long long counts[OBJECTS_VOCAB] = {0};
    objects_count(text, n, (size_t)start, (size_t)end, counts);
    return ray_return_bytes(c, counts, sizeof counts);
}
RAY_REMOTE(count_words);
