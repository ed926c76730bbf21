/* Tasks, actors and objects: submit, actor create/call/get/kill, get, put,
 * wait, cancel.  Every blocking libray call runs without the GIL. */
#include "pyr.h"

#include "api/api.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PYR_MAX_ARGS 4096
#define PYR_MAX_RESOURCES 64
/* A driver's long wait goes back to Python this often to run signal
 * handlers (Ctrl-C raises KeyboardInterrupt in ray.get, as in Ray). */
#define PYR_WAIT_SLICE_S 0.2

/* ---------------------------------------------------------------- arguments */

/* The ray_args of one submission and what they borrow or own. */
typedef struct argset {
    ray_arg v[PYR_MAX_ARGS];
    size_t n;
    void *bufs[PYR_MAX_ARGS];    /* inline copies (malloc) */
    ray_ref *temps[PYR_MAX_ARGS]; /* large by-value arguments put first */
    size_t nbufs, ntemps;
} argset;

static void argset_free(argset *a)
{
    for (size_t i = 0; i < a->nbufs; i++)
        free(a->bufs[i]);
    for (size_t i = 0; i < a->ntemps; i++)
        ray_ref_release(a->temps[i]);
    free(a);
}

/* One argument: an ObjectRef (by reference; a rebuilt one by its value) or
 * a list of parts (by value). */
static int add_arg(argset *a, PyObject *item)
{
    if (PyObject_TypeCheck(item, &pyr_ref_type)) {
        pyr_ref *r = (pyr_ref *)item;
        if (r->ref != NULL && !pyr_live(item))
            return -1;
        if (r->ref != NULL) {
            a->v[a->n++] = ray_ref_arg(r->ref);
            return 0;
        }
        const pyr_buffer *b = (const pyr_buffer *)r->value;
        a->v[a->n++] = ray_bytes(b->copy ? b->copy : b->v.data, b->len);
        return 0;
    }
    Py_ssize_t len = pyr_parts_len(item);
    if (len < 0)
        return -1;
    if ((size_t)len > PYR_INLINE_MAX) {
        ray_ref *t = pyr_parts_put(item);
        if (t == NULL)
            return -1;
        a->temps[a->ntemps++] = t;
        a->v[a->n++] = ray_ref_arg(t);
        return 0;
    }
    void *buf = malloc(len ? (size_t)len : 1);
    if (buf == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    a->bufs[a->nbufs++] = buf;
    if (pyr_parts_copy(item, buf) < 0)
        return -1;
    a->v[a->n++] = ray_bytes(buf, (size_t)len);
    return 0;
}

/* One argument of a C task library's function: an ObjectRef, or an int,
 * float, str or bytes passed as the matching C value. */
static int add_plain_arg(argset *a, PyObject *item)
{
    if (PyObject_TypeCheck(item, &pyr_ref_type))
        return add_arg(a, item);
    if (PyLong_Check(item)) {
        long long v = PyLong_AsLongLong(item);
        if (v == -1 && PyErr_Occurred())
            return -1;
        a->v[a->n++] = ray_i64((int64_t)v);
    } else if (PyFloat_Check(item)) {
        a->v[a->n++] = ray_f64(PyFloat_AS_DOUBLE(item));
    } else if (PyUnicode_Check(item)) {
        Py_ssize_t len;
        const char *s = PyUnicode_AsUTF8AndSize(item, &len);
        if (s == NULL)
            return -1;
        if (strlen(s) != (size_t)len) {
            PyErr_SetString(PyExc_ValueError, "a str passed to a C function cannot hold NUL");
            return -1;
        }
        a->v[a->n++] = ray_str(s);
    } else if (PyBytes_Check(item)) {
        a->v[a->n++] = ray_bytes(PyBytes_AS_STRING(item), (size_t)PyBytes_GET_SIZE(item));
    } else {
        PyErr_Format(PyExc_TypeError, "a C function takes int, float, str, bytes or ObjectRef "
                                      "arguments, not %s", Py_TYPE(item)->tp_name);
        return -1;
    }
    return 0;
}

/* The arguments of LIST (parts lists, or plain values when PLAIN), held
 * until argset_free; the items must live as long. */
static argset *build_args_as(PyObject *list, int plain)
{
    if (!PyList_Check(list) || PyList_GET_SIZE(list) > PYR_MAX_ARGS) {
        PyErr_SetString(PyExc_TypeError, "task arguments must be a list of at most 4096 items");
        return NULL;
    }
    argset *a = calloc(1, sizeof *a);
    if (a == NULL)
        return (argset *)PyErr_NoMemory();
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(list); i++) {
        PyObject *item = PyList_GET_ITEM(list, i);
        if ((plain ? add_plain_arg(a, item) : add_arg(a, item)) < 0) {
            argset_free(a);
            return NULL;
        }
    }
    return a;
}

