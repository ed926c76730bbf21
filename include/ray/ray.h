/* rayc's C API: drivers submit tasks and actors, task libraries implement them.
 *
 * A driver links with libray (-lray) and calls ray_init() first.  A task
 * library is a shared object that a worker dlopens; it registers its
 * functions with RAY_REMOTE / RAY_ACTOR / RAY_METHOD and gets the ray_*
 * functions from the worker process.
 *
 *     static int square(ray_ctx *c)
 *     {
 *         int64_t x;
 *         if (ray_arg_i64(c, 0, &x) != RAY_OK)
 *             return ray_error(c, "square: want an integer");
 *         return ray_return_i64(c, x * x);
 *     }
 *     RAY_REMOTE(square);
 *
 *     ray_init(NULL);
 *     ray_ref *r = ray_call("square", RAY_ARGS(ray_i64(7)), NULL);
 *     int64_t v;
 *     if (ray_get_i64(r, 5.0, &v) != RAY_OK)
 *         fprintf(stderr, "%s\n", ray_last_error());
 *     ray_ref_release(r);
 *     ray_shutdown();
 *
 * Conventions
 *   - Every fallible call returns a ray_status (RAY_OK is 0) or NULL; the
 *     reason is then in ray_last_error(), a per-thread message that names
 *     the function, the node and the pid where that applies.
 *   - Buffers passed in are copied before the call returns unless the
 *     comment says otherwise.  Pointers handed out are borrowed for the
 *     lifetime written next to them and must not be freed by the caller.
 *   - Timeouts are in seconds: a negative timeout waits as long as needed
 *     (a lost raylet connection still ends the wait), 0 only looks.
 *   - Every function may be called from any thread of a driver or of a
 *     task, after ray_init and before ray_shutdown.
 *   - In option structs, a zero field means "the default".  Where zero is
 *     a meaningful value that differs from the default (num_cpus,
 *     max_retries), write RAY_ZERO; RAY_INFINITE asks for no limit.
 */
#ifndef RAY_RAY_H
#define RAY_RAY_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- status */

typedef enum ray_status {
    RAY_OK = 0,
    RAY_ERR_TASK = 1,           /* the function reported an error (ray_error) */
    RAY_ERR_WORKER_CRASHED = 2, /* the worker process died; retries used up */
    RAY_ERR_ACTOR_DIED = 3,     /* the actor is dead (killed, crashed, out of restarts) */
    RAY_ERR_OBJECT_LOST = 4,    /* the object's value is gone */
    RAY_ERR_OWNER_DIED = 5,     /* the process that owned the object exited */
    RAY_ERR_TIMEOUT = 6,        /* the value was not there in time */
    RAY_ERR_CANCELLED = 7,      /* ray_cancel stopped the task */
    RAY_ERR_STORE_FULL = 8,     /* the object store has no room, even after spilling */
    RAY_ERR_UNSCHEDULABLE = 9,  /* no node can ever give the task its resources */
    RAY_ERR_NODE_DIED = 10,     /* the node running the task died */
    RAY_ERR_CONNECTION = 11,    /* no (more) connection to the local raylet */
    RAY_ERR_NOT_FOUND = 12,     /* unknown function, class, method or actor name */
    RAY_ERR_INVALID = 13,       /* a bad argument, option or call order */
    RAY_ERR_TYPE = 14,          /* the value has another type than asked for */
    RAY_ERR_NOMEM = 15          /* out of memory in this process */
} ray_status;

/* A short constant name for STATUS ("RAY_ERR_TIMEOUT"). */
const char *ray_status_name(int status);

/* The message of the last failed call on this thread ("" when none).
 * Valid until the next ray_* call on this thread. */
const char *ray_last_error(void);

/* ---------------------------------------------------------------- values */

