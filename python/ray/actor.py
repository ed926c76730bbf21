"""@ray.remote classes: actor handles and their method calls."""
import inspect

from ray import _raylet
import pickle

from ray.remote_function import check_options, export, placement, task_args, task_env

ACTOR_OPTIONS = {"num_cpus", "num_gpus", "memory", "resources", "name", "namespace",
                 "lifetime", "get_if_exists", "max_restarts", "max_task_retries",
                 "max_concurrency", "scheduling_strategy", "runtime_env"}


class ActorMethod:
    def __init__(self, handle, name, num_returns=1):
        self._handle = handle
        self._name = name
        self._num_returns = num_returns

    def options(self, num_returns=1):
        return ActorMethod(self._handle, self._name, num_returns)

    def remote(self, *args, **kwargs):
        refs = _raylet.actor_call(self._handle._core, self._name,
                                  task_args(None, args, kwargs), self._num_returns)
        return refs[0] if self._num_returns == 1 else refs

    def __call__(self, *args, **kwargs):
        raise TypeError("actor methods cannot be called directly; use .%s.remote()" % self._name)


class ActorHandle:
    """A handle to an actor: its methods are called with .method.remote()."""

    def __init__(self, core, class_name, methods=None):
        self._core = core
        self._class_name = class_name
        self._methods = methods

    def __getattr__(self, name):
        if name.startswith("__") or (self._methods is not None and name not in self._methods):
            raise AttributeError("actor %s has no method %r" % (self._class_name, name))
        return ActorMethod(self, name, (self._methods or {}).get(name, 1))

    def __repr__(self):
        return "Actor(%s, %s)" % (self._class_name, self._core.hex())

    def __reduce__(self):
        # A handle travels by its actor id (in task arguments, values and
        # actor state); the receiver's calls reach the actor wherever it lives.
        return _rebuild_handle, (self._core.hex(), self._class_name, self._methods)


def _rebuild_handle(actor_hex, class_name, methods):
    return ActorHandle(_raylet.actor_from_hex(actor_hex), class_name, methods)


def methods_key(actor_hex):
    """The GCS KV key of a named actor's class name and method table, which
    ray.get_actor reads."""
    return ("actor_methods:%s" % actor_hex).encode()


class ActorClass:
    def __init__(self, cls, options):
        check_options(options, ACTOR_OPTIONS, "@ray.remote")
        self._cls = cls
        self._options = options
        self._name = cls.__qualname__
        self.__name__ = cls.__name__
        self.__doc__ = cls.__doc__

    def __call__(self, *args, **kwargs):
        raise TypeError("actor classes cannot be instantiated directly; use %s.remote()"
                        % self.__name__)

    def options(self, **options):
        check_options(options, ACTOR_OPTIONS, ".options()")
        return ActorClass(self._cls, dict(self._options, **options))

    def _methods(self):
        """Method name -> num_returns (@ray.method)."""
        return {n: getattr(getattr(self._cls, n), "__ray_num_returns__", 1)
                for n in dir(self._cls)
                if callable(getattr(self._cls, n, None)) and not n.startswith("__")}

    def _default_concurrency(self):
        """As in Ray: 1000 for an async actor (any `async def` method), else 1."""
        async_methods = [n for n in dir(self._cls)
                         if inspect.iscoroutinefunction(getattr(self._cls, n, None))]
        return 1000 if async_methods else 1

    def remote(self, *args, **kwargs):
        from ray import _check_connected
        _check_connected()
        o = self._options
        lifetime = o.get("lifetime")
        if lifetime not in (None, "detached", "non_detached"):
            raise ValueError("lifetime must be \"detached\" or \"non_detached\"")
        key = export(self._cls)
        core = _raylet.actor_create(
            self._name, task_args(key, args, kwargs, task_env(o)), name=o.get("name"),
            namespace=o.get("namespace"), get_if_exists=bool(o.get("get_if_exists")),
            detached=lifetime == "detached", max_restarts=o.get("max_restarts"),
            max_task_retries=o.get("max_task_retries"),
            max_concurrency=o.get("max_concurrency", self._default_concurrency()),
            num_cpus=o.get("num_cpus"),
            num_gpus=o.get("num_gpus"), memory=o.get("memory"), resources=o.get("resources"),
            **placement(o.get("scheduling_strategy")))
        methods = self._methods()
        if o.get("name"):
            _raylet.kv_put(methods_key(core.hex()), pickle.dumps((self._name, methods), 5))
        return ActorHandle(core, self._name, methods)
