/* The Python worker: libray's worker loop (C) runs here and calls into
 * Python only to run a task, an actor constructor or a method.
 *
 * ray._private.worker calls worker_main(socket, token_file, worker_id,
 * raylet_pid, executor); executor(kind, function, args, num_returns) gets
 * the arguments as Buffers and returns num_returns serialized values
 * (lists of parts), or raises for a failure of the worker itself (a user
 * exception is a value: an error blob, as in Ray). */
#include "pyr.h"

#include <dlfcn.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "api/api.h"
#include "common/token.h"
#include "worker/worker_libs.h"

static PyObject *executor; /* set once by worker_main */

/* The task this thread runs (set around the call into Python), for
 * ray.get_runtime_context(); and the resources of this worker's actor,
 * which its method calls run on. */
static _Thread_local ray_ctx *cur_ctx;
static _Thread_local const Rayc__TaskSpec *cur_spec;
static _Thread_local int cur_deferred; /* the executor called defer_task */
static PyObject *actor_resources; /* a dict, set by the actor's constructor */

/* Sets return I from PARTS: inline when small, else straight into the store. */
static int set_return(ray_ctx *c, size_t i, PyObject *parts)
{
    Py_ssize_t n = pyr_parts_len(parts);
    if (n < 0)
        return -1;
    void *dst = NULL;
    if ((size_t)n > PYR_INLINE_MAX) {
        int rc;
        Py_BEGIN_ALLOW_THREADS /* asks the raylet for store space */
        rc = ray_return_alloc(c, i, (size_t)n, &dst);
        Py_END_ALLOW_THREADS
        if (rc != RAY_OK)
            return ray_error(c, "storing a return value: %s", ray_last_error());
        return pyr_parts_copy(parts, dst) < 0 ? -1 : RAY_OK;
    }
    if ((dst = malloc(n ? (size_t)n : 1)) == NULL)
        return ray_error(c, "out of memory for a return value");
    int rc = pyr_parts_copy(parts, dst) < 0 ? -1 : ray_return_at(c, i, ray_bytes(dst, (size_t)n));
    free(dst);
    return rc;
}

/* Argument I that a C task made (the result of a cross-language call):
 * an int, float or str as a 1-tuple (value,); NULL with a TypeError for
 * anything else. */
static PyObject *c_arg(ray_ctx *c, size_t i)
{
    int64_t v;
    double f;
    const char *s;
    size_t len;
    if (ray_arg_i64(c, i, &v) == RAY_OK)
        return Py_BuildValue("(L)", (long long)v);
    if (ray_arg_f64(c, i, &f) == RAY_OK)
        return Py_BuildValue("(d)", f);
    if (ray_arg_str(c, i, &s, &len) == RAY_OK)
        return Py_BuildValue("(N)", PyUnicode_DecodeUTF8(s, (Py_ssize_t)len, "replace"));
    return PyErr_Format(PyExc_TypeError, "argument %zu is not a Python value: %s", i,
                        ray_last_error());
}

/* Argument I (bytes of LEN at P) as a Buffer.  A large one is a zero-copy
 * view of its store object with a pin of this worker's own, which lives as
 * long as the Buffer does: Python may keep what it got (an actor's state, a
 * cached array) after the task returns and the raylet drops the task's pin.
 * Smaller ones, and a large one whose pin fails, are copied. */
static PyObject *arg_buffer(ray_ctx *c, size_t i, const void *p, size_t len)
{
    ray_value v;
    if (len >= PYR_ARG_PIN_MIN) {
        int rc;
        Py_BEGIN_ALLOW_THREADS /* a request to the raylet */
        rc = ray_arg_value(c, i, &v);
        Py_END_ALLOW_THREADS
        if (rc == RAY_OK)
            return pyr_buffer_new(&v, NULL, 0);
    }
    return pyr_buffer_new(NULL, p, len);
}

/* The task's arguments as Buffers (arg_buffer), or 1-tuples for the ints,
 * floats and strs of C tasks. */
