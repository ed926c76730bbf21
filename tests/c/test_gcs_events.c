/* gcs-events-*: the GCS's task and actor event tables (gcs/gcs_events.c):
 * merging per attempt, eviction of the oldest, filters and limits. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/ids.h"
#include "common/tev_wire.h"
#include "gcs/gcs_events.h"

#define NAMED_TEST(name, fn) {name, fn, NULL, NULL, NULL}

static uint8_t ids[64][IDS_TASK_LEN];

static void task_event(gev_table *t, int id, int attempt, const char *state, int64_t time_ns,
                       const char *func)
{
    memset(ids[id], 0, IDS_TASK_LEN);
    ids[id][0] = (uint8_t)id;
    Rayc__TaskEvent e = RAYC__TASK_EVENT__INIT;
    e.task_id.data = ids[id];
    e.task_id.len = IDS_TASK_LEN;
    e.attempt = attempt;
    e.state = (char *)state;
    e.time_ns = time_ns;
    e.func = (char *)func;
    e.node_id = strcmp(state, "RUNNING") == 0 ? "node-b" : "";
    e.worker_pid = strcmp(state, "RUNNING") == 0 ? 77 : 0;
    assert_int_equal(gev_add_task(t, &e), 0);
}

static Rayc__TaskEventsReply query(gev_table *t, int limit, const char *key, const char *op,
                                   const char *value)
{
    Rayc__StateFilter f = RAYC__STATE_FILTER__INIT, *fp = &f;
    Rayc__GetTaskEvents q = RAYC__GET_TASK_EVENTS__INIT;
    f.key = (char *)key;
    f.op = (char *)op;
    f.value = (char *)value;
    q.filters = key ? &fp : NULL;
    q.n_filters = key ? 1 : 0;
    q.limit = limit;
    Rayc__TaskEventsReply r = RAYC__TASK_EVENTS_REPLY__INIT;
    assert_int_equal(gev_query(t, &q, &r), 0);
    return r;
}

/* Events of one attempt from two nodes, out of order, make one record whose
 * state is the furthest, with each state once at its earliest time. */
static void test_merge(void **state)
{
    (void)state;
    gev_table *t = gev_table_new(10, 0);
    task_event(t, 1, 0, "FINISHED", 500, "f");
    task_event(t, 1, 0, "PENDING_ARGS_AVAIL", 100, "f");
    task_event(t, 1, 0, "RUNNING", 300, "f");
    task_event(t, 1, 0, "PENDING_ARGS_AVAIL", 200, "f");
    task_event(t, 1, 1, "RUNNING", 600, "f");
    Rayc__TaskEventsReply r = query(t, 100, NULL, NULL, NULL);
    assert_int_equal(r.total, 2);
    assert_int_equal(r.n_tasks, 2);
    const Rayc__TaskRecord *a0 = r.tasks[1];       /* newest first */
    assert_int_equal(a0->task->attempt, 0);
    assert_string_equal(a0->task->state, "FINISHED");
    assert_string_equal(a0->task->node_id, "node-b");
    assert_int_equal(a0->task->worker_pid, 77);
    assert_int_equal(a0->n_events, 3);
    assert_string_equal(a0->events[0]->state, "PENDING_ARGS_AVAIL");
    assert_int_equal(a0->events[0]->time_ns, 100);
    assert_string_equal(a0->events[2]->state, "FINISHED");
    assert_string_equal(r.tasks[0]->task->state, "RUNNING");
    gev_reply_release(&r);
    gev_table_free(t);
}

/* A full table evicts its oldest record and counts it as dropped. */
static void test_evict(void **state)
{
    (void)state;
    gev_table *t = gev_table_new(3, 0);
    for (int i = 0; i < 5; i++)
        task_event(t, i, 0, "RUNNING", 100 + i, "f");
    gev_note_dropped(t, 7);
    Rayc__TaskEventsReply r = query(t, 100, NULL, NULL, NULL);
    assert_int_equal(r.total, 3);
    assert_int_equal(r.num_dropped, 2 + 7);
    assert_int_equal(r.tasks[2]->task->task_id.data[0], 2);   /* 0 and 1 went */
    gev_reply_release(&r);
    task_event(t, 3, 0, "FINISHED", 200, "f");            /* still found by its key */
    r = query(t, 100, "state", "=", "finished");
    assert_int_equal(r.num_filtered, 1);
    assert_int_equal(r.tasks[0]->task->task_id.data[0], 3);
    gev_reply_release(&r);
    gev_table_free(t);
}

