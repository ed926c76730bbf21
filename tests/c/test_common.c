/* Unit tests for runtime/common: tokens, host:port parsing, files, number parsing. */
#include <errno.h>
#include <limits.h>
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

#include "common/conn_guard.h"
#include "common/dbuf.h"
#include "common/net.h"
#include "common/strtab.h"
#include "common/token.h"
#include "common/util.h"
#include "common/frame.h"
#include "common/pb_arena.h"
#include "ray.pb-c.h"

#include "alloc_fail.h"

static char tmp[256];

static int make_tmp(void **state)
{
    (void)state;
    snprintf(tmp, sizeof tmp, "/tmp/rayc-test-common-XXXXXX");
    return mkdtemp(tmp) ? 0 : -1;
}

static int remove_tmp(void **state)
{
    (void)state;
    return fs_rm_rf(tmp);
}

static void token_roundtrip_keeps_mode_0600(void **state)
{
    (void)state;
    char path[512], tok[TOKEN_MAX + 1], back[TOKEN_MAX + 1];
    snprintf(path, sizeof path, "%s/sub/dir/auth_token", tmp);
    assert_int_equal(token_generate(tok, sizeof tok), 0);
    assert_int_equal(strlen(tok), 64);
    assert_int_equal(token_write_file(path, tok), 0);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(token_read_file(path, back, sizeof back), 0);
    assert_string_equal(tok, back);
}

static void token_file_rejects_empty_and_inner_space(void **state)
{
    (void)state;
    char path[512], out[TOKEN_MAX + 1];
    snprintf(path, sizeof path, "%s/t", tmp);
    fs_write_file(path, "\n", 1, 0600);
    assert_int_equal(token_read_file(path, out, sizeof out), TOKEN_ERR_EMPTY);
    fs_write_file(path, "abcdefgh ijklmnopq\n", 19, 0600);
    assert_int_equal(token_read_file(path, out, sizeof out), TOKEN_ERR_BAD_CHAR);
    /* Surrounding spaces are refused too, not silently trimmed. */
    fs_write_file(path, "  abcdefghijklmnopq \n", 21, 0600);
    assert_int_equal(token_read_file(path, out, sizeof out), TOKEN_ERR_BAD_CHAR);
    assert_int_equal(token_read_file("/nonexistent/x", out, sizeof out), -ENOENT);
}

static void token_keeps_one_trailing_newline_rule(void **state)
{
    (void)state;
    char path[512], out[TOKEN_MAX + 1];
    snprintf(path, sizeof path, "%s/t", tmp);
    fs_write_file(path, "0123456789abcdef\n", 17, 0600);
    assert_int_equal(token_read_file(path, out, sizeof out), 0);
    assert_string_equal(out, "0123456789abcdef");
    fs_write_file(path, "0123456789abcdef\r\n", 18, 0600);
    assert_int_equal(token_read_file(path, out, sizeof out), 0);
    assert_string_equal(out, "0123456789abcdef");
    fs_write_file(path, "0123456789abcdef", 16, 0600);
    assert_int_equal(token_read_file(path, out, sizeof out), 0);
    /* A second newline is whitespace inside the token. */
    fs_write_file(path, "0123456789abcdef\n\n", 18, 0600);
    assert_int_equal(token_read_file(path, out, sizeof out), TOKEN_ERR_BAD_CHAR);
    fs_write_file(path, "0123456789abcde\n", 16, 0600);
    assert_int_equal(token_read_file(path, out, sizeof out), TOKEN_ERR_SHORT);
    fs_write_file(path, "0123456789\0abcdefgh\n", 20, 0600);
    assert_int_equal(token_read_file(path, out, sizeof out), TOKEN_ERR_BAD_CHAR);
    fs_write_file(path, "0123456789abcdef\tx", 18, 0600);
    assert_int_equal(token_read_file(path, out, sizeof out), TOKEN_ERR_BAD_CHAR);
    char big[TOKEN_MAX + 2];
    memset(big, 'a', sizeof big);
    fs_write_file(path, big, sizeof big, 0600);
    assert_int_equal(token_read_file(path, out, sizeof out), TOKEN_ERR_LONG);
    assert_string_equal(token_error(TOKEN_ERR_SHORT), "the token is shorter than 16 characters");
}

