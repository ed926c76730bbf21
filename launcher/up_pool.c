/* A small thread pool: N tasks, at most MAX_PARALLEL at a time. */
#include "launcher/up_pool.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#define WORKER_STACK (2u * 1024 * 1024)

typedef struct pool {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    size_t n, next, done;
    up_task_fn fn;
    void *ctx;
} pool;

static void *worker(void *arg)
{
    pool *p = arg;
    for (;;) {
        pthread_mutex_lock(&p->lock);
        size_t i = p->next < p->n ? p->next++ : p->n;
        pthread_mutex_unlock(&p->lock);
        if (i == p->n)
            return NULL;
        p->fn(p->ctx, i);
        pthread_mutex_lock(&p->lock);
        p->done++;
        pthread_cond_signal(&p->cond);
        pthread_mutex_unlock(&p->lock);
    }
}

/* Waits until every task is done, ticking the display. */
static void wait_all(pool *p, up_display *d)
{
    pthread_mutex_lock(&p->lock);
    while (p->done < p->n) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 100 * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&p->cond, &p->lock, &ts);
        pthread_mutex_unlock(&p->lock);
        up_display_tick(d);
        pthread_mutex_lock(&p->lock);
    }
    pthread_mutex_unlock(&p->lock);
}

int up_pool_run(size_t n, int max_parallel, up_task_fn fn, void *ctx, up_display *d)
{
    pool p = {.n = n, .fn = fn, .ctx = ctx};
    size_t want = max_parallel > 0 ? (size_t)max_parallel : 1;
    if (want > n)
        want = n;
    pthread_t *threads = calloc(want > 0 ? want : 1, sizeof *threads);
    size_t started = 0;
    pthread_attr_t attr;
    pthread_mutex_init(&p.lock, NULL);
    pthread_cond_init(&p.cond, NULL);
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, WORKER_STACK);
    for (; threads != NULL && started < want; started++)
        if (pthread_create(&threads[started], &attr, worker, &p) != 0)
            break;
    if (started == 0)
        worker(&p);             /* no threads at all: do the work here */
    wait_all(&p, d);
    for (size_t i = 0; i < started; i++)
        pthread_join(threads[i], NULL);
    up_display_tick(d);
    pthread_attr_destroy(&attr);
    pthread_cond_destroy(&p.cond);
    pthread_mutex_destroy(&p.lock);
    free(threads);
    return 0;
}
