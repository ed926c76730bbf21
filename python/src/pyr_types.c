/* ObjectRef, ActorHandle and Buffer: the C objects behind ray.ObjectRef,
 * actor handles and zero-copy values. */
#include "pyr.h"

#include <stdlib.h>
#include <string.h>

unsigned pyr_generation = 1;

int pyr_live(PyObject *o)
{
    unsigned gen = PyObject_TypeCheck(o, &pyr_ref_type) ? ((pyr_ref *)o)->gen
                                                         : ((pyr_actor *)o)->gen;
    if (gen == pyr_generation && ray_is_initialized())
        return 1;
    PyErr_SetString(PyExc_ValueError, "this ObjectRef or actor handle belongs to an earlier "
                                      "ray.init() session");
    return 0;
}

/* ---------------------------------------------------------------- ObjectRef */

PyObject *pyr_ref_new(ray_ref *r)
{
    if (r == NULL)
        return PyErr_NoMemory();
    pyr_ref *o = PyObject_New(pyr_ref, &pyr_ref_type);
    if (o == NULL) {
        ray_ref_release(r);
        return NULL;
    }
    o->ref = r;
    o->gen = pyr_generation;
    o->plain = 0;
    o->value = NULL;
    snprintf(o->hex, sizeof o->hex, "%s", ray_ref_hex(r));
    return (PyObject *)o;
}

static void ref_dealloc(pyr_ref *o)
{
    ray_ref *r = o->ref;
    o->ref = NULL;
    Py_CLEAR(o->value);
    if (r != NULL && o->gen == pyr_generation && ray_is_initialized())
        ray_ref_release(r);
    PyObject_Free(o);
}

static PyObject *ref_repr(pyr_ref *o)
{
    return PyUnicode_FromFormat("ObjectRef(%s)", o->hex);
}

static Py_hash_t ref_hash(pyr_ref *o)
{
    return _Py_HashBytes(o->hex, (Py_ssize_t)strlen(o->hex));
}

static PyObject *ref_richcompare(PyObject *a, PyObject *b, int op)
{
    if ((op != Py_EQ && op != Py_NE) || !PyObject_TypeCheck(b, &pyr_ref_type))
        Py_RETURN_NOTIMPLEMENTED;
    int eq = strcmp(((pyr_ref *)a)->hex, ((pyr_ref *)b)->hex) == 0;
    return PyBool_FromLong(op == Py_EQ ? eq : !eq);
}

static PyObject *ref_hex(pyr_ref *o, PyObject *unused)
{
    return PyUnicode_FromString(o->hex);
}

static PyObject *ref_reduce(pyr_ref *o, PyObject *unused)
{
    PyErr_SetString(PyExc_TypeError, "an ObjectRef can only be pickled by ray's own serializer "
                                     "(as a task argument)");
    return NULL;
}

/* Calls ray._private.async_compat.NAME(O). */
static PyObject *async_call(const char *name, PyObject *o)
{
    PyObject *m = PyImport_ImportModule("ray._private.async_compat");
    PyObject *r = m ? PyObject_CallMethod(m, name, "O", o) : NULL;
    Py_XDECREF(m);
    return r;
}

static PyObject *ref_await(pyr_ref *o)
{
    return async_call("ref_await", (PyObject *)o);
}

static PyObject *ref_future(pyr_ref *o, PyObject *unused)
{
    return async_call("future", (PyObject *)o);
}

static PyAsyncMethods ref_async = {
    .am_await = (unaryfunc)ref_await,
};

