/* Runtime ids: fixed-size binary ids derived like Ray's.
 *
 *   JobID     4 bytes   the GCS's job counter, little-endian
 *   ActorID  16 bytes   12 unique bytes + JobID
 *   TaskID   24 bytes    8 unique bytes + ActorID (nil unique part for normal tasks)
 *   PlacementGroupID 18 bytes  14 unique bytes + JobID
 *   ObjectID 28 bytes   TaskID + 4-byte little-endian index: 1..n for the task's
 *                       returns; puts get a fresh TaskID and index IDS_PUT_INDEX
 *
 * So every id names its job, and an object id names the task that makes it.
 * Ids print as lower-case hex. */
#ifndef RAYC_COMMON_IDS_H
#define RAYC_COMMON_IDS_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define IDS_JOB_LEN 4
#define IDS_ACTOR_LEN 16
#define IDS_TASK_LEN 24
#define IDS_OBJECT_LEN 28
#define IDS_WORKER_LEN 16
#define IDS_PG_LEN 18
#define IDS_PUT_INDEX 0x80000001u

typedef struct ids_job { uint8_t b[IDS_JOB_LEN]; } ids_job;
typedef struct ids_actor { uint8_t b[IDS_ACTOR_LEN]; } ids_actor;
typedef struct ids_task { uint8_t b[IDS_TASK_LEN]; } ids_task;
typedef struct ids_object { uint8_t b[IDS_OBJECT_LEN]; } ids_object;
typedef struct ids_worker { uint8_t b[IDS_WORKER_LEN]; } ids_worker;
typedef struct ids_pg { uint8_t b[IDS_PG_LEN]; } ids_pg;

/* Writes LEN bytes of ID as 2*LEN hex characters and a NUL into OUT. */
void ids_hex(const void *id, size_t len, char *out);

/* Parses exactly 2*LEN hex characters of HEX into ID.  Returns 0 or -EINVAL. */
int ids_from_hex(const char *hex, void *id, size_t len);

/* Copies a LEN-byte id from a peer's buffer P of N bytes.  Returns 0, or
 * -EINVAL when N is not LEN (the id is then zeroed). */
int ids_from_bytes(void *id, size_t len, const void *p, size_t n);

/* A 64-bit mix of N bytes (not cryptographic; ids are already unique). */
uint64_t ids_hash(const void *p, size_t n);

/* A fresh process seed from the system's random source (falls back to time
 * and pid).  Unique parts below are derived from SEED and a counter. */
uint64_t ids_seed(void);

/* The JobID of job number NUM (1 is 01000000). */
ids_job ids_job_from_number(uint32_t num);

/* A task id for a normal task of JOB, unique for (SEED, COUNTER). */
ids_task ids_task_new(ids_job job, uint64_t seed, uint64_t counter);

/* A task id for a call (or the creation) of ACTOR, unique for (SEED, COUNTER). */
ids_task ids_task_for_actor(const ids_actor *actor, uint64_t seed, uint64_t counter);

/* A new actor id of JOB, unique for (SEED, COUNTER). */
ids_actor ids_actor_new(ids_job job, uint64_t seed, uint64_t counter);

/* A new placement group id of JOB (unique per SEED and COUNTER). */
ids_pg ids_pg_new(ids_job job, uint64_t seed, uint64_t counter);

/* The object id of return value INDEX (1-based) of task T. */
ids_object ids_object_for(const ids_task *t, uint32_t index);

/* Parts of ids. */
ids_task ids_object_task(const ids_object *o);
uint32_t ids_object_index(const ids_object *o);
ids_job ids_task_job(const ids_task *t);
ids_job ids_object_job(const ids_object *o);
ids_actor ids_task_actor(const ids_task *t);
ids_job ids_actor_job(const ids_actor *a);

/* True when the id's bytes are all zero. */
int ids_is_nil(const void *id, size_t len);

static inline int ids_object_eq(const ids_object *a, const ids_object *b)
{
    return memcmp(a->b, b->b, IDS_OBJECT_LEN) == 0;
}

static inline int ids_task_eq(const ids_task *a, const ids_task *b)
{
    return memcmp(a->b, b->b, IDS_TASK_LEN) == 0;
}

/* A hash of an object id for tables (its unique bytes are random already). */
static inline uint64_t ids_object_hash(const ids_object *o)
{
    uint64_t h;
    uint32_t idx;
    memcpy(&h, o->b, 8);
    memcpy(&idx, o->b + IDS_TASK_LEN, 4);
    return h ^ ((uint64_t)idx * 0x9e3779b97f4a7c15ull);
}

#endif