static void token_find_prefers_env_then_path_then_home(void **state)
{
    (void)state;
    char out[TOKEN_MAX + 1], src[512], path[512];
    setenv("RAY_AUTH_TOKEN", "fromenv-0123456789", 1);
    assert_int_equal(token_find(out, sizeof out, NULL, src, sizeof src), 0);
    assert_string_equal(out, "fromenv-0123456789");
    setenv("RAY_AUTH_TOKEN", "short", 1);
    assert_int_equal(token_find(out, sizeof out, NULL, src, sizeof src), TOKEN_ERR_SHORT);
    assert_string_equal(src, "RAY_AUTH_TOKEN");
    unsetenv("RAY_AUTH_TOKEN");
    snprintf(path, sizeof path, "%s/pathtoken", tmp);
    token_write_file(path, "frompath-0123456789");
    setenv("RAY_AUTH_TOKEN_PATH", path, 1);
    assert_int_equal(token_find(out, sizeof out, NULL, src, sizeof src), 0);
    assert_string_equal(out, "frompath-0123456789");
    /* A RAY_AUTH_TOKEN_PATH naming a missing file is not "no token". */
    setenv("RAY_AUTH_TOKEN_PATH", "/nonexistent/tok", 1);
    assert_int_equal(token_find(out, sizeof out, path, src, sizeof src), -ENOENT);
    assert_string_equal(src, "/nonexistent/tok");
    assert_true(token_env_set());
    unsetenv("RAY_AUTH_TOKEN_PATH");
    assert_false(token_env_set());
    setenv("HOME", tmp, 1);
    assert_int_equal(token_find(out, sizeof out, NULL, src, sizeof src), -ENOENT);
    assert_int_equal(token_find(out, sizeof out, path, src, sizeof src), 0);
    assert_string_equal(out, "frompath-0123456789");
}

/* strtab: one copy per distinct string, found again after growing, a cap on
 * the count, and long strings cut (and found again) at MAXLEN. */
static void strtab_interns_once(void **state)
{
    (void)state;
    strtab t;
    strtab_init(&t, 1000, 8);
    const char *a = NULL, *b = NULL, *c = NULL;
    assert_int_equal(strtab_intern(&t, "f", &a), 0);
    char name[32];
    for (int i = 0; i < 999; i++) {
        snprintf(name, sizeof name, "n%d", i);
        assert_int_equal(strtab_intern(&t, name, &c), 0);
    }
    assert_int_equal(strtab_intern(&t, "f", &b), 0);
    assert_ptr_equal(a, b);
    assert_int_equal(strtab_intern(&t, "n500", &c), 0);
    assert_string_equal(c, "n500");
    assert_int_equal(strtab_intern(&t, "new", &c), -E2BIG);
    strtab_free(&t);
    strtab_init(&t, 10, 8);
    assert_int_equal(strtab_intern(&t, "0123456789", &a), 0);
    assert_string_equal(a, "01234567");
    assert_int_equal(strtab_intern(&t, "01234567xx", &b), 0);
    assert_ptr_equal(a, b);
    assert_int_equal(t.n, 1);
    strtab_free(&t);
}

/* str_tail_start: the one "last N lines" rule of log tails. */
static void tail_start_finds_the_last_lines(void **state)
{
    (void)state;
    const char *t = "a\nb\nc\n";
    assert_int_equal(str_tail_start(t, 6, 1), 4);
    assert_int_equal(str_tail_start(t, 6, 2), 2);
    assert_int_equal(str_tail_start(t, 6, 3), 0);
    assert_int_equal(str_tail_start(t, 6, 9), 0);
    assert_int_equal(str_tail_start(t, 6, 0), 6);
    assert_int_equal(str_tail_start(t, 6, -1), 0);
    /* Without a final newline the last line still counts as one. */
    assert_int_equal(str_tail_start("a\nb\nc", 5, 1), 4);
    assert_int_equal(str_tail_start("", 0, 3), 0);
    assert_int_equal(str_tail_start("\n\n", 2, 1), 1);
}

