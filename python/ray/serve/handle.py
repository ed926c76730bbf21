"""DeploymentHandle and DeploymentResponse: calls to a deployment's
replicas from a driver, a replica (model composition) or the proxy.

Each process has one router per deployment.  remote() queues the call and
returns at once; the router's thread picks a replica by Ray's power of two
choices (two random replicas, the one with fewer of this router's calls in
flight), never giving a replica more than max_ongoing_requests calls, and
sends it as an actor call.  A call whose replica died is sent again to
another live replica, at most _MAX_ATTEMPTS times in all: a node's death
takes all its replicas at once, while a call that itself kills replicas
must not take down every one (the same rule as the HTTP proxy's)."""
import asyncio
import collections
import concurrent.futures
import os
import random
import threading
import time
import uuid

import ray
from ray import exceptions
from ray.serve.config import CONTROLLER_NAME, SERVE_NAMESPACE
from ray.serve.exceptions import RayServeException

REFRESH_S = 0.5   # how old the router's list of replicas may get
_MAX_ATTEMPTS = 4  # tries of a call whose replicas keep dying (see above)

_routers = {}
_routers_lock = threading.Lock()


def _controller():
    return ray.get_actor(CONTROLLER_NAME, namespace=SERVE_NAMESPACE)


class _Call:
    __slots__ = ("method", "args", "kwargs", "future", "actor_method", "replica")

    def __init__(self, method, args, kwargs, actor_method):
        self.actor_method = actor_method
        self.replica = None
        self.method = method
        self.args = args
        self.kwargs = kwargs
        self.future = concurrent.futures.Future()


class Router:
    """The calls of this process to one deployment."""

    def __init__(self, app, deployment):
        self.app = app
        self.deployment = deployment
        self.id = uuid.uuid4().hex
        self._cond = threading.Condition()
        self._pending = collections.deque()
        self._replicas = {}          # name -> ActorHandle
        self._inflight = {}          # name -> [ObjectRef]
        self._max_ongoing = 1
        self._refreshed = 0.0
        self._missing_since = None
        self._stale = True
        self._dead = {}              # replica name -> when a call found it dead
        self._controller = None
        self._thread = threading.Thread(target=self._run, daemon=True,
                                        name="serve-router-%s" % deployment)
        self._thread.start()

    def submit(self, method, args, kwargs, actor_method="handle_request"):
        call = _Call(method, args, kwargs, actor_method)
        with self._cond:
            self._pending.append(call)
            self._cond.notify()
        return call

    def mark_dead(self, name):
        """Stops choosing replica NAME (its actor died) until the
        controller lists it no more."""
        self._stale = True
        self._dead[name] = time.monotonic()

    # -- the router thread -------------------------------------------------

    def _run(self):
        while True:
            with self._cond:
                while not self._pending:
                    self._cond.wait()
                call = self._pending[0]
            try:
                ref = self._assign(call)
            except Exception as e:  # noqa: BLE001 - the caller gets it
                with self._cond:
                    self._pending.popleft()
                call.future.set_exception(e)
                continue
            with self._cond:
                self._pending.popleft()
            call.future.set_result(ref)

    def _assign(self, call):
        args = [_resolve(a) for a in call.args]
        kwargs = {k: _resolve(v) for k, v in call.kwargs.items()}
        while True:
            self._refresh()
            self._prune()
            name = self._choose()
            if name is not None:
                break
            refs = [r for rs in self._inflight.values() for r in rs]
            if refs:
                ray.wait(refs, num_returns=1, timeout=0.05)
            else:
                with self._cond:
                    self._cond.wait(0.05)
        if call.actor_method == "handle_request":
            args = [call.method] + args
        ref = getattr(self._replicas[name], call.actor_method).remote(*args, **kwargs)
        call.replica = name
        self._inflight.setdefault(name, []).append(ref)
        return ref

    def _choose(self):
        free = [n for n in self._replicas if len(self._inflight.get(n, ())) < self._max_ongoing]
        if not free:
            return None
        if len(free) == 1:
            return free[0]
        a, b = random.sample(free, 2)
        return a if len(self._inflight.get(a, ())) <= len(self._inflight.get(b, ())) else b

    def _prune(self):
        refs = [r for rs in self._inflight.values() for r in rs]
        if not refs:
            return
        ready, _ = ray.wait(refs, num_returns=len(refs), timeout=0)
        if ready:
            done = set(ready)
            for n in list(self._inflight):
                self._inflight[n] = [r for r in self._inflight[n] if r not in done]

    def _refresh(self):
        now = time.monotonic()
        if not self._stale and now - self._refreshed < REFRESH_S and self._replicas:
            return
        if self._replicas and now - self._refreshed < 0.05:
            return
        self._refreshed = now
        self._stale = False
        if self._controller is None:
            self._controller = _controller()
        queued = len(self._pending) + sum(len(v) for v in self._inflight.values())
        try:
            info = ray.get(self._controller.get_replicas.remote(self.app, self.deployment,
                                                                self.id, queued))
        except exceptions.RayActorError:
            # Serve was shut down and started again: ask the new controller.
            self._controller = _controller()
            info = ray.get(self._controller.get_replicas.remote(self.app, self.deployment,
                                                                self.id, queued))
        if info is None:
            raise RayServeException(
                "Deployment '%s' in application '%s' does not exist."
                % (self.deployment, self.app))
        self._max_ongoing = info["max_ongoing_requests"]
        self._dead = {n: t for n, t in self._dead.items() if now - t < 30.0}
        names = [n for n in info["replicas"] if n not in self._dead]
        for n in list(self._replicas):
            if n not in names:
                del self._replicas[n]
        for n in names:
            if n not in self._replicas:
                try:
                    self._replicas[n] = ray.get_actor(n, namespace=SERVE_NAMESPACE)
                except ValueError:
                    pass  # gone already; the controller replaces it
        for n in list(self._inflight):
            if n not in self._replicas:
                del self._inflight[n]


