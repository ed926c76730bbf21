/* Unit tests for runtime_env pieces: ${VAR} expansion, the runtime_env
 * spec, package URIs, zip-slip checks (and a real hostile archive),
 * .gitignore patterns and Ray's package hash. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/util.h"
#include "jobclient/pkg_ignore.h"
#include "jobclient/pkg_pack.h"
#include "jobserver/renv_env.h"
#include "jobserver/renv_spec.h"
#include "jobserver/renv_unpack.h"
#include "jobserver/renv_uri.h"

static char tmp[256];

static int make_tmp(void **state)
{
    (void)state;
    snprintf(tmp, sizeof tmp, "/tmp/rayc-test-renv-XXXXXX");
    return mkdtemp(tmp) ? 0 : -1;
}

static int remove_tmp(void **state)
{
    (void)state;
    return fs_rm_rf(tmp);
}

/* ---------------------------------------------------------------- env */

static void expansion_follows_rays_update_envs(void **state)
{
    (void)state;
    char *env0[] = {"HOME=/home/u", "EMPTY=", NULL};
    renv_envlist e;
    assert_int_equal(renv_envlist_init(&e, env0), 0);
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"$HOME/x", "/home/u/x"},
        {"${HOME}/x", "/home/u/x"},
        {"a${NOPE}b", "ab"},               /* unset ${UPPER}: removed */
        {"a$NOPE", "a$NOPE"},              /* unset $NAME: kept, as expandvars does */
        {"a${lower_unset}b", "a${lower_unset}b"},
        {"$", "$"},
        {"cost: $5", "cost: $5"},
        {"${EMPTY}x", "x"},
        {"${HOME", "${HOME"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *out;
        assert_int_equal(renv_expand(&e, cases[i].in, &out), 0);
        assert_string_equal(out, cases[i].out);
        free(out);
    }
    assert_int_equal(renv_envlist_set(&e, "HOME", "/other"), 0);
    assert_string_equal(renv_envlist_get(&e, "HOME"), "/other");
    assert_int_equal(renv_envlist_set(&e, "A=B", "x"), -EINVAL);
    assert_int_equal(e.n, 2);
    renv_envlist_free(&e);
}

/* ---------------------------------------------------------------- spec */

static void spec_accepts_supported_fields(void **state)
{
    (void)state;
    renv_spec s;
    char err[256];
    assert_int_equal(renv_spec_parse("{\"working_dir\": \"gcs://_ray_pkg_1.zip\", \"py_modules\": "
                                     "[\"gcs://m.zip\"], \"env_vars\": {\"A\": \"1\", \"B\": \"2\"}, "
                                     "\"pip\": {\"packages\": [\"x==1\"], \"pip_check\": true, "
                                     "\"pip_install_options\": [\"--no-index\"]}, \"config\": "
                                     "{\"setup_timeout_seconds\": 30, \"eager_install\": false}, "
                                     "\"excludes\": [\"*.log\"]}", &s, err, sizeof err), 0);
    assert_string_equal(s.working_dir, "gcs://_ray_pkg_1.zip");
    assert_int_equal(s.n_py_modules, 1);
    assert_int_equal(s.n_env, 2);
    assert_string_equal(s.env_keys[1], "B");
    assert_int_equal(s.n_pip, 1);
    assert_true(s.pip_check);
    assert_string_equal(s.pip_options[0], "--no-index");
    assert_int_equal(s.setup_timeout_s, 30);
    renv_spec_free(&s);
    assert_int_equal(renv_spec_parse(NULL, &s, err, sizeof err), 0);
    assert_int_equal(s.setup_timeout_s, RENV_DEFAULT_SETUP_TIMEOUT_S);
    assert_int_equal(renv_spec_parse("{\"pip\": [\"a\", \"b\"]}", &s, err, sizeof err), 0);
    assert_int_equal(s.n_pip, 2);
    renv_spec_free(&s);
}

