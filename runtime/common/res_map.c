/* Small sorted maps for node resources and labels. */
#include "common/res_map.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- resources */

void res_map_init(res_map *m)
{
    m->items = NULL;
    m->len = 0;
}

/* Index of NAME in M, or where it would be inserted in the sorted prefix
 * (with *FOUND = 0).  Appended entries may sit out of order at the end, so
 * the search for NAME itself is a plain scan. */
static size_t map_find(const res_map *m, const char *name, int *found)
{
    for (size_t i = 0; i < m->len; i++) {
        if (strcmp(m->items[i].name, name) == 0) {
            *found = 1;
            return i;
        }
    }
    size_t i = 0;
    while (i < m->len && strcmp(m->items[i].name, name) < 0)
        i++;
    *found = 0;
    return i;
}

int res_map_set(res_map *m, const char *name, double qty)
{
    size_t n = strlen(name);
    if (n == 0 || n > RES_NAME_MAX)
        return -EINVAL;
    int found;
    size_t i = map_find(m, name, &found);
    if (found) {
        m->items[i].qty = qty;
        return 0;
    }
    if (m->len >= RES_MAP_MAX)
        return -E2BIG;
    char *copy = strdup(name);
    res_entry *items = copy ? realloc(m->items, (m->len + 1) * sizeof *items) : NULL;
    if (items == NULL) {
        free(copy);
        return -ENOMEM;
    }
    memmove(&items[i + 1], &items[i], (m->len - i) * sizeof *items);
    items[i] = (res_entry){.name = copy, .qty = qty};
    m->items = items;
    m->len++;
    return 0;
}

int res_map_append(res_map *m, const char *name, double qty)
{
    size_t n = strlen(name);
    int found;
    if (n == 0 || n > RES_NAME_MAX)
        return -EINVAL;
    map_find(m, name, &found);
    if (found)
        return -EEXIST;
    if (m->len >= RES_MAP_MAX)
        return -E2BIG;
    char *copy = strdup(name);
    res_entry *items = copy ? realloc(m->items, (m->len + 1) * sizeof *items) : NULL;
    if (items == NULL) {
        free(copy);
        return -ENOMEM;
    }
    items[m->len] = (res_entry){.name = copy, .qty = qty};
    m->items = items;
    m->len++;
    return 0;
}

int res_map_rename_at(res_map *m, size_t i, const char *name, double qty)
{
    int found;
    if (i >= m->len || strlen(name) > RES_NAME_MAX)
        return -EINVAL;
    if (name[0] != '\0' && (map_find(m, name, &found), found))
        return -EEXIST;
    char *copy = strdup(name);
    if (copy == NULL)
        return -ENOMEM;
    free(m->items[i].name);
    m->items[i].name = copy;
    m->items[i].qty = qty;
    return 0;
}

int res_map_get(const res_map *m, const char *name, double *qty)
{
    int found;
    size_t i = map_find(m, name, &found);
    if (!found)
        return -ENOENT;
    *qty = m->items[i].qty;
    return 0;
}

void res_map_del(res_map *m, const char *name)
{
    int found;
    size_t i = map_find(m, name, &found);
    if (!found)
        return;
    free(m->items[i].name);
    memmove(&m->items[i], &m->items[i + 1], (m->len - i - 1) * sizeof *m->items);
    m->len--;
}

int res_map_copy(res_map *dst, const res_map *src)
{
    res_map_free(dst);
    for (size_t i = 0; i < src->len; i++) {
        if (res_map_set(dst, src->items[i].name, src->items[i].qty) != 0) {
            res_map_free(dst);
            return -ENOMEM;
        }
    }
    return 0;
}

void res_map_free(res_map *m)
{
    for (size_t i = 0; i < m->len; i++)
        free(m->items[i].name);
    free(m->items);
    res_map_init(m);
}

void res_map_format(const res_map *m, char *out, size_t outlen)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < m->len && used < outlen; i++) {
        int n = snprintf(out + used, outlen - used, "%s%s=%.15g", i ? " " : "",
                         m->items[i].name, m->items[i].qty);
        if (n < 0)
            break;
        used += (size_t)n;
    }
}

/* ---------------------------------------------------------------- labels */

void res_labels_init(res_labels *l)
{
    l->items = NULL;
    l->len = 0;
}

static size_t labels_find(const res_labels *l, const char *key, int *found)
{
    size_t i = 0;
    while (i < l->len && strcmp(l->items[i].key, key) < 0)
        i++;
    *found = i < l->len && strcmp(l->items[i].key, key) == 0;
    return i;
}

/* Replaces the value of the existing entry I with a copy of VALUE. */
static int labels_replace(res_labels *l, size_t i, const char *value)
{
    char *v = strdup(value);
    if (v == NULL)
        return -ENOMEM;
    free(l->items[i].value);
    l->items[i].value = v;
    return 0;
}

int res_labels_set(res_labels *l, const char *key, const char *value)
{
    size_t n = strlen(key);
    if (n == 0 || n > RES_NAME_MAX || strlen(value) > RES_VALUE_MAX)
        return -EINVAL;
    int found;
    size_t i = labels_find(l, key, &found);
    if (found)
        return labels_replace(l, i, value);
    if (l->len >= RES_MAP_MAX)
        return -E2BIG;
    char *k = strdup(key), *v = strdup(value);
    res_label *items = k && v ? realloc(l->items, (l->len + 1) * sizeof *items) : NULL;
    if (items == NULL) {
        free(k);
        free(v);
        return -ENOMEM;
    }
    memmove(&items[i + 1], &items[i], (l->len - i) * sizeof *items);
    items[i] = (res_label){.key = k, .value = v};
    l->items = items;
    l->len++;
    return 0;
}

const char *res_labels_get(const res_labels *l, const char *key)
{
    int found;
    size_t i = labels_find(l, key, &found);
    return found ? l->items[i].value : NULL;
}

void res_labels_free(res_labels *l)
{
    for (size_t i = 0; i < l->len; i++) {
        free(l->items[i].key);
        free(l->items[i].value);
    }
    free(l->items);
    res_labels_init(l);
}
