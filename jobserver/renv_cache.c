/* The node's URI cache of unpacked runtime_env packages. */
#include "jobserver/renv_cache.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "jobserver/renv_fetch.h"
#include "jobserver/renv_unpack.h"
#include "jobserver/renv_uri.h"

enum entry_state { E_FETCHING, E_READY };

typedef struct entry {
    char key[RENV_NAME_MAX + 1];       /* the local dir name */
    char dir[PATH_MAX];
    enum entry_state state;
    int refs;
    uint64_t size;
    uint64_t last_used;
    struct renv_cache_req *waiters;
    struct entry *next;
} entry;

struct renv_cache_req {
    renv_cache *c;
    entry *e;
    renv_cache_cb cb;
    void *arg;
    int rc;
    char *err;
    int cancelled;
    struct renv_cache_req *next;
};

struct renv_cache {
    uv_loop_t *loop;
    renv_cache_config cfg;
    char uris_dir[PATH_MAX];
    char packages_dir[PATH_MAX];
    entry *entries;
    renv_cache_req *ready;          /* requests whose callback is due */
    uv_timer_t notify;
    uint64_t tick;
    int works;                      /* thread pool items in flight */
    int freeing;
};

typedef struct fetch_work {
    uv_work_t work;
    renv_cache *c;
    entry *e;
    char uri[PATH_MAX];
    long timeout_s;
    int rc;
    uint64_t size;
    char err[1024];
} fetch_work;

static void evict(renv_cache *c);

/* ---------------------------------------------------------------- sizes */

uint64_t renv_du(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return 0;
    if (!S_ISDIR(st.st_mode))
        return (uint64_t)st.st_size;
    uint64_t total = 0;
    DIR *d = opendir(path);
    struct dirent *e;
    while (d != NULL && (e = readdir(d)) != NULL) {
        char child[PATH_MAX];
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0 ||
            fs_path_join(child, sizeof child, path, e->d_name) != 0)
            continue;
        total += renv_du(child);
    }
    if (d != NULL)
        closedir(d);
    return total;
}

uint64_t renv_cache_bytes(const renv_cache *c)
{
    uint64_t total = 0;
    for (entry *e = c->entries; e != NULL; e = e->next)
        total += e->state == E_READY ? e->size : 0;
    return total;
}

/* ---------------------------------------------------------------- notifications */

static void free_req(renv_cache_req *r)
{
    free(r->err);
    free(r);
}

static void notify_cb(uv_timer_t *t)
{
    renv_cache *c = t->data;
    renv_cache_req *list = c->ready;
    c->ready = NULL;
    while (list != NULL) {
        renv_cache_req *r = list;
        list = r->next;
        if (!r->cancelled)
            r->cb(r->arg, r->rc, r->err, r->rc == 0 ? r->e->dir : NULL,
                  r->rc == 0 ? r->e->key : NULL);
        else if (r->rc == 0)
            renv_cache_release(c, r->e->key);
        free_req(r);
    }
}

/* Queues R's callback with RC (a reference is already counted when RC is 0). */
static void deliver(renv_cache *c, renv_cache_req *r, int rc, const char *err)
{
    r->rc = rc;
    r->err = err ? strdup(err) : NULL;
    r->next = c->ready;
    c->ready = r;
    uv_timer_start(&c->notify, notify_cb, 0, 0);
}

/* ---------------------------------------------------------------- entries */

static entry *find_entry(renv_cache *c, const char *key)
{
    for (entry *e = c->entries; e != NULL; e = e->next)
        if (strcmp(e->key, key) == 0)
            return e;
    return NULL;
}

static void unlink_entry(renv_cache *c, entry *e)
{
    for (entry **pp = &c->entries; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == e) {
            *pp = e->next;
            return;
        }
    }
}

static entry *new_entry(renv_cache *c, const char *key, enum entry_state state)
{
    entry *e = calloc(1, sizeof *e);
    if (e == NULL)
        return NULL;
    str_copy(e->key, sizeof e->key, key);
    if (fs_path_join(e->dir, sizeof e->dir, c->uris_dir, key) != 0) {
        free(e);
        return NULL;
    }
    e->state = state;
    e->last_used = ++c->tick;
    e->next = c->entries;
    c->entries = e;
    return e;
}

/* ---------------------------------------------------------------- fetch (thread pool) */

