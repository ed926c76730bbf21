/* Placement groups: the handle type ray._raylet.PlacementGroupCore and
 * create, wait, remove and lookup over libray's ray_pg_*. */
#include "pyr.h"

#include <math.h>
#include <stdlib.h>

#define PYR_MAX_BUNDLES 1024
#define PYR_MAX_BUNDLE_RES 64

/* ---------------------------------------------------------------- the type */

static PyObject *pg_new(ray_pg *g)
{
    pyr_pg *o = PyObject_New(pyr_pg, &pyr_pg_type);
    if (o == NULL) {
        ray_pg_release(g);
        return NULL;
    }
    o->pg = g;
    o->gen = pyr_generation;
    return (PyObject *)o;
}

static void pg_dealloc(pyr_pg *o)
{
    if (o->pg != NULL && o->gen == pyr_generation && ray_is_initialized())
        ray_pg_release(o->pg);
    PyObject_Free(o);
}

static PyObject *pg_hex(pyr_pg *o, PyObject *unused)
{
    return PyUnicode_FromString(ray_pg_hex(o->pg));
}

static PyMethodDef pg_methods[] = {
    {"hex", (PyCFunction)pg_hex, METH_NOARGS, "The group id as hex."},
    {NULL, NULL, 0, NULL},
};

PyTypeObject pyr_pg_type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "ray._raylet.PlacementGroupCore",
    .tp_basicsize = sizeof(pyr_pg),
    .tp_dealloc = (destructor)pg_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "libray's handle to a placement group.",
    .tp_methods = pg_methods,
};

int pyr_pg_arg(PyObject *o, const ray_pg **out)
{
    *out = NULL;
    if (o == NULL || o == Py_None)
        return 0;
    if (!PyObject_TypeCheck(o, &pyr_pg_type)) {
        PyErr_SetString(PyExc_TypeError, "placement_group must be a PlacementGroup");
        return -1;
    }
    pyr_pg *g = (pyr_pg *)o;
    if (g->gen != pyr_generation || !ray_is_initialized()) {
        PyErr_SetString(PyExc_ValueError, "this placement group belongs to an earlier "
                                          "ray.init() session");
        return -1;
    }
    *out = g->pg;
    return 0;
}

/* ---------------------------------------------------------------- create */

/* The bundles of LIST (dicts of name -> quantity) into B and RES (which
 * borrow the names).  Returns the count, or -1 with a Python error. */
static Py_ssize_t parse_bundles(PyObject *list, ray_bundle *b, ray_resource *res)
{
    if (!PyList_Check(list) || PyList_GET_SIZE(list) < 1 ||
        PyList_GET_SIZE(list) > PYR_MAX_BUNDLES) {
        PyErr_SetString(PyExc_ValueError, "bundles must be a non-empty list of at most 1024 "
                                          "dicts");
        return -1;
    }
    size_t k = 0;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(list); i++) {
        PyObject *d = PyList_GET_ITEM(list, i), *name, *q;
        Py_ssize_t pos = 0;
        if (!PyDict_Check(d) || PyDict_GET_SIZE(d) == 0 ||
            PyDict_GET_SIZE(d) > PYR_MAX_BUNDLE_RES) {
            PyErr_Format(PyExc_ValueError, "bundle %zd must be a non-empty dict of resource "
                                           "name -> quantity", i);
            return -1;
        }
        b[i].resources = res + k;
        b[i].n_resources = (size_t)PyDict_GET_SIZE(d);
        while (PyDict_Next(d, &pos, &name, &q)) {
            double v = PyFloat_AsDouble(q);
            if (!PyUnicode_Check(name) || (v == -1.0 && PyErr_Occurred()) || !isfinite(v) ||
                v < 0) {
                PyErr_Format(PyExc_ValueError, "bundle %zd: quantities must be numbers >= 0 "
                                               "under str names", i);
                return -1;
            }
            if ((res[k].name = PyUnicode_AsUTF8(name)) == NULL)
                return -1;
            res[k++].qty = v;
        }
    }
    return PyList_GET_SIZE(list);
}

