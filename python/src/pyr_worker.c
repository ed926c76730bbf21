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

static int run(ray_ctx *c, const Rayc__TaskSpec *spec)
{
    PyGILState_STATE g = PyGILState_Ensure();
    if (spec->kind == RAYC__TASK_SPEC__KIND__ACTOR_CREATE) {
        Py_XSETREF(actor_resources, spec_resources(spec));
        PyErr_Clear(); /* out of memory: the methods report the call's own */
    }
    cur_ctx = c;
    cur_spec = spec;
    int rc = run_locked(c, spec);
    cur_ctx = NULL;
    cur_spec = NULL;
    PyGILState_Release(g);
    return rc;
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
    {"worker_main", py_worker_main, METH_VARARGS,
     "Runs this process as a Python worker until the raylet lets it go."},
    {NULL, NULL, 0, NULL},
};
