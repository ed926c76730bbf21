/* Task events in a compact wire form: one fixed-size record per task
 * attempt and batch, carrying every state the attempt entered in that
 * batch with its time, packed back to back in AddTaskEvents.packed.
 * Workers send them to their raylet and raylets to the GCS: a batch of
 * 1000 tasks is one bytes field of 1000 records instead of 5000 nested
 * messages (or records) to size, encode, decode, look up and free.
 * Events with text (a task's name, an error) still go as TaskEvent. */
#ifndef RAYC_COMMON_TEV_WIRE_H
#define RAYC_COMMON_TEV_WIRE_H

#include <stdint.h>

#include "common/ids.h"

#define TEV_WIRE_SIZE 144
#define TEV_WIRE_NSTATES 6           /* states 1 PENDING_ARGS_AVAIL .. 6 FAILED */

/* Flags of a record. */
#define TEV_WIRE_ACTOR 1u          /* actor_id is set */
#define TEV_WIRE_PG 2u             /* pg_id is set */
#define TEV_WIRE_WORKER 4u         /* worker_id and pid are set */
#define TEV_WIRE_ON_NODE 8u        /* it happened on the sender's node (AddTaskEvents.node_id) */

typedef struct tev_wire {
    int64_t times[TEV_WIRE_NSTATES];   /* wall clock of state s at times[s - 1] */
    uint8_t task[IDS_TASK_LEN];
    uint8_t job[IDS_JOB_LEN];
    uint8_t actor[IDS_ACTOR_LEN];
    uint8_t pg[IDS_PG_LEN];
    uint8_t worker[IDS_WORKER_LEN];
    int32_t attempt;
    int32_t pid;
    uint32_t func;                 /* index into AddTaskEvents.names */
    uint8_t states;                /* bit s - 1 set: state s is in (times[s - 1]) */
    uint8_t kind;                  /* TaskSpec.Kind */
    uint8_t flags;                 /* TEV_WIRE_* */
} tev_wire;

/* Adds state S (1..TEV_WIRE_NSTATES) at TIME_NS to W; a state W has
 * already keeps its earlier time.  Other values are ignored. */
void tev_wire_add_state(tev_wire *w, int s, int64_t time_ns);

/* Ray's names of the task states by code (1 PENDING_ARGS_AVAIL ..
 * 6 FAILED) and of the actor states (1 DEPENDENCIES_UNREADY .. 5 DEAD), the
 * one copy that the raylet and the GCS use; code 0 is "NIL" (no state) and
 * NULL ends each table. */
extern const char *const tev_wire_task_states[];
extern const char *const tev_wire_actor_states[];

/* The code of state NAME in STATES (one of the tables above), matched
 * without regard to case as Ray's state filters are; 0 when NAME is NULL,
 * empty or no state. */
int tev_wire_state_code(const char *const *states, const char *name);

/* Writes W as TEV_WIRE_SIZE bytes at OUT (little-endian integers). */
void tev_wire_put(uint8_t *out, const tev_wire *w);

/* Reads the record at IN (TEV_WIRE_SIZE bytes) into W. */
void tev_wire_get(tev_wire *w, const uint8_t *in);

/* In place, on a record's bytes (a raylet passes its workers' records on
 * without decoding them): keeps only the states in MASK (bit s - 1) and
 * returns those left; reads or sets the function's name index; and sets
 * the worker that ran it (WORKER, PID), which happened on the sender's
 * node: every flag but ACTOR is replaced (a worker does not vouch for its
 * placement group, worker or node). */
uint8_t tev_wire_keep_states(uint8_t *rec, uint8_t mask);
uint32_t tev_wire_func(const uint8_t *rec);
void tev_wire_set_func(uint8_t *rec, uint32_t func);
void tev_wire_set_runner(uint8_t *rec, const uint8_t *worker, int32_t pid);

#endif