static PyObject *task_args(ray_ctx *c)
{
    size_t n = ray_arg_count(c);
    PyObject *l = PyList_New((Py_ssize_t)n);
    for (size_t i = 0; l != NULL && i < n; i++) {
        const void *p;
        size_t len;
        const char *s;
        PyObject *b = NULL;
        /* A str is a C task's (Python values travel as bytes), and
         * ray_arg_bytes would take it too: ask for it first. */
        if (ray_arg_str(c, i, &s, NULL) == RAY_OK || ray_arg_bytes(c, i, &p, &len) != RAY_OK)
            b = c_arg(c, i);
        else
            b = arg_buffer(c, i, p, len);
        if (b == NULL) {
            Py_CLEAR(l);
            break;
        }
        PyList_SET_ITEM(l, (Py_ssize_t)i, b);
    }
    return l;
}

/* Fails the task with the pending Python error's text. */
static int fail_with_python_error(ray_ctx *c)
{
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    PyObject *s = value ? PyObject_Str(value) : NULL;
    const char *msg = s ? PyUnicode_AsUTF8(s) : NULL;
    int rc = ray_error(c, "the Python worker failed: %s: %s",
                       type ? ((PyTypeObject *)type)->tp_name : "error", msg ? msg : "?");
    PyErr_Clear();
    Py_XDECREF(s);
    Py_XDECREF(type);
    Py_XDECREF(value);
    Py_XDECREF(tb);
    return rc;
}

static int run_locked(ray_ctx *c, const Rayc__TaskSpec *spec)
{
    PyObject *args = task_args(c);
    PyObject *res = args ? PyObject_CallFunction(executor, "isOi", (int)spec->kind, spec->function,
                                                 args, (int)spec->num_returns)
                         : NULL;
    Py_XDECREF(args);
    int rc = RAY_OK;
    if (cur_deferred) {   /* finish_task reports it; res means nothing */
        Py_XDECREF(res);
        PyErr_Clear();
        return API_TASK_DEFERRED;
    }
    if (res != NULL && (!PyList_Check(res) || PyList_GET_SIZE(res) != spec->num_returns))
        PyErr_SetString(PyExc_TypeError, "the executor returned a wrong number of values");
    else
        for (Py_ssize_t i = 0; res != NULL && rc == RAY_OK && i < PyList_GET_SIZE(res); i++)
            rc = set_return(c, (size_t)i, PyList_GET_ITEM(res, i));
    if (PyErr_Occurred())
        rc = fail_with_python_error(c);
    Py_XDECREF(res);
    return rc;
}

/* SPEC's resources as a dict; NULL with a Python error. */
static PyObject *spec_resources(const Rayc__TaskSpec *spec)
{
    PyObject *d = PyDict_New();
    for (size_t i = 0; d != NULL && i < spec->n_resources; i++) {
        PyObject *q = PyFloat_FromDouble(spec->resources[i]->qty);
        if (q == NULL || PyDict_SetItemString(d, spec->resources[i]->name, q) < 0)
            Py_CLEAR(d);
        Py_XDECREF(q);
    }
    return d;
}

/* Gives this task thread a Python thread state for good, the first time it
 * runs a task.  Without it PyGILState_Ensure/Release made and destroyed
 * one per task: a mmap, a munmap (a TLB shoot-down on every CPU) and the
 * interpreter's global lock each time, a measurable share of a Serve
 * replica's CPU per request. */
static void keep_thread_state(void)
{
    static _Thread_local int kept;
    if (kept)
        return;
    kept = 1;
    PyGILState_Ensure();
    PyEval_SaveThread();
}

