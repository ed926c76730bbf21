/* What the objects example's driver and task library share: the words of
 * the generated text. */
#ifndef OBJECTS_H
#define OBJECTS_H

#include <stddef.h>
#include <string.h>

static const char *const objects_vocab[] = {
    "the", "ray", "task", "actor", "object", "store", "node", "cluster",
    "worker", "driver", "value", "ref",
};
#define OBJECTS_VOCAB (sizeof objects_vocab / sizeof objects_vocab[0])

/* The vocabulary index of the word at P of LEN bytes, or -1. */
static inline int objects_word_index(const char *p, size_t len)
{
    for (size_t i = 0; i < OBJECTS_VOCAB; i++)
        if (strlen(objects_vocab[i]) == len && memcmp(objects_vocab[i], p, len) == 0)
            return (int)i;
    return -1;
}

/* Counts the words of TEXT[0..N) that start in [START, END) into COUNTS.
 * A word that starts before END is counted whole, so chunks that split a
 * word count it exactly once. */
static inline void objects_count(const char *text, size_t n, size_t start, size_t end,
                                 long long counts[OBJECTS_VOCAB])
{
    size_t i = start;
    if (i > 0)                         /* inside a word: it belongs to the left */
        while (i < n && text[i - 1] != ' ')
            i++;
    while (i < end && i < n) {
        size_t j = i;
        while (j < n && text[j] != ' ')
            j++;
        int w = objects_word_index(text + i, j - i);
        if (w >= 0)
            counts[w]++;
        i = j + 1;
    }
}

#endif
