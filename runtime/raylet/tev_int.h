/* Internals shared by tev.c (recording) and tev_send.c (batches to the GCS). */
#ifndef RAYC_RAYLET_TEV_INT_H
#define RAYC_RAYLET_TEV_INT_H

#include <stdint.h>

#include "common/ids.h"
#include "common/strtab.h"
#include "common/tev_wire.h"
#include "raylet/tev.h"

#define TEV_DEFAULT_INTERVAL_MS 1000
#define TEV_DEFAULT_MAX_BUFFER 100000
#define TEV_BATCH_MAX 5000           /* events per AddTaskEvents (well under the frame cap) */
#define TEV_INTERN_MAX 65536         /* distinct function names kept */
#define TEV_TEXT_MAX 1024            /* bytes of an error kept (the GCS keeps as many) */

typedef struct tev_ev {
    int64_t time_ns;
    const char *func;              /* interned, never freed while the raylet runs */
    char *name;                    /* owned or NULL */
    char *error;                   /* owned or NULL */
    char *ns;                      /* owned or NULL (actors) */
    int32_t attempt;               /* actors: num_restarts */
    int32_t pid;
    uint8_t id[IDS_TASK_LEN];      /* task id, or actor id in the first 16 bytes */
    uint8_t job[IDS_JOB_LEN];
    uint8_t actor[IDS_ACTOR_LEN];
    uint8_t pg[IDS_PG_LEN];
    uint8_t worker[IDS_WORKER_LEN];
    uint8_t is_actor, has_actor, has_pg, has_worker, state, kind, on_node, detached, status;
    uint8_t states;                /* a worker's packed record: all its states (bit s - 1,
                                      times[s - 1]) in this one event; 0 otherwise */
    int64_t times[TEV_WIRE_NSTATES];
} tev_ev;

struct tev_batch;

typedef struct tev {
    raylet *r;
    int64_t interval_ms;
    tev_ev *ring;
    size_t cap, max, head, len;
    uint64_t seq_head;             /* the sequence number of ring[head] (from 1); a
                                      record's number stays until it is sent */
    int64_t dropped_tasks, dropped_actors;
    strtab names;                  /* function names */
    uv_timer_t timer;
    int timer_open;
    struct tev_batch *batch;       /* the arrays of a batch, kept between sends */
    uint8_t *pass;                 /* workers' packed records, passed on as they came */
    const char **pass_func;        /* the interned function name of each */
    size_t npass, pass_cap;
} tev;

/* Frees what record EV owns (tev.c). */
void tev__ev_free(tev_ev *ev);

/* The flush timer's callback (tev_send.c). */
void tev__tick_cb(uv_timer_t *h);

/* Frees the arrays kept for batches (tev_send.c). */
void tev__batch_free(tev *e);

/* Sends everything buffered while the GCS is there (tev_send.c). */
void tev__flush(tev *e);

/* Sends the workers' records passed on (tev_send.c). */
void tev__send_pass(tev *e);

#endif
