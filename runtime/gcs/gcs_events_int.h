/* Internals shared by gcs_events.c (the table and merging) and
 * gcs_events_query.c (queries). */
#ifndef RAYC_GCS_EVENTS_INT_H
#define RAYC_GCS_EVENTS_INT_H

#include "common/ids.h"
#include "common/strtab.h"
#include "gcs/gcs_events.h"

#define KEY_MAX (IDS_TASK_LEN + 4)

typedef struct gev_rec {
    uint8_t key[KEY_MAX];
    uint8_t keylen, kind, detached, has_actor, has_pg, has_worker, nev;
    int8_t state;                  /* index into the state names */
    int32_t attempt;               /* actors: num_restarts */
    int32_t pid;
    int32_t hnext;                 /* hash chain (record index), -1 ends */
    uint8_t job[IDS_JOB_LEN];
    uint8_t actor[IDS_ACTOR_LEN];
    uint8_t pg[IDS_PG_LEN];
    uint8_t worker[IDS_WORKER_LEN];
    const char *func, *node_id;    /* interned in the table (few distinct values) */
    char *name, *ns, *error, *error_type;  /* owned */
    int8_t ev_state[GEV_MAX_EVENTS];
    int64_t ev_time[GEV_MAX_EVENTS];
} gev_rec;

struct gev_table {
    int is_actors;
    gev_rec *recs;                 /* ring: recs[(head + i) % cap], oldest first */
    size_t cap, max, head, len;
    int32_t *buckets;
    size_t nbuckets;
    int mapped;                    /* recs and buckets are mmap'ed (big_alloc), not malloc'ed */
    int64_t dropped;
    strtab names;                  /* function names and node ids */
};

#define GEV_INTERN_MAX (1u << 20)

/* The name of state S of T's kind, and the index of NAME (0: none). */
const char *gev__state_name(const gev_table *t, int s);
int gev__state_index(const gev_table *t, const char *name);

#endif
