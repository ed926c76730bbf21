/* What task libraries register: functions, actor classes and their methods.
 *
 * Registrations run from library constructors when a worker dlopens a
 * library, possibly before anything else of libray is set up, so this table
 * stands alone with its own lock.  Methods may be registered before their
 * class (constructor order is the linker's). */
#include "api/api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum reg_kind { REG_FUNCTION, REG_CLASS, REG_METHOD };

struct api_class {
    ray_actor_new_fn ctor;
    ray_actor_free_fn dtor;
};

typedef struct reg_entry {
    /* First: the table's pointer is the block's start, so valgrind sees the
     * entries (never freed: workers keep them until exit) as reachable. */
    htab_node link;            /* in reg_table, by (kind, key) */
    char *key;                 /* "name", "Class", "Class.method" per kind */
    int kind;
    ray_task_fn fn;
    ray_method_fn method;
    api_class cls;
} reg_entry;

typedef struct reg_key {
    int kind;
    const char *key;
} reg_key;

static pthread_mutex_t reg_mu = PTHREAD_MUTEX_INITIALIZER;
static htab reg_table;          /* all zero: an empty htab */

static uint64_t hash_of(int kind, const char *key)
{
    return htab_hash_str(key) + (uint64_t)kind;
}

static int entry_eq(const htab_node *link, const void *k)
{
    const reg_entry *e = htab_entry(link, reg_entry, link);
    const reg_key *rk = k;
    return e->kind == rk->kind && strcmp(e->key, rk->key) == 0;
}

/* Finds (mu held). */
static reg_entry *find(int kind, const char *key)
{
    reg_key k = {kind, key};
    htab_node *link = htab_find(&reg_table, hash_of(kind, key), &k, entry_eq);
    return link ? htab_entry(link, reg_entry, link) : NULL;
}

/* Finds or adds the entry for (KIND, KEY).  Returns it or NULL. */
static reg_entry *upsert(int kind, const char *key)
{
    reg_entry *e = find(kind, key);
    if (e != NULL)
        return e;
    e = calloc(1, sizeof *e);
    if (e == NULL || (e->key = strdup(key)) == NULL ||
        htab_insert(&reg_table, &e->link, hash_of(kind, key)) != 0) {
        if (e != NULL)
            free(e->key);
        free(e);
        return NULL;
    }
    e->kind = kind;
    return e;
}

static int valid_name(const char *name)
{
    return name != NULL && name[0] != '\0' && strlen(name) < 512;
}

int ray_register_function(const char *name, ray_task_fn fn)
{
    if (!valid_name(name) || fn == NULL)
        return RAY_ERR_INVALID;
    pthread_mutex_lock(&reg_mu);
    reg_entry *e = upsert(REG_FUNCTION, name);
    if (e != NULL)
        e->fn = fn;
    pthread_mutex_unlock(&reg_mu);
    return e ? RAY_OK : RAY_ERR_NOMEM;
}

int ray_register_actor(const char *class_name, ray_actor_new_fn ctor, ray_actor_free_fn dtor)
{
    if (!valid_name(class_name) || ctor == NULL)
        return RAY_ERR_INVALID;
    pthread_mutex_lock(&reg_mu);
    reg_entry *e = upsert(REG_CLASS, class_name);
    if (e != NULL) {
        e->cls.ctor = ctor;
        e->cls.dtor = dtor;
    }
    pthread_mutex_unlock(&reg_mu);
    return e ? RAY_OK : RAY_ERR_NOMEM;
}

int ray_register_method(const char *class_name, const char *method, ray_method_fn fn)
{
    char key[1100];
    if (!valid_name(class_name) || !valid_name(method) || fn == NULL)
        return RAY_ERR_INVALID;
    snprintf(key, sizeof key, "%s.%s", class_name, method);
    pthread_mutex_lock(&reg_mu);
    reg_entry *e = upsert(REG_METHOD, key);
    if (e != NULL)
        e->method = fn;
    pthread_mutex_unlock(&reg_mu);
    return e ? RAY_OK : RAY_ERR_NOMEM;
}

ray_task_fn api_registry_function(const char *name)
{
    pthread_mutex_lock(&reg_mu);
    reg_entry *e = find(REG_FUNCTION, name);
    ray_task_fn fn = e ? e->fn : NULL;
    pthread_mutex_unlock(&reg_mu);
    return fn;
}

api_class *api_registry_class(const char *name)
{
    pthread_mutex_lock(&reg_mu);
    reg_entry *e = find(REG_CLASS, name);
    pthread_mutex_unlock(&reg_mu);
    return e ? &e->cls : NULL; /* entries are never freed */
}

ray_actor_new_fn api_class_ctor(const api_class *c) { return c->ctor; }
ray_actor_free_fn api_class_dtor(const api_class *c) { return c->dtor; }

ray_method_fn api_class_method(const char *class_name, const char *method)
{
    char key[1100];
    snprintf(key, sizeof key, "%s.%s", class_name, method);
    pthread_mutex_lock(&reg_mu);
    reg_entry *e = find(REG_METHOD, key);
    ray_method_fn fn = e ? e->method : NULL;
    pthread_mutex_unlock(&reg_mu);
    return fn;
}

size_t api_registry_count(void)
{
    pthread_mutex_lock(&reg_mu);
    size_t n = reg_table.n;
    pthread_mutex_unlock(&reg_mu);
    return n;
}
