/* The module ray._raylet: connecting (init/shutdown), errors as
 * _raylet.CoreError(status_name, message), and the function table in the
 * GCS KV that drivers export pickled functions and classes to. */
#include "pyr.h"

#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "common/rpc_client.h"
#include "common/util.h"

#define PYR_KV_NS "py_functions"
#define PYR_KV_TIMEOUT_MS 30000
#define PYR_KV_MAX (64u * 1024u * 1024u) /* a pickled function or class */

static PyObject *core_error;

PyObject *pyr_raise_msg(int status, const char *msg)
{
    PyObject *v = Py_BuildValue("(ss)", ray_status_name(status), msg);
    if (v != NULL) {
        PyErr_SetObject(core_error, v);
        Py_DECREF(v);
    }
    return NULL;
}

PyObject *pyr_raise(int status)
{
    return pyr_raise_msg(status, ray_last_error());
}

/* ---------------------------------------------------------------- init */

/* Builds a NULL-terminated array of the strings of LIST into OUT (borrowed
 * UTF-8).  Returns 0 or -1. */
static int str_array(PyObject *list, const char **out, size_t max, const char *what)
{
    if (list == Py_None) {
        out[0] = NULL;
        return 0;
    }
    if (!PyList_Check(list) || (size_t)PyList_GET_SIZE(list) >= max) {
        PyErr_Format(PyExc_TypeError, "%s: a list of at most %zu strings", what, max - 1);
        return -1;
    }
    Py_ssize_t n = PyList_GET_SIZE(list);
    for (Py_ssize_t i = 0; i < n; i++)
        if ((out[i] = PyUnicode_AsUTF8(PyList_GET_ITEM(list, i))) == NULL)
            return -1;
    out[n] = NULL;
    return 0;
}

static PyObject *py_init(PyObject *self, PyObject *args, PyObject *kw)
{
    static char *names[] = {"address", "namespace", "env_vars", "python", "timeout",
                            "code_search_path", NULL};
    const char *addr = NULL, *ns = NULL, *python = NULL;
    PyObject *env = Py_None, *csp = Py_None;
    double timeout = 0;
    const char *envv[256], *cspv[64];
    if (!PyArg_ParseTupleAndKeywords(args, kw, "|zzOzdO", names, &addr, &ns, &env, &python,
                                     &timeout, &csp) ||
        str_array(env, envv, 256, "env_vars") < 0 ||
        str_array(csp, cspv, 64, "code_search_path") < 0)
        return NULL;
    if (api_set_python(python) != RAY_OK)
        return pyr_raise(RAY_ERR_INVALID);
    ray_init_opts o = {0};
    o.address = addr;
    o.ns = ns;
    o.env_vars = envv;
    o.code_search_path = cspv; /* None: an empty path, not libray's default */
    o.timeout_s = timeout;
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = ray_init(&o);
    Py_END_ALLOW_THREADS
    if (rc != RAY_OK)
        return pyr_raise(rc);
    Py_RETURN_NONE;
}

/* The GCS address ray_init would use for ADDRESS (None: $RAY_ADDRESS, then
 * the local cluster): the driver hands it to its workers. */
static PyObject *py_find_gcs(PyObject *self, PyObject *args)
{
    const char *given = NULL;
    char out[256];
    if (!PyArg_ParseTuple(args, "|z", &given))
        return NULL;
    int rc = api_find_gcs(given, out, sizeof out);
    return rc == RAY_OK ? PyUnicode_FromString(out) : pyr_raise(rc);
}

static rpc_client *kv_client;
static PyThread_type_lock kv_lock;

static PyObject *py_shutdown(PyObject *self, PyObject *unused)
{
    pyr_generation++;
    Py_BEGIN_ALLOW_THREADS
    PyThread_acquire_lock(kv_lock, WAIT_LOCK);
    rpc_client_close(kv_client);
    kv_client = NULL;
    PyThread_release_lock(kv_lock);
    ray_shutdown();
    Py_END_ALLOW_THREADS
    Py_RETURN_NONE;
}

static PyObject *py_is_initialized(PyObject *self, PyObject *unused)
{
    return PyBool_FromLong(ray_is_initialized());
}

/* A number that changes with every init/shutdown (caches per session). */
static PyObject *py_session(PyObject *self, PyObject *unused)
{
    return PyLong_FromUnsignedLong(pyr_generation);
}

static PyObject *py_info(PyObject *self, PyObject *unused)
{
    /* The node dir holds sockets/ (the raylet's) and logs/ (the workers'). */
    const char *slash = strrchr(api_g.sock_dir, '/');
    Py_ssize_t dirlen = slash ? (Py_ssize_t)(slash - api_g.sock_dir) : 0;
    return Py_BuildValue("{s:s,s:s,s:s,s:s,s:s,s:i,s:s#}", "job_id", api_g.job_hex, "node_id",
                         api_g.node_id, "node_ip", api_g.node_ip, "namespace", api_g.ns,
                         "gcs_address", api_g.gcs_address, "is_worker", api_g.is_worker,
                         "node_dir", api_g.sock_dir, dirlen);
}

