"""The Python worker process and the state of this process's connection.

The raylet starts a Python job's workers as

    PYTHON -m ray._private.worker --socket S --token-file T --worker-id W --raylet-pid P

main() hands the process to libray's worker loop (C, in ray._raylet), which
calls execute() for each task, actor constructor and method call.
"""
import argparse
import asyncio
import inspect
import os
import pickle
import socket
import sys
import threading
import traceback

from ray import _raylet
from ray import exceptions
from ray._private import log_monitor, runtime_env, serialization

# Task kinds (TaskSpec.Kind in ray.proto).
NORMAL, ACTOR_CREATE, ACTOR_TASK = 0, 1, 2

# The first argument of a raw method call from a C program (Serve's HTTP
# proxy): the other arguments are plain str and bytes, and the method
# returns bytes, which go back unpickled (the C caller reads RAY_BYTES).
RAW_CALL = ("rayc:raw",)

_functions = {}          # function-table key -> function or class
_functions_lock = threading.Lock()
_actor = None            # this worker's actor instance
_loop = None             # an async actor's event loop (one thread, started on first use)
_loop_lock = threading.Lock()


def _actor_loop():
    """The event loop all `async def` methods of this worker's actor run on,
    as in Ray: one thread; concurrency comes from max_concurrency calls
    waiting on it at once."""
    global _loop
    with _loop_lock:
        if _loop is None:
            _loop = asyncio.new_event_loop()
            threading.Thread(target=_loop.run_forever, name="AsyncIO Thread: default",
                             daemon=True).start()
    return _loop


def _call_method(fn, a, kw):
    if inspect.iscoroutinefunction(fn):
        return asyncio.run_coroutine_threadsafe(fn(*a, **kw), _actor_loop()).result()
    return fn(*a, **kw)


def load_function(key):
    """The function or class exported under KEY (cached)."""
    with _functions_lock:
        fn = _functions.get(key)
    if fn is not None:
        return fn
    data = _raylet.kv_get(key)
    if data is None:
        raise RuntimeError("function %r is not in the function table" % key.decode())
    fn = pickle.loads(data)
    with _functions_lock:
        _functions[key] = fn
    return fn


def decode_args(args):
    """(function key, positional args, kwargs, env_vars or None) from a
    task's argument Buffers."""
    key, npos, kwnames, nested, env = pickle.loads(bytes(memoryview(args[0])))
    values = args[1:1 + npos + len(kwnames)]
    refs = [_raylet.resolved_ref(h, b) for h, b in zip(nested, args[1 + npos + len(kwnames):])]
    # A 1-tuple is a C task's int, float or str (ray.cross_language).
    decoded = [v[0] if isinstance(v, tuple) else serialization.deserialize(v, refs)
               for v in values]
    return key, decoded[:npos], dict(zip(kwnames, decoded[npos:])), env


class _TaskEnv:
    """A task's own runtime_env env_vars around its run (the previous values
    come back after it); an actor's stay for the life of its worker, which
    is its own."""

    def __init__(self, env, keep):
        self._env = env
        self._keep = keep
        self._saved = None

    def __enter__(self):
        if self._env:
            self._saved = {k: os.environ.get(k) for k in self._env}
            os.environ.update(self._env)

    def __exit__(self, *exc):
        if self._saved is None or self._keep:
            return
        for k, v in self._saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _error_blob(function, e):
    if isinstance(e, exceptions.RayTaskError):
        err = getattr(e, "_base", e)  # an input that was an error: pass it on
    else:
        # The first frame is execute()'s own: the user's code starts below it.
        tb = e.__traceback__.tb_next if e.__traceback__ is not None else None
        text = "".join(traceback.format_exception(type(e), e, tb))
        name = function
        if _actor is not None and "." not in function:
            name = "%s.%s" % (type(_actor).__name__, function)
        err = exceptions.RayTaskError(name, text, e, os.getpid(), _node_ip())
    try:
        return serialization.serialize(err, flags=serialization.FLAG_ERROR)
    except Exception:
        err.cause = None  # the cause itself cannot be pickled: keep its text
        return serialization.serialize(err, flags=serialization.FLAG_ERROR)


def _node_ip():
    return _raylet.info().get("node_ip") or socket.gethostname()


def _results(value, num_returns):
    if num_returns == 1:
        return [serialization.serialize(value)]
    if not isinstance(value, (tuple, list)) or len(value) != num_returns:
        raise ValueError("the task has num_returns=%d but returned %r" % (num_returns, value))
    return [serialization.serialize(v) for v in value]


def execute(kind, function, args, num_returns):
    """Runs one task; returns NUM_RETURNS serialized values.  A user
    exception becomes an error value (as in Ray); a failing actor
    constructor raises, which fails the actor."""
    try:
        log_monitor.mark_task(_display_name(kind, function))
        if kind == ACTOR_TASK and args and args[0] == RAW_CALL:
            fn = getattr(_actor, function)
            if inspect.iscoroutinefunction(fn):
                return _raw_call_async(fn, function, args[1:])
            return [[_raw_call(function, args[1:])]] * num_returns
        return _execute(kind, function, args, num_returns)
    finally:
        log_monitor.flush_streams()  # the driver prints it before the result arrives


