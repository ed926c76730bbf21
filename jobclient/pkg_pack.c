/* Packaging a local directory as Ray's client does: walk, hash and zip. */
#include "jobclient/pkg_pack.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/magic.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "common/util.h"
#include "jobclient/pkg_ignore.h"

#define WALK_MAX_DEPTH 64
#define IGNORE_FILE_MAX (1u << 20)
#define MAX_MATCHERS (WALK_MAX_DEPTH * 2 + 2)

/* ---------------------------------------------------------------- the walk */

typedef struct matcher {
    pkg_ignore ig;
    char base[PATH_MAX];       /* patterns are relative to this directory */
} matcher;

typedef struct walk {
    char root[PATH_MAX];
    matcher *m[MAX_MATCHERS];
    int nm;
    /* Called for every path that is not excluded; REL is relative to the root
     * ("." for the root). */
    int (*visit)(struct walk *w, const char *abs, const char *rel, const struct stat *st);
    void *arg;
    char *err;
    size_t errlen;
    void (*warn)(void *arg, const char *msg);
    void *warn_arg;
    struct { dev_t dev; ino_t ino; } open_dirs[WALK_MAX_DEPTH + 2]; /* the root down to here */
    int n_open;
} walk;

static void walk_warn(walk *w, const char *fmt, ...)
{
    if (w->warn == NULL)
        return;
    char msg[PATH_MAX + 128];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    w->warn(w->warn_arg, msg);
}

/* True when ST is a directory the walk is already inside (a symlink loop). */
static int dir_open(const walk *w, const struct stat *st)
{
    for (int i = 0; i < w->n_open; i++)
        if (w->open_dirs[i].dev == st->st_dev && w->open_dirs[i].ino == st->st_ino)
            return 1;
    return 0;
}

/* The name of the kernel pseudo-filesystem holding PATH, or NULL for a
 * real one: their files are endless (/proc/kcore), block or change as they
 * are read, and /proc/self/root leads back to "/". */
static const char *pseudo_fs(const char *path)
{
    struct statfs sf;
    if (statfs(path, &sf) != 0)
        return NULL;
    switch ((unsigned long)sf.f_type) {
    case PROC_SUPER_MAGIC: return "proc";
    case SYSFS_MAGIC: return "sysfs";
    case DEVPTS_SUPER_MAGIC: return "devpts";
    case CGROUP_SUPER_MAGIC:
    case CGROUP2_SUPER_MAGIC: return "cgroup";
    case DEBUGFS_MAGIC: return "debugfs";
    case TRACEFS_MAGIC: return "tracefs";
    case SECURITYFS_MAGIC: return "securityfs";
    case BPF_FS_MAGIC: return "bpf";
    default: return NULL;
    }
}

/* Path of ABS relative to BASE as Python's relative_to prints it. */
static const char *rel_to(const char *abs, const char *base)
{
    size_t n = strlen(base);
    if (strcmp(abs, base) == 0)
        return ".";
    return abs + n + 1;
}

static int excluded(const walk *w, const char *abs)
{
    for (int i = 0; i < w->nm; i++)
        if (pkg_ignore_match(&w->m[i]->ig, rel_to(abs, w->m[i]->base)))
            return 1;
    return 0;
}

/* Pushes a matcher for DIR/NAME when that file exists.  Returns 0 or -ENOMEM. */
static int push_ignore_file(walk *w, const char *dir, const char *name)
{
    char path[PATH_MAX], *text;
    struct stat st;
    if (fs_path_join(path, sizeof path, dir, name) != 0 ||
        stat(path, &st) != 0 || !S_ISREG(st.st_mode) || w->nm == MAX_MATCHERS)
        return 0;
    if (fs_read_file(path, IGNORE_FILE_MAX, &text, NULL) != 0)
        return 0;
    matcher *m = calloc(1, sizeof *m);
    if (m == NULL) {
        free(text);
        return -ENOMEM;
    }
    pkg_ignore_init(&m->ig);
    str_copy(m->base, sizeof m->base, dir);
    int rc = pkg_ignore_add_lines(&m->ig, text);
    free(text);
    w->m[w->nm++] = m;
    return rc;
}