/* Filters (= and !=, without case) and the limit; a bad key is refused. */
static void test_filters(void **state)
{
    (void)state;
    gev_table *t = gev_table_new(100, 0);
    for (int i = 0; i < 10; i++)
        task_event(t, i, 0, i < 6 ? "FINISHED" : "FAILED", 100 + i, i % 2 ? "odd" : "even");
    Rayc__TaskEventsReply r = query(t, 2, "func_or_class_name", "=", "odd");
    assert_int_equal(r.num_filtered, 5);
    assert_int_equal(r.n_tasks, 2);
    gev_reply_release(&r);
    r = query(t, 100, "state", "!=", "FINISHED");
    assert_int_equal(r.num_filtered, 4);
    gev_reply_release(&r);
    r = query(t, 100, "bogus", "=", "1");
    assert_non_null(strstr(r.error, "not supported"));
    assert_int_equal(r.n_tasks, 0);
    r = query(t, 100, "state", "~", "1");
    assert_non_null(strstr(r.error, "predicate"));
    gev_table_free(t);
}

/* Actors: the latest state wins (ALIVE after RESTARTING), DEAD stays. */
static void test_actor_states(void **state)
{
    (void)state;
    gev_table *t = gev_table_new(10, 1);
    uint8_t id[IDS_ACTOR_LEN] = {9};
    const char *seq[] = {"PENDING_CREATION", "ALIVE", "RESTARTING", "ALIVE"};
    Rayc__ActorEvent e = RAYC__ACTOR_EVENT__INIT;
    e.actor_id.data = id;
    e.actor_id.len = IDS_ACTOR_LEN;
    e.class_name = "A";
    for (int i = 0; i < 4; i++) {
        e.state = (char *)seq[i];
        e.time_ns = 100 * (i + 1);
        e.num_restarts = i >= 2;
        assert_int_equal(gev_add_actor(t, &e), 0);
    }
    Rayc__GetTaskEvents q = RAYC__GET_TASK_EVENTS__INIT;
    q.actors = 1;
    Rayc__TaskEventsReply r = RAYC__TASK_EVENTS_REPLY__INIT;
    assert_int_equal(gev_query(t, &q, &r), 0);
    assert_string_equal(r.actors[0]->actor->state, "ALIVE");
    assert_int_equal(r.actors[0]->actor->num_restarts, 1);
    assert_int_equal(r.actors[0]->n_events, 4);
    gev_reply_release(&r);
    e.state = "DEAD";
    e.death_cause = "killed";
    e.time_ns = 500;
    gev_add_actor(t, &e);
    e.state = "ALIVE";                                /* a late event from another node */
    e.time_ns = 600;
    gev_add_actor(t, &e);
    assert_int_equal(gev_query(t, &q, &r), 0);
    assert_string_equal(r.actors[0]->actor->state, "DEAD");
    assert_string_equal(r.actors[0]->actor->death_cause, "killed");
    gev_reply_release(&r);
    gev_table_free(t);
}

/* Packed records (common/tev_wire.h) merge like TaskEvents: one record
 * per attempt with its function, node, worker pid and states; a packed
 * field that is not whole records is refused. */