def _display_name(kind, function):
    if kind == ACTOR_TASK and _actor is not None:
        return type(_actor).__name__
    return function.rsplit(".", 1)[-1] if kind == NORMAL else function


def _setup_runtime_env(kind):
    """The job's working_dir and py_modules, before the first task; a
    failure fails an actor's constructor (RuntimeError) and a task (its
    error value)."""
    try:
        runtime_env.setup_worker(_raylet.info()["node_dir"])
    except exceptions.RuntimeEnvSetupError as e:
        if kind == ACTOR_CREATE:
            raise RuntimeError(str(e)) from None
        raise


def _execute(kind, function, args, num_returns):
    global _actor
    try:
        _setup_runtime_env(kind)
        key, a, kw, env = decode_args(args)
        if kind == ACTOR_CREATE:
            cls = load_function(key)
            try:
                _actor = cls.__new__(cls)
                with _TaskEnv(env, keep=True):
                    _actor.__init__(*a, **kw)
            except Exception as e:
                raise RuntimeError("the constructor of %s failed:\n%s" % (
                    function, "".join(traceback.format_exception(type(e), e, e.__traceback__))))
            return [serialization.serialize(None)] * num_returns
        if kind == ACTOR_TASK:
            return _results(_call_method(getattr(_actor, function), a, kw), num_returns)
        fn = load_function(key)
        with _TaskEnv(env, keep=False):
            return _results(fn(*a, **kw), num_returns)
    except RuntimeError as e:
        if kind == ACTOR_CREATE:
            raise
        return [_error_blob(function, e)] * num_returns
    except BaseException as e:  # noqa: B902 - SystemExit in a task fails only the task
        return [_error_blob(function, e)] * num_returns


def _raw_call(function, args):
    """A C program's call of actor method FUNCTION (see RAW_CALL).  An
    exception or a result that is not bytes fails the call (the caller
    gets RAY_ERR_TASK with the message)."""
    values = _raw_values(args)
    out = _call_method(getattr(_actor, function), values, {})
    if not isinstance(out, (bytes, bytearray)):
        raise TypeError("%s returned %s to a raw call; bytes expected"
                        % (function, type(out).__name__))
    return bytes(out)


def _raw_values(args):
    return [v[0] if isinstance(v, tuple) else bytes(memoryview(v)) for v in args]


def _raw_call_async(fn, function, args):
    """A raw call of an `async def` method: the task is deferred and its
    coroutine started on the actor's event loop; it answers from there when
    it ends (finish_task), so no task thread waits for it.  Same outcomes as
    _raw_call.  The method's next raw calls skip the task threads: they go
    from the reading thread straight to the loop (_claim_for_loop)."""
    values = _raw_values(args)
    handle = _raylet.defer_task()

    def start():
        try:
            _start_raw(handle, fn, function, values)
        except BaseException as e:  # noqa: B902 - fn(*values) itself failed
            _raylet.finish_task(handle, None, e)

    try:
        _actor_loop().call_soon_threadsafe(start)
    except BaseException as e:  # noqa: B902 - the loop is gone
        _raylet.finish_task(handle, None, e)
    _claim_for_loop(function)
    return None


def _start_raw(handle, fn, function, values):
    fut = asyncio.ensure_future(fn(*values))
    fut.add_done_callback(lambda f: _raw_done(handle, function, f))


def _raw_done(handle, function, fut):
    try:
        out = fut.result()
        if not isinstance(out, (bytes, bytearray)):
            raise TypeError("%s returned %s to a raw call; bytes expected"
                            % (function, type(out).__name__))
        _raylet.finish_task(handle, [bytes(out)], None)
    except BaseException as e:  # noqa: B902 - any failure answers the caller
        _raylet.finish_task(handle, None, e)
    finally:
        log_monitor.flush_streams()


def _dispatch_claimed(handle, function, values):
    """Starts a claimed raw call on the loop (called by drain_claimed)."""
    _start_raw(handle, getattr(_actor, function), function, values)


_claim_lock = threading.Lock()
_claim_fd = None


def _claim_for_loop(function):
    """Raw calls of FUNCTION are taken by the C worker as they arrive and
    queued for the event loop, which an eventfd wakes (ray._raylet)."""
    global _claim_fd
    with _claim_lock:
        if _claim_fd is None:
            _claim_fd = _raylet.set_loop_dispatch(_dispatch_claimed)
            loop = _actor_loop()
            loop.call_soon_threadsafe(loop.add_reader, _claim_fd, _raylet.drain_claimed)
    _raylet.claim_method(function)


def main(argv=None):
    p = argparse.ArgumentParser(prog="ray._private.worker")
    p.add_argument("--socket", required=True)
    p.add_argument("--token-file", required=True)
    p.add_argument("--worker-id", required=True)
    p.add_argument("--raylet-pid", type=int, default=0)
    o = p.parse_args(argv)
    try:
        _raylet.worker_main(o.socket, o.token_file, o.worker_id, execute, o.raylet_pid)
    except _raylet.CoreError as e:
        print("ray worker: %s" % e.args[1], file=sys.stderr)
        sys.stderr.flush()
        os._exit(1)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)  # detached task threads may still hold the interpreter


if __name__ == "__main__":
    main()
