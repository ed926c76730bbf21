/* The in-memory job table: an open hash by submission id plus an ordered list. */
#include "jobserver/jobs_table.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct table_node {
    jobs_job *job;
    struct table_node *prev, *next;   /* insertion order */
    struct table_node *chain;         /* hash bucket chain */
} table_node;

struct jobs_table {
    table_node **buckets;
    size_t nbuckets;
    size_t count;
    table_node *head, *tail;
};

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull;   /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

jobs_table *jobs_table_new(void)
{
    jobs_table *t = calloc(1, sizeof *t);
    if (t == NULL)
        return NULL;
    t->nbuckets = 1024;
    t->buckets = calloc(t->nbuckets, sizeof *t->buckets);
    if (t->buckets == NULL) {
        free(t);
        return NULL;
    }
    return t;
}

void jobs_table_free(jobs_table *t)
{
    if (t == NULL)
        return;
    table_node *n = t->head;
    while (n != NULL) {
        table_node *next = n->next;
        jobs_job_free(n->job);
        free(n);
        n = next;
    }
    free(t->buckets);
    free(t);
}

static table_node *find_node(const jobs_table *t, const char *id)
{
    table_node *n = t->buckets[hash_str(id) % t->nbuckets];
    while (n != NULL && strcmp(n->job->submission_id, id) != 0)
        n = n->chain;
    return n;
}

/* Doubles the bucket array when the table gets crowded; failure is harmless. */
static void maybe_grow(jobs_table *t)
{
    if (t->count < t->nbuckets)
        return;
    size_t nb = t->nbuckets * 2;
    table_node **b = calloc(nb, sizeof *b);
    if (b == NULL)
        return;
    for (table_node *n = t->head; n != NULL; n = n->next) {
        size_t i = hash_str(n->job->submission_id) % nb;
        n->chain = b[i];
        b[i] = n;
    }
    free(t->buckets);
    t->buckets = b;
    t->nbuckets = nb;
}

int jobs_table_add(jobs_table *t, jobs_job *j)
{
    if (find_node(t, j->submission_id) != NULL)
        return -EEXIST;
    table_node *n = calloc(1, sizeof *n);
    if (n == NULL)
        return -ENOMEM;
    n->job = j;
    size_t i = hash_str(j->submission_id) % t->nbuckets;
    n->chain = t->buckets[i];
    t->buckets[i] = n;
    n->prev = t->tail;
    if (t->tail != NULL)
        t->tail->next = n;
    else
        t->head = n;
    t->tail = n;
    t->count++;
    maybe_grow(t);
    return 0;
}

jobs_job *jobs_table_get(const jobs_table *t, const char *submission_id)
{
    table_node *n = find_node(t, submission_id);
    return n ? n->job : NULL;
}

jobs_job *jobs_table_find(const jobs_table *t, const char *id)
{
    jobs_job *j = jobs_table_get(t, id);
    for (table_node *n = t->head; j == NULL && n != NULL; n = n->next)
        if (n->job->job_id != NULL && strcmp(n->job->job_id, id) == 0)
            j = n->job;
    return j;
}

void jobs_table_remove(jobs_table *t, jobs_job *j)
{
    size_t i = hash_str(j->submission_id) % t->nbuckets;
    table_node **pp = &t->buckets[i];
    while (*pp != NULL && (*pp)->job != j)
        pp = &(*pp)->chain;
    table_node *n = *pp;
    if (n == NULL)
        return;
    *pp = n->chain;
    if (n->prev) n->prev->next = n->next; else t->head = n->next;
    if (n->next) n->next->prev = n->prev; else t->tail = n->prev;
    t->count--;
    free(n);
}

size_t jobs_table_count(const jobs_table *t)
{
    return t->count;
}

jobs_job *jobs_table_first(const jobs_table *t)
{
    return t->head ? t->head->job : NULL;
}

jobs_job *jobs_table_next(const jobs_table *t, const jobs_job *j)
{
    table_node *n = find_node(t, j->submission_id);
    return n && n->next ? n->next->job : NULL;
}
