/* The scheduler's side of placement group removal: the group's tasks here
 * fail, and running ones lose their worker and their resources at once (so
 * that the group's bundles can be given back right after). */
#include "raylet/sched.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "raylet/pgroup.h"
#include "raylet/sched_int.h"
#include "raylet/sched_remote.h"
#include "raylet/wpool.h"

/* The normal tasks of G handled here (not forwarded), in a new array. */
static sched_task **tasks_of(raylet *r, const ids_pg *g, size_t *n)
{
    size_t all = 0, k = 0;
    sched_task **list = sched__task_list(r->sched, &all);
    for (size_t i = 0; list != NULL && i < all; i++) {
        sched_task *t = list[i];
        if (t->actor == NULL && t->spec->kind == RAYC__TASK_SPEC__KIND__NORMAL &&
            t->remote != SCHED_FORWARDED && !t->pg_removed &&
            pgroup_id_eq(&t->spec->placement_group_id, g))
            list[k++] = t;
    }
    *n = k;
    return list;
}

/* Takes RUNNING task T's resources back and kills its worker; its death
 * (sched_worker_died) fails T. */
static void kill_running(raylet *r, sched_task *t, const char *reason)
{
    sched__release_running(r, t);
    memset(&t->req, 0, sizeof t->req);
    t->pg_removed = 1;
    if (t->worker != NULL) {
        log_info("task %s: killing its worker (pid %d): %s", sched__fname(t), t->worker->pid,
                 reason);
        wpool_worker_kill(r, t->worker, 1, reason);
    }
}

void sched_group_removed(raylet *r, const ids_pg *g, const char *reason)
{
    char msg[1024];
    size_t n = 0;
    sched_task **list = tasks_of(r, g, &n);
    for (size_t i = 0; i < n; i++) {
        sched_task *t = list[i];
        if (t->state == SCHED_RUNNING) {
            kill_running(r, t, reason);
            continue;
        }
        snprintf(msg, sizeof msg, "task %s cannot run: %s", sched__fname(t), reason);
        sched_fail(r, t, RAY_ERR_UNSCHEDULABLE, msg);
    }
    free(list);
    sched_dispatch(r);
}
