/* Environment lists for job processes and Ray's `${VAR}` expansion. */
#include "jobserver/renv_env.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/dbuf.h"

#define ENV_VALUE_MAX (1u << 20)

static int env_grow(renv_envlist *e)
{
    if (e->n + 1 < e->cap)
        return 0;
    size_t cap = e->cap ? e->cap * 2 : 64;
    char **v = realloc(e->vars, cap * sizeof *v);
    if (v == NULL)
        return -ENOMEM;
    e->vars = v;
    e->cap = cap;
    return 0;
}

int renv_envlist_init(renv_envlist *e, char *const *environ_vars)
{
    e->vars = NULL;
    e->n = e->cap = 0;
    if (env_grow(e) != 0)
        return -ENOMEM;
    e->vars[0] = NULL;
    for (size_t i = 0; environ_vars != NULL && environ_vars[i] != NULL; i++) {
        if (env_grow(e) != 0 || (e->vars[e->n] = strdup(environ_vars[i])) == NULL) {
            renv_envlist_free(e);
            return -ENOMEM;
        }
        e->vars[++e->n] = NULL;
    }
    return 0;
}

/* Index of KEY in E, or -1. */
static long env_find(const renv_envlist *e, const char *key, size_t klen)
{
    for (size_t i = 0; i < e->n; i++)
        if (strncmp(e->vars[i], key, klen) == 0 && e->vars[i][klen] == '=')
            return (long)i;
    return -1;
}

int renv_envlist_set(renv_envlist *e, const char *key, const char *value)
{
    size_t kl = strlen(key), vl = strlen(value);
    if (kl == 0 || strchr(key, '=') != NULL)
        return -EINVAL;
    char *kv = malloc(kl + vl + 2);
    if (kv == NULL)
        return -ENOMEM;
    memcpy(kv, key, kl);
    kv[kl] = '=';
    memcpy(kv + kl + 1, value, vl + 1);
    long i = env_find(e, key, kl);
    if (i >= 0) {
        free(e->vars[i]);
        e->vars[i] = kv;
        return 0;
    }
    if (env_grow(e) != 0) {
        free(kv);
        return -ENOMEM;
    }
    e->vars[e->n++] = kv;
    e->vars[e->n] = NULL;
    return 0;
}

const char *renv_envlist_get(const renv_envlist *e, const char *key)
{
    long i = env_find(e, key, strlen(key));
    return i >= 0 ? e->vars[i] + strlen(key) + 1 : NULL;
}

void renv_envlist_free(renv_envlist *e)
{
    for (size_t i = 0; i < e->n; i++)
        free(e->vars[i]);
    free(e->vars);
    e->vars = NULL;
    e->n = e->cap = 0;
}

static int is_word(char c)
{
    return isalnum((unsigned char)c) || c == '_';
}

/* Handles the '$' at S[*I]: appends the expansion (or the text unchanged). */
static int expand_one(const renv_envlist *e, const char *s, size_t *i, dbuf *b)
{
    size_t start = *i + 1, end;
    int braced = s[start] == '{';
    if (braced) {
        end = start + 1;
        while (s[end] != '\0' && s[end] != '}' && s[end] != '/')
            end++;
        if (s[end] != '}') {
            (*i)++;
            return dbuf_add(b, "$", 1);
        }
    } else {
        end = start;
        while (is_word(s[end]))
            end++;
        if (end == start) {
            (*i)++;
            return dbuf_add(b, "$", 1);
        }
    }
    size_t nstart = start + (size_t)braced, nlen = end - nstart;
    size_t stop = end + (size_t)braced;
    char name[256];
    const char *val = NULL;
    if (nlen < sizeof name) {
        memcpy(name, s + nstart, nlen);
        name[nlen] = '\0';
        val = renv_envlist_get(e, name);
    }
    int rc = val ? dbuf_puts(b, val) : dbuf_add(b, s + *i, stop - *i);
    *i = stop;
    return rc;
}

/* Removes every ${NAME} with NAME made of [A-Z0-9_]+ from IN into B. */
static int strip_unset(const char *in, dbuf *b)
{
    int rc = 0;
    for (size_t i = 0; rc == 0 && in[i] != '\0';) {
        if (in[i] == '$' && in[i + 1] == '{') {
            size_t j = i + 2;
            while ((in[j] >= 'A' && in[j] <= 'Z') || isdigit((unsigned char)in[j]) || in[j] == '_')
                j++;
            if (j > i + 2 && in[j] == '}') {
                i = j + 1;
                continue;
            }
        }
        rc = dbuf_add(b, in + i, 1);
        i++;
    }
    return rc;
}

int renv_expand(const renv_envlist *e, const char *value, char **out)
{
    dbuf a, b;
    dbuf_init(&a, ENV_VALUE_MAX);
    dbuf_init(&b, ENV_VALUE_MAX);
    int rc = dbuf_add(&a, "", 0);
    for (size_t i = 0; rc == 0 && value[i] != '\0';) {
        if (value[i] == '$') {
            rc = expand_one(e, value, &i, &a);
        } else {
            size_t n = strcspn(value + i, "$");
            rc = dbuf_add(&a, value + i, n);
            i += n;
        }
    }
    if (rc == 0)
        rc = dbuf_add(&b, "", 0);
    if (rc == 0)
        rc = strip_unset(a.data, &b);
    dbuf_free(&a);
    *out = rc == 0 ? dbuf_take(&b, NULL) : NULL;
    dbuf_free(&b);
    return *out ? 0 : -ENOMEM;
}