static void test_packed(void **state)
{
    (void)state;
    gev_table *t = gev_table_new(10, 0);
    uint8_t buf[2 * TEV_WIRE_SIZE];
    tev_wire w;
    memset(&w, 0, sizeof w);
    w.task[0] = 9;
    w.job[0] = 1;
    w.attempt = 2;
    w.func = 1;
    w.pid = 4242;
    w.flags = TEV_WIRE_WORKER | TEV_WIRE_ON_NODE;
    /* One record with two states, then one with the third (a later
     * batch) and an earlier time for one it had: the earliest is kept. */
    tev_wire_add_state(&w, 3, 1000);
    tev_wire_add_state(&w, 4, 2000);
    tev_wire_add_state(&w, 4, 2500);
    tev_wire_put(buf, &w);
    memset(w.times, 0, sizeof w.times);
    w.states = 0;
    tev_wire_add_state(&w, 5, 3000);
    tev_wire_add_state(&w, 7, 9000);                  /* no such state: ignored */
    tev_wire_put(buf + TEV_WIRE_SIZE, &w);
    tev_wire back;
    tev_wire_get(&back, buf);
    assert_int_equal(back.attempt, 2);
    assert_int_equal(back.states, 0x0c);
    assert_int_equal(back.times[3], 2000);
    assert_int_equal(back.pid, 4242);
    char *names[] = {"other", "packed_fn"};
    Rayc__AddTaskEvents m = RAYC__ADD_TASK_EVENTS__INIT;
    m.packed.data = buf;
    m.packed.len = sizeof buf;
    m.names = names;
    m.n_names = 2;
    m.node_id = "node-p";
    assert_int_equal(gev_add_packed(t, &m), 0);
    m.packed.len = sizeof buf - 1;
    assert_int_equal(gev_add_packed(t, &m), -EINVAL);
    Rayc__TaskEventsReply r = query(t, 100, NULL, NULL, NULL);
    assert_int_equal(r.n_tasks, 1);
    const Rayc__TaskEvent *e = r.tasks[0]->task;
    assert_string_equal(e->state, "FINISHED");
    assert_string_equal(e->func, "packed_fn");
    assert_string_equal(e->node_id, "node-p");
    assert_int_equal(e->worker_pid, 4242);
    assert_int_equal(e->attempt, 2);
    assert_int_equal(r.tasks[0]->n_events, 3);
    assert_string_equal(r.tasks[0]->events[0]->state, "SUBMITTED_TO_WORKER");
    assert_int_equal(r.tasks[0]->events[1]->time_ns, 2000);
    assert_string_equal(r.tasks[0]->events[2]->state, "FINISHED");
    gev_reply_release(&r);
    gev_table_free(t);
}

/* The one table of state names (common/tev_wire.c) that the raylet and
 * the GCS share: codes match the wire's, names match without case. */
static void test_state_names(void **state)
{
    (void)state;
    assert_string_equal(tev_wire_task_states[4], "RUNNING");
    assert_string_equal(tev_wire_actor_states[5], "DEAD");
    assert_null(tev_wire_task_states[7]);
    assert_null(tev_wire_actor_states[6]);
    assert_int_equal(tev_wire_state_code(tev_wire_task_states, "SUBMITTED_TO_WORKER"), 3);
    assert_int_equal(tev_wire_state_code(tev_wire_task_states, "failed"), 6);
    assert_int_equal(tev_wire_state_code(tev_wire_actor_states, "ALIVE"), 3);
    assert_int_equal(tev_wire_state_code(tev_wire_task_states, "ALIVE"), 0);
    assert_int_equal(tev_wire_state_code(tev_wire_task_states, "NIL"), 0);
    assert_int_equal(tev_wire_state_code(tev_wire_task_states, ""), 0);
    assert_int_equal(tev_wire_state_code(tev_wire_task_states, NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        NAMED_TEST("gcs-events-1.1 events of one attempt merge into one record", test_merge),
        NAMED_TEST("gcs-events-1.2 a full table evicts the oldest and counts drops", test_evict),
        NAMED_TEST("gcs-events-1.3 filters, limit and bad filters", test_filters),
        NAMED_TEST("gcs-events-1.4 actor states: the latest wins, DEAD stays", test_actor_states),
        NAMED_TEST("gcs-events-1.5 packed records merge like TaskEvents", test_packed),
        NAMED_TEST("gcs-events-1.6 one table of state names and codes", test_state_names),
    };
    return cmocka_run_group_tests_name("gcs_events", tests, NULL, NULL);
}