static void token_equal_compares_whole_strings(void **state)
{
    (void)state;
    assert_true(token_equal("abc", "abc"));
    assert_false(token_equal("abc", "abd"));
    assert_false(token_equal("abc", "abcd"));
    assert_false(token_equal("", "a"));
}

static void hostport_parsing(void **state)
{
    (void)state;
    char host[64];
    int port;
    assert_int_equal(net_parse_hostport("10.0.0.1:6380", 6379, host, sizeof host, &port), 0);
    assert_string_equal(host, "10.0.0.1");
    assert_int_equal(port, 6380);
    assert_int_equal(net_parse_hostport("head", 6379, host, sizeof host, &port), 0);
    assert_int_equal(port, 6379);
    assert_int_equal(net_parse_hostport("head", -1, host, sizeof host, &port), -EINVAL);
    assert_int_equal(net_parse_hostport("h:0", 1, host, sizeof host, &port), -EINVAL);
    assert_int_equal(net_parse_hostport("h:70000", 1, host, sizeof host, &port), -EINVAL);
    assert_int_equal(net_parse_hostport("h:12x", 1, host, sizeof host, &port), -EINVAL);
    assert_int_equal(net_parse_hostport(":1", 1, host, sizeof host, &port), -EINVAL);
    assert_int_equal(net_parse_hostport("http://h:1", 1, host, sizeof host, &port), -EINVAL);
}

static void loopback_is_local_and_free_ports_bind(void **state)
{
    (void)state;
    assert_true(net_is_local_ipv4("127.0.0.1"));
    assert_true(net_is_local_ipv4("127.0.0.2")); /* all of 127/8 is the loopback's */
    assert_false(net_is_local_ipv4("128.0.0.2"));
    assert_false(net_is_local_ipv4("not-an-ip"));
    assert_false(net_is_local_ipv4("192.0.2.77"));
    int port = net_pick_free_port("127.0.0.1");
    assert_true(port > 0);
    assert_true(net_port_free("127.0.0.1", port));
}

static void read_file_caps_size(void **state)
{
    (void)state;
    char path[512], *text;
    size_t len;
    snprintf(path, sizeof path, "%s/big", tmp);
    char buf[10000];
    memset(buf, 'x', sizeof buf);
    assert_int_equal(fs_write_file(path, buf, sizeof buf, 0644), 0);
    assert_int_equal(fs_read_file(path, 9999, &text, &len), -EFBIG);
    assert_int_equal(fs_read_file(path, 10000, &text, &len), 0);
    assert_int_equal(len, 10000);
    assert_int_equal(text[len], '\0');
    free(text);
}

static void number_parsing_is_strict(void **state)
{
    (void)state;
    long l;
    double d;
    assert_int_equal(parse_long("42", 0, 100, &l), 0);
    assert_int_equal(l, 42);
    assert_int_equal(parse_long("42 ", 0, 100, &l), -EINVAL);
    assert_int_equal(parse_long("", 0, 100, &l), -EINVAL);
    assert_int_equal(parse_long("101", 0, 100, &l), -EINVAL);
    assert_int_equal(parse_double("1.5", &d), 0);
    assert_int_equal(parse_double("-1", &d), -EINVAL);
    assert_int_equal(parse_double("nan", &d), -EINVAL);
    assert_int_equal(parse_double("inf", &d), -EINVAL);
}

