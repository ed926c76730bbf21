/* Running one task per node on a bounded number of threads while the
 * calling thread keeps the live display fresh. */
#ifndef RAYC_LAUNCHER_UP_POOL_H
#define RAYC_LAUNCHER_UP_POOL_H

#include <stddef.h>

#include "launcher/up_display.h"

typedef void (*up_task_fn)(void *ctx, size_t i);

/* Runs FN(CTX, I) for every I in [0, N) on at most MAX_PARALLEL threads and
 * returns when all have finished, calling up_display_tick(D) (D may be NULL)
 * every 100 ms meanwhile.  When no thread can be started the tasks run on
 * the calling thread instead.  Returns 0. */
int up_pool_run(size_t n, int max_parallel, up_task_fn fn, void *ctx, up_display *d);

#endif