static int run(ray_ctx *c, const Rayc__TaskSpec *spec)
{
    keep_thread_state();
    PyGILState_STATE g = PyGILState_Ensure();
    if (spec->kind == RAYC__TASK_SPEC__KIND__ACTOR_CREATE) {
        Py_XSETREF(actor_resources, spec_resources(spec));
        PyErr_Clear(); /* out of memory: the methods report the call's own */
    }
    cur_ctx = c;
    cur_spec = spec;
    cur_deferred = 0;
    int rc = run_locked(c, spec);
    cur_ctx = NULL;
    cur_spec = NULL;
    cur_deferred = 0;
    PyGILState_Release(g);
    return rc;
}

/* ---------------------------------------------------------------- deferred tasks */

#define DEFERRED_CAPSULE "ray._raylet.deferred_task"

/* Finishes the deferred task in CAPSULE (once: the pointer is cleared). */
static void finish_capsule(PyObject *capsule, int rc)
{
    ray_ctx *c = PyCapsule_GetPointer(capsule, DEFERRED_CAPSULE);
    if (c == NULL || PyCapsule_SetPointer(capsule, (void *)&executor) < 0)
        return;
    Py_BEGIN_ALLOW_THREADS /* sends the result */
    api_task_finish(c, rc);
    Py_END_ALLOW_THREADS
}

static int capsule_live(PyObject *capsule)
{
    return PyCapsule_GetPointer(capsule, DEFERRED_CAPSULE) != (void *)&executor;
}

/* A deferred task nobody finished (a bug in the executor) fails rather
 * than leaving its caller waiting forever. */
static void capsule_dropped(PyObject *capsule)
{
    ray_ctx *c = PyCapsule_GetPointer(capsule, DEFERRED_CAPSULE);
    if (c == NULL || c == (void *)&executor)
        return;
    ray_error(c, "the Python worker dropped the call without an answer");
    api_task_finish(c, RAY_ERR_TASK);
}

/* defer_task(): the running task is finished later by finish_task(handle,
 * ...), from any thread, instead of by the executor's return value; its
 * task thread is free meanwhile.  Only inside the executor. */
static PyObject *py_defer_task(PyObject *self, PyObject *unused)
{
    if (cur_ctx == NULL || cur_deferred)
        return PyErr_Format(PyExc_RuntimeError, "defer_task: no task to defer on this thread");
    PyObject *h = PyCapsule_New(cur_ctx, DEFERRED_CAPSULE, capsule_dropped);
    if (h == NULL)
        return NULL;
    api_task_defer(cur_ctx);
    cur_deferred = 1;
    return h;
}

/* finish_task(handle, parts, error): the deferred task's outcome: its
 * num_returns values each PARTS (a serialized value, as the executor
 * returns them), or, when ERROR (an exception) is not None, a failure
 * with its text. */
static PyObject *py_finish_task(PyObject *self, PyObject *args)
{
    PyObject *h, *parts, *err;
    if (!PyArg_ParseTuple(args, "O!OO", &PyCapsule_Type, &h, &parts, &err))
        return NULL;
    ray_ctx *c = PyCapsule_GetPointer(h, DEFERRED_CAPSULE);
    if (c == NULL)
        return NULL;
    if (!capsule_live(h))
        return PyErr_Format(PyExc_RuntimeError, "finish_task: the task was already finished");
    int rc = RAY_OK;
    if (err != Py_None) {
        PyObject *text = PyObject_Str(err);
        const char *msg = text ? PyUnicode_AsUTF8(text) : NULL;
        PyErr_Clear();
        rc = ray_error(c, "the Python worker failed: %s: %s", Py_TYPE(err)->tp_name,
                       msg ? msg : "?");
        Py_XDECREF(text);
    } else {
        Py_ssize_t n = (Py_ssize_t)api_ctx_num_returns(c);
        for (Py_ssize_t i = 0; rc == RAY_OK && i < n; i++)
            rc = set_return(c, (size_t)i, parts);
        if (PyErr_Occurred())
            rc = fail_with_python_error(c);
    }
    finish_capsule(h, rc);
    Py_RETURN_NONE;
}

/* ---------------------------------------------------------------- calls claimed for the loop */

