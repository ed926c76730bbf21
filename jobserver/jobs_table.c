/* The in-memory job table: a common/htab by submission id plus an ordered list. */
#include "jobserver/jobs_table.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/htab.h"

typedef struct table_node {
    jobs_job *job;
    struct table_node *prev, *next;   /* insertion order */
    htab_node link;                   /* in jobs_table.index */
} table_node;

struct jobs_table {
    htab index;                       /* table_node.link by submission id */
    table_node *head, *tail;
};

jobs_table *jobs_table_new(void)
{
    jobs_table *t = calloc(1, sizeof *t);
    if (t == NULL)
        return NULL;
    if (htab_reserve(&t->index, 1024) != 0) {
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
    htab_free(&t->index);
    free(t);
}

static int node_eq(const htab_node *link, const void *id)
{
    return strcmp(htab_entry(link, table_node, link)->job->submission_id, id) == 0;
}

static table_node *find_node(const jobs_table *t, const char *id)
{
    htab_node *link = htab_find(&t->index, htab_hash_str(id), id, node_eq);
    return link ? htab_entry(link, table_node, link) : NULL;
}

int jobs_table_add(jobs_table *t, jobs_job *j)
{
    if (find_node(t, j->submission_id) != NULL)
        return -EEXIST;
    table_node *n = calloc(1, sizeof *n);
    if (n == NULL)
        return -ENOMEM;
    n->job = j;
    if (htab_insert(&t->index, &n->link, htab_hash_str(j->submission_id)) != 0) {
        free(n);
        return -ENOMEM;
    }
    n->prev = t->tail;
    if (t->tail != NULL)
        t->tail->next = n;
    else
        t->head = n;
    t->tail = n;
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
    table_node *n = find_node(t, j->submission_id);
    if (n == NULL || n->job != j)
        return;
    htab_unlink(&t->index, &n->link);
    if (n->prev) n->prev->next = n->next; else t->head = n->next;
    if (n->next) n->next->prev = n->prev; else t->tail = n->prev;
    free(n);
}

size_t jobs_table_count(const jobs_table *t)
{
    return t->index.n;
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