static void pop_matchers(walk *w, int to)
{
    while (w->nm > to) {
        matcher *m = w->m[--w->nm];
        pkg_ignore_free(&m->ig);
        free(m);
    }
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The sorted entry names of DIR (caller frees each and the array). */
static int list_dir(const char *dir, char ***names, size_t *n)
{
    size_t cap = 0;
    *names = NULL;
    *n = 0;
    DIR *d = opendir(dir);
    if (d == NULL)
        return -errno;
    struct dirent *e;
    int rc = 0;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 32;
            char **p = realloc(*names, cap * sizeof *p);
            if (p == NULL) {
                rc = -ENOMEM;
                break;
            }
            *names = p;
        }
        if (((*names)[*n] = strdup(e->d_name)) == NULL) {
            rc = -ENOMEM;
            break;
        }
        (*n)++;
    }
    closedir(d);
    if (*n > 0)
        qsort(*names, *n, sizeof **names, name_cmp);
    return rc;
}

static int walk_path(walk *w, const char *abs, int depth);

static int walk_children(walk *w, const char *abs, int depth)
{
    char **names;
    size_t n;
    int rc = list_dir(abs, &names, &n);
    for (size_t i = 0; i < n; i++) {
        char child[PATH_MAX];
        if (rc == 0 && fs_path_join(child, sizeof child, abs, names[i]) != 0) {
            snprintf(w->err, w->errlen, "path too long under %s", abs);
            rc = -ENAMETOOLONG;
        }
        if (rc == 0)
            rc = walk_path(w, child, depth + 1);
        free(names[i]);
    }
    free(names);
    return rc;
}

/* Whether the walk may enter directory ABS (ST) at DEPTH: not a loop back
 * into itself, not a pseudo-filesystem.  Returns 1, 0 to skip it, or
 * -ELOOP when nested too deep. */
static int may_enter(walk *w, const char *abs, const struct stat *st, int depth)
{
    if (depth > WALK_MAX_DEPTH) {
        snprintf(w->err, w->errlen, "directories nested too deep (symlink loop?) at %s", abs);
        return -ELOOP;
    }
    if (dir_open(w, st)) {
        walk_warn(w, "skipping %s: a symlink loop back to a directory that contains it", abs);
        return 0;
    }
    const char *fs = depth > 0 && st->st_dev != w->open_dirs[w->n_open - 1].dev ? pseudo_fs(abs)
                                                                                 : NULL;
    if (fs != NULL) {
        walk_warn(w, "skipping %s: a %s pseudo-filesystem", abs, fs);
        return 0;
    }
    return 1;
}

/* Ray's _dir_travel: a directory's ignore files apply to it and below. */
static int walk_path(walk *w, const char *abs, int depth)
{
    struct stat st;
    if (stat(abs, &st) != 0)
        return 0;   /* a dangling symlink: Ray's is_dir()/is_file() are both false */
    int mark = w->nm, rc = 0, is_dir = S_ISDIR(st.st_mode);
    if (is_dir && (rc = may_enter(w, abs, &st, depth)) <= 0)
        return rc;
    if (is_dir) {
        const char *gi = getenv("RAY_RUNTIME_ENV_IGNORE_GITIGNORE");
        if (gi == NULL || strcmp(gi, "1") != 0)
            rc = push_ignore_file(w, abs, ".gitignore");
        if (rc == 0)
            rc = push_ignore_file(w, abs, ".rayignore");
    }
    if (rc == 0 && !excluded(w, abs)) {
        if (!is_dir && !S_ISREG(st.st_mode)) {
            /* Opening a FIFO would wait for a writer; devices and sockets
             * hold no file contents to package. */
            walk_warn(w, "skipping %s: not a regular file or directory", abs);
        } else {
            rc = w->visit(w, abs, rel_to(abs, w->root), &st);
        }
        if (rc == 0 && is_dir) {
            w->open_dirs[w->n_open].dev = st.st_dev;
            w->open_dirs[w->n_open++].ino = st.st_ino;
            rc = walk_children(w, abs, depth);
            w->n_open--;
        }
    }
    pop_matchers(w, mark);
    return rc;
}

