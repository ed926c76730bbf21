/* The compact wire form of task events (see tev_wire.h). */
#include "common/tev_wire.h"

#include <string.h>
#include <strings.h>

const char *const tev_wire_task_states[] = {
    "NIL", "PENDING_ARGS_AVAIL", "PENDING_NODE_ASSIGNMENT", "SUBMITTED_TO_WORKER", "RUNNING",
    "FINISHED", "FAILED", NULL,
};
const char *const tev_wire_actor_states[] = {
    "NIL", "DEPENDENCIES_UNREADY", "PENDING_CREATION", "ALIVE", "RESTARTING", "DEAD", NULL,
};

int tev_wire_state_code(const char *const *states, const char *name)
{
    if (name == NULL || name[0] == '\0')
        return 0;
    for (int i = 1; states[i] != NULL; i++)
        if (strcasecmp(states[i], name) == 0)
            return i;
    return 0;
}

static void put_le(uint8_t *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

void tev_wire_add_state(tev_wire *w, int s, int64_t time_ns)
{
    if (s < 1 || s > TEV_WIRE_NSTATES)
        return;
    uint8_t bit = (uint8_t)(1u << (s - 1));
    if (!(w->states & bit) || time_ns < w->times[s - 1])
        w->times[s - 1] = time_ns;
    w->states |= bit;
}

void tev_wire_put(uint8_t *out, const tev_wire *w)
{
    for (int i = 0; i < TEV_WIRE_NSTATES; i++)
        put_le(out + 8 * i, (uint64_t)w->times[i], 8);
    memcpy(out + 48, w->task, IDS_TASK_LEN);
    memcpy(out + 72, w->job, IDS_JOB_LEN);
    memcpy(out + 76, w->actor, IDS_ACTOR_LEN);
    memcpy(out + 92, w->pg, IDS_PG_LEN);
    memcpy(out + 110, w->worker, IDS_WORKER_LEN);
    put_le(out + 126, (uint32_t)w->attempt, 4);
    put_le(out + 130, (uint32_t)w->pid, 4);
    put_le(out + 134, w->func, 4);
    out[138] = w->states;
    out[139] = w->kind;
    out[140] = w->flags;
    memset(out + 141, 0, TEV_WIRE_SIZE - 141);
}

void tev_wire_get(tev_wire *w, const uint8_t *in)
{
    for (int i = 0; i < TEV_WIRE_NSTATES; i++)
        w->times[i] = (int64_t)get_le(in + 8 * i, 8);
    memcpy(w->task, in + 48, IDS_TASK_LEN);
    memcpy(w->job, in + 72, IDS_JOB_LEN);
    memcpy(w->actor, in + 76, IDS_ACTOR_LEN);
    memcpy(w->pg, in + 92, IDS_PG_LEN);
    memcpy(w->worker, in + 110, IDS_WORKER_LEN);
    w->attempt = (int32_t)(uint32_t)get_le(in + 126, 4);
    w->pid = (int32_t)(uint32_t)get_le(in + 130, 4);
    w->func = (uint32_t)get_le(in + 134, 4);
    w->states = in[138];
    w->kind = in[139];
    w->flags = in[140];
}

uint8_t tev_wire_keep_states(uint8_t *rec, uint8_t mask)
{
    rec[138] &= mask;
    return rec[138];
}

uint32_t tev_wire_func(const uint8_t *rec)
{
    return (uint32_t)get_le(rec + 134, 4);
}

void tev_wire_set_func(uint8_t *rec, uint32_t func)
{
    put_le(rec + 134, func, 4);
}

void tev_wire_set_runner(uint8_t *rec, const uint8_t *worker, int32_t pid)
{
    memcpy(rec + 110, worker, IDS_WORKER_LEN);
    put_le(rec + 130, (uint32_t)pid, 4);
    rec[140] = (uint8_t)((rec[140] & TEV_WIRE_ACTOR) | TEV_WIRE_WORKER | TEV_WIRE_ON_NODE);
}
