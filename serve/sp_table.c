/* The proxy's route table: polled from the Serve controller, read by the
 * HTTP threads to pick a replica (power of two choices). */
#include "serve/sp.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t changed = PTHREAD_COND_INITIALIZER;  /* table or in-flight counts */
static sp_route routes[SP_MAX_ROUTES];
static size_t n_routes;
static long version = -1;
static char node_id[160];
static unsigned rand_state = 1;

/* ---------------------------------------------------------------- replicas */

static void replica_unref_locked(sp_replica *r)
{
    if (--r->refs > 0)
        return;
    ray_actor_release(r->actor);
    free(r->name);
    free(r);
}

static sp_replica *find_replica_locked(const char *name)
{
    for (size_t i = 0; i < n_routes; i++)
        for (size_t j = 0; j < routes[i].n_replicas; j++)
            if (strcmp(routes[i].replicas[j]->name, name) == 0)
                return routes[i].replicas[j];
    return NULL;
}

static void route_free_locked(sp_route *rt)
{
    for (size_t j = 0; j < rt->n_replicas; j++)
        replica_unref_locked(rt->replicas[j]);
    free(rt->replicas);
    free(rt->prefix);
    free(rt->app);
    free(rt->ingress);
    memset(rt, 0, sizeof(*rt));
}

/* ---------------------------------------------------------------- parsing */

/* Splits LINE at tabs into at most N fields; returns the count. */
static size_t split_tabs(char *line, char **f, size_t n)
{
    size_t k = 0;
    char *p = line;
    while (k < n) {
        f[k++] = p;
        char *t = strchr(p, '\t');
        if (t == NULL)
            break;
        *t = '\0';
        p = t + 1;
    }
    return k;
}

/* Parses the controller's table (see proxy_table in controller.py) into
 * NEW_ROUTES; replicas already known keep their state.  Returns the
 * number of routes, or -1 for a malformed table. */
static long parse_table(char *text, sp_route *out, long *new_version)
{
    size_t n = 0;
    for (char *line = text, *next; line != NULL && *line; line = next) {
        next = strchr(line, '\n');
        if (next != NULL)
            *next++ = '\0';
        char *f[5];
        size_t k = split_tabs(line, f, 5);
        if (f[0][0] == 'V' && k == 2) {
            *new_version = strtol(f[1], NULL, 10);
        } else if (f[0][0] == 'R' && k == 5 && n < SP_MAX_ROUTES) {
            sp_route *rt = &out[n++];
            rt->prefix = strdup(f[1]);
            rt->app = strdup(f[2]);
            rt->ingress = strdup(f[3]);
            if (rt->prefix == NULL || rt->app == NULL || rt->ingress == NULL)
                return -1;
            rt->max_ongoing = (int)strtol(f[4], NULL, 10);
            if (rt->max_ongoing < 1)
                rt->max_ongoing = 1;
        } else if (f[0][0] == 'P' && k == 2 && n > 0) {
            sp_route *rt = &out[n - 1];
            if (rt->n_replicas >= SP_MAX_REPLICAS)
                continue;
            sp_replica **grown = realloc(rt->replicas, (rt->n_replicas + 1) * sizeof(*grown));
            sp_replica *r = calloc(1, sizeof(*r));
            if (grown == NULL || r == NULL) {
                free(r);
                if (grown != NULL)
                    rt->replicas = grown;
                return -1;
            }
            rt->replicas = grown;
            r->name = strdup(f[1]);
            r->refs = 1;
            rt->replicas[rt->n_replicas++] = r;
            if (r->name == NULL)
                return -1;
        } else {
            return -1;
        }
    }
    return (long)n;
}

/* Installs NEW (N routes): a replica already known is kept (its actor,
 * counts and dead mark), a new one is looked up outside the lock. */