/* ---------------------------------------------------------------- the function table */

/* Connects kv_client (kv_lock held, no GIL): the GCS this process knows,
 * else $RAYC_GCS_ADDRESS (workers). */
static int kv_connect(void)
{
    if (kv_client != NULL)
        return RAY_OK;
    char token[TOKEN_MAX + 1];
    const char *addr = api_g.gcs_address[0] ? api_g.gcs_address : getenv("RAYC_GCS_ADDRESS");
    if (addr == NULL || *addr == '\0')
        return api_fail(RAY_ERR_CONNECTION, "the function table: no GCS address known");
    int rc = api_g.token[0] ? (str_copy(token, sizeof token, api_g.token), RAY_OK)
                            : api_find_token(NULL, token, sizeof token);
    if (rc == RAY_OK)
        rc = api_gcs_connect(addr, token, PYR_KV_TIMEOUT_MS, &kv_client);
    return rc;
}

/* One call to the GCS (no GIL): the KV, or another request.  Returns a status; *REPLY set on RAY_OK. */
static int kv_call(Rayc__Envelope *req, int want, Rayc__Envelope **reply)
{
    PyThread_acquire_lock(kv_lock, WAIT_LOCK);
    int rc = kv_connect();
    if (rc == RAY_OK) {
        rc = api_gcs_call(kv_client, req, want, PYR_KV_TIMEOUT_MS, reply, "the function table");
        if (rc != RAY_OK) {
            rpc_client_close(kv_client); /* reconnect next time */
            kv_client = NULL;
        }
    }
    PyThread_release_lock(kv_lock);
    return rc;
}

static PyObject *py_kv_put(PyObject *self, PyObject *args)
{
    Py_buffer key, val;
    if (!PyArg_ParseTuple(args, "y*y*", &key, &val))
        return NULL;
    Rayc__Envelope req = RAYC__ENVELOPE__INIT, *reply = NULL;
    Rayc__KvPut put = RAYC__KV_PUT__INIT;
    put.ns = PYR_KV_NS;
    put.key.data = key.buf;
    put.key.len = (size_t)key.len;
    put.value.data = val.buf;
    put.value.len = (size_t)val.len;
    put.overwrite = 0; /* same key, same pickled bytes */
    req.body_case = RAYC__ENVELOPE__BODY_KV_PUT;
    req.kv_put = &put;
    int rc = RAY_ERR_INVALID;
    if ((size_t)val.len > PYR_KV_MAX)
        api_fail(rc, "a pickled function or class over 64 MiB");
    else {
        Py_BEGIN_ALLOW_THREADS
        rc = kv_call(&req, RAYC__ENVELOPE__BODY_KV_PUT_REPLY, &reply);
        Py_END_ALLOW_THREADS
    }
    PyBuffer_Release(&key);
    PyBuffer_Release(&val);
    if (rc != RAY_OK)
        return pyr_raise(rc);
    rayc__envelope__free_unpacked(reply, NULL);
    Py_RETURN_NONE;
}

static PyObject *py_kv_get(PyObject *self, PyObject *args)
{
    Py_buffer key;
    if (!PyArg_ParseTuple(args, "y*", &key))
        return NULL;
    Rayc__Envelope req = RAYC__ENVELOPE__INIT, *reply = NULL;
    Rayc__KvGet get = RAYC__KV_GET__INIT;
    get.ns = PYR_KV_NS;
    get.key.data = key.buf;
    get.key.len = (size_t)key.len;
    req.body_case = RAYC__ENVELOPE__BODY_KV_GET;
    req.kv_get = &get;
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = kv_call(&req, RAYC__ENVELOPE__BODY_KV_GET_REPLY, &reply);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&key);
    if (rc != RAY_OK)
        return pyr_raise(rc);
    PyObject *out = reply->kv_get_reply->found
                        ? PyBytes_FromStringAndSize((const char *)reply->kv_get_reply->value.data,
                                                    (Py_ssize_t)reply->kv_get_reply->value.len)
                        : (Py_INCREF(Py_None), Py_None);
    rayc__envelope__free_unpacked(reply, NULL);
    return out;
}

/* Sets D[KEY] = V.  Returns 0 or -1 with a Python error. */
static int res_set(PyObject *d, const char *key, double v)
{
    PyObject *f = PyFloat_FromDouble(v);
    int rc = f != NULL ? PyDict_SetItemString(d, key, f) : -1;
    Py_XDECREF(f);
    return rc;
}

