/* File and directory sync over SFTP with filters and size+mtime checks. */
#include "launcher/sync_tree.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/util.h"
#include "launcher/ssh_xfer.h"
#include "launcher/sync_filter.h"

/* One directory's remote entries, sorted by name for bsearch. */
typedef struct remote_entry {
    char *name;
    ssh_xfer_stat st;
} remote_entry;

typedef struct remote_list {
    remote_entry *e;
    size_t n, alloc;
    int failed;
} remote_list;

typedef struct syncer {
    ssh_conn *c;                /* NULL for a local-only walk */
    sync_filter filter;
    sync_file_cb cb;            /* walk only */
    void *data;
    sync_stats *st;
    char *err;
    size_t errlen;
} syncer;

static int join(char *out, size_t outlen, const char *a, const char *b)
{
    if (a[0] != '\0')
        return fs_path_join(out, outlen, a, b);
    return str_copy(out, outlen, b);
}

/* ---------------------------------------------------------------- local side */

static int skip_dots(const struct dirent *d)
{
    return strcmp(d->d_name, ".") != 0 && strcmp(d->d_name, "..") != 0;
}

/* Sorted names of local directory DIR (free with free_names). */
static int list_local(syncer *s, const char *dir, struct dirent ***out)
{
    int n = scandir(dir, out, skip_dots, alphasort);
    if (n < 0) {
        int e = errno;
        snprintf(s->err, s->errlen, "cannot read directory %s: %s", dir, strerror(e));
        return -e;
    }
    return n;
}

