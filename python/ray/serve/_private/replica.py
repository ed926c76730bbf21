"""A replica: the actor that runs one copy of a deployment's class or
function.  Requests come as handle_request (handles) or handle_http (the
proxy); at most max_ongoing_requests user calls run at once, the rest wait
here.  Sync user methods run in a thread pool so the event loop (and the
controller's health checks and metrics) stay responsive."""
import asyncio
import concurrent.futures
import inspect
import os

import cloudpickle

from ray.serve._private import http_util


def _run_on_actor_loop(coro):
    from ray._private import worker
    return asyncio.run_coroutine_threadsafe(coro, worker._actor_loop()).result()


class Replica:
    def __init__(self, app, deployment, name, serialized, user_config, max_ongoing,
                 is_function):
        fn_or_cls, args, kwargs = cloudpickle.loads(serialized)
        self._app = app
        self._deployment = deployment
        self._name = name
        self._is_function = is_function
        self._max_ongoing = max_ongoing
        self._ongoing = 0
        self._sem = None
        self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=max(max_ongoing, 4),
                                                           thread_name_prefix="serve-sync")
        if is_function:
            self._callable = fn_or_cls
        else:
            obj = fn_or_cls(*args, **kwargs)
            self._callable = obj
        if user_config is not None:
            self._reconfigure_sync(user_config)

    def _reconfigure_sync(self, user_config):
        fn = getattr(self._callable, "reconfigure", None)
        if self._is_function or fn is None:
            raise ValueError("user_config specified but deployment '%s' doesn't implement "
                             "reconfigure" % self._deployment)
        r = fn(user_config)
        if inspect.isawaitable(r):
            _run_on_actor_loop(_awaited(r))

    async def _call(self, fn, args, kwargs):
        if inspect.iscoroutinefunction(fn):
            r = await fn(*args, **kwargs)
        else:
            loop = asyncio.get_running_loop()
            r = await loop.run_in_executor(self._pool, lambda: fn(*args, **kwargs))
        if inspect.isawaitable(r):
            r = await r
        return r

    def _target(self, method):
        if self._is_function:
            return self._callable
        fn = getattr(self._callable, method, None)
        if fn is None:
            raise AttributeError("Deployment '%s' has no method '%s'" % (self._deployment,
                                                                         method))
        return fn

    async def _limited(self, coro_fn):
        if self._sem is None:
            self._sem = asyncio.Semaphore(self._max_ongoing)
        self._ongoing += 1
        try:
            async with self._sem:
                return await coro_fn()
        finally:
            self._ongoing -= 1

    async def handle_request(self, method, *args, **kwargs):
        return await self._limited(lambda: self._call(self._target(method), args, kwargs))

    async def handle_http(self, scope, body):
        """(status, headers, body) for one HTTP request."""
        async def run():
            try:
                request = http_util.make_request(scope, body)
                value = await self._call(self._target("__call__"), (request,), {})
                return await http_util.to_http(value, scope)
            except Exception as e:  # noqa: BLE001 - a 500 with the error text
                return http_util.error_response(e)
        return await self._limited(run)

    async def handle_http_raw(self, method, path, query, prefix, headers, body, client):
        """handle_http for the C proxy (a raw call: str and bytes in, bytes
        out): "STATUS\n", "name: value\n" lines, "\n", then the body."""
        hdrs = []
        for line in headers.split("\r\n"):
            k, sep, v = line.partition(": ")
            if sep:
                hdrs.append((k.lower().encode("latin-1", "replace"),
                             v.encode("latin-1", "replace")))
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
                 "method": method, "scheme": "http", "path": path,
                 "raw_path": path.encode(), "query_string": query.encode(),
                 "root_path": "" if prefix == "/" else prefix.rstrip("/"),
                 "headers": hdrs, "client": (client, 0), "server": ("", 0)}
        status, out_headers, out = await self.handle_http(scope, body)
        head = "".join("%s: %s\n" % (k, v.replace("\n", " ")) for k, v in out_headers)
        return ("%d\n%s\n" % (status, head)).encode("latin-1", "replace") + out

    async def reconfigure(self, user_config):
        fn = getattr(self._callable, "reconfigure", None)
        if self._is_function or fn is None:
            raise ValueError("user_config specified but deployment '%s' doesn't implement "
                             "reconfigure" % self._deployment)
        await self._call(fn, (user_config,), {})

    async def check_health(self):
        fn = None if self._is_function else getattr(self._callable, "check_health", None)
        if fn is not None:
            await self._call(fn, (), {})
        return True

    async def ready(self):
        return os.getpid()

    async def get_num_ongoing_requests(self):
        return self._ongoing


async def _awaited(r):
    return await r
