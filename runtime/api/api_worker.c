/* Worker mode: a ray_worker process connects to its raylet, registers, and
 * runs the tasks it is sent (an actor's calls in arrival order, or on a
 * thread pool when max_concurrency > 1). */
#include "api/api.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"

/* ---------------------------------------------------------------- the queue */

void api_worker_enqueue(Rayc__Envelope *env)
{
    api_worker_enqueue_from(env, NULL);
}

static api_claim_fn claimer;

void api_set_task_claimer(api_claim_fn fn)
{
    pthread_mutex_lock(&api_g.mu);
    claimer = fn;
    pthread_mutex_unlock(&api_g.mu);
}

/* Offers an actor call to the claimer while max_concurrency has room; a
 * claimed call counts as deferred until api_task_finish. */
static int claimed(Rayc__Envelope *env, api_chan *chan)
{
    if (claimer == NULL || env->execute_task->spec->kind != RAYC__TASK_SPEC__KIND__ACTOR_TASK)
        return 0;
    if (api_g.max_concurrency > 0 && api_g.running + api_g.deferred >= api_g.max_concurrency)
        return 0;
    if (!claimer(env, chan))
        return 0;
    api_g.deferred++;
    return 1;
}

void api_worker_enqueue_from(Rayc__Envelope *env, api_chan *chan)
{
    if (claimed(env, chan))
        return;
    api_exec_item *it = malloc(sizeof *it);
    if (it == NULL) {
        /* Dropping the task would hang its owner; the raylet sees us die
         * and fails or retries it. */
        abort();
    }
    it->env = env;
    it->chan = chan;
    it->next = NULL;
    if (api_g.exec_tail != NULL)
        api_g.exec_tail->next = it;
    else
        api_g.exec_head = it;
    api_g.exec_tail = it;
    api_g.exec_len++;
    api_notify();
}

#define API_QUEUE_READ_MS 1
static int64_t last_read_ms;

/* A task may start: one is queued and the actor's max_concurrency allows
 * another (the deferred tasks of an async actor count). */
static int can_start(void)
{
    return api_g.exec_head != NULL &&
           (api_g.max_concurrency <= 0 || api_g.running + api_g.deferred < api_g.max_concurrency);
}

static int have_task(void *arg)
{
    (void)arg;
    return can_start() || api_lease_news();
}

/* Takes the next task (mu held) into *CHAN's call, or NULL when the
 * connection is gone.  A leased worker ends its lease when it waited too
 * long. */
static Rayc__Envelope *next_task(api_chan **chan)
{
    for (;;) {
        int64_t lease = api_lease_deadline(), tev = api_tev_deadline();
        int rc = api_wait_task(have_task, NULL, tev >= 0 && (lease < 0 || tev < lease) ? tev : lease);
        if (rc == -ETIMEDOUT) {
            api_lease_tick();
            api_tev_tick();
        }
        else if (rc != 0)
            return NULL;
        /* Tasks queued here may be cancelled meanwhile: read the sockets
         * now and then between them (not before each one: a poll each). */
        int64_t now = time_mono_ms();
        if (api_g.exec_head != NULL && now - last_read_ms >= API_QUEUE_READ_MS) {
            last_read_ms = now;
            api_poll_nowait();
        }
        if (can_start())
            break;
    }
    api_exec_item *it = api_g.exec_head;
    api_g.exec_head = it->next;
    if (api_g.exec_head == NULL)
        api_g.exec_tail = NULL;
    else
        api_notify(); /* the next idle thread for the next task */
    api_g.exec_len--;
    Rayc__Envelope *env = it->env;
    *chan = it->chan;
    free(it);
    return env;
}

/* Runs tasks until the raylet goes away. */
static void *run_loop(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&api_g.mu);
    for (;;) {
        api_chan *chan = NULL;
        Rayc__Envelope *env = next_task(&chan);
        if (env == NULL)
            break;
        api_g.running++;
        pthread_mutex_unlock(&api_g.mu);
        api_execute(env, chan);
        pthread_mutex_lock(&api_g.mu);
        api_g.running--;
    }
    pthread_mutex_unlock(&api_g.mu);
    return NULL;
}

