/* Unpacking packages with libarchive, refusing entries that escape. */
#include "jobserver/renv_unpack.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/util.h"

int renv_unpack_check_name(const char *name, char *out, size_t outlen)
{
    while (name[0] == '.' && name[1] == '/')
        name += 2;
    if (name[0] == '\0' || name[0] == '/')
        return -EPERM;
    for (const char *p = name; *p;) {
        size_t n = strcspn(p, "/");
        if (n == 2 && p[0] == '.' && p[1] == '.')
            return -EPERM;
        p += n;
        while (*p == '/')
            p++;
    }
    return str_copy(out, outlen, name) == 0 ? 0 : -EPERM;
}

int renv_unpack_check_symlink(const char *name, const char *target)
{
    if (target[0] == '\0' || target[0] == '/')
        return -EPERM;
    /* Depth of the directory holding NAME, then walk TARGET from there. */
    int depth = 0;
    for (const char *p = name; *p;) {
        size_t n = strcspn(p, "/");
        p += n;
        if (*p == '/') {
            if (n > 0 && !(n == 1 && p[-1] == '.'))
                depth++;
            while (*p == '/')
                p++;
        }
    }
    for (const char *p = target; *p;) {
        size_t n = strcspn(p, "/");
        if (n == 2 && p[0] == '.' && p[1] == '.') {
            if (--depth < 0)
                return -EPERM;
        } else if (n > 0 && !(n == 1 && p[0] == '.')) {
            depth++;
        }
        p += n;
        while (*p == '/')
            p++;
    }
    return 0;
}

typedef struct unpack {
    struct archive *in;
    struct archive *out;
    const char *archive_path;
    char root[PATH_MAX];
    uint64_t written;
    uint64_t archive_bytes;
    renv_unpack_limits lim;
    char *err;
    size_t errlen;
} unpack;

static int refuse(unpack *u, const char *what, const char *name)
{
    snprintf(u->err, u->errlen, "refusing to unpack %s: %s '%.200s' would land outside the "
                                "target directory", u->archive_path, what, name);
    return -EPERM;
}

/* Rewrites the entry's paths under the root after checking them. */
static int place_entry(unpack *u, struct archive_entry *e)
{
    char clean[PATH_MAX], full[PATH_MAX * 2];
    const char *name = archive_entry_pathname(e);
    if (name == NULL || renv_unpack_check_name(name, clean, sizeof clean) != 0)
        return refuse(u, "entry", name ? name : "(no name)");
    const char *sym = archive_entry_symlink(e);
    if (sym != NULL && renv_unpack_check_symlink(clean, sym) != 0)
        return refuse(u, "symlink", name);
    const char *hard = archive_entry_hardlink(e);
    if (hard != NULL) {
        char hclean[PATH_MAX];
        if (renv_unpack_check_name(hard, hclean, sizeof hclean) != 0)
            return refuse(u, "hard link", name);
        if (fs_path_join(full, sizeof full, u->root, hclean) != 0)
            return refuse(u, "hard link", name);
        archive_entry_set_hardlink(e, full);
    }
    if (fs_path_join(full, sizeof full, u->root, clean) != 0)
        return refuse(u, "path", name);
    archive_entry_set_pathname(e, full);
    return 0;
}

/* Refuses the package once it unpacks past the size or the ratio cap. */
static int over_caps(unpack *u)
{
    if (u->written > u->lim.max_bytes) {
        snprintf(u->err, u->errlen, "refusing to unpack %s: it unpacks to more than %llu bytes "
                                    "(the cap %s)", u->archive_path,
                 (unsigned long long)u->lim.max_bytes, RENV_UNPACK_ENV_BYTES);
        return -EFBIG;
    }
    if (u->written > RENV_UNPACK_RATIO_FLOOR && u->archive_bytes > 0 &&
        u->written / u->archive_bytes >= u->lim.max_ratio) {
        snprintf(u->err, u->errlen, "refusing to unpack %s: it unpacks to more than %llu times "
                                    "its %llu bytes (the cap %s)", u->archive_path,
                 (unsigned long long)u->lim.max_ratio, (unsigned long long)u->archive_bytes,
                 RENV_UNPACK_ENV_RATIO);
        return -EFBIG;
    }
    return 0;
}