def _resolve(v):
    """A DeploymentResponse argument travels as its ObjectRef (resolved
    before the replica runs, as in Ray)."""
    if isinstance(v, DeploymentResponse):
        return v._to_object_ref_sync()
    return v


def _router(app, deployment):
    # Per process and ray.init(): a router's actor handles belong to one session.
    key = (os.getpid(), ray._init_count, app, deployment)
    with _routers_lock:
        r = _routers.get(key)
        if r is None:
            r = _routers[key] = Router(app, deployment)
        return r


class DeploymentResponse:
    """The result of handle.remote(): .result(timeout_s=) or await it."""

    def __init__(self, router, call):
        self._router = router
        self._call = call
        self._attempts = 1

    def _to_object_ref_sync(self, timeout_s=None):
        try:
            return self._call.future.result(timeout_s)
        except concurrent.futures.TimeoutError:
            raise TimeoutError("Timed out waiting for the request to be assigned "
                               "a replica.") from None

    async def _to_object_ref(self):
        return await asyncio.wrap_future(self._call.future)

    def _retry(self):
        self._attempts += 1
        c = self._call
        if c.replica is not None:
            self._router.mark_dead(c.replica)
        self._call = self._router.submit(c.method, c.args, c.kwargs, c.actor_method)

    def result(self, *, timeout_s=None, _skip_asyncio_check=False):
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        while True:
            ref = self._to_object_ref_sync(timeout_s)
            left = None if deadline is None else max(deadline - time.monotonic(), 0)
            try:
                return ray.get(ref, timeout=left)
            except exceptions.GetTimeoutError:
                raise TimeoutError("Timed out waiting for the result of the request.") \
                    from None
            except exceptions.RayActorError:
                if self._attempts >= _MAX_ATTEMPTS:
                    raise
                self._retry()

    def __await__(self):
        return self._await().__await__()

    async def _await(self):
        while True:
            ref = await self._to_object_ref()
            try:
                return await ref
            except exceptions.RayActorError:
                if self._attempts >= _MAX_ATTEMPTS:
                    raise
                self._retry()

    def cancel(self):
        if self._call.future.done():
            ray.cancel(self._call.future.result())


class _Method:
    def __init__(self, handle, name):
        self._handle = handle
        self._name = name

    def remote(self, *args, **kwargs):
        return self._handle._remote(self._name, args, kwargs)

    def options(self, **kwargs):
        return self


class DeploymentHandle:
    """A handle to a deployment: handle.remote(...) calls __call__,
    handle.method.remote(...) calls a method.  Pickles as its names."""

    def __init__(self, deployment_name, app_name, method_name="__call__"):
        self.deployment_name = deployment_name
        self.app_name = app_name
        self._method = method_name

    def options(self, *, method_name=None, **kwargs):
        return DeploymentHandle(self.deployment_name, self.app_name,
                                method_name or self._method)

    def remote(self, *args, **kwargs):
        return self._remote(self._method, args, kwargs)

    def _remote(self, method, args, kwargs):
        router = _router(self.app_name, self.deployment_name)
        return DeploymentResponse(router, router.submit(method, args, kwargs))

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        return _Method(self, name)

    def __reduce__(self):
        return DeploymentHandle, (self.deployment_name, self.app_name, self._method)

    def __repr__(self):
        return "DeploymentHandle(deployment='%s', app='%s')" % (self.deployment_name,
                                                                self.app_name)
