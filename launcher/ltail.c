/* A fixed ring of the last output lines of a command. */
#include "launcher/ltail.h"

#include <string.h>

void ltail_reset(ltail *t)
{
    memset(t, 0, sizeof *t);
}

static void push_line(ltail *t)
{
    size_t slot = (t->first + t->count) % LTAIL_LINES;
    if (t->count == LTAIL_LINES) {
        slot = t->first;
        t->first = (t->first + 1) % LTAIL_LINES;
    } else {
        t->count++;
    }
    memcpy(t->lines[slot], t->partial, t->partial_len);
    t->lines[slot][t->partial_len] = '\0';
    if (t->partial_cut)
        memcpy(t->lines[slot] + t->partial_len, "...", 4);
    t->partial_len = 0;
    t->partial_cut = 0;
}

void ltail_feed(ltail *t, const char *buf, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        char ch = buf[i];
        if (ch == '\r')
            continue;
        if (ch == '\n') {
            push_line(t);
        } else if (t->partial_len < LTAIL_WIDTH) {
            t->partial[t->partial_len++] = ch;
        } else {
            t->partial_cut = 1;
        }
    }
}

size_t ltail_count(const ltail *t)
{
    return t->count + (t->partial_len > 0);
}

void ltail_each(const ltail *t, void (*fn)(void *data, const char *line), void *data)
{
    char last[LTAIL_WIDTH + 4];
    size_t skip = t->partial_len > 0 && t->count == LTAIL_LINES ? 1 : 0;
    for (size_t i = skip; i < t->count; i++)
        fn(data, t->lines[(t->first + i) % LTAIL_LINES]);
    if (t->partial_len > 0) {
        memcpy(last, t->partial, t->partial_len);
        last[t->partial_len] = '\0';
        fn(data, last);
    }
}
