"""Ray's Python core API on rayc: tasks, actors and objects.

The hot path is C (ray._raylet over libray); this package only handles
Ray's names, pickling (cloudpickle, pickle protocol 5) and exceptions.
"""
import atexit
import sys

try:
    import cloudpickle  # noqa: F401
except ImportError:
    sys.stderr.write("ray: the cloudpickle module is missing; install the Debian package "
                     "python3-cloudpickle\n")
    raise SystemExit(1)

import os

from ray import _raylet
from ray import cross_language, exceptions, job_config  # noqa: F401  (ray.cross_language...)
from ray._private import runtime_env as renv
from ray._private import serialization
from ray._private.state import available_resources, cluster_resources, nodes
from ray._raylet import ObjectRef
from ray.actor import ActorClass, ActorHandle
from ray.remote_function import RemoteFunction
from ray.runtime_context import get_runtime_context

__version__ = "2.48.0+rayc"
__all__ = ["init", "shutdown", "is_initialized", "remote", "get", "put", "wait", "kill",
           "cancel", "get_actor", "ObjectRef", "exceptions", "method", "get_runtime_context",
           "nodes", "cluster_resources", "available_resources"]

_node = None          # the private local node started by init(), if any
_init_count = 0       # successful ray.init() calls: exports are cached per init
_log_monitor = None   # worker output on the driver (log_to_driver)
_saved_env = {}


def _check_connected():
    if not _raylet.is_initialized():
        raise exceptions.RaySystemError("ray is not initialized; call ray.init() first")


def _core_error(e):
    return exceptions.from_status(e.args[0], e.args[1])


def _worker_env(user_vars):
    """The environment of a Python job's workers: USER_VARS (runtime_env
    env_vars) and a PYTHONPATH of the user's PYTHONPATH, if any, then this
    interpreter's sys.path (so they import ray and the driver's modules)."""
    paths = [os.path.abspath(p) for p in sys.path if p and os.path.isdir(p)]
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    if here not in paths:
        paths.insert(0, here)
    if "" in sys.path or not sys.path or not sys.path[0]:
        paths.insert(0, os.getcwd())
    user = [p for p in str(user_vars.get("PYTHONPATH", "")).split(os.pathsep) if p]
    env = ["PYTHONPATH=" + os.pathsep.join(user + [p for p in paths if p not in user])]
    return env + ["%s=%s" % (k, v) for k, v in user_vars.items() if k != "PYTHONPATH"]


def _code_search_path(job_config):
    """The job's C task library path: the JobConfig's, else
    RAY_CODE_SEARCH_PATH (':'-separated), else none; relative entries are
    taken from the current directory."""
    paths = job_config.code_search_path if job_config is not None else []
    if not paths:
        paths = [p for p in os.environ.get("RAY_CODE_SEARCH_PATH", "").split(":") if p]
    return [os.path.abspath(p) for p in paths]