typedef enum ray_type {
    RAY_NIL = 0,       /* no value (a task that returned nothing) */
    RAY_I64 = 1,
    RAY_F64 = 2,
    RAY_STR = 3,       /* bytes without a NUL inside; read back NUL-terminated */
    RAY_BYTES = 4,
    RAY_ACTOR = 5      /* an actor handle passed as a value */
} ray_type;

typedef struct ray_ref ray_ref;       /* a reference to an object (task result or put) */
typedef struct ray_actor ray_actor;   /* a handle to an actor */
typedef struct ray_pg ray_pg;         /* a handle to a placement group */
typedef struct ray_ctx ray_ctx;       /* the running task, inside a task library */

/* One argument of a task or one value to put.  Build it with the
 * constructors below; the data it points to is copied by the call that
 * takes it (large byte strings go through the object store once). */
typedef struct ray_arg {
    int kind;                /* a ray_type, or RAY_ARG_REF */
    int64_t i64;
    double f64;
    const void *data;        /* RAY_STR, RAY_BYTES */
    size_t len;
    ray_ref *ref;            /* RAY_ARG_REF: passed by reference, resolved before the task runs */
    ray_actor *actor;        /* RAY_ACTOR */
} ray_arg;

#define RAY_ARG_REF 100

static inline ray_arg ray_i64(int64_t v) { ray_arg a = {RAY_I64, v, 0, 0, 0, 0, 0}; return a; }
static inline ray_arg ray_f64(double v) { ray_arg a = {RAY_F64, 0, v, 0, 0, 0, 0}; return a; }
static inline ray_arg ray_bytes(const void *p, size_t n)
{
    ray_arg a = {RAY_BYTES, 0, 0, p, n, 0, 0};
    return a;
}
/* A NUL-terminated string (the NUL is not sent). */
ray_arg ray_str(const char *s);
/* A reference argument: the task receives the object's value. */
static inline ray_arg ray_ref_arg(ray_ref *r) { ray_arg a = {RAY_ARG_REF, 0, 0, 0, 0, r, 0}; return a; }
/* An actor handle argument: the task receives a handle (ray_arg_actor). */
static inline ray_arg ray_actor_arg(ray_actor *h) { ray_arg a = {RAY_ACTOR, 0, 0, 0, 0, 0, h}; return a; }

/* An argument list; build it with RAY_ARGS(...), e.g. RAY_ARGS(ray_i64(1),
 * ray_str("x")) or RAY_ARGS() for none.  The list lives in the caller's
 * block. */
typedef struct ray_args {
    const ray_arg *v;
    size_t n;
} ray_args;

#define RAY_ARGS(...)                                                                  \
    ((ray_args){(const ray_arg[]){{0, 0, 0, 0, 0, 0, 0}, __VA_ARGS__} + 1,             \
                sizeof((const ray_arg[]){{0, 0, 0, 0, 0, 0, 0}, __VA_ARGS__}) /        \
                        sizeof(ray_arg) - 1})

/* A value read back with ray_get.  For RAY_STR and RAY_BYTES, DATA is
 * read-only: a copy for small values, a zero-copy view of the shared-memory
 * object for large ones.  It stays valid (and a large object stays pinned in
 * memory) until ray_value_release. */
typedef struct ray_value {
    ray_type type;
    int64_t i64;
    double f64;
    const void *data;       /* RAY_STR (NUL-terminated), RAY_BYTES */
    size_t len;             /* bytes, without the NUL of a string */
    ray_actor *actor;       /* RAY_ACTOR: owned by the value */
    void *priv;
} ray_value;

/* Releases what V holds (the copy, or the view and its pin); V is zeroed.
 * Safe on a zeroed value and twice. */
void ray_value_release(ray_value *v);

/* ---------------------------------------------------------------- init */

