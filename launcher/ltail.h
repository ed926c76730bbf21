/* The last lines of a command's output, kept in a fixed ring so that a
 * chatty command costs no memory: at most LTAIL_LINES lines of at most
 * LTAIL_WIDTH bytes each (longer lines are cut and marked). */
#ifndef RAYC_LAUNCHER_LTAIL_H
#define RAYC_LAUNCHER_LTAIL_H

#include <stddef.h>

#define LTAIL_LINES 20
#define LTAIL_WIDTH 400

typedef struct ltail {
    char lines[LTAIL_LINES][LTAIL_WIDTH + 4];
    size_t first;               /* index of the oldest line */
    size_t count;               /* complete lines held */
    char partial[LTAIL_WIDTH + 4];  /* the line being received */
    size_t partial_len;
    int partial_cut;
} ltail;

/* Empties T. */
void ltail_reset(ltail *t);

/* Adds LEN bytes of output; '\r' is dropped, '\n' ends a line. */
void ltail_feed(ltail *t, const char *buf, size_t len);

/* Calls FN for each held line, oldest first, then for an unfinished last
 * line if there is one. */
void ltail_each(const ltail *t, void (*fn)(void *data, const char *line), void *data);

/* The number of lines ltail_each would give. */
size_t ltail_count(const ltail *t);

#endif
