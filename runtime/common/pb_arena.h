/* A bump allocator for decoding protobuf messages: unpacking a message
 * makes one malloc per field, string and repeated array; from an arena it
 * makes none after the first messages, and freeing is one reset. */
#ifndef RAYC_COMMON_PB_ARENA_H
#define RAYC_COMMON_PB_ARENA_H

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>

typedef struct pb_chunk pb_chunk;

typedef struct pb_arena {
    ProtobufCAllocator alloc;      /* pass &arena->alloc to *_unpack */
    pb_chunk *chunks;              /* newest first */
    size_t kept;                   /* bytes of chunks kept across resets */
    size_t max_kept;
} pb_arena;

/* Sets up A to keep at most MAX_KEPT bytes of chunks between messages
 * (more is freed at reset).  Allocates nothing. */
void pb_arena_init(pb_arena *a, size_t max_kept);

/* Forgets everything allocated from A (pointers into it become invalid);
 * keeps one chunk as large as everything it held (at most max_kept bytes)
 * for the next message. */
void pb_arena_reset(pb_arena *a);

/* Frees all of A's memory. */
void pb_arena_free(pb_arena *a);

#endif