size_t pkg_default_excludes(char *buf, size_t buflen, const char **out, size_t max)
{
    const char *v = getenv("RAY_OVERRIDE_RUNTIME_ENV_DEFAULT_EXCLUDES");
    str_copy(buf, buflen, v != NULL ? v : ".git,.venv,venv,__pycache__");
    size_t n = 0;
    char *tok = buf;
    while (tok != NULL && n < max) {
        char *comma = strchr(tok, ',');
        if (comma != NULL)
            *comma = '\0';
        while (*tok == ' ')
            tok++;
        size_t l = strlen(tok);
        while (l > 0 && tok[l - 1] == ' ')
            tok[--l] = '\0';
        if (l > 0)
            out[n++] = tok;
        tok = comma ? comma + 1 : NULL;
    }
    return n;
}

static int hash_visit(walk *w, const char *abs, const char *rel, const struct stat *st);

/* Starts a walk of DIR with Ray's default excludes plus O's; only the hash
 * walk (always the first) passes warnings on. */
static int walk_run(walk *w, const char *dir, const pkg_opts *o)
{
    struct stat st;
    if (realpath(dir, w->root) == NULL || stat(w->root, &st) != 0 || !S_ISDIR(st.st_mode)) {
        snprintf(w->err, w->errlen, "directory %s must be an existing directory", dir);
        return -ENOTDIR;
    }
    const char *fs = pseudo_fs(w->root);
    if (fs != NULL) {
        snprintf(w->err, w->errlen, "directory %s is on the %s pseudo-filesystem and cannot "
                 "be packaged", dir, fs);
        return -EINVAL;
    }
    if (o != NULL && w->visit == hash_visit) {
        w->warn = o->warn;
        w->warn_arg = o->warn_arg;
    }
    matcher *m = calloc(1, sizeof *m);
    if (m == NULL)
        return -ENOMEM;
    pkg_ignore_init(&m->ig);
    str_copy(m->base, sizeof m->base, w->root);
    char buf[4096];
    const char *defaults[64];
    size_t nd = pkg_default_excludes(buf, sizeof buf, defaults, 64);
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < nd; i++)
        rc = pkg_ignore_add(&m->ig, defaults[i]);
    for (size_t i = 0; rc == 0 && o != NULL && i < o->n_excludes; i++)
        rc = pkg_ignore_add(&m->ig, o->excludes[i]);
    w->m[w->nm++] = m;
    if (rc == 0)
        rc = walk_path(w, w->root, 0);
    else
        snprintf(w->err, w->errlen, "invalid excludes pattern");
    pop_matchers(w, 0);
    return rc;
}

/* ---------------------------------------------------------------- hash */

typedef struct hash_state {
    unsigned char val[8];
} hash_state;

