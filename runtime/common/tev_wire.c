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

void tev_wire_put(uint8_t *out, const tev_wire *w)
{
    put_le(out, (uint64_t)w->time_ns, 8);
    memcpy(out + 8, w->task, IDS_TASK_LEN);
    memcpy(out + 32, w->job, IDS_JOB_LEN);
    memcpy(out + 36, w->actor, IDS_ACTOR_LEN);
    memcpy(out + 52, w->pg, IDS_PG_LEN);
    memcpy(out + 70, w->worker, IDS_WORKER_LEN);
    put_le(out + 86, (uint32_t)w->attempt, 4);
    put_le(out + 90, (uint32_t)w->pid, 4);
    put_le(out + 94, w->func, 4);
    out[98] = w->state;
    out[99] = w->kind;
    out[100] = w->flags;
    memset(out + 101, 0, TEV_WIRE_SIZE - 101);
}

void tev_wire_get(tev_wire *w, const uint8_t *in)
{
    w->time_ns = (int64_t)get_le(in, 8);
    memcpy(w->task, in + 8, IDS_TASK_LEN);
    memcpy(w->job, in + 32, IDS_JOB_LEN);
    memcpy(w->actor, in + 36, IDS_ACTOR_LEN);
    memcpy(w->pg, in + 52, IDS_PG_LEN);
    memcpy(w->worker, in + 70, IDS_WORKER_LEN);
    w->attempt = (int32_t)(uint32_t)get_le(in + 86, 4);
    w->pid = (int32_t)(uint32_t)get_le(in + 90, 4);
    w->func = (uint32_t)get_le(in + 94, 4);
    w->state = in[98];
    w->kind = in[99];
    w->flags = in[100];
}
