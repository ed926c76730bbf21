/* Task and actor records: a ring of the newest N in arrival order with a
 * chained hash index on the key (task id + attempt, or actor id). */
#include "gcs/gcs_events.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>

#include "common/tev_wire.h"
#include "gcs/gcs_events_int.h"

/* The state names of T's kind (common/tev_wire.c holds the one copy). */
static const char *const *states_of(const gev_table *t)
{
    return t->is_actors ? tev_wire_actor_states : tev_wire_task_states;
}

const char *gev__state_name(const gev_table *t, int s)
{
    return states_of(t)[s];
}

/* Raylets send codes, not names: an empty name is state 0. */
int gev__state_index(const gev_table *t, const char *name)
{
    return tev_wire_state_code(states_of(t), name);
}

/* ---------------------------------------------------------------- table */

gev_table *gev_table_new(size_t max, int is_actors)
{
    gev_table *t = calloc(1, sizeof *t);
    if (t == NULL)
        return NULL;
    t->max = max ? max : GEV_DEFAULT_MAX;
    t->is_actors = is_actors;
    strtab_init(&t->names, GEV_INTERN_MAX, 1024);
    return t;
}

static void free_ring(gev_table *t);

/* Frees what R owns (most records own nothing: no calls then). */
static void rec_release(gev_rec *r)
{
    if (r->name != NULL || r->ns != NULL || r->error != NULL || r->error_type != NULL) {
        free(r->name);
        free(r->ns);
        free(r->error);
        free(r->error_type);
    }
}

static void rec_clear(gev_rec *r)
{
    rec_release(r);
    memset(r, 0, sizeof *r);
}

void gev_table_free(gev_table *t)
{
    if (t == NULL)
        return;
    for (size_t i = 0; i < t->len; i++)
        rec_clear(&t->recs[(t->head + i) % t->cap]);
    free_ring(t);
    strtab_free(&t->names);
    free(t);
}

size_t gev_count(const gev_table *t)
{
    return t->len;
}

void gev_note_dropped(gev_table *t, int64_t n)
{
    if (n > 0)
        t->dropped += n;
}

static size_t bucket_of(const gev_table *t, const uint8_t *key, size_t len)
{
    return (size_t)(ids_hash(key, len) & (t->nbuckets - 1));
}

static int32_t find(const gev_table *t, const uint8_t *key, size_t len)
{
    if (t->nbuckets == 0)
        return -1;
    for (int32_t i = t->buckets[bucket_of(t, key, len)]; i >= 0; i = t->recs[i].hnext)
        if (t->recs[i].keylen == len && memcmp(t->recs[i].key, key, len) == 0)
            return i;
    return -1;
}

static void unlink_rec(gev_table *t, int32_t idx)
{
    gev_rec *r = &t->recs[idx];
    int32_t *p = &t->buckets[bucket_of(t, r->key, r->keylen)];
    while (*p >= 0 && *p != idx)
        p = &t->recs[*p].hnext;
    if (*p == idx)
        *p = r->hnext;
}

static void rehash(gev_table *t)
{
    for (size_t b = 0; b < t->nbuckets; b++)
        t->buckets[b] = -1;
    for (size_t i = 0; i < t->len; i++) {
        int32_t idx = (int32_t)((t->head + i) % t->cap);
        size_t b = bucket_of(t, t->recs[idx].key, t->recs[idx].keylen);
        t->recs[idx].hnext = t->buckets[b];
        t->buckets[b] = idx;
    }
}

/* LEN bytes of fresh anonymous memory in transparent huge pages where
 * the kernel has them (madvise mode): the ring and its index are touched
 * at random, a record or bucket at a time, and with 4 KiB pages each new
 * page cost a fault and each lookup a TLB miss -- most of the GCS's time
 * on task events.  NULL on failure. */
static void *big_alloc(size_t len)
{
    void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
#ifdef MADV_HUGEPAGE
    (void)madvise(p, len, MADV_HUGEPAGE);
#endif
    return p;
}

static void free_ring(gev_table *t)
{
    if (t->mapped) {
        munmap(t->recs, t->cap * sizeof *t->recs);
        munmap(t->buckets, t->nbuckets * sizeof *t->buckets);
    } else {
        free(t->recs);
        free(t->buckets);
    }
    t->mapped = 0;
    t->recs = NULL;
    t->buckets = NULL;
}

/* Grows the ring, keeping the order; the index is rebuilt.  The first
 * time the whole ring is asked for: untouched pages cost nothing, and a
 * ring that never moves saves copying it as it fills. */