static void random_ids_are_hex_and_distinct(void **state)
{
    (void)state;
    char a[NODE_ID_HEX_LEN + 1], b[NODE_ID_HEX_LEN + 1];
    assert_int_equal(ids_random_hex(a, NODE_ID_HEX_LEN / 2), 0);
    assert_int_equal(ids_random_hex(b, NODE_ID_HEX_LEN / 2), 0);
    assert_int_equal(strlen(a), NODE_ID_HEX_LEN);
    assert_int_equal(strspn(a, "0123456789abcdef"), NODE_ID_HEX_LEN);
    assert_string_not_equal(a, b);
}

static void guard_counts_per_address_and_in_total(void **state)
{
    (void)state;
    static conn_guard g;
    guard_init(&g);
    for (int i = 0; i < GUARD_MAX_PER_PEER; i++)
        assert_int_equal(guard_admit(&g, "10.0.0.1:1000"), 0);
    assert_int_equal(guard_admit(&g, "10.0.0.1:2000"), GUARD_PEER_FULL);
    guard_release(&g, "10.0.0.1:1000");
    assert_int_equal(guard_admit(&g, "10.0.0.1:3000"), 0);
    char peer[32];
    int admitted = GUARD_MAX_PER_PEER;
    for (int a = 2; admitted < GUARD_MAX_TOTAL; a++)
        for (int i = 0; i < GUARD_MAX_PER_PEER && admitted < GUARD_MAX_TOTAL; i++, admitted++) {
            snprintf(peer, sizeof peer, "10.0.0.%d:%d", a, i);
            assert_int_equal(guard_admit(&g, peer), 0);
        }
    assert_int_equal(guard_admit(&g, "10.0.1.1:1"), GUARD_FULL);
    guard_release(&g, "10.9.9.9:1"); /* holds nothing: ignored */
    assert_int_equal(guard_admit(&g, "10.0.1.1:1"), GUARD_FULL);
    guard_release(&g, "10.0.0.2:5");
    assert_int_equal(guard_admit(&g, "10.0.1.1:1"), 0);
}

static void guard_log_lines_are_limited_per_window(void **state)
{
    (void)state;
    static conn_guard g;
    guard_init(&g);
    unsigned dropped = 99;
    int allowed = 0;
    for (int i = 0; i < 1000; i++)
        allowed += guard_log_allowed(&g, 5, &dropped);
    assert_int_equal(allowed, GUARD_LOG_BURST);
    assert_int_equal(dropped, 0);
    assert_int_equal(guard_log_allowed(&g, 5 + GUARD_LOG_WINDOW_MS, &dropped), 1);
    assert_int_equal(dropped, 1000 - GUARD_LOG_BURST);
}

static void path_join_refuses_what_does_not_fit(void **state)
{
    (void)state;
    char out[12];
    assert_int_equal(fs_path_join(out, sizeof out, "/tmp", "abcdef"), 0);
    assert_string_equal(out, "/tmp/abcdef");
    /* One byte more does not fit: an error and no truncated path. */
    assert_int_equal(fs_path_join(out, sizeof out, "/tmp", "abcdefg"), -ENAMETOOLONG);
    assert_string_equal(out, "");
    assert_int_equal(fs_path_join(out, sizeof out, "", "x"), 0);
    assert_string_equal(out, "/x");
}

static void str_printf_cuts_messages(void **state)
{
    (void)state;
    char out[8];
    assert_int_equal(str_printf(out, sizeof out, "%s %d", "ab", 12), 5);
    assert_string_equal(out, "ab 12");
    assert_int_equal(str_printf(out, sizeof out, "%s", "0123456789"), 7);
    assert_string_equal(out, "0123456");
}

