/* libray internals, shared by the api_*.c files (never installed).
 *
 * One process-wide api_state holds the connection to the local raylet, the
 * objects this process knows, and (in a worker) the queue of tasks to run.
 * One mutex guards it.  There is no reader thread: a thread that must wait
 * for something from the raylet becomes the reader while nobody else is
 * (leader/follower), so a driver's ray_get costs one read, not a thread
 * hand-off.  Files:
 *
 *   api_error.c     ray_last_error, status names, api_fail
 *   api_conn.c      the socket: send, read, dispatch, api_wait, requests
 *   api_discover.c  finding the GCS, the token and the local raylet
 *   api_init.c      ray_init / ray_shutdown, job registration
 *   api_objtab.c    objects known to this process, refs and releases
 *   api_value.c     values on the wire: encode args, decode results
 *   api_task.c      ray_call / ray_submit / ray_cancel
 *   api_get.c       ray_get / ray_wait / ray_value_release
 *   api_put.c       ray_put and the object store (create, map, pin)
 *   api_actor.c     actor handles, create, call, get, kill
 *   api_pg.c        placement groups, and the bundle resource rewrite
 *   api_registry.c  RAY_REMOTE / RAY_ACTOR / RAY_METHOD registrations
 *   api_ctx.c       ray_ctx: arguments and return values of a running task
 *   api_worker.c    worker mode: connect, run tasks and actors, threads
 *   api_builtin.c   functions every worker has (benchmarks, tests)
 */
#ifndef RAYC_API_API_H
#define RAYC_API_API_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "common/frame.h"
#include "common/htab.h"
#include "common/ids.h"
#include "common/rpc_client.h"
#include "common/token.h"
#include "ray.pb-c.h"
#include "ray/ray.h"

/* ---------------------------------------------------------------- limits */

#define API_INLINE_MAX (100u * 1024u)      /* larger values go to the store */
#define API_MAX_FRAME (16u * 1024u * 1024u) /* the raylet's cap */
#define API_ERROR_MAX 4096                 /* kept of an error message */
#define API_RELEASE_BATCH 128              /* small-object releases sent together */
#define API_MAX_RETURNS 1024
#define API_MAX_ARGS 4096
#define API_RBUF_SIZE (256u * 1024u)       /* one read from any socket */
#define API_POLL_MAX 1400                  /* raylet + wake-up + listener + channels */

/* ---------------------------------------------------------------- api_error.c */

/* Records a printf-style message as this thread's last error and returns
 * STATUS. */
