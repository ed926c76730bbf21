"""Async actors (`async def` methods on one event loop), threaded actors
(max_concurrency > 1), `await ref` and ref.future()."""
import asyncio
import threading

import pytest

import ray

pytestmark = pytest.mark.usefixtures("ray_local")


@ray.remote
def square(x):
    return x * x


@ray.remote
class AsyncActor:
    def __init__(self):
        self.event = asyncio.Event()

    async def wait(self):
        await self.event.wait()  # only another call, running meanwhile, can set it
        return "woken"

    async def set(self):
        self.event.set()
        return threading.current_thread().name

    async def square_of(self, x):
        return await square.remote(x)

    async def fail(self):
        raise KeyError("async boom")

    def sync_method(self):
        return "sync"


@ray.remote(max_concurrency=2)
class ThreadedActor:
    def __init__(self):
        self.event = threading.Event()

    def wait(self):
        return self.event.wait(120)  # the bound only keeps a broken actor from hanging

    def set(self):
        self.event.set()
        return threading.get_ident()


def test_async_actor_runs_calls_concurrently_on_one_loop():
    a = AsyncActor.remote()
    waiting = a.wait.remote()
    assert ray.wait([waiting], timeout=0.2) == ([], [waiting])
    assert ray.get(a.set.remote()) == "AsyncIO Thread: default"
    assert ray.get(waiting) == "woken"


def test_async_actor_awaits_refs_and_raises_errors():
    a = AsyncActor.remote()
    assert ray.get(a.square_of.remote(9)) == 81
    with pytest.raises(KeyError, match="async boom"):
        ray.get(a.fail.remote())
    assert ray.get(a.sync_method.remote()) == "sync"


def test_threaded_actor_runs_two_calls_at_once():
    t = ThreadedActor.remote()
    waiting = t.wait.remote()
    ray.get(t.set.remote())
    assert ray.get(waiting) is True


@ray.remote(max_concurrency=2)
class ThreadLocalActor:
    def __init__(self):
        self.local = threading.local()
        self.barrier = threading.Barrier(2, timeout=120)  # the bound only stops a hang

    def count(self):
        """Runs on both task threads at once (the barrier), and says how
        many calls this thread's threading.local has seen."""
        self.local.n = getattr(self.local, "n", 0) + 1
        self.barrier.wait()
        return threading.get_ident(), self.local.n


def test_threaded_actor_keeps_thread_locals_between_calls():
    # Each task thread keeps its Python thread state, as a Python thread
    # does: a threading.local set in one call is there in the next.
    t = ThreadLocalActor.remote()
    first = dict(ray.get([t.count.remote(), t.count.remote()]))
    second = dict(ray.get([t.count.remote(), t.count.remote()]))
    assert sorted(first.values()) == [1, 1]
    assert second == {ident: 2 for ident in first}


def test_await_ref_in_the_driver():
    async def main():
        one = await square.remote(7)
        many = await asyncio.gather(*[square.remote(i) for i in range(4)])
        return one, many
    assert asyncio.run(main()) == (49, [0, 1, 4, 9])


def test_awaited_error_raises_the_cause():
    @ray.remote
    def boom():
        raise ValueError("awaited")

    async def main():
        await boom.remote()
    with pytest.raises(ValueError, match="awaited"):
        asyncio.run(main())


def test_ref_future():
    assert square.remote(6).future().result() == 36
