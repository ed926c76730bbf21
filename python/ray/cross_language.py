"""Calling C task libraries from Python (Ray's ray.cross_language).

    ray.init(job_config=ray.job_config.JobConfig(code_search_path=["/opt/lib"]))
    square = ray.cross_language.c_function("square")
    ray.get(square.remote(7))   # 49

The job's workers load every shared object on its code search path (the
JobConfig's, else RAY_CODE_SEARCH_PATH), as rayc's C workers do; a C
function gets int, float, str and bytes arguments as RAY_I64, RAY_F64,
RAY_STR and RAY_BYTES (ObjectRefs of other C calls pass by reference),
and its results come back from ray.get as int, float, str or bytes."""
from ray import _raylet
from ray.remote_function import check_options, placement

C_OPTIONS = {"num_cpus", "num_gpus", "memory", "num_returns", "max_retries",
             "retry_exceptions", "resources", "scheduling_strategy", "name"}


class CFunction:
    """A function of a C task library, called with .remote(*args)."""

    def __init__(self, name, options=None):
        if not isinstance(name, str) or not name:
            raise TypeError("c_function: the function name must be a non-empty str")
        self._name = name
        self._options = options or {}

    def options(self, **options):
        check_options(options, C_OPTIONS, ".options()")
        return CFunction(self._name, dict(self._options, **options))

    def remote(self, *args, **kwargs):
        if kwargs:
            raise TypeError("a C function takes positional arguments only")
        from ray import _check_connected
        _check_connected()
        o = self._options
        nret = o.get("num_returns", 1)
        refs = _raylet.submit(
            self._name, list(args), num_returns=nret, num_cpus=o.get("num_cpus"),
            num_gpus=o.get("num_gpus"), memory=o.get("memory"),
            max_retries=o.get("max_retries"), retry_exceptions=bool(o.get("retry_exceptions")),
            resources=o.get("resources"), name=o.get("name"), cross_language=True,
            **placement(o.get("scheduling_strategy")))
        return refs[0] if nret == 1 else refs

    def __call__(self, *args, **kwargs):
        raise TypeError("C functions cannot be called directly; use '%s.remote()'" % self._name)

    def __repr__(self):
        return "CFunction(%r)" % self._name


def c_function(function_name):
    """The C task library function FUNCTION_NAME (registered with RAY_REMOTE)."""
    return CFunction(function_name)


def cpp_function(function_name):
    raise NotImplementedError("rayc runs C task libraries, not Ray's C++ API: use "
                              "ray.cross_language.c_function(%r)" % (function_name,))


def java_function(class_name, function_name):
    raise NotImplementedError("rayc has no Java workers")