static argset *build_args(PyObject *list)
{
    return build_args_as(list, 0);
}

/* ---------------------------------------------------------------- options */

/* None: the default (0); an explicit 0: RAY_ZERO; -1: RAY_INFINITE. */
static int opt_count(PyObject *o, int *out, const char *what)
{
    if (o == NULL || o == Py_None) {
        *out = 0;
        return 0;
    }
    long v = PyLong_AsLong(o);
    if (v == -1 && PyErr_Occurred())
        return -1;
    if (v < -1 || v > 1000000) {
        PyErr_Format(PyExc_ValueError, "%s must be -1 (infinite) or between 0 and 1000000", what);
        return -1;
    }
    *out = v == 0 ? RAY_ZERO : v == -1 ? RAY_INFINITE : (int)v;
    return 0;
}

static int opt_qty(PyObject *o, double *out, const char *what)
{
    if (o == NULL || o == Py_None) {
        *out = 0;
        return 0;
    }
    double v = PyFloat_AsDouble(o);
    if (v == -1.0 && PyErr_Occurred())
        return -1;
    if (!isfinite(v) || v < 0) {
        PyErr_Format(PyExc_ValueError, "%s must be a number >= 0", what);
        return -1;
    }
    *out = v == 0 ? RAY_ZERO : v;
    return 0;
}

typedef struct resset {
    ray_resource v[PYR_MAX_RESOURCES];
    size_t n;
} resset;

static int opt_resources(PyObject *d, resset *rs)
{
    rs->n = 0;
    if (d == NULL || d == Py_None)
        return 0;
    if (!PyDict_Check(d)) {
        PyErr_SetString(PyExc_TypeError, "resources must be a dict of name -> quantity");
        return -1;
    }
    PyObject *k, *val;
    Py_ssize_t pos = 0;
    while (PyDict_Next(d, &pos, &k, &val)) {
        if (rs->n == PYR_MAX_RESOURCES || !PyUnicode_Check(k)) {
            PyErr_SetString(PyExc_ValueError, "resources: at most 64 entries with str names");
            return -1;
        }
        double q = PyFloat_AsDouble(val);
        if ((q == -1.0 && PyErr_Occurred()) || !isfinite(q) || q < 0) {
            PyErr_Format(PyExc_ValueError, "resources: %U must be a number >= 0", k);
            return -1;
        }
        rs->v[rs->n].name = PyUnicode_AsUTF8(k);
        rs->v[rs->n++].qty = q;
    }
    return 0;
}

/* Where a task or actor runs: STRATEGY (a ray_strategy), NODE and SOFT for
 * node affinity, PG and BUNDLE for a placement group (-1: any bundle). */
typedef struct placement {
    int strategy;
    const char *node;
    int soft;
    const ray_pg *pg;
    int bundle;
} placement;

