/* objstore_bench: the object store's put and get bandwidth beside this
 * machine's memcpy bandwidth.
 *
 * Runs the store in-process (as the raylet does) with its arena in
 * /dev/shm (OBJSTORE_BENCH_SHM_DIR overrides; OBJSTORE_BENCH_PREFAULT=1
 * opens it with prefault) and plays the client too, so
 * the figures are the store's and the mapping layer's, without sockets.
 * Prints plain "name unit value" lines:
 *
 *   memcpy GB/s N                     1 GiB buffer to 1 GiB buffer (both faulted in),
 *                                     best of the rounds
 *   memcpy_100mib GB/s N              the same buffers in 10 memcpy calls of 100 MiB, as
 *                                     the store's clients copy (glibc copies a single
 *                                     1 GiB call with a faster strategy)
 *   single_client_put_gigabytes GB/s N       create + shm_map_write + memcpy 100 MiB
 *                                     + shm_unmap + seal, 10 objects = 1 GiB, best warm round
 *   single_client_put_gigabytes_cold GB/s N  the first round, every page new to the
 *                                     process and to tmpfs
 *   single_client_get_gigabytes GB/s N       get + shm_map_read + memcpy out 100 MiB
 *                                     + shm_unmap + release, 1 GiB, best warm round
 *   single_client_get_gigabytes_cold GB/s N  the first get round
 *   file_per_object_put_gigabytes GB/s N     for comparison, the layout the store does
 *                                     not use: a new file per object (open, fallocate,
 *                                     mmap MAP_POPULATE, memcpy, munmap)
 *   spill_gigabytes GB/s N            1 GiB spilled to the spill dir by puts into a full
 *                                     store (disk speed; TMPDIR's filesystem)
 *   restore_gigabytes GB/s N          1 GiB brought back by gets
 *   put_vs_memcpy ratio N             median over the warm rounds of (round's put GB/s
 *   get_vs_memcpy ratio N             or get GB/s) / (memcpy GB/s measured in that round)
 *
 * Placement: glibc's memcpy falls to a third of its speed when the two
 * addresses are nearly aliased (their distance is within a few cache lines
 * of a multiple of 4 GiB), which the kernel's regular layout of big
 * mappings produces by accident.  That says nothing about the store, so
 * every copy here, the memcpy reference included, runs between addresses
 * half a page apart modulo 4096 (arena objects of 100 MiB are page
 * aligned; the private buffers start 2048 bytes into a page).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "common/shm_map.h"
#include "common/util.h"
#include "objstore/objstore.h"

#define GiB (1ull << 30)
#define OBJ (100ull << 20)
#define NOBJ 10
#define ROUNDS 8
#define JOB "0100"

static struct {
    uint8_t *src_map, *dst_map;     /* the mappings: GiB + one page */
    uint8_t *src, *dst;             /* 2048 bytes into them */
    char spill_dir[64];
    char shm_dir[256];
    char prefix[64];
    objstore *s;
} B;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double gbps(uint64_t bytes, double secs)
{
    return (double)bytes / secs / 1e9;
}

static void die(const char *what, int rc)
{
    fprintf(stderr, "objstore_bench: %s: %s\n", what, strerror(-rc));
    objstore_close(B.s);
    fs_rm_rf(B.spill_dir);
    exit(1);
}

/* ---------------------------------------------------------------- memcpy */

/* One copy of (up to) 1 GiB in calls of CHUNK bytes; GB/s. */
static double bench_memcpy(uint64_t chunk)
{
    double t = now_s();
    uint64_t off = 0;
    for (; off + chunk <= GiB; off += chunk)
        memcpy(B.dst_map + off, B.src + off, chunk);
    return gbps(off, now_s() - t);
}

/* ---------------------------------------------------------------- store */

static void oid_of(int round, int i, char *oid, size_t len)
{
    snprintf(oid, len, "%02x%02x", round & 0xff, i);
}