/* The archive file to unpack for U; downloads http(s) into TMP. */
static int source_file(fetch_work *w, const renv_uri *u, char *path, size_t pathlen,
                       int *is_tmp)
{
    renv_cache *c = w->c;
    struct stat st;
    *is_tmp = 0;
    if (u->proto == RENV_GCS) {
        if (fs_path_join(path, pathlen, c->packages_dir, u->name) != 0) {
            str_printf(w->err, sizeof w->err, "runtime_env package %s: path too long", w->uri);
            return -ENAMETOOLONG;
        }
        if (stat(path, &st) != 0) {
            str_printf(w->err, sizeof w->err, "Failed to download runtime_env file package %s: it "
                                            "was never uploaded to this job server", w->uri);
            return -ENOENT;
        }
        return 0;
    }
    if (u->proto == RENV_FILE) {
        str_copy(path, pathlen, u->path);
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
            str_printf(w->err, sizeof w->err, "runtime_env package %s: no such file", w->uri);
            return -ENOENT;
        }
        if ((uint64_t)st.st_size > c->cfg.download_limit) {
            str_printf(w->err, sizeof w->err, "runtime_env package %s is larger than %llu bytes",
                     w->uri, (unsigned long long)c->cfg.download_limit);
            return -EFBIG;
        }
        return 0;
    }
    char rnd[17];
    ids_random_hex(rnd, 8);
    int n = snprintf(path, pathlen, "%s/.dl-%s-%s", c->uris_dir, rnd, u->name);
    if (n < 0 || (size_t)n >= pathlen) {
        str_printf(w->err, sizeof w->err, "runtime_env package %s: path too long", w->uri);
        return -ENAMETOOLONG;
    }
    *is_tmp = 1;
    return renv_fetch_http(w->uri, path, c->cfg.download_limit, w->timeout_s, w->err,
                           sizeof w->err);
}

static void fetch_run(uv_work_t *work)
{
    fetch_work *w = work->data;
    renv_uri u;
    char path[PATH_MAX];
    int is_tmp;
    w->rc = renv_uri_parse(w->uri, &u, w->err, sizeof w->err);
    if (w->rc == 0)
        w->rc = source_file(w, &u, path, sizeof path, &is_tmp);
    if (w->rc != 0)
        return;
    int strip = u.proto != RENV_GCS && u.kind != RENV_WHL;
    w->rc = renv_unpack(path, w->e->dir, strip, &w->c->cfg.unpack, &w->size, w->err,
                        sizeof w->err);
    if (is_tmp)
        unlink(path);
}

static void fetch_done(uv_work_t *work, int status)
{
    fetch_work *w = work->data;
    renv_cache *c = w->c;
    entry *e = w->e;
    c->works--;
    if (status != 0 && w->rc == 0) {
        w->rc = -ECANCELED;
        str_printf(w->err, sizeof w->err, "fetching %s was cancelled", w->uri);
    }
    renv_cache_req *list = e->waiters;
    e->waiters = NULL;
    if (w->rc == 0) {
        e->state = E_READY;
        e->size = w->size;
        log_info("runtime_env: unpacked %s into %s (%llu bytes)", w->uri, e->dir,
                 (unsigned long long)w->size);
    } else {
        log_warn("runtime_env: %s", w->err);
        unlink_entry(c, e);
    }
    while (list != NULL) {
        renv_cache_req *r = list;
        list = r->next;
        if (w->rc == 0)
            e->refs++;
        deliver(c, r, w->rc, w->rc ? w->err : NULL);
    }
    if (w->rc != 0)
        free(e);
    free(w);
    if (c->freeing && c->works == 0)
        renv_cache_free(c);
    else if (!c->freeing)
        evict(c);
}

static int start_fetch(renv_cache *c, entry *e, const char *uri, long timeout_s)
{
    fetch_work *w = calloc(1, sizeof *w);
    if (w == NULL)
        return -ENOMEM;
    w->c = c;
    w->e = e;
    w->timeout_s = timeout_s;
    str_copy(w->uri, sizeof w->uri, uri);
    w->work.data = w;
    int rc = uv_queue_work(c->loop, &w->work, fetch_run, fetch_done);
    if (rc != 0) {
        free(w);
        return rc;
    }
    c->works++;
    return 0;
}

/* ---------------------------------------------------------------- acquire / release */

int renv_cache_acquire(renv_cache *c, const char *uri, long timeout_s, renv_cache_cb cb,
                       void *arg, renv_cache_req **out)
{
    renv_cache_req *r = calloc(1, sizeof *r);
    if (r == NULL)
        return -ENOMEM;
    r->c = c;
    r->cb = cb;
    r->arg = arg;
    *out = r;
    renv_uri u;
    char err[512];
    if (renv_uri_parse(uri, &u, err, sizeof err) != 0) {
        deliver(c, r, -EINVAL, err);
        return 0;
    }
    entry *e = find_entry(c, u.dir);
    if (e == NULL && ((e = new_entry(c, u.dir, E_FETCHING)) == NULL ||
                      start_fetch(c, e, uri, timeout_s) != 0)) {
        if (e != NULL) {
            unlink_entry(c, e);
            free(e);
        }
        deliver(c, r, -ENOMEM, "cannot start fetching the package");
        return 0;
    }
    r->e = e;
    e->last_used = ++c->tick;
    if (e->state == E_READY) {
        e->refs++;
        deliver(c, r, 0, NULL);
    } else {
        r->next = e->waiters;
        e->waiters = r;
    }
    return 0;
}