static int grow(gev_table *t)
{
    if (t->cap == 0) {
        size_t nb = 1;
        while (nb < 2 * t->max)
            nb <<= 1;
        t->recs = big_alloc(t->max * sizeof *t->recs);
        t->buckets = big_alloc(nb * sizeof *t->buckets);
        if (t->recs != NULL && t->buckets != NULL) {
            t->cap = t->max;
            t->nbuckets = nb;
            t->mapped = 1;
            rehash(t);
            return 0;
        }
        if (t->recs != NULL)
            munmap(t->recs, t->max * sizeof *t->recs);
        if (t->buckets != NULL)
            munmap(t->buckets, nb * sizeof *t->buckets);
        t->recs = NULL;
        t->buckets = NULL;
    }
    size_t n = t->cap ? t->cap * 2 : 1024;
    if (n > t->max)
        n = t->max;
    size_t nb = 1;
    while (nb < 2 * n)
        nb <<= 1;
    gev_rec *recs = malloc(n * sizeof *recs);
    int32_t *buckets = malloc(nb * sizeof *buckets);
    if (recs == NULL || buckets == NULL) {
        free(recs);
        free(buckets);
        return -ENOMEM;
    }
    for (size_t i = 0; i < t->len; i++)
        recs[i] = t->recs[(t->head + i) % t->cap];
    free_ring(t);
    t->recs = recs;
    t->buckets = buckets;
    t->cap = n;
    t->nbuckets = nb;
    t->head = 0;
    rehash(t);
    return 0;
}

/* The record for KEY, made (evicting the oldest when full) when missing. */
static gev_rec *get_rec(gev_table *t, const uint8_t *key, size_t len)
{
    int32_t idx = find(t, key, len);
    if (idx >= 0)
        return &t->recs[idx];
    if (t->len == t->cap && t->cap < t->max && grow(t) != 0)
        return NULL;
    if (t->len == t->cap) {
        int32_t old = (int32_t)t->head;
        unlink_rec(t, old);
        rec_release(&t->recs[old]);      /* cleared below, as the new record */
        t->head = (t->head + 1) % t->cap;
        t->len--;
        t->dropped++;
    }
    idx = (int32_t)((t->head + t->len) % t->cap);
    gev_rec *r = &t->recs[idx];
    memset(r, 0, sizeof *r);
    memcpy(r->key, key, len);
    r->keylen = (uint8_t)len;
    size_t b = bucket_of(t, key, len);
    r->hnext = t->buckets[b];
    t->buckets[b] = idx;
    t->len++;
    return r;
}

/* ---------------------------------------------------------------- merging */

static void set_str(char **dst, const char *src)
{
    if (src == NULL || src[0] == '\0' || (*dst != NULL && strcmp(*dst, src) == 0))
        return;
    char *c = strndup(src, 1024);
    if (c == NULL)
        return;
    free(*dst);
    *dst = c;
}

/* The table's copy of S (function names and node ids repeat in nearly
 * every record), or a constant when the table is full. */
static const char *intern(gev_table *t, const char *s)
{
    const char *copy;
    return strtab_intern(&t->names, s, &copy) == 0 ? copy : "(too many names)";
}

static void set_interned(gev_table *t, const char **dst, const char *src)
{
    if (src != NULL && src[0] != '\0' && (*dst == NULL || strcmp(*dst, src) != 0))
        *dst = intern(t, src);
}

static void set_bytes(uint8_t *dst, size_t n, const ProtobufCBinaryData *b, uint8_t *flag)
{
    if (b->len != n)
        return;
    memcpy(dst, b->data, n);
    if (flag != NULL)
        *flag = 1;
}

/* Adds STATE at TIME to R's history (a state seen before keeps its earliest
 * time) and moves R's current state. */
static void add_state(const gev_table *t, gev_rec *r, int state, int64_t time_ns)
{
    for (int i = 0; i < r->nev; i++) {
        if (r->ev_state[i] == state && !t->is_actors) {
            if (time_ns < r->ev_time[i])
                r->ev_time[i] = time_ns;
            return;
        }
    }
    int pos = r->nev;
    if (pos == GEV_MAX_EVENTS) {        /* keep the first and the newest ones */
        memmove(&r->ev_state[1], &r->ev_state[2], GEV_MAX_EVENTS - 2);
        memmove(&r->ev_time[1], &r->ev_time[2], (GEV_MAX_EVENTS - 2) * sizeof r->ev_time[0]);
        pos = GEV_MAX_EVENTS - 1;
    } else {
        r->nev++;
    }
    while (pos > 0 && r->ev_time[pos - 1] > time_ns) {
        r->ev_state[pos] = r->ev_state[pos - 1];
        r->ev_time[pos] = r->ev_time[pos - 1];
        pos--;
    }
    r->ev_state[pos] = (int8_t)state;
    r->ev_time[pos] = time_ns;
    if (t->is_actors) {
        /* The latest state wins; nothing comes back from DEAD. */
        int dead = gev__state_index(t, "DEAD");
        if (r->state != dead || state == dead)
            r->state = r->ev_state[r->nev - 1];
    } else if (state > r->state) {
        r->state = (int8_t)state;
    }
}

