/* Length-prefixed frames (4-byte big-endian length + payload) with a hard cap.
 *
 * frame_reader is a pure byte-stream decoder: it knows nothing about sockets,
 * so it can be fuzzed and unit-tested on its own. */
#ifndef RAYC_COMMON_FRAME_H
#define RAYC_COMMON_FRAME_H

#include <stddef.h>
#include <stdint.h>

#define FRAME_HEADER_SIZE 4
/* Default cap on one control-plane frame. */
#define FRAME_DEFAULT_MAX (16u * 1024u * 1024u)

typedef struct frame_reader {
    uint8_t *buf;        /* bytes received but not yet delivered */
    size_t len;          /* bytes held in buf */
    size_t alloc;        /* size of buf */
    size_t max_frame;    /* largest payload accepted */
} frame_reader;

/* Called once per complete frame; PAYLOAD is valid only during the call.
 * Returning non-zero stops decoding and makes frame_reader_feed return it. */
typedef int (*frame_cb)(const uint8_t *payload, size_t len, void *data);

/* Prepares R to accept payloads of at most MAX_FRAME bytes. */
void frame_reader_init(frame_reader *r, size_t max_frame);

/* Releases R's buffer; R may be initialised again afterwards. */
void frame_reader_free(frame_reader *r);

/* Appends LEN bytes of DATA and delivers every complete frame to CB.
 * Returns 0, -EMSGSIZE when a header announces a payload over the cap
 * (nothing of that frame is buffered), -ENOMEM, or CB's non-zero result.
 * After an error the reader must not be fed again. */
int frame_reader_feed(frame_reader *r, const uint8_t *data, size_t len,
                      frame_cb cb, void *cb_data);

/* Writes the 4-byte header for a payload of LEN bytes into OUT. */
void frame_header_write(uint8_t out[FRAME_HEADER_SIZE], uint32_t len);

#endif