void renv_cache_cancel(renv_cache_req *r)
{
    if (r == NULL)
        return;
    entry *e = r->e;
    if (e != NULL && e->state == E_FETCHING) {
        for (renv_cache_req **pp = &e->waiters; *pp != NULL; pp = &(*pp)->next) {
            if (*pp == r) {
                *pp = r->next;
                free_req(r);
                return;
            }
        }
    }
    r->cancelled = 1;   /* on the ready list: skipped (and released) when drained */
}

void renv_cache_release(renv_cache *c, const char *key)
{
    entry *e = find_entry(c, key);
    if (e == NULL || e->refs == 0)
        return;
    e->refs--;
    e->last_used = ++c->tick;
    evict(c);
}

/* ---------------------------------------------------------------- eviction */

static void trash_run(uv_work_t *work)
{
    fs_rm_rf(work->data);
}

static void trash_done(uv_work_t *work, int status)
{
    free(work->data);
    free(work);
}

/* Removes DIR off the loop: renamed away at once, deleted in the pool. */
static void trash(renv_cache *c, const char *dir)
{
    char rnd[17], *away = malloc(PATH_MAX);
    uv_work_t *w = malloc(sizeof *w);
    ids_random_hex(rnd, 8);
    if (away == NULL || w == NULL ||
        snprintf(away, PATH_MAX, "%s/.trash-%s", c->uris_dir, rnd) >= PATH_MAX ||
        rename(dir, away) != 0) {
        free(away);
        free(w);
        fs_rm_rf(dir);
        return;
    }
    w->data = away;
    if (uv_queue_work(c->loop, w, trash_run, trash_done) != 0) {
        fs_rm_rf(away);
        free(away);
        free(w);
    }
}

static void evict(renv_cache *c)
{
    uint64_t total = renv_cache_bytes(c);
    while (total > c->cfg.limit) {
        entry *victim = NULL;
        for (entry *e = c->entries; e != NULL; e = e->next)
            if (e->state == E_READY && e->refs == 0 &&
                (victim == NULL || e->last_used < victim->last_used))
                victim = e;
        if (victim == NULL)
            break;
        log_info("runtime_env: evicting %s (%llu bytes) from the URI cache", victim->key,
                 (unsigned long long)victim->size);
        total -= victim->size;
        unlink_entry(c, victim);
        trash(c, victim->dir);
        free(victim);
    }
}

/* ---------------------------------------------------------------- setup */

/* Adopts directories unpacked by an earlier run; removes half-done ones. */
static void scan(renv_cache *c)
{
    DIR *d = opendir(c->uris_dir);
    struct dirent *de;
    while (d != NULL && (de = readdir(d)) != NULL) {
        char path[PATH_MAX];
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
            fs_path_join(path, sizeof path, c->uris_dir, de->d_name) != 0)
            continue;
        if (de->d_name[0] == '.' || strstr(de->d_name, ".tmp-") != NULL) {
            fs_rm_rf(path);
            continue;
        }
        entry *e = new_entry(c, de->d_name, E_READY);
        if (e != NULL)
            e->size = renv_du(path);
    }
    if (d != NULL)
        closedir(d);
}

int renv_cache_new(uv_loop_t *loop, const renv_cache_config *cfg, renv_cache **out)
{
    renv_cache *c = calloc(1, sizeof *c);
    if (c == NULL)
        return -ENOMEM;
    c->loop = loop;
    c->cfg = *cfg;
    str_copy(c->uris_dir, sizeof c->uris_dir, cfg->uris_dir);
    str_copy(c->packages_dir, sizeof c->packages_dir, cfg->packages_dir);
    c->cfg.uris_dir = c->uris_dir;
    c->cfg.packages_dir = c->packages_dir;
    int rc = fs_mkdir_p(c->uris_dir, 0700);
    if (rc != 0) {
        free(c);
        return rc;
    }
    uv_timer_init(loop, &c->notify);
    c->notify.data = c;
    scan(c);
    evict(c);
    *out = c;
    return 0;
}

static void notify_closed(uv_handle_t *h)
{
    renv_cache *c = h->data;
    while (c->entries != NULL) {
        entry *e = c->entries;
        c->entries = e->next;
        free(e);
    }
    free(c);
}

void renv_cache_free(renv_cache *c)
{
    if (c == NULL)
        return;
    c->freeing = 1;
    if (c->works > 0)
        return;   /* the last fetch_done calls back here */
    while (c->ready != NULL) {
        renv_cache_req *r = c->ready;
        c->ready = r->next;
        free_req(r);
    }
    uv_close((uv_handle_t *)&c->notify, notify_closed);
}