/* sha1(relative path + contents) XOR-folded into 8 bytes, as Ray does. */
static int hash_visit(walk *w, const char *abs, const char *rel, const struct stat *st)
{
    hash_state *h = w->arg;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (ctx == NULL || EVP_DigestInit_ex(ctx, EVP_sha1(), NULL) != 1) {
        EVP_MD_CTX_free(ctx);
        return -ENOMEM;
    }
    EVP_DigestUpdate(ctx, rel, strlen(rel));
    if (!S_ISDIR(st->st_mode)) {
        int fd = open(abs, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
        char buf[65536];
        ssize_t n;
        while (fd >= 0 && (n = read(fd, buf, sizeof buf)) > 0)
            EVP_DigestUpdate(ctx, buf, (size_t)n);
        if (fd >= 0)
            close(fd);
    }
    unsigned char d[EVP_MAX_MD_SIZE];
    EVP_DigestFinal_ex(ctx, d, NULL);
    EVP_MD_CTX_free(ctx);
    for (int i = 0; i < 8; i++)
        h->val[i] ^= d[i];
    return 0;
}

int pkg_dir_uri(const char *dir, const pkg_opts *o, char *uri, size_t urilen, char *err,
                size_t errlen)
{
    hash_state h;
    memset(h.val, '0', sizeof h.val);
    walk w = {.visit = hash_visit, .arg = &h, .err = err, .errlen = errlen};
    int rc = walk_run(&w, dir, o);
    if (rc != 0)
        return rc;
    char hex[17];
    for (int i = 0; i < 8; i++)
        snprintf(hex + 2 * i, 3, "%02x", h.val[i]);
    snprintf(uri, urilen, "gcs://_ray_pkg_%s.zip", hex);
    return 0;
}

/* ---------------------------------------------------------------- zip */

typedef struct zip_state {
    struct archive *a;
    char prefix[NAME_MAX + 2];    /* "dirname/" for include_parent_dir */
} zip_state;

static int dir_is_empty(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int empty = 1;
    while (d != NULL && empty && (e = readdir(d)) != NULL)
        empty = strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0;
    if (d != NULL)
        closedir(d);
    return empty;
}

static int zip_copy(struct archive *a, const char *abs)
{
    int fd = open(abs, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return -errno;
    char buf[65536];
    ssize_t n;
    int rc = 0;
    while ((n = read(fd, buf, sizeof buf)) > 0)
        if (archive_write_data(a, buf, (size_t)n) != n) {
            rc = -EIO;
            break;
        }
    if (n < 0)
        rc = -errno;
    close(fd);
    return rc;
}

/* Python's ZipFile.write: files, and directories only when empty. */
static int zip_visit(walk *w, const char *abs, const char *rel, const struct stat *st)
{
    zip_state *z = w->arg;
    int is_dir = S_ISDIR(st->st_mode);
    if (strcmp(rel, ".") == 0 || (is_dir && !dir_is_empty(abs)))
        return 0;
    char name[PATH_MAX + NAME_MAX + 4];
    snprintf(name, sizeof name, "%s%s%s", z->prefix, rel, is_dir ? "/" : "");
    struct archive_entry *e = archive_entry_new();
    archive_entry_set_pathname(e, name);
    archive_entry_set_filetype(e, is_dir ? AE_IFDIR : AE_IFREG);
    archive_entry_set_perm(e, st->st_mode & 0777);
    archive_entry_set_size(e, is_dir ? 0 : st->st_size);
    archive_entry_set_mtime(e, st->st_mtime, 0);
    int rc = archive_write_header(z->a, e) == ARCHIVE_OK ? 0 : -EIO;
    archive_entry_free(e);
    if (rc == 0 && !is_dir)
        rc = zip_copy(z->a, abs);
    if (rc != 0)
        snprintf(w->err, w->errlen, "cannot add %s to the package: %s", abs,
                 archive_error_string(z->a) ? archive_error_string(z->a) : strerror(-rc));
    return rc;
}

int pkg_dir_zip(const char *dir, const pkg_opts *o, const char *out_path, char *err,
                size_t errlen)
{
    zip_state z = {.a = archive_write_new()};
    walk w = {.visit = zip_visit, .arg = &z, .err = err, .errlen = errlen};
    if (z.a == NULL || archive_write_set_format_zip(z.a) != ARCHIVE_OK ||
        archive_write_open_filename(z.a, out_path) != ARCHIVE_OK) {
        snprintf(err, errlen, "cannot create %s", out_path);
        if (z.a)
            archive_write_free(z.a);
        return -EIO;
    }
    if (o != NULL && o->include_parent_dir) {
        char real[PATH_MAX];
        const char *base = realpath(dir, real) ? strrchr(real, '/') + 1 : dir;
        snprintf(z.prefix, sizeof z.prefix, "%s/", base);
    }
    int rc = walk_run(&w, dir, o);
    if (archive_write_close(z.a) != ARCHIVE_OK && rc == 0) {
        snprintf(err, errlen, "cannot write %s", out_path);
        rc = -EIO;
    }
    archive_write_free(z.a);
    return rc;
}

int pkg_file_uri(const char *path, char *uri, size_t urilen, char *err, size_t errlen)
{
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    size_t bl = strlen(base);
    if (bl > 4 && strcmp(base + bl - 4, ".whl") == 0) {
        snprintf(uri, urilen, "gcs://%s", base);
        return 0;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
        return -errno;
    }
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (ctx == NULL || EVP_DigestInit_ex(ctx, EVP_sha1(), NULL) != 1) {
        EVP_MD_CTX_free(ctx);
        close(fd);
        return -ENOMEM;
    }
    char buf[65536];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0)
        EVP_DigestUpdate(ctx, buf, (size_t)n);
    close(fd);
    unsigned char d[EVP_MAX_MD_SIZE];
    EVP_DigestFinal_ex(ctx, d, NULL);
    EVP_MD_CTX_free(ctx);
    char hex[41];
    for (int i = 0; i < 20; i++)
        snprintf(hex + 2 * i, 3, "%02x", d[i]);
    snprintf(uri, urilen, "gcs://_ray_pkg_%s.zip", hex);
    return 0;
}