int gev_add_task(gev_table *t, const Rayc__TaskEvent *m)
{
    uint8_t key[KEY_MAX];
    int state = gev__state_index(t, m->state);
    if (m->task_id.len != IDS_TASK_LEN || (state == 0 && m->n_states == 0))
        return -EINVAL;
    memcpy(key, m->task_id.data, IDS_TASK_LEN);
    memcpy(key + IDS_TASK_LEN, &m->attempt, 4);
    gev_rec *r = get_rec(t, key, sizeof key);
    if (r == NULL) {
        t->dropped++;
        return -ENOMEM;
    }
    r->attempt = m->attempt;
    r->kind = (uint8_t)m->kind;
    set_bytes(r->job, IDS_JOB_LEN, &m->job_id, NULL);
    set_bytes(r->actor, IDS_ACTOR_LEN, &m->actor_id, &r->has_actor);
    set_bytes(r->pg, IDS_PG_LEN, &m->pg_id, &r->has_pg);
    set_bytes(r->worker, IDS_WORKER_LEN, &m->worker_id, &r->has_worker);
    if (m->worker_pid > 0)
        r->pid = m->worker_pid;
    set_interned(t, &r->func, m->func);
    set_str(&r->name, m->name);
    set_interned(t, &r->node_id, m->node_id);
    set_str(&r->error, m->error);
    set_str(&r->error_type, m->error_type);
    if (state != 0)
        add_state(t, r, state, m->time_ns);
    for (size_t i = 0; i < m->n_states; i++) {
        int code = m->states[i]->code;
        int s = code >= 1 && code <= 6 ? code : gev__state_index(t, m->states[i]->state);
        if (s != 0)
            add_state(t, r, s, m->states[i]->time_ns);
    }
    return 0;
}

#define BATCH_NAMES_MAX 256   /* a batch's function names interned up front */

/* A batch's strings, interned once for all its records. */
typedef struct batch_names {
    const char *func[BATCH_NAMES_MAX]; /* interned NAMES[i], NULL for "" */
    size_t nfunc;
    char *const *names;                /* the batch's own, for an index past nfunc */
    size_t nnames;
    const char *node_id;               /* interned, NULL for none */
} batch_names;

/* Sets *DST to interned S (NULL: nothing to set). */
static void set_same(const char **dst, const char *s)
{
    if (s != NULL)
        *dst = s;
}

/* The key of packed record W (its task attempt). */
static void wire_key(const tev_wire *w, uint8_t key[KEY_MAX])
{
    memcpy(key, w->task, IDS_TASK_LEN);
    memcpy(key + IDS_TASK_LEN, &w->attempt, 4);
}

/* Merges one packed record W, an attempt and its states (its function
 * name NAMES[W.func], its node when flagged ON_NODE). */
static int add_wire(gev_table *t, const tev_wire *w, const batch_names *bn)
{
    uint8_t key[KEY_MAX];
    if (w->states == 0 || w->states >= 1u << TEV_WIRE_NSTATES)
        return -EINVAL;
    wire_key(w, key);
    gev_rec *r = get_rec(t, key, sizeof key);
    if (r == NULL) {
        t->dropped++;
        return -ENOMEM;
    }
    r->attempt = w->attempt;
    r->kind = w->kind;
    memcpy(r->job, w->job, IDS_JOB_LEN);
    if (w->flags & TEV_WIRE_ACTOR) {
        memcpy(r->actor, w->actor, IDS_ACTOR_LEN);
        r->has_actor = 1;
    }
    if (w->flags & TEV_WIRE_PG) {
        memcpy(r->pg, w->pg, IDS_PG_LEN);
        r->has_pg = 1;
    }
    if (w->flags & TEV_WIRE_WORKER) {
        memcpy(r->worker, w->worker, IDS_WORKER_LEN);
        r->has_worker = 1;
        if (w->pid > 0)
            r->pid = w->pid;
    }
    if (w->func < bn->nfunc)
        set_same(&r->func, bn->func[w->func]);
    else if (w->func < bn->nnames)
        set_interned(t, &r->func, bn->names[w->func]);
    if (w->flags & TEV_WIRE_ON_NODE)
        set_same(&r->node_id, bn->node_id);
    for (int s = 1; s <= TEV_WIRE_NSTATES; s++)
        if (w->states & (1u << (s - 1)))
            add_state(t, r, s, w->times[s - 1]);
    return 0;
}

