/* Interned strings (see strtab.h). */
#include "common/strtab.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/ids.h"

void strtab_init(strtab *t, size_t max, size_t maxlen)
{
    t->slots = NULL;
    t->n = t->nslots = 0;
    t->max = max;
    t->maxlen = maxlen;
}

/* The slot of S's first LEN bytes in SLOTS (NSLOTS, a power of two): its
 * copy or the free slot where it goes. */
static size_t slot_of(char *const *slots, size_t nslots, const char *s, size_t len)
{
    size_t j = (size_t)ids_hash(s, len) & (nslots - 1);
    while (slots[j] != NULL && !(strncmp(slots[j], s, len) == 0 && slots[j][len] == '\0'))
        j = (j + 1) & (nslots - 1);
    return j;
}

static int grow(strtab *t)
{
    size_t n = t->nslots ? t->nslots * 2 : 256;
    char **slots = calloc(n, sizeof *slots);
    if (slots == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < t->nslots; i++)
        if (t->slots[i] != NULL)
            slots[slot_of(slots, n, t->slots[i], strlen(t->slots[i]))] = t->slots[i];
    free(t->slots);
    t->slots = slots;
    t->nslots = n;
    return 0;
}

int strtab_intern(strtab *t, const char *s, const char **out)
{
    size_t len = strnlen(s, t->maxlen);
    if (t->nslots != 0) {
        size_t j = slot_of(t->slots, t->nslots, s, len);
        if (t->slots[j] != NULL) {
            *out = t->slots[j];
            return 0;
        }
    }
    if (t->n >= t->max)
        return -E2BIG;
    int rc = t->n * 2 >= t->nslots ? grow(t) : 0;
    if (rc != 0)
        return rc;
    char *copy = strndup(s, len);
    if (copy == NULL)
        return -ENOMEM;
    t->slots[slot_of(t->slots, t->nslots, s, len)] = copy;
    t->n++;
    *out = copy;
    return 0;
}

void strtab_free(strtab *t)
{
    for (size_t i = 0; i < t->nslots; i++)
        free(t->slots[i]);
    free(t->slots);
    strtab_init(t, t->max, t->maxlen);
}
