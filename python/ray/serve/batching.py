"""@serve.batch: calls to an async method or function are gathered into a
list (up to max_batch_size, waiting at most batch_wait_timeout_s after the
first) and the function runs once on the list; it must return a list of
the same length, whose items go back to the callers in order."""
import asyncio
import functools
import inspect


class _BatchQueue:
    def __init__(self, fn, owner, max_batch_size, timeout_s):
        self.fn = fn
        self.owner = owner
        self.max_batch_size = max_batch_size
        self.timeout_s = timeout_s
        self.queue = asyncio.Queue()
        self.task = asyncio.get_running_loop().create_task(self._run())

    async def _next_batch(self):
        batch = [await self.queue.get()]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout_s
        while len(batch) < self.max_batch_size:
            while not self.queue.empty() and len(batch) < self.max_batch_size:
                batch.append(self.queue.get_nowait())
            left = deadline - loop.time()
            if len(batch) >= self.max_batch_size or left <= 0:
                break
            try:
                batch.append(await asyncio.wait_for(self.queue.get(), left))
            except asyncio.TimeoutError:
                break
        return batch

    async def _run(self):
        while True:
            batch = await self._next_batch()
            items = [item for item, _ in batch]
            try:
                args = (self.owner, items) if self.owner is not None else (items,)
                results = await self.fn(*args)
                if not isinstance(results, (list, tuple)) or len(results) != len(batch):
                    raise TypeError(
                        "Batched function returned %s, expected a list of length %d"
                        % (type(results).__name__ if not isinstance(results, (list, tuple))
                           else "a list of length %d" % len(results), len(batch)))
                for (_, fut), r in zip(batch, results):
                    if not fut.done():
                        fut.set_result(r)
            except Exception as e:  # noqa: BLE001 - every caller of the batch gets it
                for _, fut in batch:
                    if not fut.done():
                        fut.set_exception(e)


def batch(_func=None, max_batch_size=10, batch_wait_timeout_s=0.01):
    """@serve.batch or @serve.batch(max_batch_size=, batch_wait_timeout_s=)."""
    if not isinstance(max_batch_size, int) or max_batch_size < 1:
        raise ValueError("max_batch_size must be an integer >= 1")
    if not isinstance(batch_wait_timeout_s, (int, float)) or batch_wait_timeout_s < 0:
        raise ValueError("batch_wait_timeout_s must be a float >= 0")

    def wrap(fn):
        if not inspect.iscoroutinefunction(fn):
            raise TypeError("Functions decorated with @serve.batch must be 'async def'")
        params = list(inspect.signature(fn).parameters)
        is_method = bool(params) and params[0] == "self"
        attr = "__serve_batch_queue_%s" % fn.__name__
        queues = {}

        @functools.wraps(fn)
        async def wrapper(*args):
            if is_method:
                owner, item = args[0], args[1:]
                q = owner.__dict__.get(attr)
                if q is None or q.task.get_loop() is not asyncio.get_running_loop():
                    q = _BatchQueue(fn, owner, max_batch_size, batch_wait_timeout_s)
                    owner.__dict__[attr] = q
            else:
                owner, item = None, args
                loop = asyncio.get_running_loop()
                q = queues.get(loop)
                if q is None:
                    q = queues[loop] = _BatchQueue(fn, None, max_batch_size,
                                                   batch_wait_timeout_s)
            if len(item) != 1:
                raise TypeError("@serve.batch functions take exactly one argument per call")
            fut = asyncio.get_running_loop().create_future()
            await q.queue.put((item[0], fut))
            return await fut
        wrapper._serve_batch = (max_batch_size, batch_wait_timeout_s)
        return wrapper
    if _func is not None:
        return wrap(_func)
    return wrap
