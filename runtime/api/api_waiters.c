/* The threads that wait with api_g.mu held (api_wait, api_pump), each on
 * its own condition variable, and who of them to wake.
 *
 * One shared condition variable with a broadcast per message woke every
 * waiting thread for every message: an actor with max_concurrency 1000
 * has 1000 idle task threads, and each call it got cost 1000 context
 * switches (measured: the Serve controller spent a quarter of a core
 * idle, a replica ~0.9 ms of CPU per request).  Here a state change wakes
 * only the waiters whose condition now holds, at most one idle task
 * thread at a time (the one woken wakes the next if more tasks wait), and
 * one waiter to take the reader role when it falls free. */
#include "api/api.h"

#include <time.h>

typedef struct api_waiter {
    pthread_cond_t cv;
    int (*ready)(void *arg);   /* NULL: woken by any change */
    void *arg;
    int exclusive;             /* a task thread: one woken at a time */
    int signaled;              /* woken, not yet running */
    struct api_waiter *prev, *next;
} api_waiter;

static api_waiter *head, *tail;
static int n_signaled;         /* waiters woken that have not run yet */
static _Thread_local api_waiter self;
static _Thread_local int self_ready;

/* The waiter's condition variable waits on the monotonic clock, like our
 * deadlines. */
static api_waiter *self_waiter(void)
{
    if (!self_ready) {
        pthread_condattr_t a;
        pthread_condattr_init(&a);
        pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
        pthread_cond_init(&self.cv, &a);
        pthread_condattr_destroy(&a);
        self_ready = 1;
    }
    return &self;
}

static void wake(api_waiter *w)
{
    w->signaled = 1;
    n_signaled++;
    pthread_cond_signal(&w->cv);
}

void api_notify(void)
{
    int task_thread_woken = 0;
    for (api_waiter *w = head; w != NULL; w = w->next)
        if (w->signaled && w->exclusive)
            task_thread_woken = 1;
    /* Newest first: the thread that slept last is the one whose stack and
     * caches are still warm. */
    for (api_waiter *w = tail; w != NULL; w = w->prev) {
        if (w->signaled)
            continue;
        if (!api_g.broken && w->ready != NULL && !w->ready(w->arg))
            continue;
        if (w->exclusive && !api_g.broken) {
            if (task_thread_woken)
                continue;
            task_thread_woken = 1;
        }
        wake(w);
    }
}

void api_waiter_handoff(void)
{
    if (!api_g.reading && !api_g.broken && n_signaled == 0 && tail != NULL)
        wake(tail);
}

void api_waiter_sleep(int (*ready)(void *arg), void *arg, int exclusive, int64_t deadline_ms)
{
    api_waiter *w = self_waiter();
    w->ready = ready;
    w->arg = arg;
    w->exclusive = exclusive;
    w->signaled = 0;
    w->next = NULL;
    w->prev = tail;
    if (tail != NULL)
        tail->next = w;
    else
        head = w;
    tail = w;
    if (deadline_ms < 0) {
        pthread_cond_wait(&w->cv, &api_g.mu);
    } else {
        struct timespec ts = {.tv_sec = deadline_ms / 1000,
                              .tv_nsec = (deadline_ms % 1000) * 1000000L};
        pthread_cond_timedwait(&w->cv, &api_g.mu, &ts);
    }
    if (w->prev != NULL)
        w->prev->next = w->next;
    else
        head = w->next;
    if (w->next != NULL)
        w->next->prev = w->prev;
    else
        tail = w->prev;
    if (w->signaled)
        n_signaled--;
}

void api_waiter_counts(size_t *waiting, size_t *signaled)
{
    size_t n = 0;
    for (api_waiter *w = head; w != NULL; w = w->next)
        n++;
    *waiting = n;
    *signaled = (size_t)n_signaled;
}
