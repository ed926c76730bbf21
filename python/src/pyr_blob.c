/* Serialized values as lists of parts: their size, one copy into a buffer,
 * and puts that write large ones straight into the object store. */
#include "pyr.h"

#include <stdlib.h>
#include <string.h>

Py_ssize_t pyr_parts_len(PyObject *parts)
{
    if (!PyList_Check(parts)) {
        PyErr_SetString(PyExc_TypeError, "a serialized value must be a list of buffers");
        return -1;
    }
    Py_ssize_t total = 0;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(parts); i++) {
        Py_buffer b;
        if (PyObject_GetBuffer(PyList_GET_ITEM(parts, i), &b, PyBUF_SIMPLE) < 0)
            return -1;
        total += b.len;
        PyBuffer_Release(&b);
    }
    return total;
}

int pyr_parts_copy(PyObject *parts, void *dst)
{
    char *p = dst;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(parts); i++) {
        Py_buffer b;
        if (PyObject_GetBuffer(PyList_GET_ITEM(parts, i), &b, PyBUF_SIMPLE) < 0)
            return -1;
        if (b.len > 0)
            memcpy(p, b.buf, (size_t)b.len);
        p += b.len;
        PyBuffer_Release(&b);
    }
    return 0;
}

/* A large blob: reserve, copy once (GIL held: the parts are Python
 * buffers), seal. */
static ray_ref *put_store(PyObject *parts, Py_ssize_t n)
{
    void *data = NULL;
    ray_ref *r = NULL;
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = ray_put_alloc((size_t)n, &data, &r);
    Py_END_ALLOW_THREADS
    if (rc != RAY_OK) {
        pyr_raise(rc);
        return NULL;
    }
    if (pyr_parts_copy(parts, data) < 0) {
        ray_ref_release(r);
        return NULL;
    }
    Py_BEGIN_ALLOW_THREADS
    rc = ray_put_seal(r);
    Py_END_ALLOW_THREADS
    if (rc != RAY_OK) {
        pyr_raise(rc);
        ray_ref_release(r);
        return NULL;
    }
    return r;
}

ray_ref *pyr_parts_put(PyObject *parts)
{
    Py_ssize_t n = pyr_parts_len(parts);
    if (n < 0)
        return NULL;
    if ((size_t)n > PYR_INLINE_MAX)
        return put_store(parts, n);
    void *buf = malloc(n ? (size_t)n : 1);
    if (buf == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    if (pyr_parts_copy(parts, buf) < 0) {
        free(buf);
        return NULL;
    }
    ray_ref *r;
    Py_BEGIN_ALLOW_THREADS
    r = ray_put(ray_bytes(buf, (size_t)n));
    Py_END_ALLOW_THREADS
    free(buf);
    if (r == NULL)
        pyr_raise(RAY_ERR_INVALID);
    return r;
}