/* Raw calls of the actor's `async def` methods (those named by
 * claim_method, after the first call of each went the usual way) are
 * taken as they arrive (api_set_task_claimer) and queued here for the
 * actor's event loop, which an eventfd wakes: no task thread and no GIL
 * hand-off between it and the loop.  The loop drains the queue
 * (drain_claimed) and starts each coroutine with the dispatcher given to
 * set_loop_dispatch; the coroutine's end answers with finish_task. */
#define CLAIM_MAX_METHODS 64

typedef struct claimed_call {
    Rayc__Envelope *env;
    api_chan *chan;
    struct claimed_call *next;
} claimed_call;

static pthread_mutex_t claim_mu = PTHREAD_MUTEX_INITIALIZER;
static char *claim_methods[CLAIM_MAX_METHODS];
static size_t n_claim_methods;
static claimed_call *claim_head, *claim_tail;
static int claim_fd = -1;          /* eventfd the loop watches */
static PyObject *claim_dispatch;   /* dispatcher(handle, method, args) */

static int is_raw_mark(const Rayc__TaskArg *a)
{
    static const char mark[] = "rayc:raw";
    const Rayc__Value *v = a ? a->value : NULL;
    return v != NULL && !v->in_store && v->type == RAY_STR && v->data.len == sizeof mark &&
           memcmp(v->data.data, mark, sizeof mark) == 0;
}

static int claim(Rayc__Envelope *env, api_chan *chan)
{
    const Rayc__TaskSpec *spec = env->execute_task->spec;
    if (spec->language != RAYC__LANGUAGE__PYTHON || spec->n_args < 1 || !is_raw_mark(spec->args[0]))
        return 0;
    claimed_call *cc = NULL;
    pthread_mutex_lock(&claim_mu);
    int known = 0;
    for (size_t i = 0; i < n_claim_methods && !known; i++)
        known = strcmp(claim_methods[i], spec->function) == 0;
    if (known && claim_fd >= 0 && (cc = malloc(sizeof *cc)) != NULL) {
        cc->env = env;
        cc->chan = chan;
        cc->next = NULL;
        int was_empty = claim_head == NULL;
        if (claim_tail != NULL)
            claim_tail->next = cc;
        else
            claim_head = cc;
        claim_tail = cc;
        uint64_t one = 1;
        if (was_empty && write(claim_fd, &one, sizeof one) < 0) {
            /* the counter is full: the loop has a wake-up pending anyway */
        }
    }
    pthread_mutex_unlock(&claim_mu);
    return cc != NULL;
}

/* set_loop_dispatch(dispatcher): the eventfd to watch on the actor's loop;
 * DISPATCHER(handle, method, args) starts a claimed call there. */
static PyObject *py_set_loop_dispatch(PyObject *self, PyObject *fn)
{
    if (!PyCallable_Check(fn))
        return PyErr_Format(PyExc_TypeError, "set_loop_dispatch: a callable is needed");
    pthread_mutex_lock(&claim_mu);
    if (claim_fd < 0)
        claim_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    int fd = claim_fd;
    pthread_mutex_unlock(&claim_mu);
    if (fd < 0)
        return PyErr_SetFromErrno(PyExc_OSError);
    Py_INCREF(fn);
    Py_XSETREF(claim_dispatch, fn);
    api_set_task_claimer(claim);
    return PyLong_FromLong(fd);
}

/* claim_method(name): raw calls of NAME go to the loop from now on. */
static PyObject *py_claim_method(PyObject *self, PyObject *args)
{
    const char *name;
    if (!PyArg_ParseTuple(args, "s", &name))
        return NULL;
    pthread_mutex_lock(&claim_mu);
    int known = 0;
    for (size_t i = 0; i < n_claim_methods && !known; i++)
        known = strcmp(claim_methods[i], name) == 0;
    if (!known && n_claim_methods < CLAIM_MAX_METHODS) {
        char *copy = strdup(name);
        if (copy != NULL)
            claim_methods[n_claim_methods++] = copy;
    }
    pthread_mutex_unlock(&claim_mu);
    Py_RETURN_NONE;
}

