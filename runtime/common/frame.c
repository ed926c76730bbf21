/* Length-prefixed frame decoder with a hard size cap. */
#include "common/frame.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void frame_reader_init(frame_reader *r, size_t max_frame)
{
    memset(r, 0, sizeof *r);
    r->max_frame = max_frame;
}

void frame_reader_free(frame_reader *r)
{
    free(r->buf);
    r->buf = NULL;
    r->len = r->alloc = 0;
}

void frame_header_write(uint8_t out[FRAME_HEADER_SIZE], uint32_t len)
{
    out[0] = (uint8_t)(len >> 24);
    out[1] = (uint8_t)(len >> 16);
    out[2] = (uint8_t)(len >> 8);
    out[3] = (uint8_t)len;
}

static uint32_t header_read(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
           ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}

/* Makes room for NEED bytes in R's buffer without exceeding one full frame. */
static int reserve(frame_reader *r, size_t need)
{
    if (need <= r->alloc)
        return 0;
    size_t n = r->alloc ? r->alloc : 4096;
    while (n < need)
        n *= 2;
    uint8_t *p = realloc(r->buf, n);
    if (p == NULL)
        return -ENOMEM;
    r->buf = p;
    r->alloc = n;
    return 0;
}

/* Delivers the complete frames at the start of BUF and stores the number of
 * bytes they took in *USED.  Returns 0, -EMSGSIZE or the callback's result. */
static int deliver(frame_reader *r, const uint8_t *buf, size_t len, size_t *used,
                   frame_cb cb, void *cb_data)
{
    size_t off = 0;
    int rc = 0;
    while (rc == 0 && len - off >= FRAME_HEADER_SIZE) {
        uint32_t n = header_read(buf + off);
        if (n > r->max_frame) {
            rc = -EMSGSIZE;
            break;
        }
        if (len - off - FRAME_HEADER_SIZE < n)
            break;
        rc = cb(buf + off + FRAME_HEADER_SIZE, n, cb_data);
        off += FRAME_HEADER_SIZE + (size_t)n;
    }
    *used = off;
    return rc;
}

/* Bytes still missing from the frame being buffered in R. */
static size_t missing(const frame_reader *r)
{
    if (r->len < FRAME_HEADER_SIZE)
        return FRAME_HEADER_SIZE - r->len;
    return FRAME_HEADER_SIZE + header_read(r->buf) - r->len;
}

int frame_reader_feed(frame_reader *r, const uint8_t *data, size_t len,
                      frame_cb cb, void *cb_data)
{
    int rc;
    while (len > 0) {
        if (r->len == 0) {
            /* Fast path: decode whole frames straight from the caller's bytes. */
            size_t used;
            if ((rc = deliver(r, data, len, &used, cb, cb_data)) != 0)
                return rc;
            data += used;
            len -= used;
            if (len == 0)
                break;
        }
        /* Buffer the partial frame: its header first, then exactly its payload,
         * so the buffer never holds more than one capped frame. */
        size_t take = missing(r);
        if (take > len)
            take = len;
        if ((rc = reserve(r, r->len + take)) != 0)
            return rc;
        memcpy(r->buf + r->len, data, take);
        r->len += take;
        data += take;
        len -= take;
        if (r->len >= FRAME_HEADER_SIZE && header_read(r->buf) > r->max_frame)
            return -EMSGSIZE;
        if (r->len >= FRAME_HEADER_SIZE && missing(r) == 0) {
            r->len = 0;
            if ((rc = cb(r->buf + FRAME_HEADER_SIZE, header_read(r->buf), cb_data)) != 0)
                return rc;
        }
    }
    return 0;
}
