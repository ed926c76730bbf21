/* Runtime ids (see ids.h for the layout). */
#include "common/ids.h"

#include <errno.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rand.h>

void ids_hex(const void *id, size_t len, char *out)
{
    static const char digits[] = "0123456789abcdef";
    const uint8_t *p = id;
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 15];
    }
    out[2 * len] = '\0';
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int ids_from_hex(const char *hex, void *id, size_t len)
{
    uint8_t *p = id;
    for (size_t i = 0; i < len; i++) {
        int hi = hex[2 * i] ? hexval(hex[2 * i]) : -1;
        int lo = hi >= 0 && hex[2 * i + 1] ? hexval(hex[2 * i + 1]) : -1;
        if (lo < 0)
            return -EINVAL;
        p[i] = (uint8_t)(hi << 4 | lo);
    }
    return hex[2 * len] == '\0' ? 0 : -EINVAL;
}

int ids_from_bytes(void *id, size_t len, const void *p, size_t n)
{
    if (n != len || p == NULL) {
        memset(id, 0, len);
        return -EINVAL;
    }
    memcpy(id, p, len);
    return 0;
}

/* splitmix64's finaliser. */
static uint64_t mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

uint64_t ids_hash(const void *p, size_t n)
{
    const uint8_t *b = p;
    uint64_t h = 0x9e3779b97f4a7c15ull ^ n;
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, b, 8);
        h = mix64(h ^ w);
        b += 8;
        n -= 8;
    }
    uint64_t w = 0;
    memcpy(&w, b, n);
    return mix64(h ^ w);
}

uint64_t ids_seed(void)
{
    uint64_t s = 0;
    if (RAND_bytes((unsigned char *)&s, sizeof s) != 1) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        s = mix64((uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20) ^ (uint64_t)getpid());
    }
    return s;
}

ids_job ids_job_from_number(uint32_t num)
{
    ids_job j;
    for (int i = 0; i < 4; i++)
        j.b[i] = (uint8_t)(num >> (8 * i));
    return j;
}

static void put_unique(uint8_t *dst, size_t n, uint64_t seed, uint64_t counter)
{
    uint64_t a = mix64(seed + counter * 0x9e3779b97f4a7c15ull);
    uint64_t b = mix64(a ^ seed);
    uint8_t buf[16];
    memcpy(buf, &a, 8);
    memcpy(buf + 8, &b, 8);
    memcpy(dst, buf, n);
}

ids_task ids_task_new(ids_job job, uint64_t seed, uint64_t counter)
{
    ids_task t;
    memset(&t, 0, sizeof t);
    put_unique(t.b, 8, seed, counter);
    memcpy(t.b + 8 + 12, job.b, IDS_JOB_LEN);
    return t;
}

ids_task ids_task_for_actor(const ids_actor *actor, uint64_t seed, uint64_t counter)
{
    ids_task t;
    put_unique(t.b, 8, seed, counter);
    memcpy(t.b + 8, actor->b, IDS_ACTOR_LEN);
    return t;
}

ids_actor ids_actor_new(ids_job job, uint64_t seed, uint64_t counter)
{
    ids_actor a;
    put_unique(a.b, 12, seed ^ 0x5bd1e995u, counter);
    memcpy(a.b + 12, job.b, IDS_JOB_LEN);
    return a;
}

ids_pg ids_pg_new(ids_job job, uint64_t seed, uint64_t counter)
{
    ids_pg g;
    put_unique(g.b, 14, seed ^ 0x27d4eb2fu, counter);
    memcpy(g.b + 14, job.b, IDS_JOB_LEN);
    return g;
}

ids_object ids_object_for(const ids_task *t, uint32_t index)
{
    ids_object o;
    memcpy(o.b, t->b, IDS_TASK_LEN);
    for (int i = 0; i < 4; i++)
        o.b[IDS_TASK_LEN + i] = (uint8_t)(index >> (8 * i));
    return o;
}

ids_task ids_object_task(const ids_object *o)
{
    ids_task t;
    memcpy(t.b, o->b, IDS_TASK_LEN);
    return t;
}

uint32_t ids_object_index(const ids_object *o)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++)
        v |= (uint32_t)o->b[IDS_TASK_LEN + i] << (8 * i);
    return v;
}

ids_job ids_task_job(const ids_task *t)
{
    ids_job j;
    memcpy(j.b, t->b + 20, IDS_JOB_LEN);
    return j;
}

ids_job ids_object_job(const ids_object *o)
{
    ids_job j;
    memcpy(j.b, o->b + 20, IDS_JOB_LEN);
    return j;
}

ids_actor ids_task_actor(const ids_task *t)
{
    ids_actor a;
    memcpy(a.b, t->b + 8, IDS_ACTOR_LEN);
    return a;
}

ids_job ids_actor_job(const ids_actor *a)
{
    ids_job j;
    memcpy(j.b, a->b + 12, IDS_JOB_LEN);
    return j;
}

int ids_is_nil(const void *id, size_t len)
{
    const uint8_t *p = id;
    for (size_t i = 0; i < len; i++)
        if (p[i] != 0)
            return 0;
    return 1;
}
