/* frame-*: the length-prefixed frame decoder in runtime/common/frame.c. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/frame.h"

#define MAX_SEEN 16
#define NAMED_TEST(name, fn) {name, fn, NULL, NULL, NULL}

/* What the callback saw. */
typedef struct seen {
    size_t count;
    size_t len[MAX_SEEN];
    uint8_t first[MAX_SEEN];     /* first payload byte (0 when empty) */
    size_t stop_at;              /* return 7 on this frame (1-based; 0: never) */
} seen;

static int collect(const uint8_t *payload, size_t len, void *data)
{
    seen *s = data;
    if (s->count < MAX_SEEN) {
        s->len[s->count] = len;
        s->first[s->count] = len ? payload[0] : 0;
    }
    s->count++;
    return s->stop_at != 0 && s->count == s->stop_at ? 7 : 0;
}

/* Appends one frame of LEN bytes filled with FILL to BUF at *OFF. */
static void put_frame(uint8_t *buf, size_t *off, size_t len, uint8_t fill)
{
    frame_header_write(buf + *off, (uint32_t)len);
    memset(buf + *off + FRAME_HEADER_SIZE, fill, len);
    *off += FRAME_HEADER_SIZE + len;
}

/* frame-1.1 one whole frame is delivered once with its payload */
static void test_one_frame(void **state)
{
    uint8_t buf[64];
    size_t off = 0;
    put_frame(buf, &off, 10, 0xab);
    frame_reader r;
    frame_reader_init(&r, 1024);
    seen s = {0};
    assert_int_equal(frame_reader_feed(&r, buf, off, collect, &s), 0);
    assert_int_equal(s.count, 1);
    assert_int_equal(s.len[0], 10);
    assert_int_equal(s.first[0], 0xab);
    frame_reader_free(&r);
}

/* frame-1.2 many frames in one feed arrive in order */
static void test_many_frames(void **state)
{
    uint8_t buf[256];
    size_t off = 0;
    for (int i = 0; i < 5; i++)
        put_frame(buf, &off, (size_t)(i * 7 + 1), (uint8_t)(i + 1));
    frame_reader r;
    frame_reader_init(&r, 1024);
    seen s = {0};
    assert_int_equal(frame_reader_feed(&r, buf, off, collect, &s), 0);
    assert_int_equal(s.count, 5);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(s.len[i], (size_t)(i * 7 + 1));
        assert_int_equal(s.first[i], i + 1);
    }
    frame_reader_free(&r);
}

/* frame-1.3 frames split byte by byte are reassembled */
static void test_byte_by_byte(void **state)
{
    uint8_t buf[256];
    size_t off = 0;
    put_frame(buf, &off, 33, 0x11);
    put_frame(buf, &off, 0, 0);
    put_frame(buf, &off, 100, 0x22);
    frame_reader r;
    frame_reader_init(&r, 1024);
    seen s = {0};
    for (size_t i = 0; i < off; i++)
        assert_int_equal(frame_reader_feed(&r, buf + i, 1, collect, &s), 0);
    assert_int_equal(s.count, 3);
    assert_int_equal(s.len[0], 33);
    assert_int_equal(s.first[0], 0x11);
    assert_int_equal(s.len[1], 0);
    assert_int_equal(s.len[2], 100);
    assert_int_equal(s.first[2], 0x22);
    frame_reader_free(&r);
}

/* frame-1.4 a zero-length payload is a frame of its own */
static void test_zero_length(void **state)
{
    uint8_t buf[8];
    size_t off = 0;
    put_frame(buf, &off, 0, 0);
    frame_reader r;
    frame_reader_init(&r, 16);
    seen s = {0};
    assert_int_equal(frame_reader_feed(&r, buf, off, collect, &s), 0);
    assert_int_equal(s.count, 1);
    assert_int_equal(s.len[0], 0);
    frame_reader_free(&r);
}

/* frame-1.5 a payload of exactly the cap is accepted, whole or split */
static void test_at_cap(void **state)
{
    enum { CAP = 4096 };
    uint8_t *buf = malloc(CAP + FRAME_HEADER_SIZE);
    size_t off = 0;
    put_frame(buf, &off, CAP, 0x5a);
    frame_reader r;
    frame_reader_init(&r, CAP);
    seen s = {0};
    assert_int_equal(frame_reader_feed(&r, buf, off, collect, &s), 0);
    assert_int_equal(frame_reader_feed(&r, buf, 1000, collect, &s), 0);
    assert_int_equal(frame_reader_feed(&r, buf + 1000, off - 1000, collect, &s), 0);
    assert_int_equal(s.count, 2);
    assert_int_equal(s.len[0], CAP);
    assert_int_equal(s.len[1], CAP);
    frame_reader_free(&r);
    free(buf);
}

/* frame-1.6 a header announcing cap+1 is refused before any payload arrives */
static void test_over_cap(void **state)
{
    uint8_t hdr[FRAME_HEADER_SIZE];
    frame_header_write(hdr, 4097);
    frame_reader r;
    seen s = {0};
    frame_reader_init(&r, 4096);
    assert_int_equal(frame_reader_feed(&r, hdr, sizeof hdr, collect, &s), -EMSGSIZE);
    frame_reader_free(&r);

    frame_reader_init(&r, 4096);
    int rc = 0;
    for (size_t i = 0; i < sizeof hdr && rc == 0; i++)
        rc = frame_reader_feed(&r, hdr + i, 1, collect, &s);
    assert_int_equal(rc, -EMSGSIZE);
    assert_true(r.len <= FRAME_HEADER_SIZE);
    assert_int_equal(s.count, 0);
    frame_reader_free(&r);
}

/* frame-1.7 a callback's non-zero result stops decoding and is returned */
static void test_callback_stop(void **state)
{
    uint8_t buf[64];
    size_t off = 0;
    for (int i = 0; i < 3; i++)
        put_frame(buf, &off, 4, (uint8_t)(i + 1));
    frame_reader r;
    frame_reader_init(&r, 64);
    seen s = {.stop_at = 2};
    assert_int_equal(frame_reader_feed(&r, buf, off, collect, &s), 7);
    assert_int_equal(s.count, 2);
    assert_int_equal(s.first[1], 2);
    frame_reader_free(&r);

    /* The same through the buffered path. */
    frame_reader_init(&r, 64);
    seen s2 = {.stop_at = 1};
    assert_int_equal(frame_reader_feed(&r, buf, 3, collect, &s2), 0);
    assert_int_equal(frame_reader_feed(&r, buf + 3, off - 3, collect, &s2), 7);
    assert_int_equal(s2.count, 1);
    frame_reader_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        NAMED_TEST("frame-1.1 one whole frame is delivered once", test_one_frame),
        NAMED_TEST("frame-1.2 many frames in one feed arrive in order", test_many_frames),
        NAMED_TEST("frame-1.3 frames split byte by byte are reassembled", test_byte_by_byte),
        NAMED_TEST("frame-1.4 a zero-length payload is a frame", test_zero_length),
        NAMED_TEST("frame-1.5 a payload of exactly the cap is accepted", test_at_cap),
        NAMED_TEST("frame-1.6 cap+1 is refused before any payload arrives", test_over_cap),
        NAMED_TEST("frame-1.7 a callback result stops decoding", test_callback_stop),
    };
    return cmocka_run_group_tests_name("frame", tests, NULL, NULL);
}