/* A claimed call's arguments after the raw mark: str and bytes. */
static PyObject *raw_args(ray_ctx *c)
{
    size_t n = ray_arg_count(c);
    PyObject *l = PyList_New(n > 0 ? (Py_ssize_t)n - 1 : 0);
    for (size_t i = 1; l != NULL && i < n; i++) {
        const char *s;
        const void *p;
        size_t len;
        PyObject *v = NULL;
        if (ray_arg_str(c, i, &s, &len) == RAY_OK)
            v = PyUnicode_DecodeUTF8(s, (Py_ssize_t)len, "replace");
        else if (ray_arg_bytes(c, i, &p, &len) == RAY_OK)
            v = PyBytes_FromStringAndSize(p, (Py_ssize_t)len);
        else
            PyErr_Format(PyExc_TypeError, "raw call argument %zu is neither str nor bytes", i);
        if (v == NULL) {
            Py_CLEAR(l);
            break;
        }
        PyList_SET_ITEM(l, (Py_ssize_t)i - 1, v);
    }
    return l;
}

static void start_claimed(claimed_call *cc)
{
    ray_ctx *c;
    Py_BEGIN_ALLOW_THREADS
    c = api_task_begin(cc->env, cc->chan);
    Py_END_ALLOW_THREADS
    if (c == NULL)
        return;
    PyObject *h = PyCapsule_New(c, DEFERRED_CAPSULE, capsule_dropped);
    if (h == NULL) {
        fail_with_python_error(c);
        Py_BEGIN_ALLOW_THREADS
        api_task_finish(c, RAY_ERR_TASK);
        Py_END_ALLOW_THREADS
        return;
    }
    PyObject *args = raw_args(c);
    PyObject *r = NULL;
    if (args != NULL)
        r = PyObject_CallFunction(claim_dispatch, "OsO", h, cc->env->execute_task->spec->function,
                                  args);
    if (r == NULL && capsule_live(h)) {
        int rc = fail_with_python_error(c);
        finish_capsule(h, rc);
    }
    PyErr_Clear();
    Py_XDECREF(r);
    Py_XDECREF(args);
    Py_DECREF(h);
}

/* drain_claimed(): starts the calls claimed since the last drain (on the
 * actor's loop, which calls it when the eventfd is readable). */
static PyObject *py_drain_claimed(PyObject *self, PyObject *unused)
{
    uint64_t n;
    pthread_mutex_lock(&claim_mu);
    if (claim_fd >= 0 && read(claim_fd, &n, sizeof n) < 0) {
        /* nothing pending: a spurious wake-up */
    }
    claimed_call *cc = claim_head;
    claim_head = claim_tail = NULL;
    pthread_mutex_unlock(&claim_mu);
    while (cc != NULL) {
        claimed_call *next = cc->next;
        start_claimed(cc);
        free(cc);
        cc = next;
    }
    Py_RETURN_NONE;
}

/* {task_id, actor_id, resources} of the task this thread runs, or None
 * outside a task (a driver, or a thread the task started). */
static PyObject *py_task_info(PyObject *self, PyObject *unused)
{
    if (cur_spec == NULL)
        Py_RETURN_NONE;
    char actor[2 * IDS_ACTOR_LEN + 1] = "";
    if (cur_spec->actor_id.len == IDS_ACTOR_LEN)
        ids_hex(cur_spec->actor_id.data, IDS_ACTOR_LEN, actor);
    PyObject *res;
    if (cur_spec->kind == RAYC__TASK_SPEC__KIND__ACTOR_TASK && actor_resources != NULL) {
        res = actor_resources;
        Py_INCREF(res);
    } else if ((res = spec_resources(cur_spec)) == NULL) {
        return NULL;
    }
    return Py_BuildValue("{s:s,s:s,s:N}", "task_id", ray_task_hex(cur_ctx), "actor_id", actor,
                         "resources", res);
}