#define PREFETCH_AHEAD 8       /* records decoded ahead of their merging */

/* Asks for the bucket of W's key (its number in *BUCKET, SIZE_MAX when the
 * table has none yet) and, when the ring is full, for the bucket of the
 * record that will make room for it. */
static void prefetch_wire(const gev_table *t, const tev_wire *w, size_t *bucket)
{
    uint8_t key[KEY_MAX];
    *bucket = SIZE_MAX;
    if (t->nbuckets == 0)
        return;
    wire_key(w, key);
    *bucket = bucket_of(t, key, sizeof key);
    __builtin_prefetch(&t->buckets[*bucket]);
    if (t->len == t->cap && t->cap > PREFETCH_AHEAD) {
        const gev_rec *old = &t->recs[(t->head + PREFETCH_AHEAD) % t->cap];
        __builtin_prefetch(&t->buckets[bucket_of(t, old->key, old->keylen)]);
    }
}

int gev_add_packed(gev_table *t, const Rayc__AddTaskEvents *m)
{
    if (m->packed.len % TEV_WIRE_SIZE != 0)
        return -EINVAL;
    if (m->packed.len == 0)
        return 0;
    batch_names bn = {.names = m->names, .nnames = m->n_names};
    bn.nfunc = m->n_names < BATCH_NAMES_MAX ? m->n_names : BATCH_NAMES_MAX;
    for (size_t i = 0; i < bn.nfunc; i++)
        bn.func[i] = m->names[i] != NULL && m->names[i][0] != '\0' ? intern(t, m->names[i]) : NULL;
    if (m->node_id != NULL && m->node_id[0] != '\0')
        bn.node_id = intern(t, m->node_id);
    /* Records go in a few steps behind their decoding, and the memory a
     * record will touch is asked for ahead: its bucket, then the record
     * that bucket leads to, and the bucket of the record it will evict.
     * The ring and its index are far bigger than the caches, and waiting
     * for those misses one at a time was most of the cost here. */
    size_t n = m->packed.len / TEV_WIRE_SIZE;
    tev_wire ahead[PREFETCH_AHEAD];
    size_t bucket[PREFETCH_AHEAD];
    for (size_t i = 0; i < n + PREFETCH_AHEAD; i++) {
        size_t slot = i % PREFETCH_AHEAD;
        if (i >= PREFETCH_AHEAD)
            add_wire(t, &ahead[slot], &bn);
        if (i >= n)
            continue;
        tev_wire_get(&ahead[slot], m->packed.data + i * TEV_WIRE_SIZE);
        prefetch_wire(t, &ahead[slot], &bucket[slot]);
        size_t near = (i + PREFETCH_AHEAD / 2) % PREFETCH_AHEAD;
        if (i >= PREFETCH_AHEAD / 2 && t->nbuckets != 0 && bucket[near] != SIZE_MAX) {
            int32_t idx = t->buckets[bucket[near]];
            if (idx >= 0)
                __builtin_prefetch(&t->recs[idx]);
        }
    }
    return 0;
}

int gev_add_actor(gev_table *t, const Rayc__ActorEvent *m)
{
    int state = gev__state_index(t, m->state);
    if (m->actor_id.len != IDS_ACTOR_LEN || state == 0)
        return -EINVAL;
    gev_rec *r = get_rec(t, m->actor_id.data, IDS_ACTOR_LEN);
    if (r == NULL) {
        t->dropped++;
        return -ENOMEM;
    }
    if (m->num_restarts > r->attempt)
        r->attempt = m->num_restarts;
    r->detached = m->detached;
    set_bytes(r->job, IDS_JOB_LEN, &m->job_id, NULL);
    set_bytes(r->pg, IDS_PG_LEN, &m->pg_id, &r->has_pg);
    set_bytes(r->worker, IDS_WORKER_LEN, &m->worker_id, &r->has_worker);
    if (m->pid > 0)
        r->pid = m->pid;
    set_interned(t, &r->func, m->class_name);
    set_str(&r->name, m->name);
    set_str(&r->ns, m->namespace_);
    set_interned(t, &r->node_id, m->node_id);
    set_str(&r->error, m->death_cause);
    add_state(t, r, state, m->time_ns);
    return 0;
}