typedef struct ray_init_opts {
    const char *address;     /* GCS "ip:port"; NULL: $RAY_ADDRESS, else the local cluster */
    const char *ns;          /* namespace for named actors; NULL: $RAY_NAMESPACE or anonymous */
    const char *token;       /* cluster token; NULL: RAY_AUTH_TOKEN(_PATH), ~/.ray/auth_token */
    const char *const *code_search_path; /* NULL-terminated; NULL: $RAY_CODE_SEARCH_PATH
                                          * (':'-separated), else the driver's directory */
    const char *const *env_vars;         /* "KEY=VALUE" for the job's workers, NULL-terminated */
    double timeout_s;        /* connecting; 0: 30 s */
} ray_init_opts;

/* Connects this process to its node as a driver.  Inside a job started by
 * the job server ($RAY_JOB_ID set) it joins that job; otherwise it gets a new
 * job id from the GCS.  The job's workers run in this process's current
 * directory (its working_dir) with the runtime_env env_vars of
 * $RAY_JOB_CONFIG_JSON_ENV_VAR and OPTS->env_vars.  Relative code search
 * path entries are resolved against the current directory.  OPTS may be
 * NULL.  Returns RAY_OK, RAY_ERR_CONNECTION (no cluster, wrong token, raylet
 * unreachable), RAY_ERR_INVALID (already initialised, bad option) or
 * RAY_ERR_NOMEM. */
int ray_init(const ray_init_opts *opts);

/* Releases every reference and handle still held, disconnects (which ends
 * the job when this process started it) and frees libray's state.  Refs and
 * values must not be used afterwards.  Safe to call twice. */
void ray_shutdown(void);

/* True between ray_init (or the start of a worker) and ray_shutdown. */
int ray_is_initialized(void);

/* This process's job id as 8 hex characters; "" before ray_init. */
const char *ray_job_id(void);

/* ---------------------------------------------------------------- tasks */

typedef enum ray_strategy {
    RAY_STRATEGY_DEFAULT = 0,
    RAY_STRATEGY_SPREAD = 1,
    RAY_STRATEGY_NODE_AFFINITY = 2   /* node_id; soft: may run elsewhere */
} ray_strategy;

#define RAY_ZERO (-1)       /* an explicit zero where zero is not the default */
#define RAY_INFINITE (-2)   /* no limit on retries or restarts */

typedef struct ray_resource {
    const char *name;
    double qty;
} ray_resource;

typedef struct ray_task_opts {
    double num_cpus;         /* default 1 (RAY_ZERO for none) */
    double num_gpus;         /* whole GPUs; the task sees CUDA_VISIBLE_DEVICES */
    double memory;           /* bytes, reserved on the node */
    const ray_resource *resources;   /* custom resources */
    size_t n_resources;
    int num_returns;         /* default 1; see ray_submit */
    int max_retries;         /* after worker crashes; default 3 */
    int retry_exceptions;    /* also retry when the function reports an error */
    const char *name;        /* shown in logs and errors */
    ray_strategy strategy;
    const char *node_id;     /* RAY_STRATEGY_NODE_AFFINITY: hex node id */
    int soft;                /* RAY_STRATEGY_NODE_AFFINITY: fall back to any node */
    const ray_pg *placement_group; /* NULL: none; else run in one of its bundles */
    int bundle_index;        /* with placement_group: the bundle (0 is the first),
                              * or RAY_BUNDLE_ANY */
} ray_task_opts;

#define RAY_BUNDLE_ANY (-1)  /* any bundle of the placement group */

/* Submits FUNCTION (a RAY_REMOTE name) with ARGS and OPTS (NULL: defaults)
 * and returns a reference to its first return value; the caller owns it
 * (ray_ref_release).  The call returns at once; failures of the task itself
 * (unknown function, crash, error) arrive through ray_get.  Returns NULL when
 * the task cannot be submitted (not initialised, bad argument, connection
 * lost) with the reason in ray_last_error(). */
ray_ref *ray_call(const char *function, ray_args args, const ray_task_opts *opts);

/* Same for a task with OPTS->num_returns (N) return values: stores N owned
 * refs in REFS.  Returns RAY_OK or an error (no refs are stored then). */
