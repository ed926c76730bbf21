"""@ray.remote functions: export once per job, submit with options."""
import hashlib
import pickle

import cloudpickle

from ray import _raylet
from ray._private import serialization

TASK_OPTIONS = {"num_cpus", "num_gpus", "memory", "num_returns", "max_retries",
                "retry_exceptions", "resources", "scheduling_strategy", "name", "runtime_env"}

_exported = {}  # (job id, key) of everything exported in this session


def export(obj):
    """Exports OBJ (a function or class) to the function table of this
    job once; returns its key."""
    data = cloudpickle.dumps(obj)
    info = _raylet.info()
    key = ("%s:%s" % (info["job_id"], hashlib.sha1(data).hexdigest())).encode()
    # Job ids start again in every cluster: the session is part of the cache key.
    seen = (_raylet.session(), key)
    if seen not in _exported:
        _raylet.kv_put(key, data)
        _exported[seen] = True
    return key


def task_env(options):
    """The env_vars of OPTIONS' runtime_env (a task's or actor's own), or
    None; other runtime_env fields are refused (rayc applies working_dir,
    py_modules and pip per job)."""
    renv = options.get("runtime_env")
    if not renv:
        return None
    if not isinstance(renv, dict):
        raise TypeError("runtime_env must be a dict, got %s" % type(renv).__name__)
    other = sorted(set(renv) - {"env_vars"})
    if other:
        raise ValueError("runtime_env field(s) %s cannot be set per task or actor in rayc; "
                         "give them to ray.init(runtime_env=...) or the job"
                         % ", ".join(other))
    env = renv.get("env_vars") or {}
    if not isinstance(env, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                            for k, v in env.items()):
        raise TypeError("runtime_env['env_vars'] must be a dict of str to str")
    return dict(env) or None


def task_args(key, args, kwargs, env=None):
    """The argument list of a task: a descriptor, then each argument (an
    ObjectRef at top level travels by reference and is resolved before
    the task runs; anything else by value), then the refs nested inside
    values, which arrive as ObjectRefs.  ENV: the task's own env_vars."""
    nested = []
    out = []
    values = list(args) + list(kwargs.values())
    for v in values:
        out.append(v if type(v) is _raylet.ObjectRef else serialization.serialize(v, nested))
    # Plain types only: the C pickler, not cloudpickle (a tenth of the cost).
    desc = pickle.dumps((key, len(args), list(kwargs), [r.hex() for r in nested], env), 5)
    return [[desc]] + out + nested


def placement(s):
    from ray.util.scheduling_strategies import placement_kwargs
    return placement_kwargs(s)


def check_options(opts, allowed, what):
    bad = sorted(set(opts) - allowed)
    if bad:
        raise ValueError("%s: unsupported option(s) %s" % (what, ", ".join(bad)))


class RemoteFunction:
    def __init__(self, fn, options):
        check_options(options, TASK_OPTIONS, "@ray.remote")
        self._fn = fn
        self._options = options
        self._name = fn.__qualname__
        self.__doc__ = fn.__doc__
        self.__name__ = getattr(fn, "__name__", "remote_function")
        self._exported = None  # (ray.init count, key) of the last export

    def _key(self):
        """The function table key of this function for the current
        ray.init(), exporting it (pickling it) once per init."""
        import ray
        if self._exported is None or self._exported[0] != ray._init_count:
            self._exported = (ray._init_count, export(self._fn))
        return self._exported[1]

    def __call__(self, *args, **kwargs):
        raise TypeError("remote functions cannot be called directly; use %s.remote()"
                        % self.__name__)

    def options(self, **options):
        check_options(options, TASK_OPTIONS, ".options()")
        f = RemoteFunction(self._fn, dict(self._options, **options))
        f._exported = self._exported  # the same function: the same key
        return f

    def remote(self, *args, **kwargs):
        from ray import _check_connected
        _check_connected()
        o = self._options
        key = self._key()
        nret = o.get("num_returns", 1)
        refs = _raylet.submit(
            self._name, task_args(key, args, kwargs, task_env(o)), num_returns=nret,
            num_cpus=o.get("num_cpus"), num_gpus=o.get("num_gpus"), memory=o.get("memory"),
            max_retries=o.get("max_retries"), retry_exceptions=bool(o.get("retry_exceptions")),
            resources=o.get("resources"), name=o.get("name"),
            **placement(o.get("scheduling_strategy")))
        return refs[0] if nret == 1 else refs