static void dbuf_keeps_a_failure_for_the_take(void **state)
{
    (void)state;
    dbuf b;
    dbuf_init(&b, 8);
    assert_int_equal(dbuf_puts(&b, "1234"), 0);
    assert_int_equal(dbuf_printf(&b, "%s", "56789"), -EFBIG);
    assert_string_equal(dbuf_str(&b), "1234"); /* unchanged */
    assert_int_equal(dbuf_add(&b, "5", 1), 0);
    assert_null(dbuf_take(&b, NULL));          /* the failure is remembered */
    assert_int_equal(b.len, 0);
    size_t len = 99;
    char *s = dbuf_take(&b, &len);            /* a fresh buffer gives "" */
    assert_non_null(s);
    assert_string_equal(s, "");
    assert_int_equal(len, 0);
    free(s);
    assert_int_equal(dbuf_add(&b, "12345678", 8), 0);
    s = dbuf_take(&b, &len);
    assert_string_equal(s, "12345678");
    assert_int_equal(len, 8);
    free(s);
    dbuf_free(&b);
}

/* Walks every allocation of a dbuf growing to 10 KiB: the Nth failing gives
 * -ENOMEM from that append and NULL from the take, never a crash. */
static int count_frame(const uint8_t *payload, size_t len, void *arg)
{
    (void)payload;
    (void)len;
    (*(size_t *)arg)++;
    return 0;
}

static void dbuf_walks_every_enomem_path(void **state)
{
    (void)state;
    if (!alloc_fail_works())
        skip();
    long n;
    for (n = 1;; n++) {
        dbuf b;
        dbuf_init(&b, 1 << 20);
        alloc_fail_at(n);
        int rc = 0;
        for (int i = 0; i < 100 && rc == 0; i++)
            rc = dbuf_printf(&b, "%0100d", i);
        char *s = dbuf_take(&b, NULL);
        if (!alloc_fail_off()) {
            assert_int_equal(rc, 0);
            assert_int_equal(strlen(s), 100 * 100);
            free(s);
            break;
        }
        assert_int_equal(rc, -ENOMEM);
        assert_null(s);
    }
    assert_true(n > 5); /* 256 B doubling to 16 KiB */
}

/* The same for fs_read_file on a 64 KiB file and a frame reader fed one
 * 20 KiB frame in pieces. */
static void read_file_and_frames_walk_every_enomem_path(void **state)
{
    if (!alloc_fail_works())
        skip();
    char path[PATH_MAX];
    (void)state;
    assert_int_equal(fs_path_join(path, sizeof path, tmp, "big"), 0);
    static char data[65536];
    memset(data, 'x', sizeof data);
    assert_int_equal(fs_write_file(path, data, sizeof data, 0600), 0);
    long n;
    for (n = 1;; n++) {
        char *text = NULL;
        alloc_fail_at(n);
        int rc = fs_read_file(path, 1 << 20, &text, NULL);
        if (!alloc_fail_off()) {
            assert_int_equal(rc, 0);
            free(text);
            break;
        }
        assert_int_equal(rc, -ENOMEM);
        assert_null(text);
    }
    assert_true(n > 3);
    static uint8_t frame[FRAME_HEADER_SIZE + 20000];
    frame_header_write(frame, 20000);
    for (n = 1;; n++) {
        frame_reader r;
        frame_reader_init(&r, 1 << 20);
        size_t frames = 0;
        alloc_fail_at(n);
        int rc = 0;
        for (size_t off = 0; rc == 0 && off < sizeof frame; off += 1000) {
            size_t len = sizeof frame - off < 1000 ? sizeof frame - off : 1000;
            rc = frame_reader_feed(&r, frame + off, len, count_frame, &frames);
        }
        int hit = alloc_fail_off();
        frame_reader_free(&r);
        if (!hit) {
            assert_int_equal(rc, 0);
            assert_int_equal(frames, 1);
            break;
        }
        assert_int_equal(rc, -ENOMEM);
    }
    assert_true(n > 1);
}

/* An AddTaskEvents batch decoded from an arena reads back the same, twice
 * over one arena (reset between), and a large one takes more chunks. */