void api_worker_start_threads(size_t n)
{
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    for (size_t i = 0; i < n; i++) {
        pthread_t t;
        if (pthread_create(&t, &attr, run_loop, NULL) != 0)
            break; /* fewer threads: still correct, less concurrent */
    }
    pthread_attr_destroy(&attr);
}

/* ---------------------------------------------------------------- blocking */

void api_worker_blocked(int blocked)
{
    int was = api_g.blocked_depth;
    api_g.blocked_depth += blocked ? 1 : -1;
    if ((was == 0) == (api_g.blocked_depth == 0))
        return;
    if (blocked)
        api_chan_lease_hand_back();
    Rayc__Envelope env = RAYC__ENVELOPE__INIT;
    Rayc__WorkerBlocked b = RAYC__WORKER_BLOCKED__INIT;
    b.blocked = blocked != 0;
    env.body_case = RAYC__ENVELOPE__BODY_WORKER_BLOCKED;
    env.worker_blocked = &b;
    api_send_mu(&env);
}

/* ---------------------------------------------------------------- starting */

static int register_worker(const ids_worker *wid)
{
    Rayc__Envelope req = RAYC__ENVELOPE__INIT, *reply = NULL;
    Rayc__RegisterWorker reg = RAYC__REGISTER_WORKER__INIT;
    reg.worker_id.data = (uint8_t *)wid->b;
    reg.worker_id.len = IDS_WORKER_LEN;
    reg.pid = (int32_t)getpid();
    req.body_case = RAYC__ENVELOPE__BODY_REGISTER_WORKER;
    req.register_worker = &reg;
    int rc = api_request(&req, 30000, &reply);
    if (rc != 0)
        return api_conn_fail(rc, "registering the worker");
    const Rayc__RegisterClientReply *r = reply->register_client_reply;
    if (reply->body_case != RAYC__ENVELOPE__BODY_REGISTER_CLIENT_REPLY || r->status != RAY_OK ||
        ids_from_bytes(api_g.job.b, IDS_JOB_LEN, r->job_id.data, r->job_id.len) != 0) {
        rc = api_fail(RAY_ERR_CONNECTION, "the raylet refused the worker: %s",
                      reply->body_case == RAYC__ENVELOPE__BODY_REGISTER_CLIENT_REPLY ? r->error
                                                                                  : "bad reply");
    } else {
        str_copy(api_g.node_id, sizeof api_g.node_id, r->node_id);
        str_copy(api_g.node_ip, sizeof api_g.node_ip, r->node_ip);
        str_copy(api_g.ns, sizeof api_g.ns, r->namespace_ ? r->namespace_ : "");
        api_g.num_cpus = r->num_cpus;
    }
    rayc__envelope__free_unpacked(reply, NULL);
    return rc;
}

int api_worker_main(const char *sock, const char *token, const char *worker_hex)
{
    ids_worker wid;
    if (ids_from_hex(worker_hex, wid.b, IDS_WORKER_LEN) != 0)
        return api_fail(RAY_ERR_INVALID, "bad worker id '%s'", worker_hex);
    api_builtin_register();
    int fd = api_connect_raylet(sock, token, "worker", 30000);
    if (fd < 0)
        return -fd;
    api_g.worker_id = wid;
    int rc = register_worker(&wid);
    if (rc != RAY_OK) {
        api_ostate_stop();
        return rc;
    }
    api_lease_listen();
    api_g.seed = ids_seed();
    ids_hex(api_g.job.b, IDS_JOB_LEN, api_g.job_hex);
    api_g.is_worker = 1;
    api_g.initialized = 1;
    run_loop(NULL);
    api_ostate_stop();
    api_chan_unlisten();
    api_actor_destroy();
    return RAY_OK;
}
