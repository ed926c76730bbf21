/* ray._raylet: the CPython extension that puts Ray's Python API on libray.
 *
 * The Python package (python/ray/) only handles names, pickling and
 * exceptions; submission, waiting, the object store and the worker loop are
 * libray's, called here with the GIL released around every blocking call.
 *
 *   pyr_module.c  the module: init/shutdown, errors, the function table (GCS KV)
 *   pyr_types.c   ObjectRef, ActorHandle and Buffer (a ray_value as a buffer)
 *   pyr_blob.c    serialized values: parts lists written inline or into the store
 *   pyr_task.c    submit, actors, get, put, wait, kill
 *   pyr_pg.c      placement groups
 *   pyr_worker.c  the Python worker: libray's worker loop calling into Python
 *
 * A serialized Python value ("blob") is built by ray/_private/serialization.py
 * as a list of bytes-like parts; this layer only concatenates them, inline
 * (up to 100 KiB) or straight into a store object. */
#ifndef RAYC_PYR_H
#define RAYC_PYR_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "ray/ray.h"

#define PYR_INLINE_MAX (100u * 1024u) /* larger blobs go to the store, as in libray */
#define PYR_ARG_PIN_MIN (1u << 20)    /* task arguments this large are pinned views, not copies */
#define PYR_MMAP_THRESHOLD (32 << 20) /* a worker's mallocs below this come from the heap */
#define PYR_TRIM_THRESHOLD (512 << 20) /* and it keeps this much freed heap for reuse */

/* ---------------------------------------------------------------- pyr_types.c */

typedef struct pyr_ref {
    PyObject_HEAD
    ray_ref *ref;          /* owned; NULL for a ref rebuilt from a task argument */
    unsigned gen;          /* pyr_generation when made: older ones are dead */
    PyObject *value;       /* a rebuilt ref's value (a Buffer), else NULL */
    int plain;             /* a C task's result: read as int, float, str or bytes */
    char hex[2 * 28 + 1];
} pyr_ref;

typedef struct pyr_actor {
    PyObject_HEAD
    ray_actor *actor;      /* owned */
    unsigned gen;
} pyr_actor;

typedef struct pyr_buffer {
    PyObject_HEAD
    ray_value v;           /* owned: released with the object */
    void *copy;            /* or a private copy (malloc) */
    size_t len;
} pyr_buffer;

typedef struct pyr_pg {
    PyObject_HEAD
    ray_pg *pg;            /* owned */
    unsigned gen;
} pyr_pg;

extern PyTypeObject pyr_ref_type, pyr_actor_type, pyr_buffer_type, pyr_pg_type;

/* Bumped by shutdown: refs and handles of an earlier session point at
 * freed memory and must not reach libray. */
extern unsigned pyr_generation;

/* True when O (an ObjectRef or CoreActor) belongs to this session; else
 * raises ValueError and returns 0. */
int pyr_live(PyObject *o);

/* A new ObjectRef owning R (NULL R: NULL with MemoryError). */
PyObject *pyr_ref_new(ray_ref *r);
/* A new ActorHandle owning A. */
PyObject *pyr_actor_new(ray_actor *a);
/* A new Buffer taking over V (zeroed afterwards), or holding a copy of
 * DATA/LEN when V is NULL.  NULL with a Python error on failure. */
PyObject *pyr_buffer_new(ray_value *v, const void *data, size_t len);
/* Adds the types to module M.  Returns 0 or -1. */
int pyr_types_add(PyObject *m);

/* ---------------------------------------------------------------- pyr_module.c */

/* Raises _raylet.CoreError(STATUS_NAME, MESSAGE) from ray_last_error()
 * and STATUS; returns NULL. */
PyObject *pyr_raise(int status);
/* The same with a message of our own. */
PyObject *pyr_raise_msg(int status, const char *msg);

/* ---------------------------------------------------------------- pyr_blob.c */

/* Total length of PARTS (a list of bytes-like objects), or -1 with a
 * Python error. */
Py_ssize_t pyr_parts_len(PyObject *parts);
/* Copies PARTS into DST (pyr_parts_len bytes).  Returns 0 or -1. */
int pyr_parts_copy(PyObject *parts, void *dst);
/* Puts PARTS as a new object: inline when small, else written once into
 * a store mapping.  Returns an owned ref or NULL with a Python error. */
ray_ref *pyr_parts_put(PyObject *parts);

/* ---------------------------------------------------------------- pyr_pg.c */

/* *OUT = the group of O (a PlacementGroupCore of this session), or NULL
 * for None.  Returns 0, or -1 with a Python error. */
int pyr_pg_arg(PyObject *o, const ray_pg **out);

/* ---------------------------------------------------------------- pyr_task.c, pyr_worker.c */

extern PyMethodDef pyr_pg_methods[];
extern PyMethodDef pyr_task_methods[];
extern PyMethodDef pyr_worker_methods[];
extern PyMethodDef pyr_module_methods[];

#endif