def init(address=None, *, num_cpus=None, num_gpus=None, resources=None,
         object_store_memory=None, namespace=None, runtime_env=None,
         ignore_reinit_error=False, log_to_driver=True, job_config=None, **kwargs):
    """Connects this process to a cluster as a driver.  With no address and
    no RAY_ADDRESS a private local node is started (and stopped at exit);
    "auto", "HOST:PORT" or RAY_ADDRESS join an existing cluster."""
    global _node
    if kwargs:
        raise ValueError("ray.init: unsupported argument(s) %s" % ", ".join(sorted(kwargs)))
    if _raylet.is_initialized():
        if ignore_reinit_error:
            return
        raise RuntimeError("Maybe you called ray.init twice by accident? This error can be "
                           "suppressed by passing in 'ignore_reinit_error=True'.")
    if address is None:
        address = os.environ.get("RAY_ADDRESS") or None
    if address == "local":
        address = None
    if job_config is not None and runtime_env is None:
        runtime_env = job_config.runtime_env
    if runtime_env is None:
        runtime_env = _submitted_job_runtime_env()
    runtime_env = renv.validate(runtime_env)
    env_vars = _worker_env(runtime_env.get("env_vars") or {})
    package_env, uploads = renv.plan(runtime_env)
    env_vars += package_env
    if address is None:
        from ray._private.node import LocalNode
        _node = LocalNode(num_cpus, num_gpus, resources, object_store_memory)
        address = _node.address
        _set_env("RAY_AUTH_TOKEN_PATH", _node.token_file)
    elif num_cpus is not None or num_gpus is not None or resources:
        raise ValueError("When connecting to an existing cluster, num_cpus and num_gpus must "
                         "not be provided.")
    elif object_store_memory is not None:
        raise ValueError("When connecting to an existing cluster, object_store_memory must "
                         "not be provided.")
    if address == "auto":
        address = None  # libray finds the local cluster
    try:
        gcs = _raylet.find_gcs(address)
        env_vars.append("RAYC_GCS_ADDRESS=" + gcs)
        _raylet.init(address=gcs, namespace=namespace, env_vars=env_vars,
                     python=os.path.abspath(sys.executable),
                     code_search_path=_code_search_path(job_config))
    except _raylet.CoreError as e:
        _stop_node()
        raise ConnectionError(e.args[1]) from None
    try:
        renv.upload(uploads)
        renv.check_uris([e for e in package_env if e])
    except BaseException:
        shutdown()
        raise
    global _init_count
    _init_count += 1
    if log_to_driver:
        global _log_monitor
        from ray._private.log_monitor import LogMonitor
        info = _raylet.info()
        _log_monitor = LogMonitor(info["node_dir"], info["job_id"])
        atexit.register(_stop_log_monitor)  # exit without shutdown(): print what is left


def _submitted_job_runtime_env():
    """Inside a job of `ray job submit`, the job's runtime_env as Ray's
    driver takes it (RAY_JOB_CONFIG_JSON_ENV_VAR): its env_vars, and its
    working_dir, which the job server unpacked into the current directory;
    the rest (pip, py_modules) the job server already applied to this
    process.  None outside a job."""
    text = os.environ.get("RAY_JOB_CONFIG_JSON_ENV_VAR")
    if not text:
        return None
    import json
    try:
        job_env = json.loads(text).get("runtime_env") or {}
    except (ValueError, AttributeError):
        return None
    out = {}
    if isinstance(job_env.get("env_vars"), dict):
        out["env_vars"] = {str(k): str(v) for k, v in job_env["env_vars"].items()}
    if job_env.get("working_dir"):
        out["working_dir"] = os.getcwd()
    return out


def _set_env(key, value):
    _saved_env.setdefault(key, os.environ.get(key))
    os.environ[key] = value


def _stop_node():
    global _node
    if _node is not None:
        _node.stop()
        _node = None
    for k, v in _saved_env.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v
    _saved_env.clear()


def _stop_log_monitor():
    global _log_monitor
    if _log_monitor is not None:
        _log_monitor.stop()
        _log_monitor = None


def shutdown():
    """Disconnects (ending the job this driver started) and stops the
    private local node, if init() started one."""
    _stop_log_monitor()
    _raylet.shutdown()
    _stop_node()


def is_initialized():
    return _raylet.is_initialized()


def remote(*args, **options):
    """@ray.remote or @ray.remote(num_cpus=..., ...) on a function or class."""
    def wrap(obj):
        if isinstance(obj, type):
            return ActorClass(obj, options)
        if callable(obj):
            return RemoteFunction(obj, options)
        raise TypeError("@ray.remote applies to functions and classes")
    if len(args) == 1 and not options and callable(args[0]):
        return wrap(args[0])
    if args:
        raise TypeError("use @ray.remote or @ray.remote(option=value, ...)")
    return wrap


def method(num_returns=1):
    """@ray.method(num_returns=N) on an actor method: its calls return N refs
    (through handles made by .remote(); a get_actor handle does not know it)."""
    def wrap(fn):
        fn.__ray_num_returns__ = num_returns
        return fn
    return wrap