static int copy_data(unpack *u)
{
    const void *buf;
    size_t size;
    la_int64_t off;
    int r;
    while ((r = archive_read_data_block(u->in, &buf, &size, &off)) == ARCHIVE_OK) {
        u->written += size;
        int rc = over_caps(u);
        if (rc != 0)
            return rc;
        if (archive_write_data_block(u->out, buf, size, off) != ARCHIVE_OK) {
            snprintf(u->err, u->errlen, "cannot unpack %s: %s", u->archive_path,
                     archive_error_string(u->out));
            return -EIO;
        }
    }
    if (r != ARCHIVE_EOF) {
        snprintf(u->err, u->errlen, "cannot read %s: %s", u->archive_path,
                 archive_error_string(u->in));
        return -EIO;
    }
    return 0;
}

static int entry_type_ok(struct archive_entry *e)
{
    mode_t t = archive_entry_filetype(e);
    return t == AE_IFREG || t == AE_IFDIR || t == AE_IFLNK || archive_entry_hardlink(e) != NULL;
}

static int extract_all(unpack *u)
{
    struct archive_entry *e;
    int r, rc = 0;
    uint64_t count = 0;
    while (rc == 0 && (r = archive_read_next_header(u->in, &e)) == ARCHIVE_OK) {
        if (++count > u->lim.max_entries) {
            snprintf(u->err, u->errlen, "refusing to unpack %s: it has more than %llu entries "
                                        "(the cap %s)", u->archive_path,
                     (unsigned long long)u->lim.max_entries, RENV_UNPACK_ENV_ENTRIES);
            return -EFBIG;
        }
        if (!entry_type_ok(e))
            continue;   /* devices, fifos, sockets: never needed */
        if ((rc = place_entry(u, e)) != 0)
            break;
        archive_entry_set_perm(e, (archive_entry_perm(e) & 0755) | 0600);
        if (archive_write_header(u->out, e) != ARCHIVE_OK) {
            snprintf(u->err, u->errlen, "cannot unpack %s: %s", u->archive_path,
                     archive_error_string(u->out));
            return -EIO;
        }
        if (archive_entry_size(e) > 0)
            rc = copy_data(u);
        if (rc == 0 && archive_write_finish_entry(u->out) != ARCHIVE_OK) {
            snprintf(u->err, u->errlen, "cannot unpack %s: %s", u->archive_path,
                     archive_error_string(u->out));
            rc = -EIO;
        }
    }
    if (rc == 0 && r != ARCHIVE_EOF) {
        snprintf(u->err, u->errlen, "cannot read %s: %s", u->archive_path,
                 archive_error_string(u->in));
        rc = -EIO;
    }
    return rc;
}

static int open_archives(unpack *u)
{
    u->in = archive_read_new();
    u->out = archive_write_disk_new();
    if (u->in == NULL || u->out == NULL)
        return -ENOMEM;
    archive_read_support_format_zip(u->in);
    archive_read_support_format_tar(u->in);
    archive_read_support_filter_gzip(u->in);
    archive_write_disk_set_options(u->out, ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_PERM |
                                               ARCHIVE_EXTRACT_SECURE_SYMLINKS |
                                               ARCHIVE_EXTRACT_SECURE_NODOTDOT);
    if (archive_read_open_filename(u->in, u->archive_path, 65536) != ARCHIVE_OK) {
        snprintf(u->err, u->errlen, "cannot open %s: %s", u->archive_path,
                 archive_error_string(u->in));
        return -EIO;
    }
    return 0;
}

/* Checks every symlink below DIR (inside ROOT) where it really points: one
 * that resolves outside ROOT, or dangles with a ".." in it, is refused. */