/* The two resource maps of N as dicts (*TOTAL, *AVAIL).  Returns 0 or -1. */
static int res_dicts(const Rayc__NodeInfo *n, PyObject **total, PyObject **avail)
{
    *total = PyDict_New();
    *avail = PyDict_New();
    int rc = *total && *avail ? 0 : -1;
    for (size_t i = 0; rc == 0 && i < n->n_resources_total; i++)
        rc = res_set(*total, n->resources_total[i]->key, n->resources_total[i]->value);
    for (size_t i = 0; rc == 0 && i < n->n_resources_available; i++)
        rc = res_set(*avail, n->resources_available[i]->key, n->resources_available[i]->value);
    return rc;
}

static PyObject *node_dict(const Rayc__NodeInfo *n)
{
    PyObject *total, *avail;
    PyObject *d = res_dicts(n, &total, &avail) == 0 ? Py_BuildValue(
        "{s:s,s:O,s:s,s:s,s:i,s:i,s:O,s:O,s:O,s:s}", "NodeID", n->node_id, "Alive",
        n->state == RAYC__NODE_INFO__STATE__ALIVE ? Py_True : Py_False, "NodeManagerAddress",
        n->address, "NodeManagerHostname", n->hostname, "NodeManagerPort",
        (int)n->node_manager_port, "ObjectManagerPort", (int)n->object_manager_port,
        "Resources", total, "AvailableResources", avail, "IsHead",
        n->is_head ? Py_True : Py_False, "DeathReason", n->death_reason ? n->death_reason : "")
        : NULL;
    Py_XDECREF(total);
    Py_XDECREF(avail);
    return d;
}

/* Every node the GCS knows, alive or dead, as dicts (ray.nodes()). */
static PyObject *py_nodes(PyObject *self, PyObject *unused)
{
    Rayc__Envelope req = RAYC__ENVELOPE__INIT, *reply = NULL;
    Rayc__GetAllNodes get = RAYC__GET_ALL_NODES__INIT;
    req.body_case = RAYC__ENVELOPE__BODY_GET_ALL_NODES;
    req.get_all_nodes = &get;
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = kv_call(&req, RAYC__ENVELOPE__BODY_NODE_LIST, &reply);
    Py_END_ALLOW_THREADS
    if (rc != RAY_OK)
        return pyr_raise(rc);
    const Rayc__NodeList *nl = reply->node_list;
    PyObject *out = PyList_New(0);
    for (size_t i = 0; out != NULL && i < nl->n_nodes; i++) {
        PyObject *d = node_dict(nl->nodes[i]);
        if (d == NULL || PyList_Append(out, d) < 0)
            Py_CLEAR(out);
        Py_XDECREF(d);
    }
    rayc__envelope__free_unpacked(reply, NULL);
    return out;
}

PyMethodDef pyr_module_methods[] = {
    {"nodes", py_nodes, METH_NOARGS, "The nodes of the cluster (GCS GetAllNodes)."},
    {"init", (PyCFunction)(void (*)(void))py_init, METH_VARARGS | METH_KEYWORDS,
     "Connects this process as a driver."},
    {"find_gcs", py_find_gcs, METH_VARARGS, "The GCS address for an address or None."},
    {"shutdown", py_shutdown, METH_NOARGS, "Disconnects."},
    {"is_initialized", py_is_initialized, METH_NOARGS, "Connected?"},
    {"session", py_session, METH_NOARGS, "This connection's generation."},
    {"info", py_info, METH_NOARGS, "Job, node and namespace of this process."},
    {"kv_put", py_kv_put, METH_VARARGS, "Stores a pickled function under a key."},
    {"kv_get", py_kv_get, METH_VARARGS, "Reads a pickled function, or None."},
    {NULL, NULL, 0, NULL},
};

/* ---------------------------------------------------------------- the module */

static int add_methods(PyObject *m, PyMethodDef *defs)
{
    return PyModule_AddFunctions(m, defs);
}

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT, "ray._raylet", "rayc's libray for Python.", -1, NULL,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__raylet(void);
PyMODINIT_FUNC PyInit__raylet(void)
{
    PyObject *m = PyModule_Create(&module_def);
    if (m == NULL)
        return NULL;
    kv_lock = PyThread_allocate_lock();
    core_error = PyErr_NewException("ray._raylet.CoreError", NULL, NULL);
    if (kv_lock == NULL || core_error == NULL || PyModule_AddObject(m, "CoreError", core_error) < 0 ||
        pyr_types_add(m) < 0 || add_methods(m, pyr_module_methods) < 0 ||
        add_methods(m, pyr_task_methods) < 0 || add_methods(m, pyr_pg_methods) < 0 || add_methods(m, pyr_worker_methods) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    Py_INCREF(core_error);
    return m;
}