static void free_names(struct dirent **names, int n)
{
    for (int i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

/* ---------------------------------------------------------------- remote listings */

static void remote_add(void *data, const char *name, const ssh_xfer_stat *st)
{
    remote_list *l = data;
    if (l->failed)
        return;
    if (l->n == l->alloc) {
        size_t want = l->alloc ? 2 * l->alloc : 32;
        remote_entry *bigger = realloc(l->e, want * sizeof *bigger);
        if (bigger == NULL) {
            l->failed = 1;
            return;
        }
        l->e = bigger;
        l->alloc = want;
    }
    if ((l->e[l->n].name = strdup(name)) == NULL) {
        l->failed = 1;
        return;
    }
    l->e[l->n++].st = *st;
}

static int entry_cmp(const void *a, const void *b)
{
    return strcmp(((const remote_entry *)a)->name, ((const remote_entry *)b)->name);
}

static void remote_free(remote_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->e[i].name);
    free(l->e);
    memset(l, 0, sizeof *l);
}

static int remote_load(syncer *s, const char *dir, remote_list *l)
{
    memset(l, 0, sizeof *l);
    int rc = ssh_xfer_list(s->c, dir, remote_add, l, s->err, s->errlen);
    if (rc == 0 && l->failed) {
        snprintf(s->err, s->errlen, "out of memory listing %s", dir);
        rc = -ENOMEM;
    }
    if (rc != 0) {
        remote_free(l);
        return rc;
    }
    if (l->n > 1)
        qsort(l->e, l->n, sizeof *l->e, entry_cmp);
    return 0;
}

static const ssh_xfer_stat *remote_find(const remote_list *l, const char *name)
{
    remote_entry key = {.name = (char *)name};
    const remote_entry *e = l->n ? bsearch(&key, l->e, l->n, sizeof *l->e, entry_cmp) : NULL;
    return e != NULL ? &e->st : NULL;
}

/* ---------------------------------------------------------------- upload */

static int put_if_changed(syncer *s, const char *abs, const char *remote,
                          const struct stat *lst, const ssh_xfer_stat *rst)
{
    if (rst != NULL && rst->is_file && rst->size == (uint64_t)lst->st_size &&
        rst->mtime == (int64_t)lst->st_mtime) {
        if (s->st != NULL)
            s->st->files_same++;
        return 0;
    }
    int rc = ssh_xfer_put(s->c, abs, remote, s->err, s->errlen);
    if (rc == 0 && s->st != NULL) {
        s->st->files_sent++;
        s->st->bytes_sent += (uint64_t)lst->st_size;
    }
    return rc;
}

/* Makes sure remote directory REMOTE exists: EXISTS says what the parent's
 * listing showed (-1: unknown, then every missing parent is created).
 * Loads its listing into L when it existed before. */
static int remote_dir(syncer *s, const char *remote, int exists, remote_list *l)
{
    memset(l, 0, sizeof *l);
    if (s->c == NULL)
        return 0;
    if (exists == 1)
        return remote_load(s, remote, l);
    if (exists == 0)
        return ssh_xfer_mkdir(s->c, remote, s->err, s->errlen);
    int rc = ssh_xfer_mkdirs(s->c, remote, s->err, s->errlen);
    return rc != 0 ? rc : remote_load(s, remote, l);
}

/* Uploads (or walks) the contents of local directory ABS. */
static int visit_dir(syncer *s, const char *abs, const char *rel, const char *remote,
                     int exists, int depth)
{
    struct dirent **names = NULL;
    remote_list listing = {0};
    char cabs[PATH_MAX], crel[PATH_MAX], cremote[PATH_MAX];
    if (depth > SYNC_MAX_DEPTH) {
        snprintf(s->err, s->errlen, "%s: directories nested too deeply (a symlink loop?)", abs);
        return -ELOOP;
    }
    long mark = sync_filter_enter(&s->filter, abs, rel);
    if (mark < 0)
        return (int)mark;
    int rc = remote_dir(s, remote, exists, &listing);
    int n = rc == 0 ? list_local(s, abs, &names) : 0;
    if (n < 0)
        rc = n;
    for (int i = 0; rc == 0 && i < n; i++) {
        const char *name = names[i]->d_name;
        if (join(cabs, sizeof cabs, abs, name) || join(crel, sizeof crel, rel, name) ||
            (s->c != NULL && join(cremote, sizeof cremote, remote, name))) {
            snprintf(s->err, s->errlen, "path too long under %s", abs);
            rc = -ENAMETOOLONG;
            break;
        }
        struct stat lst;
        if (stat(cabs, &lst) != 0 || sync_filter_excluded(&s->filter, crel, S_ISDIR(lst.st_mode)))
            continue;                   /* vanished, dangling link, or excluded */
        const ssh_xfer_stat *rst = remote_find(&listing, name);
        if (S_ISDIR(lst.st_mode))
            rc = visit_dir(s, cabs, crel, cremote, rst != NULL && rst->is_dir, depth + 1);
        else if (S_ISREG(lst.st_mode) && s->c != NULL)
            rc = put_if_changed(s, cabs, cremote, &lst, rst);
        else if (S_ISREG(lst.st_mode))
            rc = s->cb(s->data, cabs, crel);
    }
    if (s->st != NULL)
        s->st->dirs++;
    free_names(names, n > 0 ? n : 0);
    remote_free(&listing);
    sync_filter_leave(&s->filter, mark);
    return rc;
}

static int visit(syncer *s, const char *abs, const char *rel, const char *remote, int depth)
{
    struct stat lst;
    if (stat(abs, &lst) != 0) {
        int e = errno;
        snprintf(s->err, s->errlen, "%s: %s", abs, strerror(e));
        return -e;
    }
    if (S_ISDIR(lst.st_mode))
        return visit_dir(s, abs, rel, remote, -1, depth);
    if (!S_ISREG(lst.st_mode)) {
        snprintf(s->err, s->errlen, "%s is not a regular file or directory", abs);
        return -EINVAL;
    }
    if (s->c == NULL)
        return s->cb(s->data, abs, rel);
    ssh_xfer_stat rst;
    int rc = ssh_xfer_stat_path(s->c, remote, &rst, s->err, s->errlen);
    return rc != 0 ? rc : put_if_changed(s, abs, remote, &lst, rst.exists ? &rst : NULL);
}

static int syncer_init(syncer *s, const sync_spec *spec, int with_filter_files)
{
    int rc = sync_filter_init(&s->filter, spec != NULL ? spec->exclude : NULL,
                              spec != NULL ? spec->n_exclude : 0,
                              spec != NULL && with_filter_files ? spec->filter : NULL,
                              spec != NULL && with_filter_files ? spec->n_filter : 0);
    if (rc != 0)
        snprintf(s->err, s->errlen, "out of memory");
    return rc;
}

int sync_walk(const char *src, const sync_spec *spec, sync_file_cb cb, void *data, char *err,
              size_t errlen)
{
    syncer s = {.cb = cb, .data = data, .err = err, .errlen = errlen};
    int rc = syncer_init(&s, spec, 1);
    if (rc == 0)
        rc = visit(&s, src, "", NULL, 0);
    sync_filter_free(&s.filter);
    return rc;
}

int sync_up(ssh_conn *c, const char *src, const char *dst, const sync_spec *spec,
            sync_stats *st, char *err, size_t errlen)
{
    syncer s = {.c = c, .st = st, .err = err, .errlen = errlen};
    int rc = syncer_init(&s, spec, 1);
    if (rc == 0)
        rc = visit(&s, src, "", dst, 0);
    sync_filter_free(&s.filter);
    return rc;
}

/* ---------------------------------------------------------------- download */

static int get_if_changed(syncer *s, const char *remote, const char *local,
                          const ssh_xfer_stat *rst)
{
    struct stat lst;
    if (stat(local, &lst) == 0 && S_ISREG(lst.st_mode) &&
        (uint64_t)lst.st_size == rst->size && (int64_t)lst.st_mtime == rst->mtime) {
        if (s->st != NULL)
            s->st->files_same++;
        return 0;
    }
    int rc = ssh_xfer_get(s->c, remote, local, s->err, s->errlen);
    if (rc == 0 && s->st != NULL) {
        s->st->files_sent++;
        s->st->bytes_sent += rst->size;
    }
    return rc;
}

static int down_dir(syncer *s, const char *remote, const char *rel, const char *local,
                    int depth)
{
    remote_list listing;
    char cremote[PATH_MAX], crel[PATH_MAX], clocal[PATH_MAX];
    if (depth > SYNC_MAX_DEPTH) {
        snprintf(s->err, s->errlen, "%s: directories nested too deeply", remote);
        return -ELOOP;
    }
    int rc = remote_load(s, remote, &listing);
    if (rc == 0 && mkdir(local, 0755) != 0 && errno != EEXIST) {
        rc = -errno;
        snprintf(s->err, s->errlen, "cannot create %s: %s", local, strerror(-rc));
    }
    for (size_t i = 0; rc == 0 && i < listing.n; i++) {
        const remote_entry *e = &listing.e[i];
        if (join(cremote, sizeof cremote, remote, e->name) ||
            join(crel, sizeof crel, rel, e->name) || join(clocal, sizeof clocal, local, e->name)) {
            snprintf(s->err, s->errlen, "path too long under %s", remote);
            rc = -ENAMETOOLONG;
        } else if (sync_filter_excluded(&s->filter, crel, e->st.is_dir)) {
            continue;
        } else if (e->st.is_dir) {
            rc = down_dir(s, cremote, crel, clocal, depth + 1);
        } else if (e->st.is_file) {
            rc = get_if_changed(s, cremote, clocal, &e->st);
        }
    }
    if (s->st != NULL)
        s->st->dirs++;
    remote_free(&listing);
    return rc;
}

int sync_down(ssh_conn *c, const char *src, const char *dst, const sync_spec *spec,
              sync_stats *st, char *err, size_t errlen)
{
    syncer s = {.c = c, .st = st, .err = err, .errlen = errlen};
    ssh_xfer_stat rst;
    int rc = syncer_init(&s, spec, 0);
    if (rc == 0)
        rc = ssh_xfer_stat_path(c, src, &rst, err, errlen);
    if (rc == 0 && !rst.exists) {
        snprintf(err, errlen, "%s does not exist on %s", src, ssh_conn_host(c));
        rc = -ENOENT;
    }
    if (rc == 0 && rst.is_dir) {
        if ((rc = fs_mkdir_p(dst, 0755)) != 0)
            snprintf(err, errlen, "cannot create %s: %s", dst, strerror(-rc));
        else
            rc = down_dir(&s, src, "", dst, 0);
    } else if (rc == 0) {
        rc = get_if_changed(&s, src, dst, &rst);
    }
    sync_filter_free(&s.filter);
    return rc;
}
