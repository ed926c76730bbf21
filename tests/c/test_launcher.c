/* Unit tests for the launcher's pieces that need no network: sync filters
 * and globs, the output tail, shell quoting, hashes, known_hosts lookup and
 * the state database with its lock. */
#include <errno.h>
#include <fcntl.h>
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
#include <jansson.h>
#include <sqlite3.h>

#include "common/util.h"
#include "launcher/cfg.h"
#include "common/dbuf.h"
#include "launcher/lshell.h"
#include "launcher/lstate.h"
#include "launcher/ltail.h"
#include "launcher/ssh_conn.h"
#include "launcher/sync_filter.h"
#include "launcher/sync_tree.h"
#include "launcher/up_bootstrap.h"
#include "launcher/up_hash.h"

static char tmp[256];

static int make_tmp(void **state)
{
    (void)state;
    snprintf(tmp, sizeof tmp, "/tmp/rayc-test-launcher-XXXXXX");
    return mkdtemp(tmp) ? 0 : -1;
}

static int remove_tmp(void **state)
{
    (void)state;
    return fs_rm_rf(tmp);
}

static void write_text(const char *rel, const char *text)
{
    char path[512], dir[512];
    snprintf(path, sizeof path, "%s/%s", tmp, rel);
    snprintf(dir, sizeof dir, "%s", path);
    *strrchr(dir, '/') = '\0';
    assert_int_equal(fs_mkdir_p(dir, 0755), 0);
    assert_int_equal(fs_write_file(path, text, strlen(text), 0644), 0);
}

/* ---------------------------------------------------------------- globs and filters */