static int check_links(const char *root, const char *dir, int depth, char *err, size_t errlen)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return 0;
    struct dirent *e;
    int rc = 0;
    size_t rl = strlen(root);
    while (rc == 0 && (e = readdir(d)) != NULL) {
        char path[PATH_MAX], real[PATH_MAX], target[PATH_MAX];
        struct stat st;
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0 ||
            fs_path_join(path, sizeof path, dir, e->d_name) != 0 ||
            lstat(path, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode) && depth < 256) {
            rc = check_links(root, path, depth + 1, err, errlen);
        } else if (S_ISLNK(st.st_mode)) {
            ssize_t n = readlink(path, target, sizeof target - 1);
            target[n > 0 ? n : 0] = '\0';
            int inside = realpath(path, real) != NULL
                             ? strncmp(real, root, rl) == 0 && (real[rl] == '/' || real[rl] == '\0')
                             : strstr(target, "..") == NULL;
            if (!inside) {
                snprintf(err, errlen, "refusing to unpack: symlink '%.200s' points outside the "
                                      "target directory", path + rl + 1);
                rc = -EPERM;
            }
        }
    }
    closedir(d);
    return rc;
}

/* When TMP holds one directory (besides __MACOSX), returns its path in OUT. */
static int single_top_dir(const char *tmp, char *out, size_t outlen)
{
    DIR *d = opendir(tmp);
    struct dirent *e;
    int count = 0;
    char name[NAME_MAX + 1] = "";
    while (d != NULL && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0 ||
            strcmp(e->d_name, "__MACOSX") == 0)
            continue;
        count++;
        str_copy(name, sizeof name, e->d_name);
    }
    if (d != NULL)
        closedir(d);
    struct stat st;
    if (count != 1 || fs_path_join(out, outlen, tmp, name) != 0 ||
        lstat(out, &st) != 0 || !S_ISDIR(st.st_mode))
        return 0;
    return 1;
}

/* Moves the unpacked tree from TMP into DEST (stripping a top directory). */
static int move_into_place(const char *tmp, const char *dest, int strip, char *err, size_t errlen)
{
    char top[PATH_MAX * 2];
    const char *src = strip && single_top_dir(tmp, top, sizeof top) ? top : tmp;
    if (rename(src, dest) != 0) {
        snprintf(err, errlen, "cannot move the unpacked package to %s: %s", dest, strerror(errno));
        return -errno;
    }
    if (src != tmp)
        fs_rm_rf(tmp);
    return 0;
}

int renv_unpack(const char *archive, const char *dest, int strip, const renv_unpack_limits *lim,
                uint64_t *size, char *err, size_t errlen)
{
    unpack u = {.archive_path = archive, .lim = *lim, .err = err, .errlen = errlen};
    struct stat ast;
    if (stat(archive, &ast) == 0)
        u.archive_bytes = (uint64_t)ast.st_size;
    char rnd[17];
    ids_random_hex(rnd, 8);
    if (snprintf(u.root, sizeof u.root, "%s.tmp-%s", dest, rnd) >= (int)sizeof u.root ||
        fs_mkdir_p(u.root, 0700) != 0) {
        snprintf(err, errlen, "cannot create a directory next to %s", dest);
        return -EIO;
    }
    int rc = open_archives(&u);
    if (rc == 0)
        rc = extract_all(&u);
    if (u.in)
        archive_read_free(u.in);
    if (u.out) {
        archive_write_close(u.out);
        archive_write_free(u.out);
    }
    char real_root[PATH_MAX];
    if (rc == 0 && realpath(u.root, real_root) != NULL)
        rc = check_links(real_root, real_root, 0, err, errlen);
    if (rc == 0)
        rc = move_into_place(u.root, dest, strip, err, errlen);
    if (rc != 0)
        fs_rm_rf(u.root);
    else
        *size = u.written;
    return rc;
}
