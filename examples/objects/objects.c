/* objects: a small map-reduce over one large object.
 *
 * The driver generates a text of N words, puts it in the object store once
 * (ray_put copies it into shared memory), then runs one count_words task per
 * chunk, each receiving a reference to the same object — workers read it
 * zero-copy — and adds up the counts.  The result is checked against a
 * count made in the driver.
 *
 *   RAY_ADDRESS=127.0.0.1:6379 ./objects [WORDS] [CHUNKS]
 *   ray job submit --working-dir examples/objects -- ./objects */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <ray/ray.h>

#include "objects.h"

/* Writes WORDS words from the vocabulary (a skewed, repeatable choice) into
 * a new buffer; *LEN gets its size. */
static char *make_text(long words, size_t *len)
{
    char *text = malloc((size_t)words * 8 + 1);
    if (text == NULL)
        return NULL;
    uint32_t x = 12345;
    size_t off = 0;
    for (long i = 0; i < words; i++) {
        x = x * 1664525u + 1013904223u;
        uint32_t r = x >> 16, pick = 0;
        while (pick + 1 < OBJECTS_VOCAB && (r & 1)) { /* word k with probability 2^-(k+1) */
            pick++;
            r >>= 1;
        }
        size_t wl = strlen(objects_vocab[pick]);
        memcpy(text + off, objects_vocab[pick], wl);
        off += wl;
        text[off++] = ' ';
    }
    *len = off;
    return text;
}

/* Runs the map tasks and sums their counts into TOTAL. */
static int map_reduce(ray_ref *text, size_t len, long chunks, long long total[OBJECTS_VOCAB])
{
    ray_ref **refs = calloc((size_t)chunks, sizeof *refs);
    int rc = refs ? RAY_OK : RAY_ERR_NOMEM;
    size_t step = (len + (size_t)chunks - 1) / (size_t)chunks;
    for (long i = 0; i < chunks && rc == RAY_OK; i++) {
        int64_t start = (int64_t)((size_t)i * step), end = (int64_t)((size_t)(i + 1) * step);
        refs[i] = ray_call("count_words", RAY_ARGS(ray_ref_arg(text), ray_i64(start),
                                                   ray_i64(end)), NULL);
        if (refs[i] == NULL)
            rc = RAY_ERR_CONNECTION;
    }
    for (long i = 0; i < chunks && rc == RAY_OK; i++) {
        ray_value v;
        rc = ray_get(refs[i], 120, &v);
        if (rc == RAY_OK && v.len == sizeof(long long) * OBJECTS_VOCAB) {
            const long long *c = v.data;
            for (size_t w = 0; w < OBJECTS_VOCAB; w++)
                total[w] += c[w];
        }
        ray_value_release(&v);
    }
    for (long i = 0; refs && i < chunks; i++)
        ray_ref_release(refs[i]);
    free(refs);
    return rc;
}

int main(int argc, char **argv)
{
    long words = argc > 1 ? strtol(argv[1], NULL, 10) : 2000000;
    long chunks = argc > 2 ? strtol(argv[2], NULL, 10) : 16;
    size_t len;
    if (words < 1 || words > 100000000 || chunks < 1 || chunks > 10000) {
        fprintf(stderr, "usage: objects [WORDS] [CHUNKS]\n");
        return 2;
    }
    char *text = make_text(words, &len);
    if (text == NULL || ray_init(NULL) != RAY_OK) {
        fprintf(stderr, "objects: %s\n", text ? ray_last_error() : "out of memory");
        return 1;
    }
    ray_ref *ref = ray_put(ray_bytes(text, len));
    long long total[OBJECTS_VOCAB] = {0}, local[OBJECTS_VOCAB] = {0};
    int rc = ref ? map_reduce(ref, len, chunks, total) : RAY_ERR_STORE_FULL;
    if (rc != RAY_OK) {
        fprintf(stderr, "objects: %s: %s\n", ray_status_name(rc), ray_last_error());
    } else {
        objects_count(text, len, 0, len, local);
        printf("%ld words (%zu bytes) counted in %ld chunks:\n", words, len, chunks);
        for (size_t w = 0; w < OBJECTS_VOCAB; w++) {
            printf("  %-8s %lld\n", objects_vocab[w], total[w]);
            if (total[w] != local[w])
                rc = RAY_ERR_INVALID;
        }
        printf(rc == RAY_OK ? "counts match the driver's own count\n"
                            : "MISMATCH with the driver's own count\n");
    }
    ray_ref_release(ref);
    ray_shutdown();
    free(text);
    return rc == RAY_OK ? 0 : 1;
}