/* One round of NOBJ puts; returns GB/s. */
static double put_round(int round)
{
    double t = now_s();
    for (int i = 0; i < NOBJ; i++) {
        char oid[16], path[SHM_LOC_MAX];
        oid_of(round, i, oid, sizeof oid);
        int rc = objstore_create(B.s, oid, JOB, OBJ, path, sizeof path);
        void *p = NULL;
        if (rc != 0 || (rc = shm_map_write(path, OBJ, &p)) != 0)
            die("put", rc);
        memcpy(p, B.src + (uint64_t)i * OBJ, OBJ);
        shm_unmap(p, OBJ);
        if ((rc = objstore_seal(B.s, oid)) != 0)
            die("seal", rc);
    }
    return gbps(NOBJ * OBJ, now_s() - t);
}

/* One round of NOBJ gets of round ROUND's objects; returns GB/s. */
static double get_round(int round)
{
    double t = now_s();
    for (int i = 0; i < NOBJ; i++) {
        char oid[16], path[SHM_LOC_MAX];
        oid_of(round, i, oid, sizeof oid);
        uint64_t size;
        const void *p = NULL;
        int rc = objstore_get(B.s, oid, path, sizeof path, &size);
        if (rc != 0 || (rc = shm_map_read(path, size, &p)) != 0)
            die("get", rc);
        memcpy(B.dst + (uint64_t)i * OBJ, p, size);
        shm_unmap(p, size);
        objstore_release(B.s, oid);
    }
    return gbps(NOBJ * OBJ, now_s() - t);
}

static void delete_round(int round)
{
    for (int i = 0; i < NOBJ; i++) {
        char oid[16];
        oid_of(round, i, oid, sizeof oid);
        objstore_delete(B.s, oid);
    }
}

static void open_store(uint64_t capacity)
{
    const char *pf = getenv("OBJSTORE_BENCH_PREFAULT");
    objstore_config cfg = {.capacity = capacity, .shm_dir = B.shm_dir, .prefix = B.prefix,
                           .spill_dir = B.spill_dir, .prefault = pf != NULL && pf[0] == '1'};
    int rc = objstore_open(&cfg, &B.s);
    if (rc != 0)
        die("objstore_open", rc);
}

/* ---------------------------------------------------------------- file per object */

static double file_per_object_put(void)
{
    double t = now_s();
    for (int i = 0; i < NOBJ; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/%sfile%d", B.shm_dir, B.prefix, i);
        int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0 || posix_fallocate(fd, 0, OBJ) != 0)
            die("file per object", -EIO);
        void *p = mmap(NULL, OBJ, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, 0);
        close(fd);
        if (p == MAP_FAILED)
            die("mmap", -errno);
        memcpy(p, B.src + (uint64_t)i * OBJ, OBJ);
        munmap(p, OBJ);
    }
    double g = gbps(NOBJ * OBJ, now_s() - t);
    for (int i = 0; i < NOBJ; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/%sfile%d", B.shm_dir, B.prefix, i);
        unlink(path);
    }
    return g;
}

/* ---------------------------------------------------------------- main */

