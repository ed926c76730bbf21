/* libFuzzer target: the frame decoder and Envelope unpacking on arbitrary bytes.
 *
 * The first input byte picks where the rest is split into two feeds, so the
 * buffered (partial frame) path is exercised as well as the direct one. */
#include <stddef.h>
#include <stdint.h>

#include "common/frame.h"
#include "ray.pb-c.h"

#define FUZZ_MAX_FRAME 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int unpack_frame(const uint8_t *payload, size_t len, void *arg)
{
    size_t *frames = arg;
    if (len > FUZZ_MAX_FRAME)
        __builtin_trap(); /* the cap must hold */
    Rayc__Envelope *env = rayc__envelope__unpack(NULL, len, payload);
    if (env != NULL) {
        /* Re-packing walks every field the unpacker produced. */
        uint8_t out[2 * FUZZ_MAX_FRAME + 64];
        if (rayc__envelope__get_packed_size(env) <= sizeof out)
            rayc__envelope__pack(env, out);
        rayc__envelope__free_unpacked(env, NULL);
    }
    (*frames)++;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    size_t split = data[0] < size ? data[0] : size - 1;
    data++;
    size--;
    if (split > size)
        split = size;
    frame_reader r;
    size_t frames = 0;
    frame_reader_init(&r, FUZZ_MAX_FRAME);
    int rc = frame_reader_feed(&r, data, split, unpack_frame, &frames);
    if (rc == 0)
        rc = frame_reader_feed(&r, data + split, size - split, unpack_frame, &frames);
    if (r.len > FRAME_HEADER_SIZE + FUZZ_MAX_FRAME)
        __builtin_trap(); /* never buffers more than one capped frame */
    frame_reader_free(&r);
    return 0;
}