def _value(item):
    if isinstance(item, tuple) and len(item) == 1:
        return item[0]  # a C task's int, float, str or bytes
    if isinstance(item, tuple):
        raise exceptions.from_status(*item)
    return serialization.deserialize(item)


def get(object_refs, *, timeout=None):
    """The value of an ObjectRef, or the values of a list of them.  A task
    error is raised as RayTaskError (also an instance of its cause's
    class); timeout (seconds) raises GetTimeoutError."""
    _check_connected()
    single = isinstance(object_refs, ObjectRef)
    refs = [object_refs] if single else object_refs
    if not isinstance(refs, list) or not all(isinstance(r, ObjectRef) for r in refs):
        raise TypeError("ray.get: expected an ObjectRef or a list of ObjectRefs, got %r"
                        % type(object_refs).__name__)
    try:
        items = _raylet.get(refs, timeout)
    except _raylet.CoreError as e:
        if e.args[0] == "RAY_ERR_TIMEOUT":
            raise exceptions.GetTimeoutError("Get timed out: some object(s) not ready.") from None
        raise _core_error(e) from None
    values = [_value(i) for i in items]
    return values[0] if single else values


def put(value):
    """Stores VALUE in the cluster; returns its ObjectRef."""
    _check_connected()
    if isinstance(value, ObjectRef):
        raise TypeError("Calling 'put' on an ray.ObjectRef is not allowed.")
    try:
        return _raylet.put(serialization.serialize(value))
    except _raylet.CoreError as e:
        raise _core_error(e) from None


def wait(object_refs, *, num_returns=1, timeout=None, fetch_local=True):
    """(ready, not_ready): the first NUM_RETURNS refs that are ready, or
    those ready when TIMEOUT passes."""
    _check_connected()
    if isinstance(object_refs, ObjectRef) or not isinstance(object_refs, list):
        raise TypeError("wait() expected a list of ray.ObjectRef")
    if len(set(object_refs)) != len(object_refs):
        raise ValueError("Wait requires a list of unique object refs.")
    if num_returns <= 0 or num_returns > len(object_refs):
        raise ValueError("Invalid number of objects to return %d." % num_returns)
    flags = _raylet.wait(object_refs, num_returns, timeout)
    ready = [r for r, f in zip(object_refs, flags) if f][:num_returns]
    rest = [r for r in object_refs if r not in set(ready)]
    return ready, rest


def cancel(object_ref, *, force=False, recursive=True):
    _check_connected()
    try:
        _raylet.cancel(object_ref, force)
    except _raylet.CoreError as e:
        raise _core_error(e) from None


def get_actor(name, namespace=None):
    """The live actor named NAME (ValueError when there is none)."""
    _check_connected()
    try:
        core = _raylet.get_actor(name, namespace)
    except _raylet.CoreError as e:
        raise ValueError("Failed to look up actor with name '%s'. %s" % (name, e.args[1])) \
            from None
    import pickle
    from ray.actor import methods_key
    table = _raylet.kv_get(methods_key(core.hex()))
    if table is None:  # made by a C driver, or before rayc kept the table
        return ActorHandle(core, name)
    class_name, methods = pickle.loads(table)
    return ActorHandle(core, class_name, methods)


def kill(actor, *, no_restart=True):
    """Kills ACTOR at once; its pending and later calls fail with
    RayActorError."""
    _check_connected()
    if not isinstance(actor, ActorHandle):
        raise ValueError("ray.kill() only supported for actors. Got: %r" % type(actor))
    try:
        _raylet.kill(actor._core, no_restart)
    except _raylet.CoreError as e:
        raise _core_error(e) from None


from ray import util  # noqa: E402,F401  (ray.util.placement_group needs ray.remote)


def __getattr__(name):
    """ray.data, ray.serve, ...: the libraries load on first use, as in Ray
    (`import ray` then `ray.data.range(10)`)."""
    if name in ("data", "serve", "util"):
        import importlib
        return importlib.import_module("ray." + name)
    raise AttributeError("module 'ray' has no attribute %r" % name)