int ray_submit(const char *function, ray_args args, const ray_task_opts *opts,
               ray_ref **refs, size_t n);

/* ---------------------------------------------------------------- objects */

/* Stores a value in the cluster and returns an owned reference to it, or
 * NULL (RAY_ERR_STORE_FULL, RAY_ERR_CONNECTION, RAY_ERR_INVALID) with the
 * reason in ray_last_error().  Values up to 100 KiB stay in this process and
 * travel inline; larger ones are copied once into the node's object store. */
ray_ref *ray_put(ray_arg value);

/* Zero-copy put of a large byte string: reserves SIZE bytes in the object
 * store and maps them writable at *DATA; fill them, then call
 * ray_put_seal(ref) (or ray_ref_release to abandon it).  Until sealed the
 * ref must not be passed to tasks.  Returns RAY_OK, RAY_ERR_STORE_FULL,
 * RAY_ERR_CONNECTION or RAY_ERR_INVALID. */
int ray_put_alloc(size_t size, void **data, ray_ref **out);
int ray_put_seal(ray_ref *ref);

/* Waits up to TIMEOUT_S for R's value and stores it in *OUT (release it with
 * ray_value_release).  Returns RAY_OK or the object's error: RAY_ERR_TASK
 * and the others above, RAY_ERR_TIMEOUT (R stays usable),
 * RAY_ERR_CONNECTION.  On error *OUT is zeroed. */
int ray_get(ray_ref *r, double timeout_s, ray_value *out);

/* Typed shortcuts: RAY_ERR_TYPE when the value has another type. */
int ray_get_i64(ray_ref *r, double timeout_s, int64_t *out);
int ray_get_f64(ray_ref *r, double timeout_s, double *out);
/* Copies the value (RAY_STR or RAY_BYTES) into a new buffer *OUT of *LEN
 * bytes plus a NUL; the caller frees it with free().  LEN may be NULL. */
int ray_get_bytes(ray_ref *r, double timeout_s, void **out, size_t *len);

/* Waits until NUM_RETURNS of the N refs are ready (a value or an error) or
 * TIMEOUT_S passes.  READY[i] (may be NULL) is set to 1 for each ready ref
 * and 0 for the others, and *N_READY (may be NULL) to their count.  Waiting
 * out the timeout is not an error.  Returns RAY_OK, RAY_ERR_INVALID
 * (NUM_RETURNS > N) or RAY_ERR_CONNECTION. */
int ray_wait(ray_ref *const *refs, size_t n, size_t num_returns, double timeout_s,
             int *ready, size_t *n_ready);

/* Cancels the task that produces R.  A task not yet running is dropped.  A
 * running one is asked to stop (ray_cancelled() turns true in it) and its
 * result is RAY_ERR_CANCELLED whatever it returns; with FORCE a normal
 * task's worker is killed at once, and the task is not retried (actor calls
 * are never killed: FORCE is ignored for them).  A finished task is not
 * affected.  Returns RAY_OK, RAY_ERR_INVALID (R is a put) or
 * RAY_ERR_CONNECTION. */
int ray_cancel(ray_ref *r, int force);

/* A second owned reference to the same object. */
ray_ref *ray_ref_dup(ray_ref *r);

/* Drops one reference.  When the last reference of the owner is gone and no
 * pending task needs the object, it is freed.  NULL is fine. */
void ray_ref_release(ray_ref *r);

/* The object id as 56 hex characters, valid for R's lifetime. */
const char *ray_ref_hex(const ray_ref *r);

/* ---------------------------------------------------------------- actors */