static void setup(void)
{
    const char *shm = getenv("OBJSTORE_BENCH_SHM_DIR");
    str_copy(B.shm_dir, sizeof B.shm_dir, shm != NULL ? shm : "/dev/shm");
    snprintf(B.prefix, sizeof B.prefix, "rayc-bench%d-", (int)getpid());
    snprintf(B.spill_dir, sizeof B.spill_dir, "/tmp/objstore-bench-XXXXXX");
    B.src_map = mmap(NULL, GiB + 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    B.dst_map = mmap(NULL, GiB + 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (B.src_map == MAP_FAILED || B.dst_map == MAP_FAILED || mkdtemp(B.spill_dir) == NULL)
        die("setup", -ENOMEM);
    B.src = B.src_map + 2048;
    B.dst = B.dst_map + 2048;
    for (uint64_t i = 0; i < GiB; i += 8) {
        uint64_t v = i * 0x9e3779b97f4a7c15ull;
        memcpy(B.src + i, &v, 8);
    }
    memset(B.dst_map, 0, GiB + 4096);
}

/* What bench_put_get measures. */
typedef struct results {
    double memcpy, memcpy_100mib;       /* best rounds */
    double put, get, put_cold, get_cold;
    double put_ratio, get_ratio;        /* medians over the warm rounds */
} results;

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static double max2(double a, double b)
{
    return a > b ? a : b;
}

/* Puts and gets through a store that holds all of a round.  Each warm
 * round also copies with plain memcpy, so that the ratios compare figures
 * taken seconds apart: on a shared machine the bandwidth drifts. */
static void bench_put_get(results *res)
{
    double put_ratio[ROUNDS], get_ratio[ROUNDS];
    open_store(2 * GiB);
    for (int r = 0; r < ROUNDS; r++) {
        double m = r > 0 ? bench_memcpy(GiB) : 0;
        double p = put_round(r);
        double g = get_round(r);
        if (memcmp(B.dst, B.src, NOBJ * OBJ) != 0)
            die("read back", -EIO);
        delete_round(r);
        if (r == 0) {
            res->put_cold = p;
            res->get_cold = g;
            continue;
        }
        res->memcpy = max2(res->memcpy, m);
        res->memcpy_100mib = max2(res->memcpy_100mib, bench_memcpy(OBJ));
        res->put = max2(res->put, p);
        res->get = max2(res->get, g);
        put_ratio[r - 1] = p / m;
        get_ratio[r - 1] = g / m;
    }
    res->put_ratio = median(put_ratio, ROUNDS - 1);
    res->get_ratio = median(get_ratio, ROUNDS - 1);
    objstore_close(B.s);
    B.s = NULL;
}

/* Puts 2 GiB into a 1 GiB store (1 GiB spilled), then gets the first GiB
 * back (1 GiB restored, 1 GiB spilled again). */
static void bench_spill(double *spill, double *restore)
{
    open_store(GiB);
    put_round(0);
    double t = now_s();
    put_round(1);
    *spill = gbps(NOBJ * OBJ, now_s() - t);
    t = now_s();
    get_round(0);
    *restore = gbps(NOBJ * OBJ, now_s() - t);
    if (memcmp(B.dst, B.src, NOBJ * OBJ) != 0)
        die("restore read back", -EIO);
    objstore_close(B.s);
    B.s = NULL;
}

int main(void)
{
    setup();
    bench_memcpy(GiB);   /* fault the buffers in */
    results res = {0};
    bench_put_get(&res);
    double fpo = file_per_object_put();
    double spill, restore;
    bench_spill(&spill, &restore);
    printf("memcpy GB/s %.2f\n", res.memcpy);
    printf("memcpy_100mib GB/s %.2f\n", res.memcpy_100mib);
    printf("single_client_put_gigabytes GB/s %.2f\n", res.put);
    printf("single_client_put_gigabytes_cold GB/s %.2f\n", res.put_cold);
    printf("single_client_get_gigabytes GB/s %.2f\n", res.get);
    printf("single_client_get_gigabytes_cold GB/s %.2f\n", res.get_cold);
    printf("file_per_object_put_gigabytes GB/s %.2f\n", fpo);
    printf("spill_gigabytes GB/s %.2f\n", spill);
    printf("restore_gigabytes GB/s %.2f\n", restore);
    printf("put_vs_memcpy ratio %.2f\n", res.put_ratio);
    printf("get_vs_memcpy ratio %.2f\n", res.get_ratio);
    fs_rm_rf(B.spill_dir);
    munmap(B.src_map, GiB + 4096);
    munmap(B.dst_map, GiB + 4096);
    return 0;
}