static PyMethodDef ref_methods[] = {
    {"hex", (PyCFunction)ref_hex, METH_NOARGS, "The object id as hex."},
    {"future", (PyCFunction)ref_future, METH_NOARGS,
     "A concurrent.futures.Future with the value."},
    {"__reduce__", (PyCFunction)ref_reduce, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

PyTypeObject pyr_ref_type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "ray._raylet.ObjectRef",
    .tp_basicsize = sizeof(pyr_ref),
    .tp_dealloc = (destructor)ref_dealloc,
    .tp_repr = (reprfunc)ref_repr,
    .tp_as_async = &ref_async,
    .tp_hash = (hashfunc)ref_hash,
    .tp_richcompare = ref_richcompare,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "A reference to an object in the cluster (a task result or a put).",
    .tp_methods = ref_methods,
};

/* ---------------------------------------------------------------- ActorHandle */

PyObject *pyr_actor_new(ray_actor *a)
{
    if (a == NULL)
        return PyErr_NoMemory();
    pyr_actor *o = PyObject_New(pyr_actor, &pyr_actor_type);
    if (o == NULL) {
        ray_actor_release(a);
        return NULL;
    }
    o->actor = a;
    o->gen = pyr_generation;
    return (PyObject *)o;
}

static void actor_dealloc(pyr_actor *o)
{
    if (o->actor != NULL && o->gen == pyr_generation && ray_is_initialized())
        ray_actor_release(o->actor);
    o->actor = NULL;
    PyObject_Free(o);
}

static PyObject *actor_hex(pyr_actor *o, PyObject *unused)
{
    return PyUnicode_FromString(ray_actor_hex(o->actor));
}

static PyMethodDef actor_methods[] = {
    {"hex", (PyCFunction)actor_hex, METH_NOARGS, "The actor id as hex."},
    {NULL, NULL, 0, NULL},
};

PyTypeObject pyr_actor_type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "ray._raylet.CoreActor",
    .tp_basicsize = sizeof(pyr_actor),
    .tp_dealloc = (destructor)actor_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "libray's handle to an actor.",
    .tp_methods = actor_methods,
};

/* ---------------------------------------------------------------- Buffer */

PyObject *pyr_buffer_new(ray_value *v, const void *data, size_t len)
{
    pyr_buffer *o = PyObject_New(pyr_buffer, &pyr_buffer_type);
    if (o == NULL) {
        if (v != NULL)
            ray_value_release(v);
        return NULL;
    }
    memset(&o->v, 0, sizeof o->v);
    o->copy = NULL;
    if (v != NULL) {
        o->v = *v;
        memset(v, 0, sizeof *v);
        o->len = o->v.len;
        return (PyObject *)o;
    }
    o->copy = malloc(len ? len : 1);
    if (o->copy == NULL) {
        Py_DECREF(o);
        return PyErr_NoMemory();
    }
    memcpy(o->copy, data, len);
    o->len = len;
    return (PyObject *)o;
}

static void buffer_dealloc(pyr_buffer *o)
{
    ray_value_release(&o->v);
    free(o->copy);
    PyObject_Free(o);
}

/* Read-only: a large value maps the shared-memory object, as in Ray. */
static int buffer_get(pyr_buffer *o, Py_buffer *view, int flags)
{
    const void *p = o->copy ? o->copy : o->v.data;
    return PyBuffer_FillInfo(view, (PyObject *)o, (void *)p, (Py_ssize_t)o->len, 1, flags);
}

static PyBufferProcs buffer_procs = {
    .bf_getbuffer = (getbufferproc)buffer_get,
};

PyTypeObject pyr_buffer_type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "ray._raylet.Buffer",
    .tp_basicsize = sizeof(pyr_buffer),
    .tp_dealloc = (destructor)buffer_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "A read-only value: a copy, or a pinned view of a store object.",
    .tp_as_buffer = &buffer_procs,
};

int pyr_types_add(PyObject *m)
{
    PyTypeObject *types[] = {&pyr_ref_type, &pyr_actor_type, &pyr_buffer_type, &pyr_pg_type};
    const char *names[] = {"ObjectRef", "CoreActor", "Buffer", "PlacementGroupCore"};
    for (size_t i = 0; i < 4; i++) {
        if (PyType_Ready(types[i]) < 0)
            return -1;
        Py_INCREF(types[i]);
        if (PyModule_AddObject(m, names[i], (PyObject *)types[i]) < 0) {
            Py_DECREF(types[i]);
            return -1;
        }
    }
    return 0;
}