typedef struct ray_actor_opts {
    const char *name;        /* a named actor, found with ray_get_actor */
    const char *ns;          /* its namespace; NULL: this driver's */
    int get_if_exists;       /* return the existing actor of that name */
    int detached;            /* survives the end of its job (until killed) */
    int max_restarts;        /* after worker deaths; default 0, RAY_INFINITE */
    int max_task_retries;    /* re-run calls lost to a restart; default 0 */
    int max_concurrency;     /* > 1: calls run on a thread pool, unordered */
    double num_cpus;         /* held for the actor's life; default 0 */
    double num_gpus;
    double memory;
    const ray_resource *resources;
    size_t n_resources;
    ray_strategy strategy;   /* where the actor lives: as for tasks (DEFAULT: this
                                node while it fits here, else a node with room) */
    const char *node_id;     /* RAY_STRATEGY_NODE_AFFINITY: hex node id */
    int soft;                /* RAY_STRATEGY_NODE_AFFINITY: fall back to any node */
    const ray_pg *placement_group; /* NULL: none; else live in one of its bundles */
    int bundle_index;        /* with placement_group: the bundle, or RAY_BUNDLE_ANY */
} ray_actor_opts;

/* Starts an actor of CLASS (a RAY_ACTOR name) in a worker of its own and
 * runs the constructor with ARGS there.  Returns an owned handle at once
 * (release it with ray_actor_release, which does not kill the actor), or NULL
 * with ray_last_error() (bad options, a name taken without get_if_exists,
 * connection lost).  A constructor failure or an unknown class shows up as
 * RAY_ERR_ACTOR_DIED on the actor's calls, with the reason. */
ray_actor *ray_actor_create(const char *class_name, ray_args args, const ray_actor_opts *opts);

/* Calls METHOD of actor A.  Calls of one process to one actor run in
 * submission order (unless max_concurrency > 1).  Calls whose arguments are
 * all inline values go straight to the actor's worker; one with a
 * by-reference argument goes through the raylet, and may first wait for
 * the direct calls before it to be answered.  OPTS may be NULL; only
 * num_returns and name are used.  Same results as ray_call. */
ray_ref *ray_actor_call(ray_actor *a, const char *method, ray_args args,
                        const ray_task_opts *opts);

/* ray_submit for an actor method. */
int ray_actor_submit(ray_actor *a, const char *method, ray_args args,
                     const ray_task_opts *opts, ray_ref **refs, size_t n);

/* Finds the live actor named NAME in namespace NS (NULL: this driver's).
 * Returns an owned handle, or NULL with RAY_ERR_NOT_FOUND in ray_last_error(). */
ray_actor *ray_get_actor(const char *name, const char *ns);

/* Kills actor A at once.  With NO_RESTART the actor is gone for good;
 * otherwise it restarts when it has restarts left.  Pending and later calls
 * fail with RAY_ERR_ACTOR_DIED.  Returns RAY_OK, RAY_ERR_NOT_FOUND or
 * RAY_ERR_CONNECTION. */
int ray_actor_kill(ray_actor *a, int no_restart);

/* Releases the handle (the actor keeps running).  NULL is fine. */
void ray_actor_release(ray_actor *a);

/* A second owned handle to the same actor. */
ray_actor *ray_actor_dup(ray_actor *a);

/* The actor id as 32 hex characters, valid for A's lifetime. */
const char *ray_actor_hex(const ray_actor *a);

/* ---------------------------------------------------------------- placement groups */

/* How the bundles of a placement group are laid out on nodes (Ray's). */
typedef enum ray_pg_strategy {
    RAY_PG_PACK = 0,           /* as few nodes as possible (one when it fits) */
    RAY_PG_SPREAD = 1,         /* distinct nodes where possible */
    RAY_PG_STRICT_PACK = 2,    /* all bundles on one node, or wait */
    RAY_PG_STRICT_SPREAD = 3   /* every bundle on a node of its own, or wait */
} ray_pg_strategy;

/* One bundle: resources reserved together on one node, e.g. {CPU: 1}. */
typedef struct ray_bundle {
    const ray_resource *resources;
    size_t n_resources;
} ray_bundle;