int api_fail(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Records MSG (copied) as the last error and returns STATUS. */
int api_fail_msg(int status, const char *msg);

/* Clears this thread's last error. */
void api_clear_error(void);

/* ---------------------------------------------------------------- objects */

enum api_obj_state { API_PENDING = 0, API_READY = 1, API_FAILED = 2 };

/* An object this process holds references to; a ray_ref points at one.
 * Guarded by api_g.mu. */
struct ray_ref {
    htab_node link;            /* in api_g.objs, by id (first: see api_registry.c) */
    ids_object id;
    unsigned refs;             /* handles given out */
    uint8_t state;             /* api_obj_state */
    uint8_t type;              /* ray_type, once ready */
    uint8_t in_store;          /* the value is in the node's store (size bytes) */
    uint8_t owned;             /* this process owns it: releases go to the raylet */
    uint8_t sealed;            /* ray_put_alloc: 0 until ray_put_seal */
    uint8_t known_to_raylet;   /* task result or store object: the raylet has a record */
    uint8_t direct;            /* the result of a direct call: the raylet never saw it */
    uint8_t forward;           /* direct, and a task waits for it at the raylet: send
                                * the raylet its value when it comes (ObjectValue) */
    uint64_t size;             /* in-store size */
    uint8_t *data;             /* inline value (strings keep their NUL) */
    size_t len;
    int status;                /* API_FAILED */
    char *error;
    void *wmap;                /* ray_put_alloc mapping until sealed */
    char hex[2 * IDS_OBJECT_LEN + 1];
};
typedef struct ray_ref api_obj;

struct ray_actor {
    ids_actor id;
    char hex[2 * IDS_ACTOR_LEN + 1];
};

/* ---------------------------------------------------------------- state */

typedef struct api_reply {
    uint64_t id;
    Rayc__Envelope *env;       /* set when the reply arrived */
    struct api_reply *next;
} api_reply;

typedef struct api_chan api_chan;

typedef struct api_exec_item {
    Rayc__Envelope *env;       /* an ExecuteTask, owned */
    api_chan *chan;            /* a direct call: answer there (referenced) */
    struct api_exec_item *next;
} api_exec_item;

typedef struct api_state {
    pthread_mutex_t mu;
    pthread_mutex_t send_mu;   /* one writer at a time on fd */
    int fd;                    /* socket to the raylet, -1 when closed */
    int initialized;
    int is_worker;
    int broken;                /* the raylet connection is gone */
    char broken_why[256];
    int reading;               /* some thread is the reader */
    frame_reader fr;
    uint8_t *rbuf;             /* the reader's buffer */
    uint64_t next_request;
    api_reply *replies;

    /* objects */
    htab objs;                 /* api_obj.link by id */
    ids_object *releases;      /* owned small objects to release, batched */
    size_t nreleases;

    /* identity */
    ids_job job;
    char job_hex[2 * IDS_JOB_LEN + 1];
    uint64_t seed;
    _Atomic uint64_t counter;  /* task and actor ids */
    char node_id[128];
    char node_ip[64];
    char session[128];
    char ns[256];
    char gcs_address[128];

    /* worker mode */
    api_exec_item *exec_head, *exec_tail;
    size_t exec_len;
    int blocked_depth;         /* threads blocked in ray_get inside tasks */
    int running;               /* tasks that task threads run now */
    int deferred;              /* tasks deferred, not finished (api_task_defer) */
    int max_concurrency;       /* an actor's: running + deferred at most; 0: no limit */
    ids_task cancel_task;      /* ray_cancel (no force) asked this task to stop */
    int cancel_set;

    /* direct actor calls (api_chan.c) */
    int direct;                /* enabled */
    char token[TOKEN_MAX + 1];
    char sock_dir[4096];       /* the raylet socket's directory */
    int wake_fd;               /* eventfd: wakes the reader to watch new sockets */
    int listen_fd;             /* an actor's worker: its callers connect here */
    int incarnation;           /* an actor's worker: the actor's restart count */
    int lease_fd;              /* a worker: owners holding a lease connect here */
    char lease_path[4200];
    int leased;                /* a worker lent to an owner (api_lease.c) */
    int64_t lease_last_ms;     /* when its last lease task started or ended */
    ids_worker worker_id;      /* a worker's own id */
    double num_cpus;           /* the node's CPUs: leases one owner may hold */
    size_t raylet_tasks;       /* normal tasks sent through the raylet, not answered */
    char listen_path[4200];
    api_chan *chans;
} api_state;

extern api_state api_g;

/* ---------------------------------------------------------------- api_conn.c */

/* Sets up the state around the connected, authenticated socket FD. */
void api_conn_init(int fd);

/* Closes the socket and drops queued replies and tasks (after init). */
void api_conn_close(void);

/* Sends ENV (without mu held).  Returns 0, -EMSGSIZE, -ENOMEM or
 * -ECONNRESET (the connection is marked broken). */
int api_send(const Rayc__Envelope *env);

/* The same with api_g.mu held. */
int api_send_mu(const Rayc__Envelope *env);

/* Sends REQ with a fresh request id and waits (up to TIMEOUT_MS, -1: no
 * limit) for its reply, stored in *REPLY (free with
 * rayc__envelope__free_unpacked).  Returns 0, -ETIMEDOUT or -ECONNRESET. */
int api_request(Rayc__Envelope *req, int timeout_ms, Rayc__Envelope **reply);

/* Waits, with api_g.mu held, until READY(ARG) is true, the monotonic
 * DEADLINE_MS passes (-1: none) or the connection breaks; reads the socket
 * meanwhile when no other thread does.  Returns 0, -ETIMEDOUT or
 * -ECONNRESET. */
int api_wait(int (*ready)(void *arg), void *arg, int64_t deadline_ms);

/* The same for a worker's idle task thread waiting for a task: all such
 * threads wait for the same thing, so a change wakes one of them at a
 * time, not all. */
int api_wait_task(int (*ready)(void *arg), void *arg, int64_t deadline_ms);

/* Reads whatever has arrived without blocking (mu held; no-op when another
 * thread is reading). */
void api_poll_nowait(void);

/* Lets incoming messages in for up to WAIT_MS (mu held): reads as the
 * reader, or sleeps while another thread reads.  A sender whose socket is
 * full calls it so that its peer, blocked sending back, can go on. */
void api_pump(int wait_ms);

/* ---------------------------------------------------------------- api_waiters.c */

/* Wakes (mu held) the waiters whose condition now holds (all of them when
 * the connection broke, those that wait for any change, at most one idle
 * task thread).  Call it after changing anything a waiter may wait for. */
void api_notify(void);

/* Sleeps (mu held, released while asleep) until api_notify finds READY(ARG)
 * true (READY NULL: any api_notify), the monotonic DEADLINE_MS passes (-1:
 * none), or spuriously; the caller checks its condition again.  EXCLUSIVE
 * marks an idle task thread (api_wait_task). */
void api_waiter_sleep(int (*ready)(void *arg), void *arg, int exclusive, int64_t deadline_ms);

/* Wakes one waiter to take the reader role when nobody holds it and no
 * woken waiter is about to (mu held).  Called by every thread that leaves
 * the reader role without going on reading. */
void api_waiter_handoff(void);

/* How many threads sleep in api_waiter_sleep and how many of them were
 * woken and have not run yet (mu held; for tests). */
void api_waiter_counts(size_t *waiting, size_t *signaled);

/* The deadline for a timeout in seconds (negative: none). */
int64_t api_deadline(double timeout_s);

/* Status for an api_wait/api_request failure, with the message set. */
int api_conn_fail(int rc, const char *what);

/* ---------------------------------------------------------------- api_ostate.c */

/* Starts the owner socket (<sockets dir>/owner-<pid>) and its thread, which
 * answers the raylet's GetOwnedObjects (Ray's `ray list objects`).  Called
 * once connected, mu not held; on any failure the process simply does not
 * list its small objects (nothing else changes). */
void api_ostate_start(void);

/* Stops the thread and removes the socket (mu not held). */
void api_ostate_stop(void);

/* ---------------------------------------------------------------- api_chan.c */

struct pollfd;

/* Sets up direct calls for this process (after connecting with TOKEN). */
void api_chan_init(const char *token);

/* Closes every direct connection and the listener (shutdown). */
void api_chan_close_all(void);

/* Wakes a reader blocked in poll so that it watches new sockets (mu held). */
void api_wake_reader(void);

/* Routes actor call SPEC (its returns registered, mu not held): sends it
 * straight to the actor's worker when it can (INLINE_ARGS: no argument is
 * an object id), else prepares the raylet path.  Returns 1 when sent,
 * 0 when the caller must send SubmitTask, -ECONNRESET on failure. */
int api_chan_submit(Rayc__TaskSpec *spec, int inline_args);

/* Cancels the direct call ID in flight, if it is one (mu not held): asks
 * its worker to stop it, or for a leased worker's task with FORCE, has the
 * raylet kill that worker.  Returns 1 when it was such a call. */
int api_chan_cancel(const ids_task *id, int force);

/* ---------------------------------------------------------------- api_lease.c */

/* Routes normal task SPEC (returns registered, mu not held): sends it to
 * an idle leased worker of its shape when it can (INLINE_ARGS: no object
 * ids), else marks whether it asks for a lease and returns 0 (the caller
 * sends SubmitTask).  Returns 1 when sent. */
int api_lease_submit(Rayc__TaskSpec *spec, int inline_args);

/* LeaseGranted from the raylet (mu held): for this worker, or a lease of
 * ours on another worker. */
void api_lease_on_granted(const Rayc__LeaseGranted *g);

/* Worker side (mu held): the deadline of the wait for the next task
 * (-1: none), and what to do when it passed. */
int64_t api_lease_deadline(void);

/* api_tev.c, worker side (mu held): a task that came straight from its
 * owner (not through the raylet) ran from START_NS (api_tev_now_ns) with
 * STATUS; its events go to the raylet within a second (api_tev_tick, with
 * api_tev_deadline the monotonic ms it is due, -1 when nothing waits). */
int64_t api_tev_now_ns(void);
void api_tev_record(const Rayc__TaskSpec *spec, int64_t start_ns, int status, const char *error);
int64_t api_tev_deadline(void);
void api_tev_tick(void);
void api_tev_flush(void);
void api_lease_tick(void);

/* Worker side (mu held): a task from a lease connection ended; and
 * whether a grant arrived since api_lease_deadline was last asked. */
void api_lease_task_done(void);
int api_lease_news(void);

/* A worker starts listening for its lease owners (after registering). */
void api_lease_listen(void);

/* A raylet TaskResult for task ID arrived (mu held). */
void api_chan_raylet_result(const ids_task *id);

/* Fills P/WHO with the channel sockets to watch (mu held); returns how many. */
size_t api_chan_poll_fds(struct pollfd *p, api_chan **who, size_t max);

/* Handles readiness of P (WHO is its channel, NULL for the wake-up and
 * listener sockets), mu held. */
void api_chan_readable(const struct pollfd *p, api_chan *who);

/* Sends ENV on channel CH.  Returns 0 or -errno. */
int api_chan_send(api_chan *ch, const Rayc__Envelope *env);

/* A task from CH was answered: drops the reference (mu not held). */
void api_chan_unref(api_chan *ch);

/* An actor's worker starts taking direct calls for ACTOR / stops (exit). */
int api_chan_listen(const ids_actor *actor);
void api_chan_unlisten(void);

/* ---------------------------------------------------------------- api_pg.c */

/* Puts SPEC (its resources filled) into bundle INDEX (RAY_BUNDLE_ANY: any)
 * of PG: every resource R becomes R's group resource and the bundle's
 * marker is added; SPEC points at PG's id afterwards.  PG NULL: nothing to
 * do.  Returns RAY_OK, or RAY_ERR_INVALID (index out of range, named in a
 * message that starts with WHAT) / RAY_ERR_NOMEM. */
int api_pg_rewrite(Rayc__TaskSpec *spec, const ray_pg *pg, int index, const char *what);

/* ---------------------------------------------------------------- api_init.c */

/* A Python driver names its interpreter before ray_init: the job's workers
 * are then Python workers started with it (RegisterDriver).  EXE is copied;
 * NULL or "" goes back to C workers.  Returns RAY_OK or RAY_ERR_INVALID. */
int api_set_python(const char *exe);

/* ---------------------------------------------------------------- api_discover.c */

/* Finds the cluster token: OPTS->token, the environment, ~/.ray/auth_token,
 * then the local cluster's copy.  Returns 0 or a ray_status with the message. */
int api_find_token(const char *given, char *out, size_t outlen);

/* Finds the GCS address ("ip:port"): GIVEN, $RAY_ADDRESS, then
 * <temp>/ray_current_cluster.  Returns 0 or a ray_status. */
int api_find_gcs(const char *given, char *out, size_t outlen);

/* Connects to the GCS at ADDR with TOKEN.  Returns 0 or a ray_status. */
int api_gcs_connect(const char *addr, const char *token, int timeout_ms, rpc_client **out);

/* Sends REQ to the GCS and expects a reply with body WANT (*REPLY, caller
 * frees).  Returns 0 or RAY_ERR_CONNECTION with WHAT in the message. */
int api_gcs_call(rpc_client *c, Rayc__Envelope *req, int want, int timeout_ms,
                 Rayc__Envelope **reply, const char *what);

/* Asks the GCS for the live node whose address is local (the head when it
 * is) and stores its raylet socket path in SOCK.  Returns 0 or a ray_status. */
int api_find_raylet(rpc_client *c, const char *addr, int timeout_ms, char *sock,
                    size_t socklen);

/* Connects to the raylet socket at PATH and authenticates with TOKEN as
 * KIND.  Returns the socket or a negated ray_status with the message set. */
int api_connect_raylet(const char *path, const char *token, const char *kind, int timeout_ms);

/* ---------------------------------------------------------------- api_objtab.c */

/* Finds the object with ID (mu held), or NULL. */
api_obj *api_obj_find(const ids_object *id);

/* Adds an object with one reference (mu held).  Returns it, or NULL. */
api_obj *api_obj_add(const ids_object *id, int owned);

/* Drops one reference (mu held); the last one releases and frees it. */
void api_obj_unref(api_obj *o);

/* Marks O ready with an inline value (DATA copied) or an in-store one. */
int api_obj_set_value(api_obj *o, const Rayc__Value *v);

/* Marks O failed with STATUS and MSG. */
void api_obj_set_error(api_obj *o, int status, const char *msg);

/* Queues ID for release to the raylet (mu held); NOW sends the batch at once
 * (store objects: their memory is freed now). */
void api_release_id(const ids_object *id, int now);

/* Sends the batched releases (mu held). */
void api_flush_releases(void);

/* Frees every object (shutdown). */
void api_objtab_clear(void);

/* Fills O->hex once. */
const char *api_obj_hex(api_obj *o);

/* Handles a TaskResult push (mu held). */
void api_on_task_result(const Rayc__TaskResult *res);

/* Makes direct-call result O known to the raylet before a task that needs
 * it is submitted (mu held): ObjectPending now, its value when it comes. */
void api_obj_announce(api_obj *o);

/* O just got its value or error (mu held): forwards it to the raylet when
 * a task there waits for it (api_obj_announce), and forgets O when no
 * reference is left (a record kept only for that forward).  O may be
 * freed on return. */
void api_obj_settle(api_obj *o);

/* The N return objects of task TASK went straight to a worker (mu held):
 * or, with DIRECT 0, were sent through the raylet after all. */
void api_obj_mark_direct(const ids_task *task, int n, int direct);

/* ---------------------------------------------------------------- api_value.c */

/* Fills V (initialised) from A, pointing into A's data (no copy).
 * Returns RAY_OK or RAY_ERR_INVALID / RAY_ERR_TYPE with the message set. */
int api_value_from_arg(const ray_arg *a, Rayc__Value *v, uint8_t scratch[8]);

/* The TaskArg array of one submission, and the objects it put into the
 * store for large by-value arguments (released once the task is sent: the
 * raylet keeps them while the task needs them). */
typedef struct api_argbuf {
    Rayc__TaskArg **v;
    size_t n;
    ids_object *temps;
    size_t ntemps;
    void *block;
} api_argbuf;

/* Builds B from ARGS (mu not held).  Small put refs and small values travel
 * inline; task results travel as ids; large values are put first.
 * Returns RAY_OK or an error status with the message set (B is then empty). */
int api_args_build(ray_args args, api_argbuf *b);

/* Releases B's temporary objects (after the send) and frees B. */
void api_args_done(api_argbuf *b);

/* ---------------------------------------------------------------- api_put.c */

/* Creates ID in the store with SIZE bytes, maps it writable at *ADDR.
 * Returns RAY_OK, RAY_ERR_STORE_FULL, RAY_ERR_CONNECTION, RAY_ERR_NOMEM. */
int api_store_create(const ids_object *id, size_t size, void **addr);

/* Seals ID as a put of this process and waits until the raylet has it
 * (direct-call returns: the caller adopts them next).  Returns a status. */
int api_store_seal_sync(const ids_object *id, void *addr, size_t size, int type);

/* Unmaps a create mapping and seals (or aborts) ID with TYPE.  LOCKED says
 * whether the caller holds api_g.mu. */
int api_store_seal(const ids_object *id, void *addr, size_t size, int type, int abort,
                   int is_put, int locked);

/* Pins ID for this process and maps it read-only.  On RAY_OK *ADDR and
 * *SIZE describe the mapping (api_store_unpin releases both). */
int api_store_pin(const ids_object *id, const void **addr, size_t *size);
void api_store_unpin(const ids_object *id, const void *addr, size_t size);

/* OUT as a pinned, read-only view of store object ID of TYPE (api_get.c;
 * ray_value_release unpins).  Returns RAY_OK or an error status, with OUT
 * untouched. */
int api_store_value(const ids_object *id, int type, ray_value *out);

/* OUT as a value owning COPY (LEN bytes, malloc'd; freed by
 * ray_value_release, or here when this fails with RAY_ERR_NOMEM). */
int api_value_adopt(ray_value *out, int type, void *copy, size_t len);

/* Puts LEN bytes of DATA with TYPE (strings include their NUL) into the
 * store as object ID, owned by this process.  Returns RAY_OK or an error
 * status. */
int api_store_put(const ids_object *id, int type, const void *data, size_t len);

/* A fresh id for a put. */
ids_object api_new_put_id(void);

/* ---------------------------------------------------------------- api_task.c */

/* A fresh task id of this job (or of ACTOR when not NULL). */
ids_task api_new_task_id(const ids_actor *actor);

/* The language of every task and actor this process submits from now on
 * (a Rayc__Language; C by default): a Python driver or worker submits
 * Python work. */
void api_set_submit_language(int language);

/* ray_submit of a task in LANGUAGE (a Rayc__Language) whatever this
 * process's own language is: a Python driver calls a C task library's
 * function (ray.cross_language.c_function).  Same results as ray_submit. */
int api_submit_as(int language, const char *function, ray_args args, const ray_task_opts *opts,
                  ray_ref **refs, size_t n);

/* Common submission of SPEC (task id, kind, function and options set):
 * builds ARGS, registers N pending return objects, sends SubmitTask and
 * stores N owned refs in REFS (REFS may be NULL when N is 0).  Returns
 * RAY_OK or an error status with the message set. */
int api_submit_spec(Rayc__TaskSpec *spec, ray_args args, ray_ref **refs, size_t n);

/* Fails with RAY_ERR_INVALID unless ray_init (or worker start) has run. */
int api_check_init(const char *what);

/* Resources from options into SPEC (allocated; api_spec_clear frees). */
int api_spec_resources(Rayc__TaskSpec *spec, double cpus, double gpus, double memory,
                       const ray_resource *res, size_t nres, double default_cpus);
void api_spec_clear(Rayc__TaskSpec *spec);

/* ---------------------------------------------------------------- api_actor.c */

/* A new handle for actor ID. */
ray_actor *api_actor_handle(const ids_actor *id);

/* ---------------------------------------------------------------- api_registry.c */

typedef struct api_class api_class;

ray_task_fn api_registry_function(const char *name);
api_class *api_registry_class(const char *name);
ray_actor_new_fn api_class_ctor(const api_class *c);
ray_actor_free_fn api_class_dtor(const api_class *c);
ray_method_fn api_class_method(const char *class_name, const char *method);

/* Number of registered names (for the worker's log line). */
size_t api_registry_count(void);

/* ---------------------------------------------------------------- api_ctx.c */

/* A language runtime living in the worker process (the Python extension
 * ray._raylet) runs the tasks whose spec names its language: function
 * tasks, actor creations (RAY_OK makes this worker the actor's) and actor
 * calls.  It reads the arguments and sets the returns through the ray_ctx
 * API and returns RAY_OK or the result of ray_error(). */
typedef int (*api_lang_run_fn)(ray_ctx *c, const Rayc__TaskSpec *spec);

/* Installs RUN for tasks of LANGUAGE (a Rayc__Language other than C), before
 * api_worker_main; the tasks this worker submits are of LANGUAGE too.
 * Without a runner such tasks fail with RAY_ERR_NOT_FOUND. */
void api_set_lang_runner(int language, api_lang_run_fn run);

/* Runs the task of ENV (an ExecuteTask) and reports its outcome: TaskDone
 * to the raylet, or a TaskResult on CHAN for a direct call.  Takes ENV and
 * the reference to CHAN (freed once the outcome is sent, which is later
 * when the runner deferred the task). */
void api_execute(Rayc__Envelope *env, api_chan *chan);

/* What a language runner returns after api_task_defer. */
#define API_TASK_DEFERRED 0x7defe44

/* Lets a language runner finish task C later, from any thread, without a
 * task thread waiting for it (an async actor's coroutine on its event
 * loop).  Returns API_TASK_DEFERRED, which the runner returns; C stays
 * valid until the one api_task_finish(C, RC), which reports it as if the
 * runner had returned RC (returns set with ray_return_*, a failure with
 * ray_error) and frees C.  A deferred task still counts against the
 * actor's max_concurrency until then. */
int api_task_defer(ray_ctx *c);
void api_task_finish(ray_ctx *c, int rc);

/* Starts a claimed call (api_set_task_claimer): its ray_ctx, to be ended
 * with api_task_finish; NULL when it failed already (its arguments could
 * not be read: the failure is reported and ENV and CHAN are freed). */
ray_ctx *api_task_begin(Rayc__Envelope *env, api_chan *chan);

/* The task running on this thread, or NULL (drivers, between tasks). */
ray_ctx *api_current_ctx(void);
const ids_task *api_ctx_task_id(const ray_ctx *c);

/* How many values task C returns. */
size_t api_ctx_num_returns(const ray_ctx *c);

/* ---------------------------------------------------------------- api_worker.c */

/* Tells the raylet this worker is blocked in ray_get (1) or running again (0);
 * nested calls count once.  Only in worker mode, from a task thread. */
void api_worker_blocked(int blocked);

/* Worker side of leases (api_chan.c, mu held): answers the lease calls
 * queued here and not started with API_LEASE_ENDED, so their owners send
 * them through the raylet (the worker blocked inside a task). */
void api_chan_lease_hand_back(void);

/* Called with mu held when an ExecuteTask arrives (takes ENV), from the
 * raylet or (with a reference on CHAN) from a direct caller. */
void api_worker_enqueue(Rayc__Envelope *env);

/* A language runtime may take an actor call as it arrives, before any task
 * thread sees it: CLAIM(ENV, CHAN) runs on the reading thread with mu held
 * (it must not block or take other locks that are held while waiting for
 * mu) and returns 1 to take ENV and the reference to CHAN, then starts the
 * task with api_task_begin from its own thread and ends it with
 * api_task_finish; 0 leaves the call to the task threads.  Calls are only
 * offered while max_concurrency has room.  An async actor's calls so skip
 * a task thread's wake-up and its hand-off to the event loop. */
typedef int (*api_claim_fn)(Rayc__Envelope *env, api_chan *chan);
void api_set_task_claimer(api_claim_fn fn);
void api_worker_enqueue_from(Rayc__Envelope *env, api_chan *chan);

/* The worker process's life: connects to the raylet socket SOCK with TOKEN,
 * registers as worker WORKER_HEX and runs tasks until the raylet closes the
 * connection (which is how a worker is told to exit).  Returns RAY_OK then,
 * or an error status with the message set when it could not start. */
int api_worker_main(const char *sock, const char *token, const char *worker_hex);

/* Starts N more threads running tasks (an actor with max_concurrency > 1). */
void api_worker_start_threads(size_t n);

/* Runs the actor's destructor, once (the worker is exiting). */
void api_actor_destroy(void);

/* ---------------------------------------------------------------- api_builtin.c */

/* Registers the functions and actors every worker has (names start "__ray_"). */
void api_builtin_register(void);

#endif
