/* Resource requests of tasks and actors against the node's resources, and
 * GPU ids.  Requests refer to the node's resources by index in
 * raylet.total, whose entries never change after start. */
#include "raylet/sched.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "raylet/sched_int.h"

static int index_of(const res_map *m, const char *name)
{
    for (size_t i = 0; i < m->len; i++)
        if (strcmp(m->items[i].name, name) == 0)
            return (int)i;
    return -1;
}

int sched_res_parse(raylet *r, const Rayc__Resource *const *res, size_t n, sched_res *out,
                    char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < n; i++) {
        const Rayc__Resource *x = res[i];
        if (x->name == NULL || !(x->qty >= 0) || !isfinite(x->qty)) {
            snprintf(err, errlen, "a malformed resource request");
            return -EINVAL;
        }
        if (x->qty < RES_EPS)
            continue;
        int idx = index_of(&r->total, x->name);
        if (!res_fits(idx < 0 ? 0.0 : r->total.items[idx].qty, x->qty)) {
            snprintf(err, errlen, "it needs %g %.200s but this node has %g", x->qty, x->name,
                     idx < 0 ? 0.0 : r->total.items[idx].qty);
            return -ENOENT;
        }
        if (out->n == SCHED_RES_MAX) {
            snprintf(err, errlen, "more than %d resources requested", SCHED_RES_MAX);
            return -E2BIG;
        }
        out->idx[out->n] = (uint16_t)idx;
        out->qty[out->n++] = x->qty;
        if (strcmp(x->name, "CPU") == 0)
            out->cpu = x->qty;
        else if (strcmp(x->name, "GPU") == 0 ||
                 (strncmp(x->name, "GPU_group_", 10) == 0 && out->gpu == 0))
            out->gpu = x->qty; /* a bundle's GPUs are devices too (CUDA_VISIBLE_DEVICES) */
    }
    return 0;
}

int sched_res_fits(raylet *r, const sched_res *q)
{
    for (int i = 0; i < q->n; i++)
        if (!res_fits(r->available.items[q->idx[i]].qty, q->qty[i]))
            return 0;
    return 1;
}

void sched_res_acquire(raylet *r, const sched_res *q)
{
    for (int i = 0; i < q->n; i++)
        r->available.items[q->idx[i]].qty -= q->qty[i];
}

void sched_res_release(raylet *r, const sched_res *q)
{
    for (int i = 0; i < q->n; i++) {
        res_entry *e = &r->available.items[q->idx[i]];
        e->qty += q->qty[i];
        double total = r->total.items[q->idx[i]].qty;
        if (e->qty > total - RES_EPS) /* no drift above the total */
            e->qty = total;
    }
}

int sched_res_equal(const sched_res *a, const sched_res *b)
{
    if (a->n != b->n)
        return 0;
    for (int i = 0; i < a->n; i++)
        if (a->idx[i] != b->idx[i] || fabs(a->qty[i] - b->qty[i]) > RES_EPS)
            return 0;
    return 1;
}

/* ---------------------------------------------------------------- GPU ids */

/* Per-GPU free share, set up from the node's GPU total on first use. */
static void gpus_init(raylet *r)
{
    sched *s = r->sched;
    if (s->ngpus_total >= 0)
        return;
    double total = 0;
    res_map_get(&r->total, "GPU", &total);
    s->ngpus_total = total > SCHED_MAX_GPUS ? SCHED_MAX_GPUS : (int)total;
    for (int i = 0; i < s->ngpus_total; i++)
        s->gpu_free[i] = 1.0;
}

int sched_gpu_take(raylet *r, const sched_res *q, int32_t *ids, int max)
{
    sched *s = r->sched;
    gpus_init(r);
    if (q->gpu < RES_EPS)
        return 0;
    int n = 0;
    if (q->gpu >= 1.0 - RES_EPS) {
        int want = (int)(q->gpu + 0.5);
        for (int i = 0; i < s->ngpus_total && n < want && n < max; i++) {
            if (s->gpu_free[i] > 1.0 - RES_EPS) {
                s->gpu_free[i] = 0;
                ids[n++] = i;
            }
        }
        return n;
    }
    for (int i = 0; i < s->ngpus_total && max > 0; i++) {
        if (res_fits(s->gpu_free[i], q->gpu)) {
            s->gpu_free[i] -= q->gpu;
            ids[0] = i;
            return 1;
        }
    }
    return 0;
}

void sched_gpu_give(raylet *r, const sched_res *q, const int32_t *ids, int n)
{
    sched *s = r->sched;
    double share = q->gpu >= 1.0 - RES_EPS ? 1.0 : q->gpu;
    for (int i = 0; i < n; i++) {
        if (ids[i] >= 0 && ids[i] < s->ngpus_total) {
            s->gpu_free[ids[i]] += share;
            if (s->gpu_free[ids[i]] > 1.0)
                s->gpu_free[ids[i]] = 1.0;
        }
    }
}