typedef struct ray_pg_opts {
    ray_pg_strategy strategy;  /* default RAY_PG_PACK */
    const char *name;          /* unique among live groups of the namespace; NULL: none */
    const char *ns;            /* the name's namespace; NULL: this driver's */
    int detached;              /* outlives its job (until ray_pg_remove) */
} ray_pg_opts;

/* Asks the cluster to reserve the N bundles, all or nothing, and returns an
 * owned handle at once (release it with ray_pg_release, which does not
 * remove the group).  The reservation happens in the background: a group
 * that does not fit now stays pending until nodes join or resources are
 * freed.  Unless detached, the group is removed when its job ends.  Returns
 * NULL with ray_last_error() for bad input (no bundles, an empty bundle, a
 * negative or unnamed resource, an unknown strategy: RAY_ERR_INVALID), a
 * name already taken, or no connection.  OPTS may be NULL. */
ray_pg *ray_pg_create(const ray_bundle *bundles, size_t n, const ray_pg_opts *opts);

/* Waits up to TIMEOUT_S until every bundle of PG is reserved.  Returns
 * RAY_OK (ready), RAY_ERR_TIMEOUT (still pending; PG stays usable),
 * RAY_ERR_INVALID (PG was removed, with the reason) or RAY_ERR_CONNECTION.
 * While the GCS is unreachable the wait goes on until its deadline. */
int ray_pg_wait(ray_pg *pg, double timeout_s);

/* Removes PG: its bundles are given back, running tasks of the group are
 * killed (they fail) and its actors die, queued tasks fail.  Removing a
 * removed group is fine.  Returns RAY_OK, RAY_ERR_NOT_FOUND or
 * RAY_ERR_CONNECTION. */
int ray_pg_remove(ray_pg *pg);

/* Finds the live group named NAME in namespace NS (NULL: this driver's).
 * Returns an owned handle, or NULL with RAY_ERR_NOT_FOUND. */
ray_pg *ray_pg_get(const char *name, const char *ns);

/* The node each bundle is reserved on: copies the hex node id of bundle I
 * into OUT (LEN bytes; "" while pending).  Returns RAY_OK, RAY_ERR_INVALID
 * (I out of range, OUT too small), RAY_ERR_NOT_FOUND or RAY_ERR_CONNECTION. */
int ray_pg_bundle_node(ray_pg *pg, size_t i, char *out, size_t len);

/* Number of bundles of PG. */
size_t ray_pg_bundle_count(const ray_pg *pg);

/* The group id as 36 hex characters, valid for PG's lifetime. */
const char *ray_pg_hex(const ray_pg *pg);

/* Releases the handle (the group stays).  NULL is fine. */
void ray_pg_release(ray_pg *pg);

/* ---------------------------------------------------------------- task libraries */

/* A task: reads its arguments from C, sets its return values, and returns
 * RAY_OK, or the result of ray_error(). */
typedef int (*ray_task_fn)(ray_ctx *c);
/* An actor: the constructor returns the actor's state (NULL after
 * ray_error() fails the creation), methods get it back as SELF, and the
 * destructor (may be NULL) runs when the actor is killed or its job ends. */
typedef void *(*ray_actor_new_fn)(ray_ctx *c);
typedef void (*ray_actor_free_fn)(void *self);
typedef int (*ray_method_fn)(ray_ctx *c, void *self);

/* Registration, called by the macros below when a worker loads the library.
 * A second registration of a name replaces the first.  Returns RAY_OK or
 * RAY_ERR_NOMEM / RAY_ERR_INVALID. */
int ray_register_function(const char *name, ray_task_fn fn);
int ray_register_actor(const char *class_name, ray_actor_new_fn ctor, ray_actor_free_fn dtor);
int ray_register_method(const char *class_name, const char *method, ray_method_fn fn);

#define RAY_REMOTE(fn) RAY_REMOTE_NAMED(#fn, fn, fn)
#define RAY_REMOTE_NAMED(name, fn, tag)                                                \
    static void ray__reg_fn_##tag(void) __attribute__((constructor));                  \
    static void ray__reg_fn_##tag(void) { ray_register_function(name, fn); }           \
    typedef int ray__remote_##tag##_t

