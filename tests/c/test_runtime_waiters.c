/* runtime-waiters-*: who api_notify wakes (runtime/api/api_waiters.c).  An
 * actor's idle task threads all wait for the same thing, so a queued task
 * must wake one of them, not all (a broadcast woke 1000 threads per call
 * of the Serve controller); other waiters wake only when their own
 * condition holds; the reader role, when free, goes to one waiter. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <pthread.h>
#include <sched.h>

#include "api/api.h"

#define N_THREADS 8

static int tasks, ran, quit;

static int have_task(void *arg)
{
    (void)arg;
    return tasks > 0 || quit;
}

/* An idle task thread: takes queued tasks, sleeps exclusively meanwhile. */
static void *task_thread(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&api_g.mu);
    while (!quit) {
        if (tasks > 0) {
            tasks--;
            ran++;
            continue;
        }
        api_waiter_sleep(have_task, NULL, 1, -1);
    }
    pthread_mutex_unlock(&api_g.mu);
    return NULL;
}

/* Polls (mu released between looks) until N_THREADS sleep, none woken. */
static void wait_all_asleep(void)
{
    for (;;) {
        size_t waiting, signaled;
        pthread_mutex_lock(&api_g.mu);
        api_waiter_counts(&waiting, &signaled);
        pthread_mutex_unlock(&api_g.mu);
        if (waiting == N_THREADS && signaled == 0)
            return;
        sched_yield();
    }
}

static void one_task_wakes_one_idle_thread(void **state)
{
    (void)state;
    pthread_t t[N_THREADS];
    for (int i = 0; i < N_THREADS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, task_thread, NULL), 0);
    wait_all_asleep();

    size_t waiting, signaled;
    pthread_mutex_lock(&api_g.mu);
    api_g.reading = 1; /* someone reads: no hand-off wake-up mixes in */
    tasks = 1;
    api_notify();
    api_waiter_counts(&waiting, &signaled);
    pthread_mutex_unlock(&api_g.mu);
    assert_int_equal(signaled, 1);

    wait_all_asleep();
    pthread_mutex_lock(&api_g.mu);
    assert_int_equal(ran, 1);
    tasks = 3; /* three tasks: still one woken at once; each takes the next */
    api_notify();
    api_waiter_counts(&waiting, &signaled);
    pthread_mutex_unlock(&api_g.mu);
    assert_int_equal(signaled, 1);
    wait_all_asleep(); /* the one woken took all three before sleeping again */
    pthread_mutex_lock(&api_g.mu);
    assert_int_equal(ran, 4);

    /* The reader role falls free: exactly one waiter is woken to take it. */
    api_g.reading = 0;
    api_waiter_handoff();
    api_waiter_handoff(); /* one is on its way: no second */
    api_waiter_counts(&waiting, &signaled);
    assert_int_equal(signaled, 1);
    pthread_mutex_unlock(&api_g.mu);
    wait_all_asleep();

    /* A broken connection wakes everyone. */
    pthread_mutex_lock(&api_g.mu);
    api_g.reading = 1;
    quit = 1;
    api_g.broken = 1;
    api_notify();
    api_waiter_counts(&waiting, &signaled);
    assert_int_equal(signaled, N_THREADS);
    api_g.broken = 0;
    api_g.reading = 0;
    pthread_mutex_unlock(&api_g.mu);
    for (int i = 0; i < N_THREADS; i++)
        pthread_join(t[i], NULL);
}

static int flag_a, flag_b;

static int is_set(void *arg)
{
    return *(int *)arg;
}

static void *flag_waiter(void *arg)
{
    pthread_mutex_lock(&api_g.mu);
    while (!*(int *)arg)
        api_waiter_sleep(is_set, arg, 0, -1);
    pthread_mutex_unlock(&api_g.mu);
    return NULL;
}

static void only_the_waiter_whose_condition_holds_wakes(void **state)
{
    (void)state;
    pthread_t a, b;
    assert_int_equal(pthread_create(&a, NULL, flag_waiter, &flag_a), 0);
    assert_int_equal(pthread_create(&b, NULL, flag_waiter, &flag_b), 0);
    size_t waiting = 0, signaled = 0;
    while (waiting != 2) {
        sched_yield();
        pthread_mutex_lock(&api_g.mu);
        api_waiter_counts(&waiting, &signaled);
        pthread_mutex_unlock(&api_g.mu);
    }
    pthread_mutex_lock(&api_g.mu);
    api_g.reading = 1;
    flag_a = 1;
    api_notify();
    api_waiter_counts(&waiting, &signaled);
    assert_int_equal(signaled, 1);
    pthread_mutex_unlock(&api_g.mu);
    pthread_join(a, NULL);
    pthread_mutex_lock(&api_g.mu);
    api_waiter_counts(&waiting, &signaled);
    assert_int_equal(waiting, 1); /* b still asleep */
    assert_int_equal(signaled, 0);
    flag_b = 1;
    api_notify();
    api_g.reading = 0;
    pthread_mutex_unlock(&api_g.mu);
    pthread_join(b, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(one_task_wakes_one_idle_thread),
        cmocka_unit_test(only_the_waiter_whose_condition_holds_wakes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