/* Loads the job's C task libraries (its code search path), so that this
 * worker also runs the C functions a Python driver calls through
 * ray.cross_language.  Python loaded this extension with RTLD_LOCAL; it is
 * promoted to the global scope first, where the libraries find libray's
 * ray_* functions. */
static void load_c_libraries(void)
{
    const char *path = getenv("RAY_CODE_SEARCH_PATH");
    Dl_info self;
    if (path == NULL || path[0] == '\0')
        return;
    if (dladdr((void *)&executor, &self) == 0 || self.dli_fname == NULL ||
        dlopen(self.dli_fname, RTLD_NOW | RTLD_NOLOAD | RTLD_GLOBAL) == NULL) {
        fprintf(stderr, "cannot make libray visible to C task libraries: %s\n", dlerror());
        return;
    }
    worker_libs_load(path);
}

/* A task's numpy arrays of a few MB are freed when it ends and the next
 * task allocates the same again.  glibc would give such memory back to
 * the kernel (mmap above its threshold, heap trimming), so every task paid
 * for faulting in and zeroing fresh pages, which cost more than the numpy
 * work on them (Ray Data's map_batches: 5x the CPU).  The worker keeps up
 * to PYR_TRIM_THRESHOLD of freed heap for reuse instead; arrays above
 * PYR_MMAP_THRESHOLD (glibc's largest) still come from mmap. */
static void keep_freed_memory(void)
{
    mallopt(M_MMAP_THRESHOLD, PYR_MMAP_THRESHOLD);
    mallopt(M_TRIM_THRESHOLD, PYR_TRIM_THRESHOLD);
}

static PyObject *py_worker_main(PyObject *self, PyObject *args)
{
    const char *sock, *token_file, *worker_id;
    long raylet_pid;
    PyObject *fn;
    char token[TOKEN_MAX + 1];
    if (!PyArg_ParseTuple(args, "sssO|l", &sock, &token_file, &worker_id, &fn, &raylet_pid))
        return NULL;
    if (!PyCallable_Check(fn))
        return PyErr_Format(PyExc_TypeError, "worker_main: the executor must be callable");
    /* Die with the raylet, even when it is killed with SIGKILL. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (raylet_pid > 0 && getppid() != (pid_t)raylet_pid)
        _exit(1);
    if (token_read_file(token_file, token, sizeof token) != 0)
        return PyErr_Format(PyExc_RuntimeError, "cannot read the token file %s", token_file);
    Py_INCREF(fn);
    Py_XSETREF(executor, fn);
    keep_freed_memory();
    load_c_libraries();
    api_set_lang_runner(RAYC__LANGUAGE__PYTHON, run);
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = api_worker_main(sock, token, worker_id);
    Py_END_ALLOW_THREADS
    if (rc != RAY_OK)
        return pyr_raise(rc);
    Py_RETURN_NONE;
}

PyMethodDef pyr_worker_methods[] = {
    {"task_info", py_task_info, METH_NOARGS, "The task this thread runs, or None."},
    {"set_loop_dispatch", py_set_loop_dispatch, METH_O,
     "set_loop_dispatch(dispatcher) -> the eventfd of claimed calls."},
    {"claim_method", py_claim_method, METH_VARARGS,
     "claim_method(name): raw calls of NAME go to the event loop."},
    {"drain_claimed", py_drain_claimed, METH_NOARGS, "Starts the claimed calls."},
    {"defer_task", py_defer_task, METH_NOARGS,
     "Defers the running task; returns the handle for finish_task."},
    {"finish_task", py_finish_task, METH_VARARGS,
     "finish_task(handle, parts, error): a deferred task's outcome."},
    {"worker_main", py_worker_main, METH_VARARGS,
     "Runs this process as a Python worker until the raylet lets it go."},
    {NULL, NULL, 0, NULL},
};