#define RAY_ACTOR(cls, ctor, dtor)                                                     \
    static void ray__reg_actor_##cls(void) __attribute__((constructor));               \
    static void ray__reg_actor_##cls(void) { ray_register_actor(#cls, ctor, dtor); }   \
    typedef int ray__actor_##cls##_t

/* Registers the function METHOD as method METHOD of CLS. */
#define RAY_METHOD(cls, method) RAY_METHOD_NAMED(cls, #method, method, method)
#define RAY_METHOD_NAMED(cls, name, fn, tag)                                           \
    static void ray__reg_m_##cls##_##tag(void) __attribute__((constructor));           \
    static void ray__reg_m_##cls##_##tag(void) { ray_register_method(#cls, name, fn); } \
    typedef int ray__method_##cls##_##tag##_t

/* Number of arguments of the running task. */
size_t ray_arg_count(const ray_ctx *c);

/* The type of argument I (RAY_NIL past the end). */
ray_type ray_arg_type(const ray_ctx *c, size_t i);

/* Argument I as a number.  Return RAY_OK, RAY_ERR_INVALID (no such argument)
 * or RAY_ERR_TYPE (ray_error's message is set in either case). */
int ray_arg_i64(ray_ctx *c, size_t i, int64_t *out);
int ray_arg_f64(ray_ctx *c, size_t i, double *out);
/* Argument I as a string or bytes: a read-only view valid until the task
 * returns (zero-copy for large objects).  Strings are NUL-terminated; LEN
 * may be NULL. */
int ray_arg_str(ray_ctx *c, size_t i, const char **out, size_t *len);
int ray_arg_bytes(ray_ctx *c, size_t i, const void **out, size_t *len);
/* Argument I's bytes as a value that may outlive the task (release it with
 * ray_value_release): a store object is pinned for this process (one
 * request to the raylet) and read zero-copy, so it cannot be freed or
 * reused while the value lives; an inline argument is copied.  Returns
 * RAY_OK, RAY_ERR_INVALID (no such argument), RAY_ERR_TYPE (not bytes), or
 * the pin's error (then *OUT is zeroed and ray_arg_bytes still works). */
int ray_arg_value(ray_ctx *c, size_t i, ray_value *out);
/* Argument I as an actor handle, owned by the task until it returns (dup it
 * to keep it longer). */
int ray_arg_actor(ray_ctx *c, size_t i, ray_actor **out);

/* Sets return value 0 (the _at forms: return value I of num_returns).
 * Byte strings are copied; large ones go to the object store.  Return
 * RAY_OK, RAY_ERR_INVALID (I out of range), RAY_ERR_STORE_FULL or
 * RAY_ERR_NOMEM. */
int ray_return_i64(ray_ctx *c, int64_t v);
int ray_return_f64(ray_ctx *c, double v);
int ray_return_str(ray_ctx *c, const char *s);
int ray_return_bytes(ray_ctx *c, const void *data, size_t len);
int ray_return_at(ray_ctx *c, size_t i, ray_arg value);

/* Zero-copy return of a large byte string: reserves SIZE bytes for return
 * value I and maps them writable at *DATA until the task returns. */
int ray_return_alloc(ray_ctx *c, size_t i, size_t size, void **data);

/* Fails the task with a printf-style message (up to 4 KiB kept).  Returns
 * RAY_ERR_TASK, so a task can end with `return ray_error(c, ...)`. */
int ray_error(ray_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* True once ray_cancel(force=0) asked this task to stop; long tasks may poll it. */
int ray_cancelled(ray_ctx *c);

/* The running task's id (48 hex characters) and attempt (0 first run). */
const char *ray_task_hex(const ray_ctx *c);
int ray_task_attempt(const ray_ctx *c);

#ifdef __cplusplus
}
#endif

#endif