static void pb_arena_decodes_and_resets(void **state)
{
    (void)state;
    enum { N = 3000 };
    static Rayc__TaskEvent ev[N], *evp[N];
    static Rayc__StateTime st[N], *stp[N];
    for (int i = 0; i < N; i++) {
        rayc__task_event__init(&ev[i]);
        rayc__state_time__init(&st[i]);
        st[i].code = 1 + i % 6;
        st[i].time_ns = 1000 + i;
        stp[i] = &st[i];
        ev[i].states = &stp[i];
        ev[i].n_states = 1;
        ev[i].attempt = i;
        ev[i].func = "f";
        evp[i] = &ev[i];
    }
    Rayc__AddTaskEvents add = RAYC__ADD_TASK_EVENTS__INIT;
    add.tasks = evp;
    add.n_tasks = N;
    Rayc__Envelope env = RAYC__ENVELOPE__INIT;
    env.request_id = 7;
    env.body_case = RAYC__ENVELOPE__BODY_ADD_TASK_EVENTS;
    env.add_task_events = &add;
    size_t len = rayc__envelope__get_packed_size(&env);
    uint8_t *buf = malloc(len);
    assert_non_null(buf);
    rayc__envelope__pack(&env, buf);
    pb_arena a;
    pb_arena_init(&a, 8 << 20);
    size_t kept0 = 0;
    for (int round = 0; round < 2; round++) {
        Rayc__Envelope *got = rayc__envelope__unpack(&a.alloc, len, buf);
        assert_non_null(got);
        assert_int_equal(got->request_id, 7);
        assert_int_equal(got->add_task_events->n_tasks, N);
        const Rayc__TaskEvent *last = got->add_task_events->tasks[N - 1];
        assert_int_equal(last->attempt, N - 1);
        assert_string_equal(last->func, "f");
        assert_int_equal(last->states[0]->code, 1 + (N - 1) % 6);
        assert_int_equal(last->states[0]->time_ns, 1000 + N - 1);
        rayc__envelope__free_unpacked(got, &a.alloc);   /* a no-op: reset frees */
        pb_arena_reset(&a);
        assert_true(a.kept > 0 && a.kept <= (8 << 20));
        if (round == 0)
            kept0 = a.kept;
        else
            assert_int_equal(a.kept, kept0);   /* the second fit in the kept chunk */
    }
    pb_arena_free(&a);
    assert_int_equal(a.kept, 0);
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(token_roundtrip_keeps_mode_0600, make_tmp, remove_tmp),
        cmocka_unit_test_setup_teardown(token_file_rejects_empty_and_inner_space, make_tmp, remove_tmp),
        cmocka_unit_test_setup_teardown(token_keeps_one_trailing_newline_rule, make_tmp, remove_tmp),
        cmocka_unit_test_setup_teardown(token_find_prefers_env_then_path_then_home, make_tmp, remove_tmp),
        cmocka_unit_test(token_equal_compares_whole_strings),
        cmocka_unit_test(tail_start_finds_the_last_lines),
        cmocka_unit_test(strtab_interns_once),
        cmocka_unit_test(hostport_parsing),
        cmocka_unit_test(loopback_is_local_and_free_ports_bind),
        cmocka_unit_test_setup_teardown(read_file_caps_size, make_tmp, remove_tmp),
        cmocka_unit_test(number_parsing_is_strict),
        cmocka_unit_test(random_ids_are_hex_and_distinct),
        cmocka_unit_test(guard_counts_per_address_and_in_total),
        cmocka_unit_test(guard_log_lines_are_limited_per_window),
        cmocka_unit_test(path_join_refuses_what_does_not_fit),
        cmocka_unit_test(str_printf_cuts_messages),
        cmocka_unit_test(dbuf_keeps_a_failure_for_the_take),
        cmocka_unit_test(dbuf_walks_every_enomem_path),
        cmocka_unit_test_setup_teardown(read_file_and_frames_walk_every_enomem_path, make_tmp, remove_tmp),
        cmocka_unit_test(pb_arena_decodes_and_resets),
    };
    return cmocka_run_group_tests_name("common", tests, NULL, NULL);
}