static void spec_refuses_unsupported_fields_by_name(void **state)
{
    (void)state;
    static const struct {
        const char *json, *err;
    } cases[] = {
        {"{\"conda\": \"env\"}", "runtime_env field 'conda' is not supported by rayc"},
        {"{\"container\": {}}", "runtime_env field 'container' is not supported by rayc"},
        {"{\"image_uri\": \"x\"}", "runtime_env field 'image_uri' is not supported by rayc"},
        {"{\"uv\": [\"x\"]}", "runtime_env field 'uv' is not supported by rayc"},
        {"{\"env_vars\": {\"A\": 1}}", "runtime_env env_vars value of 'A' must be a string"},
        {"{\"working_dir\": 5}", "runtime_env field 'working_dir' must be a string URI"},
        {"{\"config\": {\"setup_timeout_seconds\": 0}}",
         "runtime_env config.setup_timeout_seconds must be a positive integer or -1"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        renv_spec s;
        char err[256] = "";
        assert_int_equal(renv_spec_parse(cases[i].json, &s, err, sizeof err), -EINVAL);
        assert_string_equal(err, cases[i].err);
    }
}

/* ---------------------------------------------------------------- URIs */

static void uris_get_rays_package_names(void **state)
{
    (void)state;
    renv_uri u;
    char err[512];
    assert_int_equal(renv_uri_parse("gcs://_ray_pkg_abc.zip", &u, err, sizeof err), 0);
    assert_int_equal(u.proto, RENV_GCS);
    assert_string_equal(u.name, "_ray_pkg_abc.zip");
    assert_string_equal(u.dir, "_ray_pkg_abc");
    assert_int_equal(renv_uri_parse("https://github.com/o/r/archive/HEAD.zip", &u, err, sizeof err), 0);
    assert_string_equal(u.name, "https_github_com_o_r_archive_HEAD.zip");
    assert_int_equal(renv_uri_parse("https://x.org/pkgs/mod-1.0-py3-none-any.whl", &u, err, sizeof err), 0);
    assert_int_equal(u.kind, RENV_WHL);
    assert_string_equal(u.name, "mod-1.0-py3-none-any.whl");
    assert_int_equal(renv_uri_parse("file:///data/a.b.tar.gz", &u, err, sizeof err), 0);
    assert_int_equal(u.kind, RENV_TGZ);
    assert_string_equal(u.path, "/data/a.b.tar.gz");
    assert_string_equal(u.dir, "file__data_a_b");
    assert_int_equal(renv_uri_parse("s3://b/x.zip", &u, err, sizeof err), -ENOTSUP);
    assert_int_equal(renv_uri_parse("/local/dir", &u, err, sizeof err), -EINVAL);
    assert_int_equal(renv_uri_parse("gcs://x.txt", &u, err, sizeof err), -EINVAL);
    assert_int_equal(renv_uri_parse("gcs://../x.zip", &u, err, sizeof err), -EINVAL);
    assert_int_equal(renv_uri_parse("gcs://a/b.zip", &u, err, sizeof err), -EINVAL);
}

/* ---------------------------------------------------------------- zip-slip */

static void entry_names_and_links_must_stay_inside(void **state)
{
    (void)state;
    char out[256];
    assert_int_equal(renv_unpack_check_name("a/b.txt", out, sizeof out), 0);
    assert_int_equal(renv_unpack_check_name("./a/./b", out, sizeof out), 0);
    assert_string_equal(out, "a/./b");
    const char *bad[] = {"", "/etc/passwd", "../x", "a/../../x", "a/..", "..", "./../x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(renv_unpack_check_name(bad[i], out, sizeof out), -EPERM);
    assert_int_equal(renv_unpack_check_symlink("a/link", "../b"), 0);
    assert_int_equal(renv_unpack_check_symlink("a/b/link", "../../c/./d"), 0);
    assert_int_equal(renv_unpack_check_symlink("link", "sub/../x"), 0);
    assert_int_equal(renv_unpack_check_symlink("link", ".."), -EPERM);
    assert_int_equal(renv_unpack_check_symlink("a/link", "../../x"), -EPERM);
    assert_int_equal(renv_unpack_check_symlink("link", "/etc"), -EPERM);
    assert_int_equal(renv_unpack_check_symlink("link", ""), -EPERM);
}

/* Writes a zip holding NAME (content "x") with libarchive. */
static void write_zip(const char *path, const char *name, const char *link)
{
    struct archive *a = archive_write_new();
    archive_write_set_format_zip(a);
    archive_write_open_filename(a, path);
    struct archive_entry *e = archive_entry_new();
    archive_entry_set_pathname(e, name);
    archive_entry_set_perm(e, 0644);
    if (link != NULL) {
        archive_entry_set_filetype(e, AE_IFLNK);
        archive_entry_set_symlink(e, link);
        archive_write_header(a, e);
    } else {
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_size(e, 1);
        archive_write_header(a, e);
        archive_write_data(a, "x", 1);
    }
    archive_entry_free(e);
    archive_write_close(a);
    archive_write_free(a);
}

static const renv_unpack_limits small_limits = {1 << 20, 1000, 200};

static void hostile_archives_are_refused(void **state)
{
    (void)state;
    char zip[512], dest[512], victim[512], name[600], err[512];
    uint64_t size;
    snprintf(victim, sizeof victim, "%s/victim", tmp);
    snprintf(zip, sizeof zip, "%s/evil.zip", tmp);
    snprintf(dest, sizeof dest, "%s/out/pkg", tmp);
    fs_mkdir_p(dest, 0755);
    rmdir(dest);
    snprintf(name, sizeof name, "../../victim");
    write_zip(zip, name, NULL);
    assert_int_equal(renv_unpack(zip, dest, 0, &small_limits, &size, err, sizeof err), -EPERM);
    assert_non_null(strstr(err, "would land outside"));
    write_zip(zip, victim, NULL);
    assert_int_equal(renv_unpack(zip, dest, 0, &small_limits, &size, err, sizeof err), -EPERM);
    write_zip(zip, "up", "../..");
    assert_int_equal(renv_unpack(zip, dest, 0, &small_limits, &size, err, sizeof err), -EPERM);
    struct stat st;
    assert_int_equal(stat(victim, &st), -1);
    assert_int_equal(stat(dest, &st), -1);
    write_zip(zip, "top/ok.txt", NULL);
    assert_int_equal(renv_unpack(zip, dest, 1, &small_limits, &size, err, sizeof err), 0);
    snprintf(name, sizeof name, "%s/ok.txt", dest);
    assert_int_equal(stat(name, &st), 0);
    assert_int_equal(size, 1);
}

/* Writes a zip of ENTRIES files, each BYTES zeros (deflated). */
static void write_zeros_zip(const char *path, int entries, size_t bytes)
{
    static char zeros[1 << 16];
    struct archive *a = archive_write_new();
    archive_write_set_format_zip(a);
    archive_write_open_filename(a, path);
    for (int i = 0; i < entries; i++) {
        char name[32];
        snprintf(name, sizeof name, "f%d", i);
        struct archive_entry *e = archive_entry_new();
        archive_entry_set_pathname(e, name);
        archive_entry_set_perm(e, 0644);
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_size(e, (la_int64_t)bytes);
        archive_write_header(a, e);
        for (size_t left = bytes; left > 0;) {
            size_t n = left < sizeof zeros ? left : sizeof zeros;
            archive_write_data(a, zeros, n);
            left -= n;
        }
        archive_entry_free(e);
    }
    archive_write_close(a);
    archive_write_free(a);
}

/* renv-bomb: each cap stops a package at once, names itself, leaves nothing. */
static void bombs_are_refused_by_each_cap(void **state)
{
    (void)state;
    char zip[512], dest[512], err[512];
    uint64_t size;
    struct stat st;
    snprintf(zip, sizeof zip, "%s/bomb.zip", tmp);
    snprintf(dest, sizeof dest, "%s/pkg", tmp);
    write_zeros_zip(zip, 1, 2u << 20);
    assert_int_equal(renv_unpack(zip, dest, 0, &small_limits, &size, err, sizeof err), -EFBIG);
    assert_non_null(strstr(err, "more than 1048576 bytes (the cap RAYC_PACKAGE_MAX_UNPACKED_BYTES)"));
    assert_int_equal(stat(dest, &st), -1);
    write_zeros_zip(zip, 1001, 1);
    assert_int_equal(renv_unpack(zip, dest, 0, &small_limits, &size, err, sizeof err), -EFBIG);
    assert_non_null(strstr(err, "more than 1000 entries (the cap RAYC_PACKAGE_MAX_ENTRIES)"));
    assert_int_equal(stat(dest, &st), -1);
    renv_unpack_limits big = {1ull << 40, 1000, 200};
    write_zeros_zip(zip, 1, 100u << 20);
    assert_int_equal(renv_unpack(zip, dest, 0, &big, &size, err, sizeof err), -EFBIG);
    assert_non_null(strstr(err, "more than 200 times"));
    assert_non_null(strstr(err, "(the cap RAYC_PACKAGE_MAX_RATIO)"));
    assert_int_equal(stat(dest, &st), -1);
    write_zeros_zip(zip, 1000, 1);
    assert_int_equal(renv_unpack(zip, dest, 0, &small_limits, &size, err, sizeof err), 0);
    assert_int_equal(size, 1000);
}

/* ---------------------------------------------------------------- .gitignore */

static void gitignore_patterns_translate_as_pathspec_does(void **state)
{
    (void)state;
    static const struct {
        const char *pattern, *regex;
    } cases[] = {
        {"*.pyc", "^(.+/)?[^/]*\\.pyc(/.*)?$"},
        {"/build", "^build(/.*)?$"},
        {"build/", "^(.+/)?build/.*$"},
        {"docs/*.md", "^docs/[^/]*\\.md(/.*)?$"},
        {"a/**/b", "^a(/.+)?/b(/.*)?$"},
        {"**", "^.+$"},
        {"!keep.log", "^(.+/)?keep\\.log$"},
        {"[!a]x", "^(.+/)?[^a]x(/.*)?$"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char re[512];
        int include;
        assert_int_equal(pkg_ignore_translate(cases[i].pattern, re, sizeof re, &include), 0);
        assert_string_equal(re, cases[i].regex);
    }
    char re[64];
    int include;
    assert_int_equal(pkg_ignore_translate("# comment", re, sizeof re, &include), 1);
    assert_int_equal(pkg_ignore_translate("   ", re, sizeof re, &include), 1);
}

static void gitignore_last_match_wins(void **state)
{
    (void)state;
    pkg_ignore ig;
    pkg_ignore_init(&ig);
    assert_int_equal(pkg_ignore_add_lines(&ig, "*.log\n!keep.log\nbuild/\n.*\n"), 0);
    assert_true(pkg_ignore_match(&ig, "a.log"));
    assert_true(pkg_ignore_match(&ig, "sub/a.log"));
    assert_false(pkg_ignore_match(&ig, "keep.log"));
    assert_false(pkg_ignore_match(&ig, "build"));       /* the directory itself, as pathspec */
    assert_true(pkg_ignore_match(&ig, "build/x.o"));
    assert_true(pkg_ignore_match(&ig, "."));            /* ".*" matches the root, as in Ray */
    assert_false(pkg_ignore_match(&ig, "main.py"));
    pkg_ignore_free(&ig);
}

/* ---------------------------------------------------------------- package hash */

static void package_hash_is_rays(void **state)
{
    (void)state;
    char path[512], uri[PKG_URI_MAX], err[256];
    snprintf(path, sizeof path, "%s/d/sub", tmp);
    assert_int_equal(fs_mkdir_p(path, 0755), 0);
    snprintf(path, sizeof path, "%s/d/a.txt", tmp);
    fs_write_file(path, "hello\n", 6, 0644);
    snprintf(path, sizeof path, "%s/d/sub/b.txt", tmp);
    fs_write_file(path, "b", 1, 0644);
    snprintf(path, sizeof path, "%s/d", tmp);
    pkg_opts o = {0};
    /* Expected value computed with Ray's packaging.py algorithm in Python. */
    assert_int_equal(pkg_dir_uri(path, &o, uri, sizeof uri, err, sizeof err), 0);
    assert_string_equal(uri, "gcs://_ray_pkg_027fd55ff6a3b66a.zip");
    assert_int_equal(pkg_dir_uri("/nonexistent-dir", &o, uri, sizeof uri, err, sizeof err), -ENOTDIR);
    snprintf(path, sizeof path, "%s/d/a.txt", tmp);
    assert_int_equal(pkg_file_uri(path, uri, sizeof uri, err, sizeof err), 0);
    assert_string_equal(uri, "gcs://_ray_pkg_f572d396fae9206628714fb2ce00f72e94f2258f.zip");
    assert_int_equal(pkg_file_uri("/x/mod-1.0-py3-none-any.whl", uri, sizeof uri, err, sizeof err), 0);
    assert_string_equal(uri, "gcs://mod-1.0-py3-none-any.whl");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(expansion_follows_rays_update_envs),
        cmocka_unit_test(spec_accepts_supported_fields),
        cmocka_unit_test(spec_refuses_unsupported_fields_by_name),
        cmocka_unit_test(uris_get_rays_package_names),
        cmocka_unit_test(entry_names_and_links_must_stay_inside),
        cmocka_unit_test_setup_teardown(hostile_archives_are_refused, make_tmp, remove_tmp),
        cmocka_unit_test_setup_teardown(bombs_are_refused_by_each_cap, make_tmp, remove_tmp),
        cmocka_unit_test(gitignore_patterns_translate_as_pathspec_does),
        cmocka_unit_test(gitignore_last_match_wins),
        cmocka_unit_test_setup_teardown(package_hash_is_rays, make_tmp, remove_tmp),
    };
    return cmocka_run_group_tests_name("renv", tests, NULL, NULL);
}