static void glob_follows_rsync_rules(void **state)
{
    (void)state;
    assert_true(sync_glob_match("*.log", "a.log"));
    assert_false(sync_glob_match("*.log", "d/a.log"));
    assert_true(sync_glob_match("**/.git", "x/y/.git"));
    assert_true(sync_glob_match("a/**/z", "a/b/c/z"));
    assert_true(sync_glob_match("file?.[ch]", "file1.c"));
    assert_false(sync_glob_match("file?.[ch]", "file1.o"));
    assert_true(sync_glob_match("[!a]*", "bcd"));
    assert_false(sync_glob_match("?", "/"));
    assert_true(sync_glob_match("\\*x", "*x"));
    /* A pathological pattern gives up instead of spinning. */
    assert_false(sync_glob_match("*a*a*a*a*a*a*a*a*a*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
}

static void filter_rules(void **state)
{
    (void)state;
    sync_filter f;
    char *ex[] = {"**/.git", "/top.txt", "build/", "*.o"};
    assert_int_equal(sync_filter_init(&f, ex, 4, NULL, 0), 0);
    assert_true(sync_filter_excluded(&f, ".git", 1));
    assert_true(sync_filter_excluded(&f, "sub/.git", 1));
    assert_true(sync_filter_excluded(&f, "top.txt", 0));
    assert_false(sync_filter_excluded(&f, "sub/top.txt", 0));
    assert_true(sync_filter_excluded(&f, "a/build", 1));
    assert_false(sync_filter_excluded(&f, "a/build", 0));
    assert_true(sync_filter_excluded(&f, "x/y/z.o", 0));
    assert_false(sync_filter_excluded(&f, "x/y/z.c", 0));
    sync_filter_free(&f);
}

static void gitignore_files_apply_below_their_directory(void **state)
{
    (void)state;
    sync_filter f;
    char *files[] = {".gitignore"};
    char dir[512];
    write_text("g/.gitignore", "# comment\n*.log\n/only-here\n");
    write_text("g/sub/.gitignore", "!keep.log\n");
    assert_int_equal(sync_filter_init(&f, NULL, 0, files, 1), 0);
    snprintf(dir, sizeof dir, "%s/g", tmp);
    long root = sync_filter_enter(&f, dir, "");
    assert_true(root >= 0);
    assert_true(sync_filter_excluded(&f, "a.log", 0));
    assert_true(sync_filter_excluded(&f, "only-here", 0));
    assert_false(sync_filter_excluded(&f, "sub/only-here", 0));
    snprintf(dir, sizeof dir, "%s/g/sub", tmp);
    long sub = sync_filter_enter(&f, dir, "sub");
    assert_true(sync_filter_excluded(&f, "sub/x.log", 0));
    assert_false(sync_filter_excluded(&f, "sub/keep.log", 0));
    sync_filter_leave(&f, sub);
    assert_true(sync_filter_excluded(&f, "keep.log", 0));
    sync_filter_free(&f);
}

static int collect(void *data, const char *abs, const char *rel)
{
    (void)abs;
    dbuf *b = data;
    dbuf_printf(b, "%s;", rel);
    return 0;
}

static void walk_is_sorted_and_filtered(void **state)
{
    (void)state;
    char src[512], err[256];
    char *ex[] = {"**/.git"};
    char *ff[] = {".gitignore"};
    sync_spec spec = {ex, 1, ff, 1};
    dbuf b;
    write_text("w/b.txt", "b");
    write_text("w/a.txt", "a");
    write_text("w/.gitignore", "*.tmp\n");
    write_text("w/x.tmp", "x");
    write_text("w/.git/config", "c");
    write_text("w/d/e.txt", "e");
    snprintf(src, sizeof src, "%s/w", tmp);
    dbuf_init(&b, 4096);
    assert_int_equal(sync_walk(src, &spec, collect, &b, err, sizeof err), 0);
    assert_string_equal(dbuf_str(&b), ".gitignore;a.txt;b.txt;d/e.txt;");
    dbuf_free(&b);
    snprintf(src, sizeof src, "%s/missing", tmp);
    assert_int_equal(sync_walk(src, &spec, collect, &b, err, sizeof err), -ENOENT);
}

/* ---------------------------------------------------------------- tail, buffers, shell */

static void tail_keeps_the_last_lines(void **state)
{
    (void)state;
    static ltail t;
    char line[64];
    ltail_reset(&t);
    for (int i = 1; i <= 30; i++) {
        snprintf(line, sizeof line, "line %d\r\n", i);
        ltail_feed(&t, line, strlen(line));
    }
    ltail_feed(&t, "partial", 7);
    assert_int_equal(ltail_count(&t), 21);
    char big[1000];
    memset(big, 'x', sizeof big);
    ltail_reset(&t);
    ltail_feed(&t, big, sizeof big);
    ltail_feed(&t, "\n", 1);
    assert_int_equal(ltail_count(&t), 1);
    assert_int_equal(strlen(t.lines[0]), LTAIL_WIDTH + 3);
}

static void dbuf_has_a_cap(void **state)
{
    (void)state;
    dbuf b;
    dbuf_init(&b, 10);
    assert_int_equal(dbuf_puts(&b, "12345"), 0);
    assert_int_equal(dbuf_puts(&b, "123456"), -EFBIG);
    assert_null(dbuf_take(&b, NULL));
    dbuf_free(&b);
}

static void shell_wrapping(void **state)
{
    (void)state;
    dbuf b;
    dbuf_init(&b, 1024);
    lshell_quote(&b, "it's");
    assert_string_equal(dbuf_str(&b), "'it'\\''s'");
    dbuf_free(&b);
    lshell_env env[] = {{"RAY_HEAD_IP", "10.0.0.1"}, {"RAY_AUTH_TOKEN_PATH", "~/.ray/tok"}};
    char *plain = lshell_wrap("ray start", env, 2, 0);
    assert_string_equal(plain, "export RAY_HEAD_IP='10.0.0.1'; "
                               "export RAY_AUTH_TOKEN_PATH=\"$HOME\"'/.ray/tok'; ray start");
    free(plain);
    char *login = lshell_wrap("echo 'x'", NULL, 0, 1);
    assert_string_equal(login, "bash --login -c -i '[ -f ~/.bashrc ] && source ~/.bashrc; "
                               "export OMP_NUM_THREADS=1 PYTHONWARNINGS=ignore && "
                               "(echo '\\''x'\\'')'");
    free(login);
}

/* ---------------------------------------------------------------- hashes */

static cluster_config *config_with(const char *extra)
{
    char text[2048], err[512];
    cluster_config *c = NULL;
    snprintf(text, sizeof text,
             "provider: {type: local, head_ip: 10.0.0.1, worker_ips: [10.0.0.2]}\n"
             "file_mounts: {/r: %s/h}\n%s", tmp, extra);
    if (cfg_load_text("c.yaml", text, strlen(text), NULL, &c, err, sizeof err) != 0)
        fail_msg("%s", err);
    return c;
}

static void runtime_hash_changes_only_where_needed(void **state)
{
    (void)state;
    char f1[UP_HASH_HEX], f2[UP_HASH_HEX], h1[UP_HASH_HEX], h2[UP_HASH_HEX];
    char w1[UP_HASH_HEX], w2[UP_HASH_HEX], err[256];
    write_text("h/file", "one");
    cluster_config *a = config_with("worker_setup_commands: [a]\n");
    cluster_config *b = config_with("worker_setup_commands: [b]\n");
    assert_int_equal(up_hash_files(a, f1, err, sizeof err), 0);
    assert_int_equal(strlen(f1), 64);
    up_hash_runtime(a, 1, "10.0.0.1", f1, h1);
    up_hash_runtime(b, 1, "10.0.0.1", f1, h2);
    assert_string_equal(h1, h2);            /* the head does not run worker setup */
    up_hash_runtime(a, 0, "10.0.0.1", f1, w1);
    up_hash_runtime(b, 0, "10.0.0.1", f1, w2);
    assert_string_not_equal(w1, w2);
    write_text("h/file", "two");
    assert_int_equal(up_hash_files(a, f2, err, sizeof err), 0);
    assert_string_not_equal(f1, f2);
    up_hash_runtime(a, 1, "10.0.0.1", f2, h2);
    assert_string_not_equal(h1, h2);        /* file contents are part of the hash */
    cfg_free(a);
    cfg_free(b);
    cluster_config *cont = config_with("file_mounts_sync_continuously: true\n");
    up_hash_runtime(cont, 1, "10.0.0.1", f1, h1);
    up_hash_runtime(cont, 1, "10.0.0.1", f2, h2);
    assert_string_equal(h1, h2);            /* ...unless synced continuously */
    cfg_free(cont);
}

/* ---------------------------------------------------------------- known_hosts */

static void known_hosts_lines_are_found(void **state)
{
    (void)state;
    char path[512];
    /* The hashed entry is "10.0.0.9" hashed with an all-zero salt. */
    write_text("kh", "# comment\n"
                     "10.0.0.5 ssh-ed25519 AAAA\n"
                     "[10.0.0.6]:2222,other ssh-ed25519 AAAA\n"
                     "|1|AAAAAAAAAAAAAAAAAAAAAAAAAAA=|NTOg8pOPetadY8IJtSoSBWO1uNE= ssh-ed25519 AAAA\n");
    snprintf(path, sizeof path, "%s/kh", tmp);
    assert_int_equal(ssh_hostkey_find_line(path, "10.0.0.5", 22), 2);
    assert_int_equal(ssh_hostkey_find_line(path, "10.0.0.6", 2222), 3);
    assert_int_equal(ssh_hostkey_find_line(path, "10.0.0.6", 22), 0);
    assert_int_equal(ssh_hostkey_find_line(path, "10.0.0.7", 22), 0);
    assert_int_equal(ssh_hostkey_find_line(path, "10.0.0.9", 22), 4);
}

/* ---------------------------------------------------------------- state */

static void state_records_clusters_and_nodes(void **state)
{
    (void)state;
    char db[512], err[512], tok[128], again[128];
    lstate *s = NULL;
    int created = 0;
    lstate_node n, *all = NULL;
    size_t count = 0;
    snprintf(db, sizeof db, "%s/launcher.db", tmp);
    assert_int_equal(lstate_open(db, &s, err, sizeof err), 0);
    assert_int_equal(lstate_cluster_ensure(s, "c", "/c.yaml", "h", tok, sizeof tok, &created,
                                           err, sizeof err), 0);
    assert_int_equal(created, 1);
    assert_int_equal(strlen(tok), 64);
    assert_int_equal(lstate_cluster_ensure(s, "c", "/c.yaml", "h", again, sizeof again,
                                           &created, err, sizeof err), 0);
    assert_int_equal(created, 0);
    assert_string_equal(tok, again);        /* one token per cluster, kept */
    assert_int_equal(lstate_node_get(s, "c", "w1", &n), -ENOENT);
    assert_int_equal(lstate_node_status(s, "c", "w1", "worker", "setting-up", "doing"), 0);
    assert_int_equal(lstate_node_status(s, "c", "h", "head", "waiting-for-ssh", NULL), 0);
    assert_int_equal(lstate_node_done(s, "c", "w1", "rh", "fh"), 0);
    assert_int_equal(lstate_node_get(s, "c", "w1", &n), 0);
    assert_string_equal(n.status, LSTATE_UP_TO_DATE);
    assert_string_equal(n.runtime_hash, "rh");
    assert_int_equal(lstate_nodes(s, "c", &all, &count), 0);
    assert_int_equal(count, 2);
    assert_string_equal(all[0].kind, "head");
    free(all);
    assert_int_equal(lstate_forget_hashes(s, "c"), 0);
    assert_int_equal(lstate_node_get(s, "c", "w1", &n), 0);
    assert_string_equal(n.runtime_hash, "");
    lstate_close(s);
}

/* `ray down` may stop only nodes marked started; terminated clears it. */
static void started_mark_follows_start_and_down(void **state)
{
    (void)state;
    char db[512], err[512];
    lstate *s = NULL;
    lstate_node n;
    snprintf(db, sizeof db, "%s/started.db", tmp);
    assert_int_equal(lstate_open(db, &s, err, sizeof err), 0);
    assert_int_equal(lstate_node_status(s, "c", "w", "worker", "waiting-for-ssh", NULL), 0);
    assert_int_equal(lstate_node_get(s, "c", "w", &n), 0);
    assert_int_equal(n.started, 0);
    assert_int_equal(lstate_node_started(s, "c", "w"), 0);
    assert_int_equal(lstate_node_status(s, "c", "w", "worker", LSTATE_FAILED, "start failed"), 0);
    assert_int_equal(lstate_node_get(s, "c", "w", &n), 0);
    assert_int_equal(n.started, 1);             /* a failed start may have left Ray running */
    assert_int_equal(lstate_node_status(s, "c", "w", "worker", LSTATE_TERMINATED, NULL), 0);
    assert_int_equal(lstate_node_get(s, "c", "w", &n), 0);
    assert_int_equal(n.started, 0);
    assert_int_equal(lstate_node_get(s, "other", "w", &n), -ENOENT);
    lstate_close(s);
}

/* A state file written before the mark existed: up-to-date nodes count as
 * started, the others do not. */
static void old_state_files_get_the_started_mark(void **state)
{
    (void)state;
    char db[512], err[512];
    sqlite3 *raw = NULL;
    lstate *s = NULL;
    lstate_node n;
    snprintf(db, sizeof db, "%s/old.db", tmp);
    assert_int_equal(sqlite3_open(db, &raw), SQLITE_OK);
    assert_int_equal(sqlite3_exec(raw,
        "CREATE TABLE nodes(cluster TEXT NOT NULL, ip TEXT NOT NULL, kind TEXT NOT NULL, "
        "status TEXT NOT NULL, runtime_hash TEXT NOT NULL DEFAULT '', files_hash TEXT NOT NULL "
        "DEFAULT '', message TEXT NOT NULL DEFAULT '', updated_ms INTEGER, "
        "PRIMARY KEY(cluster, ip));"
        "INSERT INTO nodes (cluster, ip, kind, status) VALUES ('c', 'h', 'head', 'up-to-date'),"
        " ('c', 'w', 'worker', 'update-failed');", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(raw);
    assert_int_equal(lstate_open(db, &s, err, sizeof err), 0);
    assert_int_equal(lstate_node_get(s, "c", "h", &n), 0);
    assert_int_equal(n.started, 1);
    assert_int_equal(lstate_node_get(s, "c", "w", &n), 0);
    assert_int_equal(n.started, 0);
    lstate_close(s);
    assert_int_equal(lstate_open(db, &s, err, sizeof err), 0);    /* a second open is fine */
    lstate_close(s);
}

/* The head's ~/ray_bootstrap_config.yaml: Ray's prepared config. */
static void bootstrap_config_is_rays_prepared_config(void **state)
{
    (void)state;
    const char *text = "cluster_name: b\nprovider: {type: local, head_ip: 10.0.0.1, "
                       "worker_ips: [10.0.0.2]}\nauth: {ssh_user: u, ssh_private_key: /k/id, "
                       "ssh_proxy_command: nc %h %p}\nfile_mounts: {~/m: /local/m}\n"
                       "setup_commands: [s1]\nworker_setup_commands: [w1]\n";
    cluster_config *c = NULL;
    char err[512];
    json_error_t jerr;
    assert_int_equal(cfg_load_text("b.yaml", text, strlen(text), NULL, &c, err, sizeof err), 0);
    char *out = up_bootstrap_json(c, 1);
    assert_non_null(out);
    json_t *o = json_loads(out, 0, &jerr);
    assert_non_null(o);
    assert_string_equal(json_string_value(json_object_get(o, "cluster_name")), "b");
    json_t *auth = json_object_get(o, "auth");
    assert_string_equal(json_string_value(json_object_get(auth, "ssh_private_key")),
                        UP_BOOTSTRAP_KEY);
    assert_null(json_object_get(auth, "ssh_proxy_command"));
    assert_string_equal(json_string_value(json_object_get(json_object_get(o, "file_mounts"),
                                                          "~/m")), "~/m");
    json_t *ws = json_object_get(o, "worker_setup_commands");
    assert_int_equal(json_array_size(ws), 2);             /* setup_commands merged in */
    assert_string_equal(json_string_value(json_array_get(ws, 0)), "s1");
    assert_string_equal(json_string_value(json_object_get(o, "head_node_type")),
                        "local.cluster.node");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(json_object_get(
        o, "available_node_types"), "local.cluster.node"), "max_workers")), 1);
    assert_true(json_is_true(json_object_get(o, "no_restart")));
    json_decref(o);
    free(out);
    cfg_free(c);
}

static void second_lock_of_a_cluster_is_refused(void **state)
{
    (void)state;
    char err[512];
    setenv("HOME", tmp, 1);
    int fd = lstate_lock("c1", err, sizeof err);
    assert_true(fd >= 0);
    assert_int_equal(lstate_lock("c1", err, sizeof err), -EBUSY);
    assert_non_null(strstr(err, "another `ray up` of cluster c1 is running (pid "));
    int other = lstate_lock("c2", err, sizeof err);
    assert_true(other >= 0);
    close(other);
    close(fd);
    fd = lstate_lock("c1", err, sizeof err);
    assert_true(fd >= 0);
    close(fd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(glob_follows_rsync_rules),
        cmocka_unit_test(filter_rules),
        cmocka_unit_test(gitignore_files_apply_below_their_directory),
        cmocka_unit_test(walk_is_sorted_and_filtered),
        cmocka_unit_test(tail_keeps_the_last_lines),
        cmocka_unit_test(dbuf_has_a_cap),
        cmocka_unit_test(shell_wrapping),
        cmocka_unit_test(runtime_hash_changes_only_where_needed),
        cmocka_unit_test(known_hosts_lines_are_found),
        cmocka_unit_test(state_records_clusters_and_nodes),
        cmocka_unit_test(started_mark_follows_start_and_down),
        cmocka_unit_test(old_state_files_get_the_started_mark),
        cmocka_unit_test(bootstrap_config_is_rays_prepared_config),
        cmocka_unit_test(second_lock_of_a_cluster_is_refused),
    };
    return cmocka_run_group_tests(tests, make_tmp, remove_tmp);
}
