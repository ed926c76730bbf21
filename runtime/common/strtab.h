/* Interned strings: each distinct string is stored once and lives until the
 * table is freed, so records that repeat a name (a function, a node id) hold
 * a pointer instead of a copy.  Open addressing on ids_hash, doubled at
 * half full, with a cap on how many strings it keeps. */
#ifndef RAYC_COMMON_STRTAB_H
#define RAYC_COMMON_STRTAB_H

#include <stddef.h>

typedef struct strtab {
    char **slots;
    size_t n, nslots;
    size_t max;            /* most distinct strings kept */
    size_t maxlen;         /* a longer string is kept cut to this many bytes */
} strtab;

/* Makes T empty; it keeps at most MAX strings of at most MAXLEN bytes each.
 * It owns no memory until the first strtab_intern. */
void strtab_init(strtab *t, size_t max, size_t maxlen);

/* Stores in *OUT the table's copy of S (cut to MAXLEN bytes), adding it
 * when new.  The copy belongs to T and lives until strtab_free.  Returns 0,
 * -E2BIG when S is new and T already holds MAX strings, or -ENOMEM; on error
 * *OUT and T are unchanged. */
int strtab_intern(strtab *t, const char *s, const char **out);

/* Frees every string of T and leaves it empty. */
void strtab_free(strtab *t);

#endif