static int check_placement(placement *p, PyObject *pg)
{
    if (p->strategy != RAY_STRATEGY_DEFAULT && p->strategy != RAY_STRATEGY_SPREAD &&
        p->strategy != RAY_STRATEGY_NODE_AFFINITY) {
        PyErr_Format(PyExc_ValueError, "unsupported scheduling strategy %d", p->strategy);
        return -1;
    }
    if (p->strategy == RAY_STRATEGY_NODE_AFFINITY && (p->node == NULL || *p->node == '\0')) {
        PyErr_SetString(PyExc_ValueError, "NodeAffinitySchedulingStrategy needs a node_id");
        return -1;
    }
    if (pyr_pg_arg(pg, &p->pg) < 0)
        return -1;
    if (p->pg != NULL && (p->bundle < -1 || (p->bundle >= 0 &&
                                              (size_t)p->bundle >= ray_pg_bundle_count(p->pg)))) {
        PyErr_Format(PyExc_ValueError, "placement_group_bundle_index %d is out of range "
                     "(the group has %zu bundles)", p->bundle, ray_pg_bundle_count(p->pg));
        return -1;
    }
    if (p->bundle == -1)
        p->bundle = RAY_BUNDLE_ANY;
    return 0;
}

/* ---------------------------------------------------------------- results */

static PyObject *ref_list(ray_ref **refs, size_t n)
{
    PyObject *l = PyList_New((Py_ssize_t)n);
    for (size_t i = 0; i < n; i++) {
        PyObject *r = l ? pyr_ref_new(refs[i]) : NULL;
        if (r == NULL) {
            for (size_t j = i + 1; j < n; j++)
                ray_ref_release(refs[j]);
            Py_XDECREF(l);
            return NULL;
        }
        PyList_SET_ITEM(l, (Py_ssize_t)i, r);
    }
    return l;
}