static PyObject *py_pg_create(PyObject *self, PyObject *args, PyObject *kw)
{
    static char *names[] = {"bundles", "strategy", "name", "namespace", "detached", NULL};
    PyObject *list;
    const char *name = NULL, *ns = NULL;
    int strategy = 0, detached = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O|izzp", names, &list, &strategy, &name, &ns,
                                     &detached))
        return NULL;
    ray_bundle *b = calloc(PYR_MAX_BUNDLES, sizeof *b);
    ray_resource *res = calloc(PYR_MAX_BUNDLES * PYR_MAX_BUNDLE_RES, sizeof *res);
    Py_ssize_t n = b && res ? parse_bundles(list, b, res) : (PyErr_NoMemory(), -1);
    ray_pg *g = NULL;
    if (n > 0) {
        ray_pg_opts o = {(ray_pg_strategy)strategy, name, ns, detached};
        Py_BEGIN_ALLOW_THREADS
        g = ray_pg_create(b, (size_t)n, &o);
        Py_END_ALLOW_THREADS
    }
    free(b);
    free(res);
    if (n <= 0)
        return NULL;
    return g ? pg_new(g) : pyr_raise(RAY_ERR_INVALID);
}

/* ---------------------------------------------------------------- wait, remove, get */

static PyObject *py_pg_wait(PyObject *self, PyObject *args)
{
    PyObject *o;
    const ray_pg *cg;
    double timeout;
    if (!PyArg_ParseTuple(args, "Od", &o, &timeout) || pyr_pg_arg(o, &cg) < 0)
        return NULL;
    if (cg == NULL)
        return PyErr_Format(PyExc_TypeError, "a PlacementGroup is needed");
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = ray_pg_wait((ray_pg *)cg, timeout);
    Py_END_ALLOW_THREADS
    if (rc == RAY_OK)
        Py_RETURN_TRUE;
    if (rc == RAY_ERR_TIMEOUT)
        Py_RETURN_FALSE;
    return pyr_raise(rc);
}

static PyObject *py_pg_remove(PyObject *self, PyObject *o)
{
    const ray_pg *cg;
    if (pyr_pg_arg(o, &cg) < 0)
        return NULL;
    if (cg == NULL)
        return PyErr_Format(PyExc_TypeError, "a PlacementGroup is needed");
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = ray_pg_remove((ray_pg *)cg);
    Py_END_ALLOW_THREADS
    if (rc != RAY_OK)
        return pyr_raise(rc);
    Py_RETURN_NONE;
}

static PyObject *py_pg_get(PyObject *self, PyObject *args)
{
    const char *name, *ns = NULL;
    if (!PyArg_ParseTuple(args, "s|z", &name, &ns))
        return NULL;
    ray_pg *g;
    Py_BEGIN_ALLOW_THREADS
    g = ray_pg_get(name, ns);
    Py_END_ALLOW_THREADS
    return g ? pg_new(g) : pyr_raise(RAY_ERR_NOT_FOUND);
}

/* The node id (hex) each bundle is reserved on ("" while pending). */
static PyObject *py_pg_nodes(PyObject *self, PyObject *o)
{
    const ray_pg *cg;
    if (pyr_pg_arg(o, &cg) < 0)
        return NULL;
    if (cg == NULL)
        return PyErr_Format(PyExc_TypeError, "a PlacementGroup is needed");
    size_t n = ray_pg_bundle_count(cg);
    PyObject *l = PyList_New((Py_ssize_t)n);
    for (size_t i = 0; l != NULL && i < n; i++) {
        char node[128];
        int rc;
        Py_BEGIN_ALLOW_THREADS
        rc = ray_pg_bundle_node((ray_pg *)cg, i, node, sizeof node);
        Py_END_ALLOW_THREADS
        PyObject *s = rc == RAY_OK ? PyUnicode_FromString(node) : pyr_raise(rc);
        if (s == NULL)
            Py_CLEAR(l);
        else
            PyList_SET_ITEM(l, (Py_ssize_t)i, s);
    }
    return l;
}

PyMethodDef pyr_pg_methods[] = {
    {"pg_create", (PyCFunction)(void (*)(void))py_pg_create, METH_VARARGS | METH_KEYWORDS,
     "Creates a placement group; returns its handle at once."},
    {"pg_wait", py_pg_wait, METH_VARARGS, "True once every bundle is reserved."},
    {"pg_remove", py_pg_remove, METH_O, "Removes a placement group."},
    {"pg_get", py_pg_get, METH_VARARGS, "Finds a named placement group."},
    {"pg_nodes", py_pg_nodes, METH_O, "The node of each bundle."},
    {NULL, NULL, 0, NULL},
};