static void install(sp_route *fresh, size_t n, long v)
{
    pthread_mutex_lock(&mu);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < fresh[i].n_replicas; j++) {
            sp_replica *old = find_replica_locked(fresh[i].replicas[j]->name);
            if (old != NULL) {
                replica_unref_locked(fresh[i].replicas[j]);
                old->refs++;
                fresh[i].replicas[j] = old;
            }
        }
    for (size_t i = 0; i < n_routes; i++)
        route_free_locked(&routes[i]);
    memcpy(routes, fresh, n * sizeof(*fresh));
    n_routes = n;
    version = v;
    pthread_cond_broadcast(&changed);
    pthread_mutex_unlock(&mu);
}

/* Looks up the actors of replicas that have none yet (GCS calls, so
 * without the lock; only this thread sets actor). */
static void lookup_actors(void)
{
    for (;;) {
        char *name = NULL;
        pthread_mutex_lock(&mu);
        for (size_t i = 0; i < n_routes && !name; i++)
            for (size_t j = 0; j < routes[i].n_replicas && !name; j++) {
                sp_replica *r = routes[i].replicas[j];
                if (r->actor == NULL && !r->dead)
                    name = strdup(r->name);
            }
        pthread_mutex_unlock(&mu);
        if (name == NULL)
            return;
        ray_actor *a = ray_get_actor(name, "serve");
        pthread_mutex_lock(&mu);
        sp_replica *r = find_replica_locked(name);
        if (r != NULL && a != NULL)
            r->actor = a;
        else if (r != NULL)
            r->dead = 1;
        else
            ray_actor_release(a);
        pthread_cond_broadcast(&changed);
        pthread_mutex_unlock(&mu);
        free(name);
    }
}

/* ---------------------------------------------------------------- the poll */

static int poll_once(ray_actor *ctrl)
{
    char v[32];
    str_printf(v, sizeof(v), "%ld", sp_table_version());
    ray_ref *ref = ray_actor_call(ctrl, "proxy_table",
                                  RAY_ARGS(ray_str(SP_RAW_MARK), ray_str(node_id), ray_str(v)),
                                  NULL);
    if (ref == NULL)
        return -1;
    void *buf = NULL;
    size_t len = 0;
    int rc = ray_get_bytes(ref, 10.0, &buf, &len);
    ray_ref_release(ref);
    if (rc != RAY_OK)
        return -1;
    sp_route fresh[SP_MAX_ROUTES];
    memset(fresh, 0, sizeof(fresh));
    long nv = -1;
    long n = len <= SP_MAX_TABLE ? parse_table(buf, fresh, &nv) : -1;
    free(buf);
    if (n < 0) {
        pthread_mutex_lock(&mu);
        for (size_t i = 0; i < SP_MAX_ROUTES; i++)
            route_free_locked(&fresh[i]);
        pthread_mutex_unlock(&mu);
        log_warn("the controller's route table is malformed; keeping the old one");
        return -1;
    }
    install(fresh, (size_t)n, nv);
    lookup_actors();
    return 0;
}

static void *table_thread(void *arg)
{
    (void)arg;
    ray_actor *ctrl = NULL;
    int failures = 0;
    for (;;) {
        if (ctrl == NULL)
            ctrl = ray_get_actor("SERVE_CONTROLLER_ACTOR", "serve");
        if (ctrl != NULL && poll_once(ctrl) < 0) {
            if (++failures % 50 == 1)
                log_warn("cannot read the route table from the controller: %s",
                         ray_last_error());
            ray_actor_release(ctrl);
            ctrl = NULL;
        } else if (ctrl != NULL) {
            failures = 0;
        }
        struct timespec ts = {0, SP_TABLE_PERIOD_MS * 1000000L};
        nanosleep(&ts, NULL);
    }
    return NULL;
}

int sp_table_start(const char *node, char *err, size_t errlen)
{
    str_printf(node_id, sizeof(node_id), "%s", node);
    rand_state = (unsigned)getpid() ^ (unsigned)time(NULL);
    pthread_t t;
    int rc = pthread_create(&t, NULL, table_thread, NULL);
    if (rc != 0) {
        str_printf(err, errlen, "cannot start the table thread: %s", strerror(rc));
        return -1;
    }
    pthread_detach(t);
    return 0;
}