static int check_returns(int n)
{
    if (n < 1 || n > 1024) {
        PyErr_SetString(PyExc_ValueError, "num_returns must be between 1 and 1024");
        return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------- submit */

static PyObject *py_submit(PyObject *self, PyObject *args, PyObject *kw)
{
    static char *names[] = {"function", "args", "num_returns", "num_cpus", "num_gpus",
                            "memory", "max_retries", "retry_exceptions", "resources",
                            "strategy", "name", "node_id", "soft", "placement_group",
                            "bundle_index", "cross_language", NULL};
    const char *fn, *name = NULL;
    PyObject *list, *cpus = NULL, *gpus = NULL, *mem = NULL, *retries = NULL, *res = NULL,
             *pg = NULL;
    int nret = 1, retry_exc = 0, c_lang = 0;
    placement pl = {0, NULL, 0, NULL, -1};
    if (!PyArg_ParseTupleAndKeywords(args, kw, "sO|iOOOOpOizzpOip", names, &fn, &list, &nret,
                                     &cpus, &gpus, &mem, &retries, &retry_exc, &res,
                                     &pl.strategy, &name, &pl.node, &pl.soft, &pg, &pl.bundle,
                                     &c_lang))
        return NULL;
    ray_task_opts o = {0};
    resset rs;
    if (check_returns(nret) < 0 || opt_qty(cpus, &o.num_cpus, "num_cpus") < 0 ||
        opt_qty(gpus, &o.num_gpus, "num_gpus") < 0 || opt_qty(mem, &o.memory, "memory") < 0 ||
        opt_count(retries, &o.max_retries, "max_retries") < 0 || opt_resources(res, &rs) < 0 ||
        check_placement(&pl, pg) < 0)
        return NULL;
    o.num_returns = nret;
    o.retry_exceptions = retry_exc;
    o.resources = rs.v;
    o.n_resources = rs.n;
    o.strategy = (ray_strategy)pl.strategy;
    o.node_id = pl.node;
    o.soft = pl.soft;
    o.placement_group = pl.pg;
    o.bundle_index = pl.bundle;
    o.name = name;
    argset *a = build_args_as(list, c_lang);
    if (a == NULL)
        return NULL;
    ray_ref *refs[1024];
    int rc;
    Py_BEGIN_ALLOW_THREADS
    if (c_lang)
        rc = api_submit_as(RAYC__LANGUAGE__C, fn, (ray_args){a->v, a->n}, &o, refs, (size_t)nret);
    else
        rc = ray_submit(fn, (ray_args){a->v, a->n}, &o, refs, (size_t)nret);
    Py_END_ALLOW_THREADS
    argset_free(a);
    if (rc != RAY_OK)
        return pyr_raise(rc);
    PyObject *l = ref_list(refs, (size_t)nret);
    for (Py_ssize_t i = 0; l != NULL && i < nret; i++)
        ((pyr_ref *)PyList_GET_ITEM(l, i))->plain = c_lang;
    return l;
}

/* ---------------------------------------------------------------- actors */

static PyObject *py_actor_create(PyObject *self, PyObject *args, PyObject *kw)
{
    static char *names[] = {"class_name", "args", "name", "namespace", "get_if_exists",
                            "detached", "max_restarts", "max_task_retries", "max_concurrency",
                            "num_cpus", "num_gpus", "memory", "resources", "strategy",
                            "node_id", "soft", "placement_group", "bundle_index", NULL};
    const char *cls, *name = NULL, *ns = NULL;
    PyObject *list, *restarts = NULL, *task_retries = NULL, *cpus = NULL, *gpus = NULL,
             *mem = NULL, *res = NULL, *pg = NULL;
    int get_if_exists = 0, detached = 0, conc = 1;
    placement pl = {0, NULL, 0, NULL, -1};
    if (!PyArg_ParseTupleAndKeywords(args, kw, "sO|zzppOOiOOOOizpOi", names, &cls, &list,
                                     &name, &ns, &get_if_exists, &detached, &restarts,
                                     &task_retries, &conc, &cpus, &gpus, &mem, &res,
                                     &pl.strategy, &pl.node, &pl.soft, &pg, &pl.bundle))
        return NULL;
    ray_actor_opts o = {0};
    resset rs;
    if (opt_count(restarts, &o.max_restarts, "max_restarts") < 0 ||
        opt_count(task_retries, &o.max_task_retries, "max_task_retries") < 0 ||
        opt_qty(cpus, &o.num_cpus, "num_cpus") < 0 || opt_qty(gpus, &o.num_gpus, "num_gpus") < 0 ||
        opt_qty(mem, &o.memory, "memory") < 0 || opt_resources(res, &rs) < 0 ||
        check_placement(&pl, pg) < 0)
        return NULL;
    if (conc < 1 || conc > 1000)
        return PyErr_Format(PyExc_ValueError, "max_concurrency must be between 1 and 1000");
    o.name = name;
    o.ns = ns;
    o.get_if_exists = get_if_exists;
    o.detached = detached;
    o.max_concurrency = conc;
    o.resources = rs.v;
    o.n_resources = rs.n;
    o.strategy = (ray_strategy)pl.strategy;
    o.node_id = pl.node;
    o.soft = pl.soft;
    o.placement_group = pl.pg;
    o.bundle_index = pl.bundle;
    argset *a = build_args(list);
    if (a == NULL)
        return NULL;
    ray_actor *h;
    Py_BEGIN_ALLOW_THREADS
    h = ray_actor_create(cls, (ray_args){a->v, a->n}, &o);
    Py_END_ALLOW_THREADS
    argset_free(a);
    return h ? pyr_actor_new(h) : pyr_raise(RAY_ERR_INVALID);
}

static PyObject *py_actor_call(PyObject *self, PyObject *args)
{
    pyr_actor *act;
    const char *method;
    PyObject *list;
    int nret = 1;
    if (!PyArg_ParseTuple(args, "O!sO|i", &pyr_actor_type, &act, &method, &list, &nret) ||
        check_returns(nret) < 0 || !pyr_live((PyObject *)act))
        return NULL;
    argset *a = build_args(list);
    if (a == NULL)
        return NULL;
    ray_task_opts o = {0};
    o.num_returns = nret;
    ray_ref *refs[1024];
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = ray_actor_submit(act->actor, method, (ray_args){a->v, a->n}, &o, refs, (size_t)nret);
    Py_END_ALLOW_THREADS
    argset_free(a);
    if (rc != RAY_OK)
        return pyr_raise(rc);
    return ref_list(refs, (size_t)nret);
}

static PyObject *py_get_actor(PyObject *self, PyObject *args)
{
    const char *name, *ns = NULL;
    if (!PyArg_ParseTuple(args, "s|z", &name, &ns))
        return NULL;
    ray_actor *h;
    Py_BEGIN_ALLOW_THREADS
    h = ray_get_actor(name, ns);
    Py_END_ALLOW_THREADS
    return h ? pyr_actor_new(h) : pyr_raise(RAY_ERR_NOT_FOUND);
}

/* actor_from_hex(hex): a handle to the actor with that id (one passed in a
 * task argument or value); calls reach it wherever it lives. */
static PyObject *py_actor_from_hex(PyObject *self, PyObject *args)
{
    const char *hex;
    ids_actor id;
    if (!PyArg_ParseTuple(args, "s", &hex))
        return NULL;
    if (strlen(hex) != 2 * IDS_ACTOR_LEN || ids_from_hex(hex, id.b, IDS_ACTOR_LEN) != 0) {
        PyErr_Format(PyExc_ValueError, "not an actor id: %.80s", hex);
        return NULL;
    }
    int rc = api_check_init("actor_from_hex");
    if (rc != RAY_OK)
        return pyr_raise(rc);
    return pyr_actor_new(api_actor_handle(&id));
}

static PyObject *py_kill(PyObject *self, PyObject *args)
{
    pyr_actor *act;
    int no_restart = 1, rc;
    if (!PyArg_ParseTuple(args, "O!|p", &pyr_actor_type, &act, &no_restart) ||
        !pyr_live((PyObject *)act))
        return NULL;
    Py_BEGIN_ALLOW_THREADS
    rc = ray_actor_kill(act->actor, no_restart);
    Py_END_ALLOW_THREADS
    if (rc != RAY_OK)
        return pyr_raise(rc);
    Py_RETURN_NONE;
}

/* ---------------------------------------------------------------- objects */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Seconds left until DEADLINE (< 0: none): -1 for none, else >= 0. */
static double left_s(double deadline)
{
    if (deadline < 0)
        return -1.0;
    double left = deadline - now_s();
    return left < 0 ? 0 : left;
}

/* Whether a wait of LEFT seconds is cut into slices (see PYR_WAIT_SLICE_S).
 * Not in a worker: each wait of a task there tells the raylet it blocks. */
static int sliced(double left)
{
    return !api_g.is_worker && (left < 0 || left > PYR_WAIT_SLICE_S);
}

/* ray_get of R until DEADLINE, GIL released, checking signals between
 * slices.  Returns a status, or -1 with a Python error (a signal handler
 * raised). */
static int get_value(ray_ref *r, double deadline, ray_value *v)
{
    for (;;) {
        double left = left_s(deadline);
        int slice = sliced(left), rc;
        Py_BEGIN_ALLOW_THREADS
        rc = ray_get(r, slice ? PYR_WAIT_SLICE_S : left, v);
        Py_END_ALLOW_THREADS
        if (rc != RAY_ERR_TIMEOUT || !slice)
            return rc;
        if (PyErr_CheckSignals() < 0)
            return -1;
    }
}

/* A C value as a 1-tuple (value,): int, float, str or bytes; V is released. */
static PyObject *plain_value(ray_value *v)
{
    PyObject *o;
    switch (v->type) {
    case RAY_I64: o = PyLong_FromLongLong(v->i64); break;
    case RAY_F64: o = PyFloat_FromDouble(v->f64); break;
    case RAY_STR: o = PyUnicode_DecodeUTF8(v->data, (Py_ssize_t)v->len, "replace"); break;
    case RAY_BYTES: o = PyBytes_FromStringAndSize(v->data, (Py_ssize_t)v->len); break;
    default:
        o = NULL;
        PyErr_SetString(PyExc_TypeError, "the C function returned an actor handle, "
                                         "which Python cannot use");
    }
    ray_value_release(v);
    return o ? Py_BuildValue("(N)", o) : NULL;
}

/* One value of get: a Buffer, a 1-tuple (value,) for a C task's result,
 * or (status name, message) for an error of the object itself.  Timeouts
 * and lost connections raise. */
static PyObject *get_one(pyr_ref *r, double deadline)
{
    if (r->ref == NULL) {
        Py_INCREF(r->value);
        return r->value;
    }
    if (!pyr_live((PyObject *)r))
        return NULL;
    ray_value v;
    int rc = get_value(r->ref, deadline, &v);
    if (rc < 0)
        return NULL;
    if (rc == RAY_ERR_TIMEOUT || rc == RAY_ERR_CONNECTION)
        return pyr_raise(rc);
    if (rc != RAY_OK && r->plain && (rc == RAY_ERR_TASK || rc == RAY_ERR_NOT_FOUND))
        return Py_BuildValue("(ss)", "CROSS_LANGUAGE", ray_last_error());
    if (rc != RAY_OK)
        return Py_BuildValue("(ss)", ray_status_name(rc), ray_last_error());
    if (r->plain)
        return plain_value(&v);
    if (v.type != RAY_BYTES && v.type != RAY_STR) {
        ray_value_release(&v);
        return Py_BuildValue("(ss)", "RAY_ERR_TYPE",
                             "the object is not a Python value (a C task's number or handle)");
    }
    return pyr_buffer_new(&v, NULL, 0);
}

static int parse_timeout(PyObject *t, double *deadline)
{
    *deadline = -1;
    if (t == Py_None)
        return 0;
    double s = PyFloat_AsDouble(t);
    if (s == -1.0 && PyErr_Occurred())
        return -1;
    if (isnan(s)) {
        PyErr_SetString(PyExc_ValueError, "timeout must be a number or None");
        return -1;
    }
    if (s >= 0)
        *deadline = now_s() + s;
    return 0;
}

static PyObject *py_get(PyObject *self, PyObject *args)
{
    PyObject *list, *timeout = Py_None;
    double deadline;
    if (!PyArg_ParseTuple(args, "O!|O", &PyList_Type, &list, &timeout) ||
        parse_timeout(timeout, &deadline) < 0)
        return NULL;
    Py_ssize_t n = PyList_GET_SIZE(list);
    PyObject *out = PyList_New(n);
    for (Py_ssize_t i = 0; out != NULL && i < n; i++) {
        PyObject *item = PyList_GET_ITEM(list, i);
        if (!PyObject_TypeCheck(item, &pyr_ref_type)) {
            PyErr_Format(PyExc_TypeError, "ray.get: expected an ObjectRef, got %s",
                         Py_TYPE(item)->tp_name);
            Py_CLEAR(out);
            break;
        }
        PyObject *v = get_one((pyr_ref *)item, deadline);
        if (v == NULL)
            Py_CLEAR(out);
        else
            PyList_SET_ITEM(out, i, v);
    }
    return out;
}

static PyObject *py_put(PyObject *self, PyObject *parts)
{
    ray_ref *r = pyr_parts_put(parts);
    return r ? pyr_ref_new(r) : NULL;
}

/* ray_wait of REFS until WANT are ready or DEADLINE, GIL released,
 * checking signals between slices.  Returns a status, or -1 with a Python
 * error. */
static int wait_ready(ray_ref **refs, size_t m, size_t want, double deadline, int *ready)
{
    for (;;) {
        double left = left_s(deadline);
        int slice = sliced(left), rc;
        size_t n_ready = 0;
        Py_BEGIN_ALLOW_THREADS
        rc = ray_wait(refs, m, want, slice ? PYR_WAIT_SLICE_S : left, ready, &n_ready);
        Py_END_ALLOW_THREADS
        if (rc != RAY_OK || !slice || n_ready >= want)
            return rc;
        if (PyErr_CheckSignals() < 0)
            return -1;
    }
}

static PyObject *py_wait(PyObject *self, PyObject *args)
{
    PyObject *list, *timeout = Py_None;
    Py_ssize_t num;
    double deadline;
    if (!PyArg_ParseTuple(args, "O!n|O", &PyList_Type, &list, &num, &timeout) ||
        parse_timeout(timeout, &deadline) < 0)
        return NULL;
    Py_ssize_t n = PyList_GET_SIZE(list);
    ray_ref **refs = calloc((size_t)n + 1, sizeof *refs);
    int *ready = calloc((size_t)n + 1, sizeof *ready);
    PyObject *out = refs && ready ? PyList_New(n) : PyErr_NoMemory();
    size_t m = 0;
    for (Py_ssize_t i = 0; out != NULL && i < n; i++) {
        pyr_ref *r = (pyr_ref *)PyList_GET_ITEM(list, i);
        if (!PyObject_TypeCheck(r, &pyr_ref_type)) {
            PyErr_SetString(PyExc_TypeError, "ray.wait: expected a list of ObjectRefs");
            Py_CLEAR(out);
        } else if (r->ref != NULL && !pyr_live((PyObject *)r)) {
            Py_CLEAR(out);
        } else if (r->ref != NULL) {
            refs[m++] = r->ref;
        }
    }
    int rc = RAY_OK;
    size_t want = (size_t)num > m ? m : (size_t)num;
    if (out != NULL && m > 0)
        rc = wait_ready(refs, m, want, deadline, ready);
    for (Py_ssize_t i = 0, k = 0; out != NULL && rc == RAY_OK && i < n; i++) {
        pyr_ref *r = (pyr_ref *)PyList_GET_ITEM(list, i);
        PyList_SET_ITEM(out, i, PyBool_FromLong(r->ref == NULL ? 1 : ready[k++]));
    }
    free(refs);
    free(ready);
    if (out != NULL && rc != RAY_OK) {
        Py_CLEAR(out);
        return rc < 0 ? NULL : pyr_raise(rc);
    }
    return out;
}

static PyObject *py_cancel(PyObject *self, PyObject *args)
{
    pyr_ref *r;
    int force = 0, rc;
    if (!PyArg_ParseTuple(args, "O!|p", &pyr_ref_type, &r, &force))
        return NULL;
    if (r->ref != NULL && !pyr_live((PyObject *)r))
        return NULL;
    if (r->ref == NULL)
        Py_RETURN_NONE;
    Py_BEGIN_ALLOW_THREADS
    rc = ray_cancel(r->ref, force);
    Py_END_ALLOW_THREADS
    if (rc != RAY_OK)
        return pyr_raise(rc);
    Py_RETURN_NONE;
}

/* A ref rebuilt inside a worker from a nested argument: its value came
 * along with the task. */
static PyObject *py_resolved_ref(PyObject *self, PyObject *args)
{
    const char *hex;
    PyObject *buf;
    if (!PyArg_ParseTuple(args, "sO!", &hex, &pyr_buffer_type, &buf))
        return NULL;
    pyr_ref *o = PyObject_New(pyr_ref, &pyr_ref_type);
    if (o == NULL)
        return NULL;
    o->ref = NULL;
    o->gen = pyr_generation;
    o->plain = 0;
    Py_INCREF(buf);
    o->value = buf;
    snprintf(o->hex, sizeof o->hex, "%s", hex);
    return (PyObject *)o;
}

PyMethodDef pyr_task_methods[] = {
    {"submit", (PyCFunction)(void (*)(void))py_submit, METH_VARARGS | METH_KEYWORDS,
     "Submits a Python task; returns its ObjectRefs."},
    {"actor_create", (PyCFunction)(void (*)(void))py_actor_create, METH_VARARGS | METH_KEYWORDS,
     "Creates an actor; returns its CoreActor."},
    {"actor_call", py_actor_call, METH_VARARGS, "Calls an actor method; returns ObjectRefs."},
    {"get_actor", py_get_actor, METH_VARARGS, "Finds a named actor."},
    {"actor_from_hex", py_actor_from_hex, METH_VARARGS, "A handle to an actor by its id."},
    {"kill", py_kill, METH_VARARGS, "Kills an actor."},
    {"get", py_get, METH_VARARGS, "Values (Buffers) or (status, message) per ref."},
    {"put", py_put, METH_O, "Puts a serialized value (a list of parts)."},
    {"wait", py_wait, METH_VARARGS, "Ready flags for each ref."},
    {"cancel", py_cancel, METH_VARARGS, "Cancels the task of a ref."},
    {"resolved_ref", py_resolved_ref, METH_VARARGS, "An ObjectRef carrying its value."},
    {NULL, NULL, 0, NULL},
};
