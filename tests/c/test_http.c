/* Unit tests for the job server's HTTP pieces: token checks (Ray's three
 * places), the browser heuristic, the WebSocket codec and package names. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "jobserver/http_auth.h"
#include "jobserver/http_ws.h"
#include "jobserver/pkg_store.h"

static void token_is_read_from_rays_three_places(void **state)
{
    (void)state;
    const char *t = "sekrit-token";
    assert_int_equal(http_auth_check("Bearer sekrit-token", NULL, NULL, t), HTTP_AUTH_OK);
    assert_int_equal(http_auth_check("bearer   sekrit-token ", NULL, NULL, t), HTTP_AUTH_OK);
    assert_int_equal(http_auth_check(NULL, "Bearer sekrit-token", NULL, t), HTTP_AUTH_OK);
    assert_int_equal(http_auth_check(NULL, "sekrit-token", NULL, t), HTTP_AUTH_OK);
    assert_int_equal(http_auth_check("", "", "sekrit-token", t), HTTP_AUTH_OK);
    assert_int_equal(http_auth_check(NULL, NULL, NULL, t), HTTP_AUTH_MISSING);
    assert_int_equal(http_auth_check("", "", "", t), HTTP_AUTH_MISSING);
    assert_int_equal(http_auth_check("Bearer wrong", NULL, NULL, t), HTTP_AUTH_INVALID);
    assert_int_equal(http_auth_check("sekrit-token", NULL, NULL, t), HTTP_AUTH_INVALID);
    assert_int_equal(http_auth_check("Basic c2Vrcml0", NULL, NULL, t), HTTP_AUTH_INVALID);
    assert_int_equal(http_auth_check("Bearer sekrit-token extra", NULL, NULL, t), HTTP_AUTH_INVALID);
    assert_int_equal(http_auth_check("Bearer sekrit-toke", NULL, NULL, t), HTTP_AUTH_INVALID);
    /* The first non-empty source decides, as in Ray's middleware. */
    assert_int_equal(http_auth_check("Bearer wrong", NULL, "sekrit-token", t), HTTP_AUTH_INVALID);
}

static void browsers_are_recognised(void **state)
{
    (void)state;
    assert_true(http_auth_is_browser("Mozilla/5.0 (X11)", 0));
    assert_true(http_auth_is_browser("curl/8", 1));
    assert_false(http_auth_is_browser("curl/8", 0));
    assert_false(http_auth_is_browser(NULL, 0));
    assert_true(http_auth_method_mutates("POST") && http_auth_method_mutates("PUT") &&
                http_auth_method_mutates("DELETE"));
    assert_false(http_auth_method_mutates("GET"));
}

static void websocket_accept_key_matches_rfc6455(void **state)
{
    (void)state;
    char out[HTTP_WS_ACCEPT_LEN + 1];
    assert_int_equal(http_ws_accept_key("dGhlIHNhbXBsZSBub25jZQ==", out, sizeof out), 0);
    assert_string_equal(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    assert_int_equal(http_ws_accept_key("", out, sizeof out), -EINVAL);
}

static void websocket_frames_round_trip(void **state)
{
    (void)state;
    uint8_t buf[70000 + 14], mask[4] = {1, 2, 3, 4};
    http_ws_frame f;
    /* A short masked text frame, as a client sends it. */
    size_t hl = http_ws_header(buf, HTTP_WS_TEXT, 5, mask);
    memcpy(buf + hl, "hello", 5);
    http_ws_unmask(buf + hl, 5, mask);
    assert_int_equal(http_ws_parse(buf, hl + 4, 1000, &f), 0);   /* incomplete */
    assert_int_equal(http_ws_parse(buf, hl + 5, 1000, &f), (long)(hl + 5));
    assert_true(f.fin && f.masked && f.opcode == HTTP_WS_TEXT && f.payload_len == 5);
    http_ws_unmask(buf + f.header_len, 5, f.mask);
    assert_memory_equal(buf + f.header_len, "hello", 5);
    /* 16- and 64-bit lengths. */
    hl = http_ws_header(buf, HTTP_WS_BINARY, 300, NULL);
    assert_int_equal(hl, 4);
    assert_int_equal(http_ws_parse(buf, 4 + 300, 1000, &f), 304);
    hl = http_ws_header(buf, HTTP_WS_TEXT, 70000, NULL);
    assert_int_equal(hl, 10);
    assert_int_equal(http_ws_parse(buf, 10, 100000, &f), 0);
    assert_int_equal(http_ws_parse(buf, 10, 1000, &f), -EMSGSIZE);
    /* Control frames are short and final; reserved bits are refused. */
    uint8_t bad_ping[2] = {0x09, 0x7e};
    assert_int_equal(http_ws_parse(bad_ping, 2, 1000, &f), -EPROTO);
    uint8_t rsv[2] = {0xc1, 0x00};
    assert_int_equal(http_ws_parse(rsv, 2, 1000, &f), -EPROTO);
}

static void package_names_are_plain_files(void **state)
{
    (void)state;
    char err[128];
    assert_int_equal(pkg_name_check("_ray_pkg_0123abcd.zip", err, sizeof err), 0);
    assert_int_equal(pkg_name_check("mod-1.0+local-py3-none-any.whl", err, sizeof err), 0);
    const char *bad[] = {"", ".zip", "..zip", "a/b.zip", "x.tar", "a b.zip", "../x.whl"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(pkg_name_check(bad[i], err, sizeof err), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(token_is_read_from_rays_three_places),
        cmocka_unit_test(browsers_are_recognised),
        cmocka_unit_test(websocket_accept_key_matches_rfc6455),
        cmocka_unit_test(websocket_frames_round_trip),
        cmocka_unit_test(package_names_are_plain_files),
    };
    return cmocka_run_group_tests_name("http", tests, NULL, NULL);
}