long sp_table_version(void)
{
    pthread_mutex_lock(&mu);
    long v = version;
    pthread_mutex_unlock(&mu);
    return v;
}

/* ---------------------------------------------------------------- picking */

static sp_route *match_locked(const char *path)
{
    sp_route *best = NULL;
    size_t best_len = 0;
    for (size_t i = 0; i < n_routes; i++) {
        const char *p = routes[i].prefix;
        size_t n = strlen(p);
        while (n > 0 && p[n - 1] == '/')
            n--;
        int hit = n == 0 || (strncmp(path, p, n) == 0 && (path[n] == '\0' || path[n] == '/'));
        if (hit && (best == NULL || n >= best_len)) {
            best = &routes[i];
            best_len = n;
        }
    }
    return best;
}

static int usable(const sp_replica *r, int max)
{
    return r->actor != NULL && !r->dead && r->inflight < max;
}

/* Power of two choices among the usable replicas of RT; NULL when none. */
static sp_replica *choose_locked(sp_route *rt)
{
    sp_replica *free_[SP_MAX_REPLICAS];
    size_t n = 0;
    for (size_t j = 0; j < rt->n_replicas; j++)
        if (usable(rt->replicas[j], rt->max_ongoing))
            free_[n++] = rt->replicas[j];
    if (n == 0)
        return NULL;
    if (n == 1)
        return free_[0];
    size_t a = (size_t)rand_r(&rand_state) % n;
    size_t b = (size_t)rand_r(&rand_state) % (n - 1);
    if (b >= a)
        b++;
    return free_[a]->inflight <= free_[b]->inflight ? free_[a] : free_[b];
}

sp_replica *sp_table_pick(const char *path, double wait_s, char **prefix, int *status)
{
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += (time_t)wait_s;
    pthread_mutex_lock(&mu);
    for (;;) {
        sp_route *rt = match_locked(path);
        if (rt == NULL) {
            pthread_mutex_unlock(&mu);
            *status = 404;
            return NULL;
        }
        sp_replica *r = choose_locked(rt);
        if (r != NULL && (*prefix = strdup(rt->prefix)) != NULL) {
            r->inflight++;
            r->refs++;
            pthread_mutex_unlock(&mu);
            return r;
        }
        if (pthread_cond_timedwait(&changed, &mu, &deadline) == ETIMEDOUT) {
            pthread_mutex_unlock(&mu);
            *status = 503;
            return NULL;
        }
    }
}

void sp_table_done(sp_replica *r, int died)
{
    pthread_mutex_lock(&mu);
    r->inflight--;
    if (died)
        r->dead = 1;
    replica_unref_locked(r);
    pthread_cond_broadcast(&changed);
    pthread_mutex_unlock(&mu);
}

/* Appends TEXT to S as a JSON string; AT advances.  S has room: the
 * caller sized it for every byte escaped. */
static void json_str(char *s, size_t *at, const char *text)
{
    s[(*at)++] = '"';
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        if (*p == '"' || *p == '\\')
            s[(*at)++] = '\\';
        s[(*at)++] = *p < 0x20 ? '?' : (char)*p;
    }
    s[(*at)++] = '"';
}

char *sp_table_routes_json(void)
{
    pthread_mutex_lock(&mu);
    size_t cap = 3;
    for (size_t i = 0; i < n_routes; i++)
        cap += strlen(routes[i].prefix) * 2 + strlen(routes[i].app) * 2 + 8;
    char *s = malloc(cap);
    if (s != NULL) {
        size_t at = 0;
        s[at++] = '{';
        for (size_t i = 0; i < n_routes; i++) {
            if (i > 0) {
                s[at++] = ',';
                s[at++] = ' ';
            }
            json_str(s, &at, routes[i].prefix);
            s[at++] = ':';
            s[at++] = ' ';
            json_str(s, &at, routes[i].app);
        }
        s[at++] = '}';
        s[at] = '\0';
    }
    pthread_mutex_unlock(&mu);
    return s;
}
