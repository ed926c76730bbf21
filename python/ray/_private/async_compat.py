"""`await ref` and ref.future(): an ObjectRef's value in asyncio code and
as a concurrent.futures.Future.  ray.get runs in a thread (the GIL is
released while it waits), so the event loop keeps running."""
import asyncio
import concurrent.futures
import threading

_pool = None
_pool_lock = threading.Lock()


def _executor():
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = concurrent.futures.ThreadPoolExecutor(max_workers=64,
                                                          thread_name_prefix="ray_await")
    return _pool


def future(ref):
    """A concurrent.futures.Future with REF's value (or its error)."""
    import ray
    return _executor().submit(ray.get, ref)


def ref_await(ref):
    """The iterator behind `await ref`."""
    return asyncio.wrap_future(future(ref)).__await__()
