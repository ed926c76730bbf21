/* Allocation-failure injection for the C unit tests (SQLite's way): after
 * alloc_fail_at(N) the Nth malloc/calloc/realloc of this thread returns NULL,
 * so a test can walk every -ENOMEM path of a function by running it with
 * N = 1, 2, ... until a run makes fewer than N allocations.
 *
 * Include this in ONE test file: it defines malloc, calloc and realloc for
 * the whole test program (libc's own allocator does the work).  Only the
 * thread that armed it is counted, so libuv's pool threads are never hit.
 * Under AddressSanitizer or valgrind (which own malloc) alloc_fail_works()
 * is false and the walks are skipped. */
#ifndef RAYC_TESTS_ALLOC_FAIL_H
#define RAYC_TESTS_ALLOC_FAIL_H

#include <stddef.h>

#if defined(__SANITIZE_ADDRESS__)
#define ALLOC_FAIL_SUPPORTED 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ALLOC_FAIL_SUPPORTED 0
#endif
#endif
#ifndef ALLOC_FAIL_SUPPORTED
#define ALLOC_FAIL_SUPPORTED 1
#endif

static _Thread_local long alloc_fail_countdown; /* 0: not armed */
static _Thread_local int alloc_fail_hit;         /* the armed failure happened */

/* Makes this thread's Nth allocation from now fail (N >= 1). */
static inline void alloc_fail_at(long n)
{
    alloc_fail_hit = 0;
    alloc_fail_countdown = n;
}

/* Disarms; returns 1 when the armed allocation failed (the run reached it). */
static inline int alloc_fail_off(void)
{
    alloc_fail_countdown = 0;
    return alloc_fail_hit;
}

#include <stdlib.h>

/* True when the injection is in force: not under AddressSanitizer, and not
 * under valgrind, which replaces malloc in the test program itself. */
static inline int alloc_fail_works(void)
{
    if (!ALLOC_FAIL_SUPPORTED)
        return 0;
    void *(*volatile alloc)(size_t) = malloc; /* not a builtin the compiler may drop */
    alloc_fail_at(1);
    void *p = alloc(1);
    alloc_fail_off();
    free(p);
    return p == NULL;
}

#if ALLOC_FAIL_SUPPORTED
void *__libc_malloc(size_t n);
void *__libc_calloc(size_t n, size_t size);
void *__libc_realloc(void *p, size_t n);

/* True when this allocation is the one to fail. */
static inline int alloc_fail_now(void)
{
    if (alloc_fail_countdown <= 0 || --alloc_fail_countdown > 0)
        return 0;
    alloc_fail_hit = 1;
    return 1;
}

void *malloc(size_t n)
{
    return alloc_fail_now() ? NULL : __libc_malloc(n);
}

void *calloc(size_t n, size_t size)
{
    return alloc_fail_now() ? NULL : __libc_calloc(n, size);
}

void *realloc(void *p, size_t n)
{
    return alloc_fail_now() ? NULL : __libc_realloc(p, n);
}
#endif

#endif
